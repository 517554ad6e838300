// Library functions whose work in C grows with their input, charged by size
// before they run (the instruction hook does not fire inside C), and
// table.sort replaced by a stable merge sort. Each wrapper checks and
// charges, then runs the stock function on the same stack frame.
//
// Output strings of 128 bytes or more are also charged when allocated
// (sandbox.cc), so what is charged here is the work that makes no string:
// scans, pushes of many values, moves of table elements.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "contracts/context.h"
#include "contracts/stdlib.h"

namespace medledger::contracts::internal {
namespace {

// At most this many values from one library call (table.unpack,
// string.byte, utf8.codepoint, string.unpack): Lua copies a function's
// varargs on every `...` in one instruction, so their number bounds the
// time of an instruction. The parser allows no more than 255 registers.
constexpr lua_Integer kMaxResults = 250;

void CheckResults(lua_State* L, lua_Integer first, lua_Integer last, const char* what) {
  if (last >= first && (last - first >= kMaxResults || last - first < 0)) {
    luaL_error(L, "%s: more than %d results", what, int(kMaxResults));
  }
}

int Stock(lua_State* L) { return lua_tocfunction(L, lua_upvalueindex(1))(L); }

// Gas for a count that may be negative or huge.
uint64_t CountGas(lua_Integer first, lua_Integer last) {
  if (last < first) return 1;
  long double n = static_cast<long double>(last) - static_cast<long double>(first) + 1;
  return n > 1e18L ? uint64_t(1e18) : uint64_t(n) + 1;
}

lua_Integer PosRelat(lua_Integer pos, size_t len) {
  if (pos >= 0) return pos;
  if (size_t(0) - size_t(pos) > len) return 0;
  return lua_Integer(len) + pos + 1;
}

[[noreturn]] void TooLong(lua_State* L, const char* what) {
  Context* c = GetContext(L);
  SetFatal(c, FailureKind::kMemoryExhausted, "memory exhausted: string too long in ", what);
  luaL_error(L, "%s", c->fatal->message.c_str());
  std::abort();
}

int Rep(lua_State* L) {
  size_t l = 0, lsep = 0;
  luaL_checklstring(L, 1, &l);
  lua_Integer n = luaL_checkinteger(L, 2);
  luaL_optlstring(L, 3, "", &lsep);
  if (n > 0 && l + lsep > 0) {
    long double total = static_cast<long double>(l) * n + static_cast<long double>(lsep) * (n - 1);
    if (total > static_cast<long double>(GetContext(L)->limits.max_string_bytes)) {
      TooLong(L, "string.rep");
    }
    Charge(L, BytesGas(size_t(total)));
  }
  return Stock(L);
}

int Sub(lua_State* L) {
  size_t l = 0;
  luaL_checklstring(L, 1, &l);
  lua_Integer i = PosRelat(luaL_optinteger(L, 2, 1), l);
  lua_Integer j = PosRelat(luaL_optinteger(L, 3, -1), l);
  if (i < 1) i = 1;
  if (j > lua_Integer(l)) j = lua_Integer(l);
  Charge(L, i <= j ? BytesGas(size_t(j - i + 1)) : 1);
  return Stock(L);
}

int WholeString(lua_State* L) {  // upper, lower, reverse, len-like scans
  size_t l = 0;
  luaL_checklstring(L, 1, &l);
  Charge(L, BytesGas(l));
  return Stock(L);
}

int Byte(lua_State* L) {
  size_t l = 0;
  luaL_checklstring(L, 1, &l);
  lua_Integer i = luaL_optinteger(L, 2, 1);
  lua_Integer pi = PosRelat(i, l);
  lua_Integer pe = PosRelat(luaL_optinteger(L, 3, pi), l);
  if (pi < 1) pi = 1;
  if (pe > lua_Integer(l)) pe = lua_Integer(l);
  CheckResults(L, pi, pe, "string.byte");
  Charge(L, CountGas(pi, pe));
  return Stock(L);
}

int PerArgument(lua_State* L) {  // string.char, utf8.char, table.pack
  Charge(L, uint64_t(lua_gettop(L)) + 1);
  return Stock(L);
}

int CodePoint(lua_State* L) {  // utf8.codepoint: up to one value per byte
  size_t l = 0;
  luaL_checklstring(L, 1, &l);
  lua_Integer pi = PosRelat(luaL_optinteger(L, 2, 1), l);
  CheckResults(L, pi, PosRelat(luaL_optinteger(L, 3, pi), l), "utf8.codepoint");
  Charge(L, l + 1);
  return Stock(L);
}

int Pack(lua_State* L) {  // string.pack, packsize, unpack
  size_t fmt = 0;
  luaL_checklstring(L, 1, &fmt);
  if (fmt > size_t(kMaxResults)) luaL_error(L, "string.pack formats are at most %d bytes", int(kMaxResults));
  uint64_t gas = fmt + uint64_t(lua_gettop(L));
  if (lua_type(L, 2) == LUA_TSTRING) gas += BytesGas(lua_rawlen(L, 2));
  Charge(L, gas);
  return Stock(L);
}

// string.format: refuses %p (an address) and %s of a value whose text
// would be an address (a table or function without __tostring).
int Format(lua_State* L) {
  size_t n = 0;
  const char* f = luaL_checklstring(L, 1, &n);
  int arg = 1;
  uint64_t gas = BytesGas(n);
  for (size_t i = 0; i < n; ++i) {
    if (f[i] != '%') continue;
    if (++i >= n) break;
    if (f[i] == '%') continue;
    while (i < n && std::strchr("-+ #0123456789.", f[i]) != nullptr) ++i;
    if (i >= n) break;
    ++arg;
    if (f[i] == 'p') Forbid(L, "%p in string.format");
    if (f[i] == 's') {
      int t = lua_type(L, arg);
      if (t == LUA_TSTRING) gas += BytesGas(lua_rawlen(L, arg));
      if (t == LUA_TTABLE || t == LUA_TUSERDATA || t == LUA_TLIGHTUSERDATA ||
          t == LUA_TFUNCTION || t == LUA_TTHREAD) {
        if (luaL_getmetafield(L, arg, "__tostring") == LUA_TNIL) {
          Forbid(L, "string.format %s of a value without __tostring");
        }
        lua_pop(L, 1);
      }
    }
  }
  Charge(L, gas);
  return Stock(L);
}

lua_Integer RangeEnd(lua_State* L, int arg) {
  return lua_isnoneornil(L, arg) ? luaL_len(L, 1) : luaL_checkinteger(L, arg);
}

int Concat(lua_State* L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_Integer i = luaL_optinteger(L, 3, 1);
  Charge(L, CountGas(i, RangeEnd(L, 4)));
  return Stock(L);
}

int Unpack(lua_State* L) {
  lua_Integer i = luaL_optinteger(L, 2, 1);
  lua_Integer e = lua_isnoneornil(L, 3) ? luaL_len(L, 1) : luaL_checkinteger(L, 3);
  CheckResults(L, i, e, "table.unpack");
  Charge(L, CountGas(i, e));
  return Stock(L);
}

int Shift(lua_State* L) {  // table.insert, table.remove: move up to #t elements
  luaL_checktype(L, 1, LUA_TTABLE);
  Charge(L, CountGas(1, luaL_len(L, 1)));
  return Stock(L);
}

int Move(lua_State* L) {
  Charge(L, CountGas(luaL_checkinteger(L, 2), luaL_checkinteger(L, 3)));
  return Stock(L);
}

bool DefaultLess(lua_State* L, int a, int b) { return lua_compare(L, a, b, LUA_OPLT); }

bool ComparatorLess(lua_State* L, int a, int b) {
  lua_pushvalue(L, 2);
  lua_pushvalue(L, a);
  lua_pushvalue(L, b);
  lua_call(L, 2, 1);
  bool less = lua_toboolean(L, -1);
  lua_pop(L, 1);
  return less;
}

int Sort(lua_State* L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_Integer n = luaL_len(L, 1);
  if (!lua_isnoneornil(L, 2)) luaL_checktype(L, 2, LUA_TFUNCTION);
  lua_settop(L, 2);
  if (n > 1) {
    luaL_argcheck(L, n < (lua_Integer(1) << 26), 1, "array too big");
    StableSort(L, 1, n, lua_isnil(L, 2) ? DefaultLess : ComparatorLess, true);
  }
  return 0;
}

void Replace(lua_State* L, int index, const char* name, lua_CFunction wrapper) {
  lua_getfield(L, index, name);
  lua_pushcclosure(L, wrapper, 1);
  lua_setfield(L, index, name);
}

}  // namespace

void StableSort(lua_State* L, int index, lua_Integer n, LessFn less, bool per_comparison) {
  index = lua_absindex(L, index);
  luaL_checkstack(L, 8, "sort");
  // A snapshot of the values, then a bottom-up merge sort of positions
  // (int32 arrays in a userdata: nothing C++ on this frame when a
  // comparison raises).
  lua_createtable(L, int(n), 0);
  int snap = lua_gettop(L);
  for (lua_Integer i = 1; i <= n; ++i) {
    lua_geti(L, index, i);
    lua_rawseti(L, snap, i);
  }
  Charge(L, uint64_t(n));
  auto* a = static_cast<int32_t*>(lua_newuserdatauv(L, sizeof(int32_t) * size_t(n) * 2, 0));
  int32_t* b = a + n;
  for (lua_Integer i = 0; i < n; ++i) a[i] = int32_t(i + 1);
  for (lua_Integer width = 1; width < n; width *= 2) {
    for (lua_Integer lo = 0; lo < n; lo += 2 * width) {
      lua_Integer mid = std::min(lo + width, n), hi = std::min(lo + 2 * width, n);
      lua_Integer i = lo, j = mid, k = lo;
      while (i < mid && j < hi) {
        if (per_comparison) Charge(L, 1);
        lua_rawgeti(L, snap, a[j]);
        lua_rawgeti(L, snap, a[i]);
        bool take_right = less(L, lua_gettop(L) - 1, lua_gettop(L));
        lua_pop(L, 2);
        b[k++] = take_right ? a[j++] : a[i++];
      }
      while (i < mid) b[k++] = a[i++];
      while (j < hi) b[k++] = a[j++];
    }
    std::swap(a, b);
  }
  for (lua_Integer i = 1; i <= n; ++i) {
    lua_rawgeti(L, snap, a[i - 1]);
    lua_seti(L, index, i);
  }
  lua_pop(L, 2);
}

void MeterStringLib(lua_State* L, int index) {
  Replace(L, index, "rep", Rep);
  Replace(L, index, "sub", Sub);
  Replace(L, index, "upper", WholeString);
  Replace(L, index, "lower", WholeString);
  Replace(L, index, "reverse", WholeString);
  Replace(L, index, "byte", Byte);
  Replace(L, index, "char", PerArgument);
  Replace(L, index, "format", Format);
  Replace(L, index, "pack", Pack);
  Replace(L, index, "packsize", Pack);
  Replace(L, index, "unpack", Pack);
}

void MeterTableLib(lua_State* L, int index) {
  Replace(L, index, "concat", Concat);
  Replace(L, index, "unpack", Unpack);
  Replace(L, index, "insert", Shift);
  Replace(L, index, "remove", Shift);
  Replace(L, index, "move", Move);
  Replace(L, index, "pack", PerArgument);
  lua_pushcfunction(L, Sort);
  lua_setfield(L, index, "sort");
}

void MeterUtf8Lib(lua_State* L, int index) {
  Replace(L, index, "char", PerArgument);
  Replace(L, index, "len", WholeString);
  Replace(L, index, "offset", WholeString);
  Replace(L, index, "codepoint", CodePoint);
}

}  // namespace medledger::contracts::internal
