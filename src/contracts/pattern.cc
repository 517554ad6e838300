// string.find, match, gmatch and gsub with Lua 5.4 pattern semantics, on a
// matcher that counts its steps and charges them as gas. Stock Lua's
// matcher runs in C where the instruction hook never fires:
// string.find(("a"):rep(30), ("a*"):rep(10).."b") ran 20 s there; here it
// exhausts the gas like any loop.
//
// Character classes are ASCII whatever the locale (%a is [A-Za-z], ...).
// No C++ object lives on these frames: a Lua error (gas, a malformed
// pattern) may jump out of any of them.
#include <cstring>

#include "contracts/context.h"
#include "contracts/stdlib.h"

namespace medledger::contracts::internal {
namespace {

constexpr int kMaxCaptures = 32;
constexpr int kMaxDepth = 200;
constexpr ptrdiff_t kCapUnfinished = -1;
constexpr ptrdiff_t kCapPosition = -2;
constexpr uint64_t kStepsPerCharge = 256;
constexpr const char* kSpecials = "^$*+?.([%-";

struct Matcher {
  const char* src_init;
  const char* src_end;
  const char* p_end;
  lua_State* L;
  int level;
  int depth;
  uint64_t pending;  // steps not yet charged
  struct {
    const char* init;
    ptrdiff_t len;
  } capture[kMaxCaptures];
};

void Step(Matcher* m, uint64_t n = 1) {
  m->pending += n;
  if (m->pending >= kStepsPerCharge) {
    uint64_t g = m->pending;
    m->pending = 0;
    Charge(m->L, g);
  }
}

void Flush(Matcher* m) {
  uint64_t g = m->pending;
  m->pending = 0;
  if (g > 0) Charge(m->L, g);
}

bool ClassMatch(unsigned char c, unsigned char cl) {
  bool r;
  switch (cl | 0x20) {
    case 'a': r = (c | 0x20) >= 'a' && (c | 0x20) <= 'z'; break;
    case 'c': r = c < 0x20 || c == 0x7f; break;
    case 'd': r = c >= '0' && c <= '9'; break;
    case 'g': r = c > 0x20 && c < 0x7f; break;
    case 'l': r = c >= 'a' && c <= 'z'; break;
    case 'p': r = c > 0x20 && c < 0x7f && !ClassMatch(c, 'w'); break;
    case 's': r = c == ' ' || (c >= '\t' && c <= '\r'); break;
    case 'u': r = c >= 'A' && c <= 'Z'; break;
    case 'w': r = ClassMatch(c, 'a') || ClassMatch(c, 'd'); break;
    case 'x': r = (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'f'); break;
    default: return cl == c;
  }
  bool is_letter = (cl >= 'A' && cl <= 'Z') || (cl >= 'a' && cl <= 'z');
  if (!is_letter) return cl == c;
  return (cl >= 'A' && cl <= 'Z') ? !r : r;
}

const char* ClassEnd(Matcher* m, const char* p) {
  char c = *p++;
  if (c == '%') {
    if (p >= m->p_end) luaL_error(m->L, "malformed pattern (ends with '%%')");
    return p + 1;
  }
  if (c == '[') {
    if (p < m->p_end && *p == '^') ++p;
    do {  // the first ']' right after '[' or '[^' is a literal
      if (p >= m->p_end) luaL_error(m->L, "malformed pattern (missing ']')");
      char cc = *p++;
      if (cc == '%' && p < m->p_end) ++p;
    } while (p >= m->p_end || *p != ']');
    return p + 1;
  }
  return p;
}

// p at '[', ec at its closing ']'.
bool BracketMatch(unsigned char c, const char* p, const char* ec) {
  bool sig = true;
  if (p[1] == '^') {
    sig = false;
    ++p;
  }
  while (++p < ec) {
    if (*p == '%') {
      ++p;
      if (ClassMatch(c, static_cast<unsigned char>(*p))) return sig;
    } else if (p[1] == '-' && p + 2 < ec) {
      p += 2;
      if (static_cast<unsigned char>(p[-2]) <= c && c <= static_cast<unsigned char>(*p)) return sig;
    } else if (static_cast<unsigned char>(*p) == c) {
      return sig;
    }
  }
  return !sig;
}

bool SingleMatch(Matcher* m, const char* s, const char* p, const char* ep) {
  if (s >= m->src_end) return false;
  auto c = static_cast<unsigned char>(*s);
  switch (*p) {
    case '.': return true;
    case '%': return ClassMatch(c, static_cast<unsigned char>(p[1]));
    case '[': return BracketMatch(c, p, ep - 1);
    default: return static_cast<unsigned char>(*p) == c;
  }
}

const char* Match(Matcher* m, const char* s, const char* p);

const char* MaxExpand(Matcher* m, const char* s, const char* p, const char* ep) {
  ptrdiff_t i = 0;
  while (SingleMatch(m, s + i, p, ep)) {
    Step(m);
    ++i;
  }
  while (i >= 0) {
    const char* r = Match(m, s + i, ep + 1);
    if (r != nullptr) return r;
    --i;
  }
  return nullptr;
}

const char* MinExpand(Matcher* m, const char* s, const char* p, const char* ep) {
  for (;;) {
    const char* r = Match(m, s, ep + 1);
    if (r != nullptr) return r;
    if (!SingleMatch(m, s, p, ep)) return nullptr;
    Step(m);
    ++s;
  }
}

const char* StartCapture(Matcher* m, const char* s, const char* p, ptrdiff_t what) {
  if (m->level >= kMaxCaptures) luaL_error(m->L, "too many captures");
  m->capture[m->level].init = s;
  m->capture[m->level].len = what;
  m->level++;
  const char* r = Match(m, s, p);
  if (r == nullptr) m->level--;
  return r;
}

const char* EndCapture(Matcher* m, const char* s, const char* p) {
  int l = -1;
  for (int i = m->level - 1; i >= 0; --i) {
    if (m->capture[i].len == kCapUnfinished) {
      l = i;
      break;
    }
  }
  if (l < 0) luaL_error(m->L, "invalid pattern capture");
  m->capture[l].len = s - m->capture[l].init;
  const char* r = Match(m, s, p);
  if (r == nullptr) m->capture[l].len = kCapUnfinished;
  return r;
}

int CheckCapture(Matcher* m, char c) {
  int l = c - '1';
  if (l < 0 || l >= m->level || m->capture[l].len == kCapUnfinished) {
    luaL_error(m->L, "invalid capture index %%%d", l + 1);
  }
  return l;
}

const char* Match(Matcher* m, const char* s, const char* p) {
  if (++m->depth > kMaxDepth) luaL_error(m->L, "pattern too complex");
  Step(m);
  while (p != m->p_end && s != nullptr) {
    if (*p == '(') {
      s = p + 1 < m->p_end && p[1] == ')' ? StartCapture(m, s, p + 2, kCapPosition)
                                           : StartCapture(m, s, p + 1, kCapUnfinished);
      break;
    }
    if (*p == ')') {
      s = EndCapture(m, s, p + 1);
      break;
    }
    if (*p == '$' && p + 1 == m->p_end) {
      if (s != m->src_end) s = nullptr;
      break;
    }
    if (*p == '%' && p + 1 < m->p_end) {
      char next = p[1];
      if (next == 'b') {
        p += 2;
        if (p + 1 >= m->p_end) luaL_error(m->L, "malformed pattern (missing arguments to '%%b')");
        if (s >= m->src_end || *s != *p) {
          s = nullptr;
          break;
        }
        int open = 1;
        const char* t = s;
        const char* found = nullptr;
        while (++t < m->src_end) {
          Step(m);
          if (*t == p[1]) {
            if (--open == 0) {
              found = t + 1;
              break;
            }
          } else if (*t == *p) {
            ++open;
          }
        }
        s = found;
        p += 2;
        continue;
      }
      if (next == 'f') {
        p += 2;
        if (p >= m->p_end || *p != '[') luaL_error(m->L, "missing '[' after '%%f' in pattern");
        const char* ep = ClassEnd(m, p);
        auto prev = static_cast<unsigned char>(s == m->src_init ? '\0' : s[-1]);
        auto cur = static_cast<unsigned char>(s < m->src_end ? *s : '\0');
        if (!BracketMatch(prev, p, ep - 1) && BracketMatch(cur, p, ep - 1)) {
          p = ep;
          continue;
        }
        s = nullptr;
        break;
      }
      if (next >= '0' && next <= '9') {
        int l = CheckCapture(m, next);
        size_t len = size_t(m->capture[l].len);
        Step(m, len / kBytesPerGas);
        if (size_t(m->src_end - s) >= len && std::memcmp(m->capture[l].init, s, len) == 0) {
          s += len;
          p += 2;
          continue;
        }
        s = nullptr;
        break;
      }
    }
    const char* ep = ClassEnd(m, p);
    if (!SingleMatch(m, s, p, ep)) {
      if (ep < m->p_end && (*ep == '*' || *ep == '?' || *ep == '-')) {
        p = ep + 1;
        continue;
      }
      s = nullptr;
      break;
    }
    char q = ep < m->p_end ? *ep : '\0';
    if (q == '?') {
      const char* r = Match(m, s + 1, ep + 1);
      if (r != nullptr) {
        s = r;
        break;
      }
      p = ep + 1;
      continue;
    }
    if (q == '+') {
      s = MaxExpand(m, s + 1, p, ep);
      break;
    }
    if (q == '*') {
      s = MaxExpand(m, s, p, ep);
      break;
    }
    if (q == '-') {
      s = MinExpand(m, s, p, ep);
      break;
    }
    ++s;
    p = ep;
  }
  m->depth--;
  return s;
}

void Prepare(Matcher* m, lua_State* L, const char* s, size_t ls, const char* p, size_t lp) {
  m->L = L;
  m->src_init = s;
  m->src_end = s + ls;
  m->p_end = p + lp;
  m->pending = 0;
}

void Reset(Matcher* m) {
  m->level = 0;
  m->depth = 0;
}

// One capture (or the whole match when there are none and i == 0).
void PushCapture(Matcher* m, int i, const char* s, const char* e) {
  if (i >= m->level) {
    if (i != 0) luaL_error(m->L, "invalid capture index %%%d", i + 1);
    lua_pushlstring(m->L, s, size_t(e - s));
    return;
  }
  ptrdiff_t len = m->capture[i].len;
  if (len == kCapUnfinished) luaL_error(m->L, "unfinished capture");
  if (len == kCapPosition) {
    lua_pushinteger(m->L, (m->capture[i].init - m->src_init) + 1);
  } else {
    lua_pushlstring(m->L, m->capture[i].init, size_t(len));
  }
}

int PushCaptures(Matcher* m, const char* s, const char* e, bool whole_if_none) {
  int n = (m->level == 0 && whole_if_none) ? 1 : m->level;
  luaL_checkstack(m->L, n, "too many captures");
  for (int i = 0; i < n; ++i) PushCapture(m, i, s, e);
  return n;
}

size_t StartIndex(lua_State* L, int arg, size_t len) {
  lua_Integer pos = luaL_optinteger(L, arg, 1);
  if (pos > 0) return size_t(pos);
  if (pos == 0) return 1;
  if (pos < -lua_Integer(len)) return 1;
  return size_t(lua_Integer(len) + pos + 1);
}

bool NoSpecials(const char* p, size_t lp) {
  for (size_t i = 0; i < lp; ++i) {
    if (p[i] != '\0' && std::strchr(kSpecials, p[i]) != nullptr) return false;
  }
  return true;
}

int FindAux(lua_State* L, bool find) {
  size_t ls = 0, lp = 0;
  const char* s = luaL_checklstring(L, 1, &ls);
  const char* p = luaL_checklstring(L, 2, &lp);
  size_t init = StartIndex(L, 3, ls);
  if (init > ls + 1) {
    luaL_pushfail(L);
    return 1;
  }
  if (find && (lua_toboolean(L, 4) || NoSpecials(p, lp))) {
    Charge(L, BytesGas(ls - (init - 1)) + BytesGas(lp));
    const void* at = memmem(s + init - 1, ls - (init - 1), p, lp);
    if (at == nullptr) {
      luaL_pushfail(L);
      return 1;
    }
    size_t start = size_t(static_cast<const char*>(at) - s);
    lua_pushinteger(L, lua_Integer(start + 1));
    lua_pushinteger(L, lua_Integer(start + lp));
    return 2;
  }
  Matcher m;
  bool anchor = lp > 0 && *p == '^';
  if (anchor) {
    ++p;
    --lp;
  }
  Prepare(&m, L, s, ls, p, lp);
  const char* s1 = s + init - 1;
  do {
    Reset(&m);
    const char* e = Match(&m, s1, p);
    if (e != nullptr) {
      Flush(&m);
      if (find) {
        lua_pushinteger(L, (s1 - s) + 1);
        lua_pushinteger(L, e - s);
        return PushCaptures(&m, nullptr, nullptr, false) + 2;
      }
      return PushCaptures(&m, s1, e, true);
    }
  } while (s1++ < m.src_end && !anchor);
  Flush(&m);
  luaL_pushfail(L);
  return 1;
}

int Find(lua_State* L) { return FindAux(L, true); }
int MatchFn(lua_State* L) { return FindAux(L, false); }

// gmatch's iterator; upvalues: subject, pattern, next position, end of the
// last match (-1: none).
int GmatchStep(lua_State* L) {
  size_t ls = 0, lp = 0;
  const char* s = lua_tolstring(L, lua_upvalueindex(1), &ls);
  const char* p = lua_tolstring(L, lua_upvalueindex(2), &lp);
  lua_Integer pos = lua_tointeger(L, lua_upvalueindex(3));
  lua_Integer last = lua_tointeger(L, lua_upvalueindex(4));
  Matcher m;
  Prepare(&m, L, s, ls, p, lp);
  for (const char* src = s + pos; src <= m.src_end; ++src) {
    Reset(&m);
    const char* e = Match(&m, src, p);
    if (e != nullptr && (e - s) != last) {
      Flush(&m);
      lua_pushinteger(L, e - s);
      lua_pushvalue(L, -1);
      lua_replace(L, lua_upvalueindex(3));
      lua_replace(L, lua_upvalueindex(4));
      return PushCaptures(&m, src, e, true);
    }
  }
  Flush(&m);
  lua_pushinteger(L, lua_Integer(ls) + 1);
  lua_replace(L, lua_upvalueindex(3));
  return 0;
}

int Gmatch(lua_State* L) {
  size_t ls = 0;
  luaL_checklstring(L, 1, &ls);
  luaL_checkstring(L, 2);
  size_t init = StartIndex(L, 3, ls);
  if (init > ls + 1) init = ls + 1;
  lua_settop(L, 2);
  lua_pushinteger(L, lua_Integer(init - 1));
  lua_pushinteger(L, -1);
  lua_pushcclosure(L, GmatchStep, 4);
  return 1;
}

void AddValue(Matcher* m, luaL_Buffer* b, const char* s, const char* e, int tr) {
  lua_State* L = m->L;
  if (tr == LUA_TFUNCTION) {
    lua_pushvalue(L, 3);
    int n = PushCaptures(m, s, e, true);
    lua_call(L, n, 1);
  } else if (tr == LUA_TTABLE) {
    PushCapture(m, 0, s, e);
    lua_gettable(L, 3);
  } else {  // a string: %0..%9 and %%
    size_t l = 0;
    const char* r = lua_tolstring(L, 3, &l);
    const char* end = r + l;
    Step(m, BytesGas(l));
    for (; r < end; ++r) {
      if (*r != '%') {
        luaL_addchar(b, *r);
        continue;
      }
      ++r;
      if (r < end && *r == '%') {
        luaL_addchar(b, '%');
      } else if (r < end && *r >= '0' && *r <= '9') {
        if (*r == '0') {
          luaL_addlstring(b, s, size_t(e - s));
        } else {
          PushCapture(m, *r - '1', s, e);
          luaL_tolstring(L, -1, nullptr);
          lua_remove(L, -2);
          luaL_addvalue(b);
        }
      } else {
        luaL_error(L, "invalid use of '%%' in replacement string");
      }
    }
    return;
  }
  if (!lua_toboolean(L, -1)) {
    lua_pop(L, 1);
    luaL_addlstring(b, s, size_t(e - s));
    return;
  }
  if (!lua_isstring(L, -1)) {
    luaL_error(L, "invalid replacement value (a %s)", luaL_typename(L, -1));
  }
  luaL_addvalue(b);
}

int Gsub(lua_State* L) {
  size_t ls = 0, lp = 0;
  const char* src = luaL_checklstring(L, 1, &ls);
  const char* p = luaL_checklstring(L, 2, &lp);
  int tr = lua_type(L, 3);
  lua_Integer max_n = luaL_optinteger(L, 4, lua_Integer(ls) + 1);
  luaL_argexpected(L, tr == LUA_TNUMBER || tr == LUA_TSTRING || tr == LUA_TFUNCTION ||
                          tr == LUA_TTABLE, 3, "string/function/table");
  if (tr == LUA_TNUMBER) tr = LUA_TSTRING;
  bool anchor = lp > 0 && *p == '^';
  if (anchor) {
    ++p;
    --lp;
  }
  Matcher m;
  Prepare(&m, L, src, ls, p, lp);
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  const char* last = nullptr;
  lua_Integer n = 0;
  while (n < max_n) {
    Reset(&m);
    const char* e = Match(&m, src, p);
    if (e != nullptr && e != last) {
      ++n;
      AddValue(&m, &b, src, e, tr);
      src = last = e;
    } else if (src < m.src_end) {
      luaL_addchar(&b, *src++);
    } else {
      break;
    }
    if (anchor) break;
  }
  Flush(&m);
  luaL_addlstring(&b, src, size_t(m.src_end - src));
  luaL_pushresult(&b);
  lua_pushinteger(L, n);
  return 2;
}

}  // namespace

void InstallPatterns(lua_State* L, int index) {
  index = lua_absindex(L, index);
  const luaL_Reg fns[] = {{"find", Find}, {"match", MatchFn}, {"gmatch", Gmatch}, {"gsub", Gsub},
                          {nullptr, nullptr}};
  for (const luaL_Reg* f = fns; f->name != nullptr; ++f) {
    lua_pushcfunction(L, f->func);
    lua_setfield(L, index, f->name);
  }
}

}  // namespace medledger::contracts::internal
