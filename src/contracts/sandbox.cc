// The call: a fresh interpreter with a capped allocator and a count hook,
// the libraries of stdlib.h, the contract's bytecode, the JSON arguments in
// and the result out (json_lua.h). See sandbox.h for the contract.
#include "contracts/sandbox.h"

#include <algorithm>
#include <clocale>
#include <cstdlib>
#include <cstring>
#include <memory>

#include "contracts/context.h"
#include "contracts/json_lua.h"
#include "contracts/stdlib.h"

namespace medledger::contracts {
namespace internal {

void GasHook(lua_State* L, lua_Debug*);

void SetFatal(Context* c, FailureKind kind, std::string_view message, std::string_view detail) {
  if (!c->fatal) {
    c->fatal = Failure{kind, std::string(message)};
    c->fatal->message.append(detail);
  }
  if (c->L != nullptr && c->metering) lua_sethook(c->L, GasHook, LUA_MASKCOUNT, 1);
}

// The count hook: charges a quantum of instructions; once the call has
// failed for good, raises on every instruction, so pcall cannot resume it.
void GasHook(lua_State* L, lua_Debug*) {
  Context* c = GetContext(L);
  if (!c->fatal) {
    c->gas_used += kGasQuantum;
    if (c->gas_used > c->limits.gas) SetFatal(c, FailureKind::kGasExhausted, "gas exhausted");
  }
  if (c->fatal) luaL_error(L, "%s", c->fatal->message.c_str());
}

void Charge(lua_State* L, uint64_t gas) {
  Context* c = GetContext(L);
  if (!c->metering) return;
  c->gas_used += gas;
  if (c->gas_used > c->limits.gas || gas > c->limits.gas) {
    SetFatal(c, FailureKind::kGasExhausted, "gas exhausted");
  }
  if (c->fatal) luaL_error(L, "%s", c->fatal->message.c_str());
}

void Forbid(lua_State* L, const char* what) {
  Context* c = GetContext(L);
  SetFatal(c, FailureKind::kForbidden, "forbidden: ", what);
  luaL_error(L, "%s", c->fatal->message.c_str());
  std::abort();  // luaL_error does not return
}

Arena::~Arena() {
  for (char* c : chunks_) std::free(c);
}

bool Arena::Grow(size_t n) {
  size_t size = std::max(next_chunk_, n);
  auto* c = static_cast<char*>(std::malloc(size));
  if (c == nullptr) return false;
  chunks_.push_back(c);
  cur_ = c;
  end_ = c + size;
  last_ = nullptr;
  next_chunk_ = std::min<size_t>(next_chunk_ * 2, 4u << 20);
  return true;
}

void* Arena::Allocate(size_t n) {
  n = Round(n);
  if (n > size_t(end_ - cur_) && !Grow(n)) return nullptr;
  last_ = cur_;
  cur_ += n;
  return last_;
}

void* Arena::Resize(void* p, size_t old, size_t n) {
  if (p == last_ && Round(n) <= size_t(end_ - last_)) {
    cur_ = last_ + Round(n);
    return p;
  }
  if (n <= old) return p;  // shrinking never fails
  void* q = Allocate(n);
  if (q != nullptr) std::memcpy(q, p, old);
  return q;
}

void Arena::Free(void* p) {
  if (p != nullptr && p == last_) {
    cur_ = last_;
    last_ = nullptr;
  }
}

namespace {

// Refuses growth beyond the cap (and strings beyond max_string_bytes) and
// charges gas for long strings. Shrinking never fails, as Lua requires.
void* Alloc(void* ud, void* ptr, size_t osize, size_t nsize) {
  auto* c = static_cast<Context*>(ud);
  if (nsize == 0) {
    if (ptr != nullptr) {
      c->arena.Free(ptr);
      c->memory_used -= osize;
    }
    return nullptr;
  }
  size_t old = ptr != nullptr ? osize : 0;
  bool is_string = ptr == nullptr && osize == LUA_TSTRING;
  if (nsize > old) {
    if (is_string && c->metering && nsize > c->limits.max_string_bytes + 64) {
      SetFatal(c, FailureKind::kMemoryExhausted, "memory exhausted: string too long");
      return nullptr;
    }
    if (c->memory_used - old + nsize > c->limits.memory_bytes) {
      SetFatal(c, FailureKind::kMemoryExhausted, "memory exhausted");
      return nullptr;
    }
  }
  void* p = ptr != nullptr ? c->arena.Resize(ptr, osize, nsize) : c->arena.Allocate(nsize);
  if (p == nullptr) {
    if (nsize <= old) return ptr;
    SetFatal(c, FailureKind::kMemoryExhausted, "memory exhausted");
    return nullptr;
  }
  c->memory_used = c->memory_used - old + nsize;
  if (is_string && nsize >= kChargedStringAlloc && c->metering) {
    c->gas_used += nsize / kBytesPerGas;
    if (c->gas_used > c->limits.gas) SetFatal(c, FailureKind::kGasExhausted, "gas exhausted");
  }
  return p;
}

struct LuaCloser {
  void operator()(lua_State* L) const { lua_close(L); }
};
using LuaPtr = std::unique_ptr<lua_State, LuaCloser>;

LuaPtr NewState(Context* c) {
  LuaPtr L(lua_newstate(Alloc, c));
  if (L) {
    c->L = L.get();
    lua_gc(L.get(), LUA_GCSTOP);  // no collection during a call: see CONTRACTS.md
  }
  return L;
}

std::string CleanMessage(lua_State* L, int index) {
  if (lua_type(L, index) != LUA_TSTRING) {
    return std::string("(error object is a ") + luaL_typename(L, index) + " value)";
  }
  size_t n = 0;
  const char* s = lua_tolstring(L, index, &n);
  std::string m(s, std::min<size_t>(n, 300));
  for (char& ch : m) {
    if (static_cast<unsigned char>(ch) < 0x20 || static_cast<unsigned char>(ch) > 0x7e) ch = '?';
  }
  return m;
}

Status CheckLocale() {
  for (int cat : {LC_COLLATE, LC_NUMERIC, LC_CTYPE}) {
    const char* name = std::setlocale(cat, nullptr);
    if (name == nullptr || (std::strcmp(name, "C") != 0 && std::strcmp(name, "POSIX") != 0)) {
      return FailedPrecondition("contracts need the C locale (strcoll, number formatting)");
    }
  }
  return Status::Ok();
}

// Protected: compiles the source and dumps its bytecode into *out.
struct CompileJob {
  std::string_view source;
  std::string chunkname;
  std::string* out;
};

int Writer(lua_State*, const void* p, size_t n, void* ud) {
  static_cast<std::string*>(ud)->append(static_cast<const char*>(p), n);
  return 0;
}

int CompileProtected(lua_State* L) {
  auto* job = static_cast<CompileJob*>(lua_touserdata(L, 1));
  if (luaL_loadbufferx(L, job->source.data(), job->source.size(), job->chunkname.c_str(), "t") !=
      LUA_OK) {
    return lua_error(L);
  }
  lua_dump(L, Writer, job->out, 0);
  return 0;
}

struct RunJob {
  const Contract* contract;
  const std::string* bytecode;
  std::string_view fn;
  const nlohmann::json* args;
};

// Protected: loads the bytecode, runs the main chunk (which defines the
// functions), converts the arguments and calls the function. Leaves its
// first result on the stack.
int RunProtected(lua_State* L) {
  auto* job = static_cast<RunJob*>(lua_touserdata(L, 1));
  Context* c = GetContext(L);
  lua_settop(L, 0);
  InstallLibraries(L, *c->env, job->contract->name());
  c->metering = true;
  lua_sethook(L, GasHook, LUA_MASKCOUNT, kGasQuantum);
  Charge(L, BytesGas(job->contract->source_size()));
  // Our own bytecode, made by Contract::Compile in this process.
  if (luaL_loadbufferx(L, job->bytecode->data(), job->bytecode->size(), "=contract", "b") !=
      LUA_OK) {
    return lua_error(L);
  }
  lua_call(L, 0, 0);
  lua_pushglobaltable(L);
  lua_pushlstring(L, job->fn.data(), job->fn.size());
  lua_rawget(L, -2);
  if (lua_type(L, -1) != LUA_TFUNCTION || lua_iscfunction(L, -1)) {
    lua_pushliteral(L, "no contract function '");
    lua_pushlstring(L, job->fn.data(), job->fn.size());
    lua_pushliteral(L, "'");
    lua_concat(L, 3);
    return lua_error(L);
  }
  PushJson(L, *job->args);
  lua_call(L, 1, 1);
  return 1;
}

}  // namespace
}  // namespace internal

using internal::Context;

int LuaRelease() { return LUA_VERSION_RELEASE_NUM; }

const char* FailureKindName(FailureKind kind) {
  switch (kind) {
    case FailureKind::kRuntimeError: return "runtime_error";
    case FailureKind::kGasExhausted: return "gas_exhausted";
    case FailureKind::kMemoryExhausted: return "memory_exhausted";
    case FailureKind::kForbidden: return "forbidden";
    case FailureKind::kBadResult: return "bad_result";
    case FailureKind::kBadArguments: return "bad_arguments";
  }
  return "unknown";
}

Result<std::optional<StateValue>> MemoryState::Get(std::string_view key) {
  auto it = values_.find(key);
  if (it == values_.end()) return std::optional<StateValue>();
  return std::optional<StateValue>(it->second);
}

Status MemoryState::Put(std::string_view key, const StateValue& value) {
  values_.insert_or_assign(std::string(key), value);
  return Status::Ok();
}

Status MemoryState::Delete(std::string_view key) {
  auto it = values_.find(key);
  if (it != values_.end()) values_.erase(it);
  return Status::Ok();
}

Result<Contract> Contract::Compile(std::string_view source, std::string_view name) {
  Context c;
  c.limits.memory_bytes = 256u << 20;
  c.limits.max_string_bytes = 256u << 20;
  internal::LuaPtr L = internal::NewState(&c);
  if (!L) return Internal("lua_newstate failed");
  Contract contract;
  contract.name_ = std::string(name);
  contract.source_size_ = source.size();
  internal::CompileJob job{source, "=" + std::string(name), &contract.bytecode_};
  lua_pushcfunction(L.get(), internal::CompileProtected);
  lua_pushlightuserdata(L.get(), &job);
  if (lua_pcall(L.get(), 1, 0, 0) != LUA_OK) {
    return InvalidArgument(internal::CleanMessage(L.get(), -1));
  }
  return contract;
}

Result<CallResult> Call(const Contract& contract, std::string_view fn, const nlohmann::json& args,
                        const CallEnv& env, StateAccess* state, const Limits& limits) {
  ML_RETURN_IF_ERROR(internal::CheckLocale());
  Context c;
  c.limits = limits;
  c.state = state;
  c.env = &env;
  internal::LuaPtr L = internal::NewState(&c);
  if (!L) return Internal("lua_newstate failed");
  internal::RunJob job{&contract, &contract.bytecode_, fn, &args};
  lua_pushcfunction(L.get(), internal::RunProtected);
  lua_pushlightuserdata(L.get(), &job);
  int rc = lua_pcall(L.get(), 1, 1, 0);
  if (c.host_error) return *c.host_error;

  CallResult out;
  if (!c.fatal && rc != LUA_OK) {
    c.fatal = Failure{FailureKind::kRuntimeError, internal::CleanMessage(L.get(), -1)};
  }
  if (!c.fatal) {
    lua_sethook(L.get(), nullptr, 0, 0);
    internal::ToJsonOutcome converted = internal::ToJson(L.get(), -1, c.limits);
    c.gas_used += converted.gas;
    if (converted.error) {
      c.fatal = Failure{FailureKind::kBadResult, *converted.error};
    } else if (c.gas_used > c.limits.gas) {
      c.fatal = Failure{FailureKind::kGasExhausted, "gas exhausted"};
    } else {
      out.result = std::move(converted.value);
    }
  }
  if (c.fatal) {
    out.failure = std::move(c.fatal);
    out.result = nullptr;
    if (out.failure->kind == FailureKind::kGasExhausted) c.gas_used = c.limits.gas;
  }
  out.gas_used = std::min(c.gas_used, c.limits.gas);
  return out;
}

Result<CallResult> Call(std::string_view source, std::string_view contract_name, std::string_view fn,
                        const nlohmann::json& args, const CallEnv& env, StateAccess* state,
                        const Limits& limits) {
  Result<Contract> contract = Contract::Compile(source, contract_name);
  if (!contract.ok()) {
    if (contract.status().code() != StatusCode::kInvalidArgument) return contract.status();
    CallResult out;
    out.failure = Failure{FailureKind::kRuntimeError, contract.status().message()};
    out.result = nullptr;
    out.gas_used = std::min<uint64_t>(internal::BytesGas(source.size()), limits.gas);
    return out;
  }
  return Call(*contract, fn, args, env, state, limits);
}

}  // namespace medledger::contracts
