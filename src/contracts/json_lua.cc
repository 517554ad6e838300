#include "contracts/json_lua.h"

#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>

#include "contracts/context.h"

namespace medledger::contracts::internal {
namespace {

const char kArrayMarkKey = 0;  // its address keys the registry entry

struct PushState {
  const Limits* limits = nullptr;
  size_t count = 0;
};

[[noreturn]] void BadArguments(lua_State* L, const char* why) {
  Context* c = GetContext(L);
  SetFatal(c, FailureKind::kBadArguments, "bad arguments: ", why);
  luaL_error(L, "%s", c->fatal->message.c_str());
  std::abort();
}

void Push(lua_State* L, const nlohmann::json& j, int depth, PushState& st) {
  if (depth > st.limits->max_json_depth) BadArguments(L, "nested too deeply");
  if (++st.count > st.limits->max_json_values) BadArguments(L, "too many values");
  luaL_checkstack(L, 4, "json");
  Charge(L, 1);
  switch (j.type()) {
    case nlohmann::json::value_t::null:
      lua_pushlightuserdata(L, nullptr);
      return;
    case nlohmann::json::value_t::boolean:
      lua_pushboolean(L, j.get<bool>());
      return;
    case nlohmann::json::value_t::number_integer:
      lua_pushinteger(L, j.get<int64_t>());
      return;
    case nlohmann::json::value_t::number_unsigned: {
      uint64_t u = j.get<uint64_t>();
      if (u <= uint64_t(std::numeric_limits<int64_t>::max())) {
        lua_pushinteger(L, lua_Integer(u));
      } else {
        char buf[24];
        auto r = std::to_chars(buf, buf + sizeof buf, u);
        lua_pushlstring(L, buf, size_t(r.ptr - buf));
      }
      return;
    }
    case nlohmann::json::value_t::number_float:
      BadArguments(L, "numbers with a fraction or exponent are refused (use integers or strings)");
    case nlohmann::json::value_t::string: {
      const std::string& s = j.get_ref<const std::string&>();
      if (s.size() > st.limits->max_string_bytes) BadArguments(L, "string too long");
      Charge(L, BytesGas(s.size()));
      lua_pushlstring(L, s.data(), s.size());
      return;
    }
    case nlohmann::json::value_t::array: {
      int n = j.size() > size_t(INT32_MAX) ? INT32_MAX : int(j.size());
      lua_createtable(L, n, 0);
      for (int i = 0; i < n; ++i) {
        Push(L, j[size_t(i)], depth + 1, st);
        lua_rawseti(L, -2, i + 1);
      }
      PushArrayMetatable(L);
      lua_setmetatable(L, -2);
      return;
    }
    case nlohmann::json::value_t::object: {
      lua_createtable(L, 0, j.size() > size_t(INT32_MAX) ? INT32_MAX : int(j.size()));
      // const_iterator and key(): no temporaries with destructors on this
      // frame if a push raises.
      for (auto it = j.cbegin(); it != j.cend(); ++it) {
        const std::string& key = it.key();
        if (key.size() > st.limits->max_string_bytes) BadArguments(L, "key too long");
        Charge(L, BytesGas(key.size()));
        lua_pushlstring(L, key.data(), key.size());
        Push(L, it.value(), depth + 1, st);
        lua_rawset(L, -3);
      }
      return;
    }
    default:
      BadArguments(L, "binary values are refused");
  }
}

struct ReadState {
  const Limits* limits = nullptr;
  size_t count = 0;
  uint64_t gas = 0;
  std::optional<std::string> error;
};

nlohmann::json Read(lua_State* L, int index, int depth, ReadState& st) {
  if (st.error) return nullptr;
  index = lua_absindex(L, index);
  if (depth > st.limits->max_json_depth) {
    st.error = "result nested too deeply (or a cycle)";
    return nullptr;
  }
  if (++st.count > st.limits->max_json_values) {
    st.error = "result has too many values";
    return nullptr;
  }
  st.gas += 1;
  switch (lua_type(L, index)) {
    case LUA_TNIL:
      return nullptr;
    case LUA_TBOOLEAN:
      return bool(lua_toboolean(L, index));
    case LUA_TNUMBER: {
      if (lua_isinteger(L, index)) return int64_t(lua_tointeger(L, index));
      double d = lua_tonumber(L, index);
      if (!std::isfinite(d)) {
        st.error = "NaN and infinity have no JSON form";
        return nullptr;
      }
      return FloatText(d);
    }
    case LUA_TSTRING: {
      size_t n = 0;
      const char* s = lua_tolstring(L, index, &n);
      st.gas += BytesGas(n);
      if (!ValidUtf8(s, n)) {
        st.error = "a string is not valid UTF-8";
        return nullptr;
      }
      return std::string(s, n);
    }
    case LUA_TLIGHTUSERDATA:
      if (lua_touserdata(L, index) == nullptr) return nullptr;  // json.null
      break;
    case LUA_TTABLE: {
      if (!lua_checkstack(L, 4)) {
        st.error = "result nested too deeply";
        return nullptr;
      }
      bool marked = IsMarkedArray(L, index);
      size_t keys = 0, int_keys_in_range = 0, string_keys = 0;
      lua_pushnil(L);
      while (lua_next(L, index) != 0) {
        ++keys;
        if (lua_type(L, -2) == LUA_TSTRING) {
          ++string_keys;
        } else if (lua_isinteger(L, -2)) {
          lua_Integer k = lua_tointeger(L, -2);
          if (k >= 1 && uint64_t(k) <= uint64_t(INT32_MAX)) ++int_keys_in_range;
        }
        lua_pop(L, 1);
      }
      st.gas += keys;
      bool is_array = (marked || keys > 0) && int_keys_in_range == keys;
      if (is_array) {
        // Keys are distinct integers in 1..: they are exactly 1..n iff none
        // exceeds n, which the reads below check.
        nlohmann::json arr = nlohmann::json::array();
        for (size_t i = 1; i <= keys; ++i) {
          lua_rawgeti(L, index, lua_Integer(i));
          if (lua_isnil(L, -1)) {
            lua_pop(L, 1);
            st.error = "an array table has holes";
            return nullptr;
          }
          arr.push_back(Read(L, -1, depth + 1, st));
          lua_pop(L, 1);
          if (st.error) return nullptr;
        }
        return arr;
      }
      if (marked || string_keys != keys) {
        st.error = marked ? "a json.array table has non-sequence keys"
                          : "a table mixes keys or has keys other than strings and 1..n";
        return nullptr;
      }
      nlohmann::json obj = nlohmann::json::object();
      lua_pushnil(L);
      while (lua_next(L, index) != 0) {
        size_t n = 0;
        const char* k = lua_tolstring(L, -2, &n);  // a string: no conversion
        st.gas += BytesGas(n);
        if (!ValidUtf8(k, n)) {
          lua_pop(L, 2);
          st.error = "a key is not valid UTF-8";
          return nullptr;
        }
        nlohmann::json v = Read(L, -1, depth + 1, st);
        lua_pop(L, 1);
        if (st.error) {
          lua_pop(L, 1);
          return nullptr;
        }
        obj[std::string(k, n)] = std::move(v);  // std::map: sorted bytewise
      }
      return obj;
    }
    default:
      break;
  }
  st.error = std::string("a ") + luaL_typename(L, index) + " value has no JSON form";
  return nullptr;
}

}  // namespace

void PushArrayMetatable(lua_State* L) {
  if (lua_rawgetp(L, LUA_REGISTRYINDEX, &kArrayMarkKey) == LUA_TTABLE) return;
  lua_pop(L, 1);
  lua_createtable(L, 0, 1);
  lua_pushliteral(L, "json.array");
  lua_setfield(L, -2, "__metatable");  // locked: setmetatable cannot undo it
  lua_pushvalue(L, -1);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &kArrayMarkKey);
}

bool IsMarkedArray(lua_State* L, int index) {
  if (!lua_getmetatable(L, index)) return false;
  lua_rawgetp(L, LUA_REGISTRYINDEX, &kArrayMarkKey);
  bool marked = lua_rawequal(L, -1, -2);
  lua_pop(L, 2);
  return marked;
}

void PushJson(lua_State* L, const nlohmann::json& j) {
  PushState st;
  st.limits = &GetContext(L)->limits;
  Push(L, j, 0, st);
}

ToJsonOutcome ToJson(lua_State* L, int index, const Limits& limits) {
  ReadState st;
  st.limits = &limits;
  ToJsonOutcome out;
  out.value = Read(L, index, 0, st);
  out.gas = st.gas;
  out.error = std::move(st.error);
  if (out.error) out.value = nullptr;
  return out;
}

std::string FloatText(double d) {
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf - 3, d, std::chars_format::general, 14);
  size_t n = size_t(r.ptr - buf);
  if (std::strspn(buf, "-0123456789") >= n) {
    buf[n++] = '.';
    buf[n++] = '0';
  }
  return std::string(buf, n);
}

bool ValidUtf8(const char* s, size_t n) {
  const auto* p = reinterpret_cast<const unsigned char*>(s);
  size_t i = 0;
  while (i < n) {
    unsigned char c = p[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t len;
    uint32_t cp;
    if (c >= 0xc2 && c <= 0xdf) {
      len = 2, cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
      len = 3, cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      len = 4, cp = c & 0x07;
    } else {
      return false;
    }
    if (i + len > n) return false;
    for (size_t k = 1; k < len; ++k) {
      if ((p[i + k] & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (p[i + k] & 0x3f);
    }
    if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
        (len == 4 && (cp < 0x10000 || cp > 0x10ffff))) {
      return false;
    }
    i += len;
  }
  return true;
}

}  // namespace medledger::contracts::internal
