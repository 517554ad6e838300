// The contract's global environment: what is loaded, replaced, refused and
// locked. The reasons are in docs/CONTRACTS.md, "Sandbox".
#include "contracts/stdlib.h"

#include <algorithm>
#include <cstring>
#include <string_view>

#include "contracts/context.h"
#include "contracts/json_lua.h"

namespace medledger::contracts::internal {
namespace {

// Registry keys (their addresses): the set of read-only proxies; captured
// metatables (original -> copy); the copies; copies whose original had its
// own __metatable; tables at the end of an __index/__newindex chain.
char kLockedKey = 0;
char kCapturedKey = 0;
char kCapturedCopyKey = 0;
char kProtectedKey = 0;
char kChainEndKey = 0;

// Reading one of these globals fails the call as forbidden (instead of
// giving nil), so an escape attempt is named as such.
constexpr const char* kForbiddenGlobals[] = {
    "os", "io", "debug", "package", "coroutine", "require", "dofile", "loadfile",
    "print", "collectgarbage", "warn", "loadstring", "module", "setfenv", "getfenv"};

int ForbiddenStub(lua_State* L) { Forbid(L, lua_tostring(L, lua_upvalueindex(1))); }

void SetForbidden(lua_State* L, int index, const char* name, const char* what) {
  lua_pushstring(L, what);
  lua_pushcclosure(L, ForbiddenStub, 1);
  lua_setfield(L, index, name);
}

int GlobalIndex(lua_State* L) {
  if (lua_type(L, 2) == LUA_TSTRING) {
    const char* k = lua_tostring(L, 2);
    for (const char* name : kForbiddenGlobals) {
      if (std::strcmp(k, name) == 0) Forbid(L, name);
    }
  }
  return 0;
}

int ReadOnlyWrite(lua_State* L) { Forbid(L, "writing to a library table"); }

// Replaces the table at the top of the stack by a read-only proxy for it.
void LockTop(lua_State* L) {
  int real = lua_gettop(L);
  lua_createtable(L, 0, 0);
  int proxy = real + 1;
  lua_createtable(L, 0, 3);
  lua_pushvalue(L, real);
  lua_setfield(L, -2, "__index");
  lua_pushcfunction(L, ReadOnlyWrite);
  lua_setfield(L, -2, "__newindex");
  lua_pushliteral(L, "locked");
  lua_setfield(L, -2, "__metatable");
  lua_setmetatable(L, proxy);
  lua_rawgetp(L, LUA_REGISTRYINDEX, &kLockedKey);
  lua_pushvalue(L, proxy);
  lua_pushboolean(L, 1);
  lua_rawset(L, -3);
  lua_pop(L, 1);
  lua_replace(L, real);
}

bool IsLocked(lua_State* L, int index) {
  lua_rawgetp(L, LUA_REGISTRYINDEX, &kLockedKey);
  lua_pushvalue(L, index);
  bool locked = lua_rawget(L, -2) != LUA_TNIL;
  lua_pop(L, 2);
  return locked;
}

int KeyClass(lua_State* L, int i) {
  switch (lua_type(L, i)) {
    case LUA_TNUMBER: return 0;
    case LUA_TSTRING: return 1;
    case LUA_TBOOLEAN: return 2;
    default:
      return luaL_error(L, "a table with %s keys cannot be iterated (no deterministic order)",
                        luaL_typename(L, i));
  }
}

// pairs(t): the keys, sorted (KeyLess), snapshotted when the loop starts;
// a key whose value became nil is skipped. __pairs is not consulted.
int PairsStep(lua_State* L) {
  lua_Integer pos = lua_tointeger(L, lua_upvalueindex(3));
  for (;;) {
    ++pos;
    if (lua_rawgeti(L, lua_upvalueindex(2), pos) == LUA_TNIL) return 0;
    lua_pushvalue(L, -1);
    if (lua_rawget(L, lua_upvalueindex(1)) != LUA_TNIL) {
      lua_pushinteger(L, pos);
      lua_replace(L, lua_upvalueindex(3));
      return 2;
    }
    lua_pop(L, 2);
  }
}

int Pairs(lua_State* L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_settop(L, 1);
  lua_Integer n = 0;
  lua_createtable(L, 0, 0);
  lua_pushnil(L);
  while (lua_next(L, 1) != 0) {
    lua_pop(L, 1);
    KeyClass(L, -1);
    lua_pushvalue(L, -1);
    lua_rawseti(L, 2, ++n);
  }
  // The keys come in hash order, so the comparisons a sort makes vary
  // between processes: charge the bound n * ceil(log2 n) instead.
  uint64_t log2n = 1;
  while ((lua_Integer(1) << log2n) < n) ++log2n;
  Charge(L, uint64_t(n) * (log2n + 1) + 1);
  StableSort(L, 2, n, KeyLess, false);
  lua_pushvalue(L, 1);
  lua_pushvalue(L, 2);
  lua_pushinteger(L, 0);
  lua_pushcclosure(L, PairsStep, 3);
  lua_pushvalue(L, 1);
  lua_pushnil(L);
  return 3;
}

// next(t, k): the least key greater than k (any key when k is nil), in
// the order of pairs. O(#keys) per call, charged so.
int Next(lua_State* L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_settop(L, 2);
  bool from_start = lua_isnil(L, 2);
  if (!from_start) KeyClass(L, 2);
  lua_pushnil(L);  // 3: best key so far
  uint64_t n = 0;
  lua_pushnil(L);
  while (lua_next(L, 1) != 0) {
    lua_pop(L, 1);
    ++n;
    KeyClass(L, -1);
    if ((from_start || KeyLess(L, 2, -1)) && (lua_isnil(L, 3) || KeyLess(L, -1, 3))) {
      lua_pushvalue(L, -1);
      lua_replace(L, 3);
    }
  }
  Charge(L, n + 1);
  if (lua_isnil(L, 3)) return 1;
  lua_pushvalue(L, 3);
  lua_rawget(L, 1);
  return 2;
}

int ToString(lua_State* L) {
  luaL_checkany(L, 1);
  int t = lua_type(L, 1);
  if (t == LUA_TLIGHTUSERDATA && lua_touserdata(L, 1) == nullptr) {
    lua_pushliteral(L, "null");
    return 1;
  }
  bool plain = t == LUA_TNIL || t == LUA_TBOOLEAN || t == LUA_TNUMBER || t == LUA_TSTRING;
  if (!plain) {
    if (luaL_getmetafield(L, 1, "__tostring") == LUA_TNIL) {
      Forbid(L, "tostring of a value without __tostring (it would print an address)");
    }
    lua_pop(L, 1);
  }
  luaL_tolstring(L, 1, nullptr);
  return 1;
}

// Metatables are captured when first set: setmetatable(t, mt) gives t a
// hidden copy of mt's fields (one copy per mt, made at its first use), and
// getmetatable(t) still answers mt. Later changes to mt are not seen. This
// bounds __index/__newindex chains, which Lua follows up to 2,000 tables
// inside one instruction where the hook cannot charge them: a chain through
// captured metatables is at most kMaxChain tables, and a table that is
// already the end of a chain cannot be given a metatable that extends it.
constexpr int kMaxChain = 8;

// The length of the `field` chain that starts at the table at `index`.
int ChainLength(lua_State* L, int index, const char* field) {
  index = lua_absindex(L, index);
  int n = 1;
  lua_pushvalue(L, index);
  while (n <= kMaxChain && lua_getmetatable(L, -1)) {
    int found = lua_getfield(L, -1, field);
    lua_remove(L, -2);  // the metatable
    lua_remove(L, -2);  // the previous table
    if (found != LUA_TTABLE) break;
    ++n;
  }
  lua_pop(L, 1);
  return n;
}

bool InSet(lua_State* L, const void* set, int index) {
  index = lua_absindex(L, index);
  lua_rawgetp(L, LUA_REGISTRYINDEX, set);
  lua_pushvalue(L, index);
  bool in = lua_rawget(L, -2) == LUA_TBOOLEAN && lua_toboolean(L, -1);
  lua_pop(L, 2);
  return in;
}

void AddToSet(lua_State* L, const void* set, int index, bool value) {
  index = lua_absindex(L, index);
  lua_rawgetp(L, LUA_REGISTRYINDEX, set);
  lua_pushvalue(L, index);
  lua_pushboolean(L, value);
  lua_rawset(L, -3);
  lua_pop(L, 1);
}

// Pushes the captured copy of the metatable at `mt`, making it if needed.
void PushCaptured(lua_State* L, int mt) {
  lua_rawgetp(L, LUA_REGISTRYINDEX, &kCapturedKey);
  lua_pushvalue(L, mt);
  if (lua_rawget(L, -2) == LUA_TTABLE) {
    lua_remove(L, -2);
    return;
  }
  lua_pop(L, 1);
  lua_createtable(L, 0, 8);
  int copy = lua_gettop(L);
  uint64_t n = 0;
  lua_pushnil(L);
  while (lua_next(L, mt) != 0) {
    lua_pushvalue(L, -2);
    lua_insert(L, -2);
    lua_rawset(L, copy);
    ++n;
  }
  Charge(L, n + 1);
  lua_pushliteral(L, "__metatable");
  bool is_protected = lua_rawget(L, copy) != LUA_TNIL;
  lua_pop(L, 1);
  if (!is_protected) {
    lua_pushvalue(L, mt);
    lua_setfield(L, copy, "__metatable");
  }
  AddToSet(L, &kProtectedKey, copy, is_protected);
  for (const char* field : {"__index", "__newindex"}) {
    if (lua_getfield(L, copy, field) == LUA_TTABLE) {
      if (ChainLength(L, -1, field) >= kMaxChain) {
        luaL_error(L, "%s chain longer than %d tables", field, kMaxChain);
      }
      AddToSet(L, &kChainEndKey, -1, true);
    }
    lua_pop(L, 1);
  }
  lua_pushvalue(L, mt);
  lua_pushvalue(L, copy);
  lua_rawset(L, -4);  // captured[mt] = copy
  lua_remove(L, -2);  // the captured table
}

int SetMetatable(lua_State* L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  int t = lua_type(L, 2);
  luaL_argexpected(L, t == LUA_TNIL || t == LUA_TTABLE, 2, "nil or table");
  lua_settop(L, 2);
  if (t == LUA_TTABLE) {
    lua_pushliteral(L, "__gc");
    if (lua_rawget(L, 2) != LUA_TNIL) Forbid(L, "__gc metamethods");
    lua_pushliteral(L, "__mode");
    if (lua_rawget(L, 2) != LUA_TNIL) Forbid(L, "weak tables (__mode)");
    lua_pop(L, 2);
  }
  if (lua_getmetatable(L, 1)) {  // 3: the current (captured) metatable
    bool is_protected = InSet(L, &kCapturedCopyKey, 3) ? InSet(L, &kProtectedKey, 3)
                                                        : luaL_getmetafield(L, 1, "__metatable") != LUA_TNIL;
    if (is_protected) return luaL_error(L, "cannot change a protected metatable");
    lua_settop(L, 2);
  }
  if (t == LUA_TNIL) {
    lua_setmetatable(L, 1);
    lua_settop(L, 1);
    return 1;
  }
  PushCaptured(L, 2);
  AddToSet(L, &kCapturedCopyKey, -1, true);
  if (InSet(L, &kChainEndKey, 1)) {
    for (const char* field : {"__index", "__newindex"}) {
      if (lua_getfield(L, -1, field) == LUA_TTABLE) {
        return luaL_error(L, "this table ends an %s chain: it cannot get a metatable with a table %s",
                          field, field);
      }
      lua_pop(L, 1);
    }
  }
  lua_setmetatable(L, 1);
  lua_settop(L, 1);
  return 1;
}

int RawSet(lua_State* L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  luaL_checkany(L, 2);
  luaL_checkany(L, 3);
  if (IsLocked(L, 1)) Forbid(L, "rawset on a library table");
  lua_settop(L, 3);
  lua_rawset(L, 1);
  return 1;
}

// load(chunk [, chunkname [, mode [, env]]]): text chunks given as strings
// only; a binary chunk is forbidden, whatever `mode` says.
int Load(lua_State* L) {
  size_t n = 0;
  bool has_env = lua_gettop(L) >= 4;
  if (lua_type(L, 1) != LUA_TSTRING) return luaL_error(L, "load takes the chunk as a string");
  const char* s = lua_tolstring(L, 1, &n);
  if (n > 0 && s[0] == LUA_SIGNATURE[0]) Forbid(L, "loading a binary chunk");
  const char* chunkname = luaL_optstring(L, 2, "=(load)");
  Charge(L, BytesGas(n) * 4);
  int status = luaL_loadbufferx(L, s, n, chunkname, "t");
  if (status != LUA_OK) {
    luaL_pushfail(L);
    lua_insert(L, -2);
    return 2;
  }
  if (has_env) {
    lua_pushvalue(L, 4);
    if (!lua_setupvalue(L, -2, 1)) lua_pop(L, 1);
  }
  return 1;
}

// xpcall(f, handler, ...): the handler runs after the stack unwinds, not at
// the error. Lua runs a message handler with hooks disabled when the error
// came from the hook itself (gas exhaustion), so a spinning handler would
// never be stopped; here it runs as ordinary, metered code.
int XPcall(lua_State* L) {
  int n = lua_gettop(L);
  luaL_checktype(L, 2, LUA_TFUNCTION);
  lua_pushvalue(L, 1);
  for (int i = 3; i <= n; ++i) lua_pushvalue(L, i);
  if (lua_pcall(L, n - 2, LUA_MULTRET, 0) == LUA_OK) {
    lua_pushboolean(L, 1);
    lua_insert(L, n + 1);
    return lua_gettop(L) - n;
  }
  lua_pushvalue(L, 2);
  lua_insert(L, -2);
  lua_call(L, 1, 1);
  lua_pushboolean(L, 0);
  lua_insert(L, -2);
  return 2;
}

int JsonArray(lua_State* L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_settop(L, 1);
  if (lua_getmetatable(L, 1)) {
    if (!IsMarkedArray(L, 1)) return luaL_error(L, "json.array: the table has a metatable");
    lua_pop(L, 1);
    return 1;
  }
  PushArrayMetatable(L);
  lua_setmetatable(L, 1);
  return 1;
}

// --- state host functions -------------------------------------------------
// The C++ work is in noinline helpers, so that no std::string lives on a
// frame that a Lua error can jump over.

const char* CheckKey(lua_State* L, size_t* n) {
  Context* c = GetContext(L);
  const char* k = luaL_checklstring(L, 1, n);
  if (c->state == nullptr) Forbid(L, "state access in this call");
  if (*n == 0 || *n > kMaxStateKeyBytes) luaL_error(L, "state keys are 1 to 256 bytes");
  return k;
}

[[noreturn]] void HostFailed(lua_State* L) {
  Context* c = GetContext(L);
  SetFatal(c, FailureKind::kRuntimeError, "host state access failed");
  luaL_error(L, "%s", c->fatal->message.c_str());
  std::abort();
}

// 0: absent, 1: integer in *out, 2: string in c->scratch, -1: host error.
[[gnu::noinline]] int FetchState(Context* c, std::string_view key, lua_Integer* out) noexcept {
  try {
    Result<std::optional<StateValue>> r = c->state->Get(key);
    if (!r.ok()) {
      c->host_error = r.status();
      return -1;
    }
    if (!r->has_value()) return 0;
    if (const auto* i = std::get_if<int64_t>(&**r)) {
      *out = *i;
      return 1;
    }
    c->scratch = std::get<std::string>(**r);
    return 2;
  } catch (const std::exception& e) {
    c->host_error = Internal(std::string("state read: ") + e.what());
    return -1;
  }
}

[[gnu::noinline]] bool StoreState(Context* c, std::string_view key, const char* s, size_t n,
                                  lua_Integer i, bool is_int, bool erase) noexcept {
  try {
    Status st = erase    ? c->state->Delete(key)
                : is_int ? c->state->Put(key, StateValue(int64_t(i)))
                         : c->state->Put(key, StateValue(std::string(s, n)));
    if (!st.ok()) c->host_error = st;
    return st.ok();
  } catch (const std::exception& e) {
    c->host_error = Internal(std::string("state write: ") + e.what());
    return false;
  }
}

int StateGet(lua_State* L) {
  size_t n = 0;
  const char* k = CheckKey(L, &n);
  Charge(L, kStateReadGas + BytesGas(n));
  Context* c = GetContext(L);
  lua_Integer i = 0;
  int kind = FetchState(c, std::string_view(k, n), &i);
  if (kind < 0) HostFailed(L);
  if (kind == 0) return 0;
  if (kind == 1) {
    lua_pushinteger(L, i);
    return 1;
  }
  Charge(L, BytesGas(c->scratch.size()));
  lua_pushlstring(L, c->scratch.data(), c->scratch.size());
  return 1;
}

int StatePut(lua_State* L) {
  size_t n = 0, vn = 0;
  const char* k = CheckKey(L, &n);
  const char* v = nullptr;
  bool is_int = lua_isinteger(L, 2);
  if (!is_int) {
    if (lua_type(L, 2) != LUA_TSTRING) {
      return luaL_error(L, "state values are integers or strings (floats are not stored)");
    }
    v = lua_tolstring(L, 2, &vn);
  }
  Charge(L, kStateWriteGas + BytesGas(n + vn));
  lua_Integer i = is_int ? lua_tointeger(L, 2) : 0;
  if (!StoreState(GetContext(L), std::string_view(k, n), v, vn, i, is_int, false)) HostFailed(L);
  return 0;
}

int StateDelete(lua_State* L) {
  size_t n = 0;
  const char* k = CheckKey(L, &n);
  Charge(L, kStateWriteGas + BytesGas(n));
  if (!StoreState(GetContext(L), std::string_view(k, n), nullptr, 0, 0, false, true)) {
    HostFailed(L);
  }
  return 0;
}

// Opens a stock library as a local table (not a global), leaving it on top.
void Open(lua_State* L, const char* name, lua_CFunction open) {
  luaL_requiref(L, name, open, 0);
  lua_pushglobaltable(L);
  lua_pushnil(L);
  lua_setfield(L, -2, name);
  lua_pop(L, 1);
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
  lua_pushnil(L);
  lua_setfield(L, -2, name);
  lua_pop(L, 1);
}

void SetGlobalLocked(lua_State* L, const char* name) {
  LockTop(L);
  lua_setglobal(L, name);
}

}  // namespace

bool KeyLess(lua_State* L, int a, int b) {
  int ca = KeyClass(L, a), cb = KeyClass(L, b);
  if (ca != cb) return ca < cb;
  if (ca == 0) return lua_compare(L, a, b, LUA_OPLT);
  if (ca == 2) return !lua_toboolean(L, a) && lua_toboolean(L, b);
  size_t na = 0, nb = 0;
  const char* sa = lua_tolstring(L, a, &na);
  const char* sb = lua_tolstring(L, b, &nb);
  int r = std::memcmp(sa, sb, std::min(na, nb));
  return r < 0 || (r == 0 && na < nb);
}

void InstallLibraries(lua_State* L, const CallEnv& env, const std::string& contract_name) {
  for (char* key : {&kLockedKey, &kCapturedKey, &kCapturedCopyKey, &kProtectedKey,
                          &kChainEndKey}) {
    lua_createtable(L, 0, 0);
    lua_rawsetp(L, LUA_REGISTRYINDEX, key);
  }

  luaL_requiref(L, LUA_GNAME, luaopen_base, 1);
  int g = lua_gettop(L);
  for (const char* name : kForbiddenGlobals) {
    lua_pushnil(L);
    lua_setfield(L, g, name);
  }
  const luaL_Reg base[] = {{"pairs", Pairs},   {"next", Next},     {"tostring", ToString},
                           {"rawset", RawSet}, {"load", Load},     {"setmetatable", SetMetatable},
                           {"xpcall", XPcall},
                           {nullptr, nullptr}};
  luaL_setfuncs(L, base, 0);
  lua_createtable(L, 0, 2);
  lua_pushcfunction(L, GlobalIndex);
  lua_setfield(L, -2, "__index");
  lua_pushboolean(L, 0);
  lua_setfield(L, -2, "__metatable");
  lua_setmetatable(L, g);
  lua_pop(L, 1);

  Open(L, LUA_STRLIBNAME, luaopen_string);
  int s = lua_gettop(L);
  SetForbidden(L, s, "dump", "string.dump");
  MeterStringLib(L, s);
  InstallPatterns(L, s);
  lua_pushliteral(L, "");  // the string metatable: __index stays the real
  lua_getmetatable(L, -1);  // table; getmetatable("") answers false
  lua_pushboolean(L, 0);
  lua_setfield(L, -2, "__metatable");
  lua_pop(L, 2);
  SetGlobalLocked(L, LUA_STRLIBNAME);

  Open(L, LUA_TABLIBNAME, luaopen_table);
  MeterTableLib(L, lua_gettop(L));
  SetGlobalLocked(L, LUA_TABLIBNAME);

  Open(L, LUA_MATHLIBNAME, luaopen_math);
  SetForbidden(L, lua_gettop(L), "random", "math.random");
  SetForbidden(L, lua_gettop(L), "randomseed", "math.randomseed");
  SetGlobalLocked(L, LUA_MATHLIBNAME);

  Open(L, LUA_UTF8LIBNAME, luaopen_utf8);
  MeterUtf8Lib(L, lua_gettop(L));
  SetGlobalLocked(L, LUA_UTF8LIBNAME);

  lua_createtable(L, 0, 2);
  lua_pushlightuserdata(L, nullptr);
  lua_setfield(L, -2, "null");
  lua_pushcfunction(L, JsonArray);
  lua_setfield(L, -2, "array");
  SetGlobalLocked(L, "json");

  lua_createtable(L, 0, 4);
  lua_pushinteger(L, lua_Integer(env.height));
  lua_setfield(L, -2, "height");
  lua_pushinteger(L, lua_Integer(env.timestamp_ms));
  lua_setfield(L, -2, "timestamp_ms");
  lua_pushlstring(L, env.caller.data(), env.caller.size());
  lua_setfield(L, -2, "caller");
  lua_pushlstring(L, contract_name.data(), contract_name.size());
  lua_setfield(L, -2, "contract");
  SetGlobalLocked(L, "env");

  const luaL_Reg state[] = {
      {"get", StateGet}, {"put", StatePut}, {"delete", StateDelete}, {nullptr, nullptr}};
  luaL_newlib(L, state);
  SetGlobalLocked(L, "state");
}

}  // namespace medledger::contracts::internal
