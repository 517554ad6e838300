// The step-counted matcher gives stock Lua 5.4's answers: each case is
// pinned, and also run through the stock string library of the same
// liblua5.4 for comparison.
#include <gtest/gtest.h>

#include <lua.hpp>

#include "contracts/sandbox.h"

namespace medledger::contracts {
namespace {

nlohmann::json Eval(const std::string& expr) {
  auto r = Call("function f() return {" + expr + "} end", "p", "f", nullptr, CallEnv{}, nullptr,
                Limits{});
  EXPECT_TRUE(r.ok());
  if (!r.ok()) return nullptr;
  if (!r->ok()) return "failure: " + r->failure->message;
  return r->result;
}

struct Case {
  const char* expr;
  const char* expected;  // JSON of the table {expr}
};

const Case kCases[] = {
      {"string.find('hello world', 'o w')", "[5,7]"},
      {"string.find('hello', 'l+')", "[3,4]"},
      {"string.find('a.b', '.', 1, true)", "[2,2]"},
      {"string.find('abc', 'b', -1)", "{}"},
      {"string.find('abc', '')", "[1,0]"},
      {"string.match('key=value', '(%w+)=(%w+)')", R"(["key","value"])"},
      {"string.match('  x', '()x')", "[3]"},
      {"string.match('abc', '^b')", "{}"},
      {"string.match('abc', 'c$')", R"(["c"])"},
      {"string.match('f(a(b)c) x', '%b()')", R"x(["(a(b)c)"])x"},
      {"string.match([[say \"hi\" ok]], [[([\"'])(.-)%1]])", R"(["\"","hi"])"},
      {"string.match('2024-01-31', '(%d+)-(%d+)-(%d+)')", R"(["2024","01","31"])"},
      {"string.match('x = 10', '^(%a+)%s*=%s*(%d+)$')", R"(["x","10"])"},
      {"string.match('[a-z]', '[%[%]]')", R"(["["])"},
      {"string.match('hello', '[^aeiou]+')", R"(["h"])"},
      {"string.match('A1_b', '[%u%d_]+')", R"(["A1_"])"},
      {"string.match('aaa', 'a-b')", "{}"},
      {"string.match('aaab', 'a-b')", R"(["aaab"])"},
      {"string.match('ab', 'a?b')", R"(["ab"])"},
      {"string.gsub('hello world', 'o', '0')", R"(["hell0 w0rld",2])"},
      {"string.gsub('abc', '%w', '%0%0')", R"(["aabbcc",3])"},
      {"string.gsub('$name is $age', '%$(%w+)', {name = 'Bob', age = 42})", R"(["Bob is 42",2])"},
      {"string.gsub('abc', 'b', function(x) return x:upper() end)", R"(["aBc",1])"},
      {"string.gsub('abc', '', '-')", R"(["-a-b-c-",4])"},
      {"string.gsub('THE (quick) fox', '%f[%a]%a+', 'W')", R"(["W (W) W",3])"},
      {"string.gsub('one two', '(%w+)', '<%1>', 1)", R"(["<one> two",1])"},
      {"string.gsub('abc', 'x*', '-')", R"(["-a-b-c-",4])"},
      {"(function() local t = {} for k, v in string.gmatch('a=1, b=2', '(%w+)=(%w+)') do "
       "t[#t + 1] = k .. v end return table.concat(t, ' ') end)()",
       R"(["a1 b2"])"},
      {"(function() local n = 0 for w in ('one two  three'):gmatch('%a+') do n = n + 1 end "
       "return n end)()",
       "[3]"},
};

TEST(Pattern, FindMatchGmatchGsub) {
  for (const Case& c : kCases) {
    EXPECT_EQ(Eval(c.expr).dump(), c.expected) << c.expr;
  }
}

// The results as text ("type:value,..."), computed by the same Lua code in
// the sandbox and in a stock interpreter.
std::string Describe(const char* expr) {
  return std::string("local r = table.pack(") + expr +
         ") local p = {} for i = 1, r.n do p[i] = type(r[i]) .. ':' .. tostring(r[i]) end "
         "return table.concat(p, ',')";
}

TEST(Pattern, AgreesWithStockLua) {
  lua_State* L = luaL_newstate();
  luaL_openlibs(L);
  for (const Case& c : kCases) {
    std::string code = Describe(c.expr);
    ASSERT_EQ(luaL_dostring(L, code.c_str()), LUA_OK) << lua_tostring(L, -1);
    std::string stock = lua_tostring(L, -1);
    lua_pop(L, 1);
    auto r = Call("function f() " + code + " end", "p", "f", nullptr, CallEnv{}, nullptr, Limits{});
    ASSERT_TRUE(r.ok() && r->ok()) << c.expr;
    EXPECT_EQ(r->result, stock) << c.expr;
  }
  lua_close(L);
}

TEST(Pattern, MalformedPatternsAreRuntimeErrors) {
  for (const char* expr : {"string.find('x', '[a')", "string.find('x', '%')",
                           "string.match('x', '(()')", "string.gsub('x', 'x', '%2')",
                           "string.match('x', '%b')", "string.match('x', '%f')"}) {
    auto r = Call(std::string("function f() return ") + expr + " end", "p", "f", nullptr,
                  CallEnv{}, nullptr, Limits{});
    ASSERT_TRUE(r.ok());
    ASSERT_FALSE(r->ok()) << expr;
    EXPECT_EQ(r->failure->kind, FailureKind::kRuntimeError) << expr << r->failure->message;
  }
}

TEST(Pattern, StepsAreCharged) {
  auto cost = [](const std::string& pat) {
    auto r = Call("function f() return string.find(('a'):rep(20), '" + pat + "') end", "p", "f",
                  nullptr, CallEnv{}, nullptr, Limits{});
    return r.ok() ? r->gas_used : 0;
  };
  EXPECT_GT(cost("a*a*a*a*b"), cost("b") + 1000);
}

}  // namespace
}  // namespace medledger::contracts
