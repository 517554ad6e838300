// Every sandbox escape of issue 16, each failing cleanly with its kind; an
// honest call before and after gives the same pinned result and gas.
#include <gtest/gtest.h>

#include "contracts/sandbox.h"

namespace medledger::contracts {
namespace {

// The default gas with a smaller memory cap, so that the memory bombs
// reach the cap before the gas runs out.
Limits EscapeLimits() {
  Limits l;
  l.memory_bytes = 8u << 20;
  return l;
}

CallResult Exec(std::string_view src, const Limits& limits = EscapeLimits()) {
  CallEnv env;
  env.caller = std::string(64, 'b');
  MemoryState st;
  auto r = Call(src, "escape", "f", nullptr, env, &st, limits);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? *r : CallResult{};
}

std::string Kind(const CallResult& r) { return r.ok() ? "ok" : FailureKindName(r.failure->kind); }

const char* kHonest = R"(
  function f()
    local t = {}
    for i = 1, 200 do t[#t + 1] = string.format("%03d", i * 7 % 100) end
    table.sort(t)
    local words = {}
    for w in ("alpha beta gamma"):gmatch("%a+") do words[#words + 1] = w:upper() end
    return {first = t[1], last = t[#t], words = words, sum = #table.concat(t)}
  end)";
const char* kHonestResult = R"({"first":"000","last":"099","sum":600,"words":["ALPHA","BETA","GAMMA"]})";
constexpr uint64_t kHonestGas = 3959;  // Lua 5.4.4 and these gas rules

struct Escape {
  const char* name;
  const char* body;  // the body of f
  const char* kind;
};

const Escape kEscapes[] = {
    {"os.execute", "os.execute('touch /tmp/pwned')", "forbidden"},
    {"io.open", "io.open('/etc/passwd')", "forbidden"},
    {"require", "require('os')", "forbidden"},
    {"debug", "return debug.getregistry()", "forbidden"},
    {"package", "return package.loaded", "forbidden"},
    {"dofile", "dofile('/etc/passwd')", "forbidden"},
    {"loadfile", "loadfile('/etc/passwd')", "forbidden"},
    {"print", "print('x')", "forbidden"},
    {"collectgarbage", "collectgarbage()", "forbidden"},
    {"os found by pcall is still final", "pcall(function() return os end) return 1", "forbidden"},
    {"binary chunk", "return load('\\27Lua\\84\\0\\25\\147\\13\\10\\26\\10')", "forbidden"},
    {"binary chunk under pcall", "pcall(load, '\\27Lua') return 1", "forbidden"},
    {"string.dump", "return string.dump(f)", "forbidden"},
    {"dump via string metatable", "return (''):dump()", "forbidden"},
    {"rep bomb", "return #string.rep('x', 1e9)", "memory_exhausted"},
    {"rep bomb under pcall", "pcall(string.rep, 'x', 1e9) return 'survived'", "memory_exhausted"},
    {"doubling", "local s = ('x'):rep(1000) while true do s = s .. s end", "memory_exhausted"},
    {"large table", "local t = {} for i = 1, 1e8 do t[i] = i end", "memory_exhausted"},
    {"large table of strings", "local t = {} for i = 1, 1e8 do t[i] = 'k' .. i end",
     "memory_exhausted"},
    {"while true", "while true do end", "gas_exhausted"},
    {"pcall swallows gas",
     "local n = 0 for i = 1, 3 do if not pcall(function() while true do end end) then n = n + 1 "
     "end end return n",
     "gas_exhausted"},
    {"tail pcall", "return pcall(function() while true do end end)", "gas_exhausted"},
    {"xpcall with a spinning handler",
     "return xpcall(function() while true do end end, function() while true do end end)",
     "gas_exhausted"},
    {"error in __close", "local x <close> = setmetatable({}, {__close = function() while true do end end})",
     "gas_exhausted"},
    {"catastrophic pattern", "return string.find(('a'):rep(30), ('a*'):rep(10) .. 'b')",
     "gas_exhausted"},
    {"catastrophic gsub", "return (('a'):rep(40)):gsub(('a?'):rep(40) .. ('a'):rep(40), '')",
     "gas_exhausted"},
    {"__gc", "setmetatable({}, {__gc = function() end})", "forbidden"},
    {"__mode", "setmetatable({}, {__mode = 'k'})", "forbidden"},
    {"tostring of a table", "return tostring({})", "forbidden"},
    {"tostring of a function", "return tostring(f)", "forbidden"},
    {"%p", "return string.format('%p', {})", "forbidden"},
    {"%s of a table", "return string.format('%s', {})", "forbidden"},
    {"math.random", "return math.random()", "forbidden"},
    {"math.randomseed", "math.randomseed(1)", "forbidden"},
    {"string metatable", "getmetatable('').__index = {}", "runtime_error"},
    {"string metatable is hidden", "return getmetatable('')", "ok"},
    {"setmetatable on a library", "setmetatable(string, {})", "runtime_error"},
    {"write to a library", "string.upper = function() return 'x' end", "forbidden"},
    {"rawset on a library", "rawset(string, 'upper', 1)", "forbidden"},
    {"rawset on math", "rawset(math, 'pi', 3)", "forbidden"},
    {"table.insert into a library", "table.insert(string, 1)", "forbidden"},
    {"globals metatable", "setmetatable(_G, nil)", "runtime_error"},
    {"coroutine.create", "return coroutine.create(f)", "forbidden"},
    {"coroutine.wrap", "return coroutine.wrap(function() end)", "forbidden"},
    {"deep recursion", "local function r(n) return 1 + r(n + 1) end return r(1)", "memory_exhausted"},
    {"C stack", "local mt = {} mt.__index = function(s, k) return s[k] end "
     "return setmetatable({}, mt).x", "runtime_error"},
    {"long __index chain", "local t = {} for i = 1, 20 do t = setmetatable({}, {__index = t}) end",
     "runtime_error"},
    {"__index chain grown from its end",
     "local ts = {} for i = 1, 20 do ts[i] = {} end "
     "for i = 1, 19 do setmetatable(ts[i], {__index = ts[i + 1]}) end", "runtime_error"},
    {"__mode added after setmetatable is not seen",
     "local mt = {} local t = setmetatable({}, mt) mt.__mode = 'k' mt.__gc = function() end "
     "return getmetatable(t) == mt", "ok"},
    {"many varargs", "local t = {} for i = 1, 1000 do t[i] = i end return select('#', table.unpack(t))",
     "runtime_error"},
    {"many bytes as varargs", "return string.byte(('x'):rep(1000), 1, -1)", "runtime_error"},
};

TEST(Escapes, EachFailsCleanlyAndTheHonestCallIsUnchanged) {
  CallResult before = Exec(kHonest);
  ASSERT_TRUE(before.ok()) << before.failure->message;
  EXPECT_EQ(before.result.dump(), kHonestResult);
  EXPECT_EQ(before.gas_used, kHonestGas);
  for (const Escape& e : kEscapes) {
    CallResult r = Exec(std::string("function f() ") + e.body + " end");
    EXPECT_EQ(Kind(r), e.kind) << e.name << ": " << (r.ok() ? r.result.dump() : r.failure->message);
    if (!r.ok()) {
      EXPECT_TRUE(r.result.is_null()) << e.name;
    }
    // Twice: the same failure, message and gas (nothing carries over).
    CallResult again = Exec(std::string("function f() ") + e.body + " end");
    EXPECT_EQ(Kind(again), Kind(r)) << e.name;
    EXPECT_EQ(again.gas_used, r.gas_used) << e.name;
    if (!r.ok() && !again.ok()) {
      EXPECT_EQ(again.failure->message, r.failure->message) << e.name;
    }
  }
  CallResult after = Exec(kHonest);
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after.result, before.result);
  EXPECT_EQ(after.gas_used, before.gas_used);
}

TEST(Escapes, GasExhaustionUsesTheWholeLimit) {
  Limits l = EscapeLimits();
  l.gas = 100000;
  CallResult r = Exec("function f() while true do end end", l);
  EXPECT_EQ(Kind(r), "gas_exhausted");
  EXPECT_EQ(r.gas_used, 100000u);
  EXPECT_EQ(r.failure->message, "gas exhausted");
}

TEST(Escapes, LoadOfTextChunksWorksInTheSandbox) {
  CallResult r = Exec("function f() return load('return 1 + x', 'c', 'b', {x = 41})() end");
  ASSERT_TRUE(r.ok()) << r.failure->message;
  EXPECT_EQ(r.result, 42);
  CallResult bad = Exec("function f() local fn, err = load('return +') return err end");
  ASSERT_TRUE(bad.ok());
  EXPECT_EQ(bad.result, nlohmann::json("(load):1: unexpected symbol near '+'"));
}

TEST(Escapes, ToStringOfPlainValuesAndObjectsWithToString) {
  CallResult r = Exec(
      "function f() return {tostring(1), tostring(1.5), tostring(true), tostring(nil), "
      "tostring(json.null), tostring(setmetatable({}, {__tostring = function() return 'obj' end})), "
      "string.format('%s|%d|%5.2f', 'a', 3, 2.5)} end");
  ASSERT_TRUE(r.ok()) << r.failure->message;
  EXPECT_EQ(r.result.dump(), R"(["1","1.5","true","nil","null","obj","a|3| 2.50"])");
}

TEST(Escapes, MemoryCapIsPerCall) {
  Limits l = EscapeLimits();
  l.memory_bytes = 1u << 20;
  const char* src = "function f() local t = {} for i = 1, 100000 do t[i] = i end return #t end";
  EXPECT_EQ(Kind(Exec(src, l)), "memory_exhausted");
  l.memory_bytes = 8u << 20;
  EXPECT_EQ(Exec(src, l).result, 100000);
}

}  // namespace
}  // namespace medledger::contracts
