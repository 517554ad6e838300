// The call API, the JSON mapping, gas, state access and determinism.
// Escapes are in escape_test.cc, the matcher in pattern_test.cc.
#include "contracts/sandbox.h"

#include <gtest/gtest.h>

#include <clocale>
#include <cstdio>
#include <cstdlib>
#include <unistd.h>
#include <string>

namespace medledger::contracts {
namespace {

CallEnv TestEnv() {
  CallEnv env;
  env.height = 7;
  env.timestamp_ms = 1700000000000;
  env.caller = std::string(64, 'a');
  return env;
}

CallResult Exec(std::string_view src, std::string_view fn, const nlohmann::json& args = nullptr,
                StateAccess* state = nullptr, const Limits& limits = Limits{}) {
  auto r = Call(src, "t", fn, args, TestEnv(), state, limits);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? *r : CallResult{};
}

std::string Kind(const CallResult& r) {
  return r.ok() ? "ok" : FailureKindName(r.failure->kind);
}

TEST(Sandbox, LuaReleaseIsTheEmbeddedOne) { EXPECT_EQ(LuaRelease(), 50404); }

TEST(Sandbox, RefusesToRunOutsideTheCLocale) {
  // Lua compares strings with strcoll and prints numbers with the locale's
  // decimal point: a node in another locale would disagree with the others.
  if (std::setlocale(LC_COLLATE, "C.UTF-8") == nullptr) GTEST_SKIP() << "no C.UTF-8 locale";
  auto r = Call("function f() return 1 end", "t", "f", nullptr, TestEnv(), nullptr, Limits{});
  std::setlocale(LC_COLLATE, "C");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_TRUE(Exec("function f() return 1 end", "f").ok());
}

TEST(Sandbox, ReturnsJson) {
  CallResult r = Exec("function f(a) return {sum = a.x + a.y, who = env.caller:sub(1, 2)} end",
                      "f", {{"x", 2}, {"y", 40}});
  ASSERT_TRUE(r.ok()) << r.failure->message;
  EXPECT_EQ(r.result, nlohmann::json({{"sum", 42}, {"who", "aa"}}));
  EXPECT_GT(r.gas_used, 0u);
}

TEST(Sandbox, EnvIsPassedInAndReadOnly) {
  CallResult r = Exec("function f() return {env.height, env.timestamp_ms, env.contract} end", "f");
  ASSERT_TRUE(r.ok()) << r.failure->message;
  EXPECT_EQ(r.result, nlohmann::json::parse(R"([7, 1700000000000, "t"])"));
  EXPECT_EQ(Kind(Exec("function f() env.height = 8 end", "f")), "forbidden");
}

TEST(Sandbox, JsonIn) {
  const char* src = R"(
    function f(a)
      return {
        arr_len = #a.arr, empty = a.empty, null_kept = a.arr[2] == json.null,
        big = a.big, big_type = type(a.big), obj_b = a.obj.b, neg = a.neg,
      }
    end)";
  nlohmann::json args = nlohmann::json::parse(
      R"({"arr": [1, null, 3], "empty": [], "big": 18446744073709551615,
          "obj": {"b": true}, "neg": -9223372036854775808})");
  CallResult r = Exec(src, "f", args);
  ASSERT_TRUE(r.ok()) << r.failure->message;
  EXPECT_EQ(r.result.dump(),
            R"({"arr_len":3,"big":"18446744073709551615","big_type":"string","empty":[],)"
            R"("neg":-9223372036854775808,"null_kept":true,"obj_b":true})");
}

TEST(Sandbox, JsonOut) {
  const char* src = R"(
    function f()
      return {
        empty = {}, marked = json.array({}), seq = {1, 2, 3}, z = 1, a = 2,
        half = 0.5, three = 3.0, big = 2^63, null = json.null, nested = {{x = {}}},
      }
    end
    function nothing() end)";
  CallResult r = Exec(src, "f");
  ASSERT_TRUE(r.ok()) << r.failure->message;
  EXPECT_EQ(r.result.dump(),
            R"({"a":2,"big":"9.2233720368548e+18","empty":{},"half":"0.5","marked":[],)"
            R"("nested":[{"x":{}}],"null":null,"seq":[1,2,3],"three":"3.0","z":1})");
  CallResult n = Exec(src, "nothing");
  ASSERT_TRUE(n.ok());
  EXPECT_TRUE(n.result.is_null());
}

TEST(Sandbox, ResultsWithoutJsonFormAreBadResult) {
  for (const char* body : {"return {1, a = 2}", "return function() end", "return 0/0",
                           "return 1/0", "return '\\xff'", "return {[1] = 1, [3] = 3}",
                           "local t = {} t.t = t return t", "return {[true] = 1}",
                           "return json.array({a = 1})"}) {
    CallResult r = Exec(std::string("function f() ") + body + " end", "f");
    EXPECT_EQ(Kind(r), "bad_result") << body;
    EXPECT_TRUE(r.result.is_null());
  }
}

TEST(Sandbox, ArgumentsBeyondTheLimitsAreBadArguments) {
  const char* id = "function f(a) return a end";
  EXPECT_EQ(Kind(Exec(id, "f", {{"x", 1.5}})), "bad_arguments");
  nlohmann::json deep = 1;
  for (int i = 0; i < 40; ++i) deep = nlohmann::json::array({deep});
  EXPECT_EQ(Kind(Exec(id, "f", deep)), "bad_arguments");
  Limits small;
  small.max_json_values = 10;
  EXPECT_EQ(Kind(Exec(id, "f", nlohmann::json(std::vector<int>(20, 1)), nullptr, small)),
            "bad_arguments");
  small.max_string_bytes = 100;
  EXPECT_EQ(Kind(Exec(id, "f", std::string(101, 'x'), nullptr, small)), "bad_arguments");
}

TEST(Sandbox, RuntimeErrorsCarryLuasMessage) {
  CallResult r = Exec("function f()\n error('boom')\nend", "f");
  EXPECT_EQ(Kind(r), "runtime_error");
  EXPECT_EQ(r.failure->message, "t:2: boom");
  EXPECT_EQ(Exec("function f() error({}) end", "f").failure->message,
            "(error object is a table value)");
  EXPECT_EQ(Exec("function f() end", "g").failure->message, "no contract function 'g'");
  EXPECT_EQ(Exec("function f() end", "pcall").failure->message, "no contract function 'pcall'");
  CallResult syntax = Exec("function f(", "f");
  EXPECT_EQ(Kind(syntax), "runtime_error");
  EXPECT_EQ(syntax.failure->message, "t:1: <name> or '...' expected near <eof>");
  EXPECT_FALSE(Contract::Compile("function f(", "t").ok());
}

TEST(Sandbox, GasGrowsWithWorkAndIsRepeatable) {
  const char* src = "function f(a) local s = 0 for i = 1, a.n do s = s + i end return s end";
  CallResult small = Exec(src, "f", {{"n", 10}});
  CallResult big = Exec(src, "f", {{"n", 100000}});
  ASSERT_TRUE(small.ok() && big.ok());
  EXPECT_EQ(big.result, 5000050000);
  EXPECT_GT(big.gas_used, small.gas_used + 100000);
  EXPECT_EQ(Exec(src, "f", {{"n", 100000}}).gas_used, big.gas_used);
  Limits tight;
  tight.gas = 50000;
  CallResult out = Exec(src, "f", {{"n", 100000}}, nullptr, tight);
  EXPECT_EQ(Kind(out), "gas_exhausted");
  EXPECT_EQ(out.gas_used, tight.gas);
}

TEST(Sandbox, LibraryWorkIsChargedBySize) {
  // One instruction-quantum apart in Lua, but string.rep and table.concat
  // do work proportional to size in C.
  Limits big_strings;
  big_strings.max_string_bytes = 1 << 20;
  CallResult a = Exec("function f() return #string.rep('x', 100) end", "f", nullptr, nullptr, big_strings);
  CallResult b = Exec("function f() return #string.rep('x', 200000) end", "f", nullptr, nullptr, big_strings);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_GE(b.gas_used, a.gas_used + 200000 / 16);
  CallResult c = Exec(
      "function f() local t = {} for i = 1, 1000 do t[i] = 'ab' end "
      "local n = 0 for i = 1, 50 do n = n + #table.concat(t) end return n end", "f");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c.result, 100000);
  EXPECT_GT(c.gas_used, 50u * 1000);
}

TEST(Sandbox, StateHostFunctions) {
  MemoryState st;
  const char* src = R"(
    function put(a) state.put("count", a.n) state.put("name", "x" .. a.n) end
    function get() return {count = state.get("count"), name = state.get("name"),
                           none = state.get("none") == nil} end
    function del() state.delete("count") return state.get("count") == nil end
    function bad_float() state.put("f", 0.5) end
    function bad_key() state.put(string.rep("k", 300), 1) end)";
  ASSERT_TRUE(Exec(src, "put", {{"n", 5}}, &st).ok());
  EXPECT_EQ(std::get<int64_t>(st.values().at("count")), 5);
  CallResult g = Exec(src, "get", nullptr, &st);
  ASSERT_TRUE(g.ok()) << g.failure->message;
  EXPECT_EQ(g.result, nlohmann::json({{"count", 5}, {"name", "x5"}, {"none", true}}));
  EXPECT_GE(g.gas_used, 3 * 500u);
  EXPECT_EQ(Exec(src, "del", nullptr, &st).result, true);
  EXPECT_EQ(Kind(Exec(src, "bad_float", nullptr, &st)), "runtime_error");
  EXPECT_EQ(Kind(Exec(src, "bad_key", nullptr, &st)), "runtime_error");
  EXPECT_EQ(Kind(Exec(src, "get", nullptr, nullptr)), "forbidden");
}

class FailingState : public MemoryState {
 public:
  Result<std::optional<StateValue>> Get(std::string_view) override {
    return Unavailable("disk busy");
  }
};

TEST(Sandbox, HostFailureIsAnOperationalError) {
  FailingState st;
  // Even a pcall around the read cannot turn the node's failure into a result.
  auto r = Call("function f() pcall(state.get, 'k') return 1 end", "t", "f", nullptr, TestEnv(),
                &st, Limits{});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
}

// A contract that iterates with pairs and next over integer, float, string
// and boolean keys. Its output and gas are pinned: they must not depend on
// the process (Debian's Lua seeds its string hash from the clock and from
// addresses), nor on anything but the Lua release.
const char* kIterate = R"(
  function f(a)
    local t = {zeta = 1, alpha = 2, [10] = 3, [2] = 4, [1.5] = 5, [true] = 6, [false] = 7,
               beta = 8, ["Z"] = 9, [""] = 10, [-1] = 11}
    for k, v in pairs(a) do t[k] = v end
    local order = {}
    for k, v in pairs(t) do order[#order + 1] = tostring(k) .. "=" .. tostring(v) end
    local via_next, k = {}, next(t)
    while k ~= nil do via_next[#via_next + 1] = tostring(k) k = next(t, k) end
    return {pairs = table.concat(order, ","), next = table.concat(via_next, ",")}
  end)";
const char* kIteratePinned =
    R"({"next":"-1,1.5,2,10,,Z,alpha,beta,k1,k2,k3,zeta,false,true",)"
    R"("pairs":"-1=11,1.5=5,2=4,10=3,=10,Z=9,alpha=2,beta=8,k1=1,k2=2,k3=3,zeta=1,false=7,true=6"})";
const nlohmann::json kIterateArgs = {{"k3", 3}, {"k1", 1}, {"k2", 2}};

TEST(Determinism, PairsOrderIsPinned) {
  CallResult a = Exec(kIterate, "f", kIterateArgs);
  CallResult b = Exec(kIterate, "f", kIterateArgs);
  ASSERT_TRUE(a.ok()) << a.failure->message;
  EXPECT_EQ(a.result.dump(), kIteratePinned);
  EXPECT_EQ(a.gas_used, 810u);  // Lua 5.4.4; changes only with the release or the gas rules
  EXPECT_EQ(b.result, a.result);
  EXPECT_EQ(b.gas_used, a.gas_used);
  if (const char* emit = std::getenv("MEDLEDGER_CONTRACTS_EMIT"); emit != nullptr) {
    std::printf("EMIT %s %llu\n", a.result.dump().c_str(), (unsigned long long)a.gas_used);
  }
}

TEST(Determinism, PairsRefusesKeysWithoutAnOrder) {
  CallResult r = Exec("function f() for k in pairs({[{}] = 1}) do end end", "f");
  EXPECT_EQ(Kind(r), "runtime_error");
  EXPECT_NE(r.failure->message.find("no deterministic order"), std::string::npos);
}

// The same call in another process (another hash seed, other addresses)
// gives the same result and gas.
TEST(Determinism, ChildProcessAgrees) {
  CallResult here = Exec(kIterate, "f", kIterateArgs);
  std::string cmd =
      "MEDLEDGER_CONTRACTS_EMIT=1 /proc/" + std::to_string(getpid()) +
      "/exe --gtest_filter=Determinism.PairsOrderIsPinned 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  ASSERT_NE(p, nullptr);
  std::string out;
  char buf[4096];
  while (std::fgets(buf, sizeof buf, p) != nullptr) out += buf;
  ASSERT_EQ(pclose(p), 0) << out;
  std::string expected =
      "EMIT " + here.result.dump() + " " + std::to_string(here.gas_used) + "\n";
  EXPECT_NE(out.find(expected), std::string::npos) << out << "\nexpected: " << expected;
}

}  // namespace
}  // namespace medledger::contracts
