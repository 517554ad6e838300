// The deterministic Lua 5.4 contract sandbox (issue 16, part 1).
//
// A contract is Lua source that defines global functions. A call runs one of
// them in a fresh interpreter, with JSON arguments, and gives back a JSON
// result and the gas it used, or a failure. Every node that makes the same
// call on the same state gets the same result, failure kind and gas; the
// guarantees and what is refused are in docs/CONTRACTS.md, "Sandbox".
//
// JSON mapping (both ways; see json_lua.h for the details):
//   in:  object -> table with string keys; array -> table 1..n marked as an
//        array (json.array); null -> json.null (a sentinel, not nil, so
//        arrays keep their positions); integers beyond int64 -> decimal
//        strings; numbers with a fraction or exponent are refused
//        (bad_arguments): money is integer minor units or decimal strings.
//   out: a table with keys 1..n, or marked with json.array(t), -> array; a
//        table with string keys -> object, keys sorted bytewise; an empty
//        unmarked table -> {}; nil and json.null -> null; a float -> its
//        tostring text ("0.5", "3.0"), never a JSON number; NaN and infinity,
//        mixed keys, functions and invalid UTF-8 -> bad_result. Only the
//        first return value is used.
//   Depth and node-count limits apply both ways (Limits).
//
// Thread safety: Compile and Call touch no shared state; calls may run on
// several threads at once (each has its own interpreter). The process must
// keep the C locale (LC_COLLATE, LC_NUMERIC, LC_CTYPE): Lua compares strings
// with strcoll and prints numbers with the locale's decimal point. Call
// checks this and fails with kFailedPrecondition otherwise.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include <nlohmann/json.hpp>

#include "common/status.h"

namespace medledger::contracts {

// LUA_VERSION_RELEASE_NUM of the Lua this binary embeds (50404 for 5.4.4).
// Gas counts and allocation sizes can differ between releases, so the chain
// parameters record it and a node refuses to start on another one.
int LuaRelease();

// Set from measurements (docs/CONTRACTS.md, "Gas"; contracts_bench): on the
// 2-core development machine a call that spends this much gas takes about
// 50 ms in the costliest instruction mix the sandbox allows (a maximal
// __index chain, 250 varargs copied, 4 KiB strings compared: ~25 ns a gas)
// and about 6 ms in `while true do end` (~3 ns a gas).
inline constexpr uint64_t kDefaultGas = 2'000'000;

struct Limits {
  // One gas is one Lua VM instruction (metered in steps of kGasQuantum),
  // plus charges by size for library work done in C (gas.h).
  uint64_t gas = kDefaultGas;
  // Bytes the interpreter may allocate, live at once. The collector does
  // not run during a call, so this is in effect an allocation budget.
  size_t memory_bytes = 32u << 20;
  // Longest string a contract can make (also caps long-string comparison
  // time, which the instruction count does not see).
  size_t max_string_bytes = 4096;
  // JSON arguments and results: nesting depth and number of values.
  int max_json_depth = 32;
  size_t max_json_values = 100'000;
};

// What the block gives the call; no clock is read inside the sandbox.
// Visible to the contract as the read-only table `env`.
struct CallEnv {
  uint64_t height = 0;
  uint64_t timestamp_ms = 0;
  std::string caller;  // the signer's printable id (64 hex characters)
};

// A value in contract state: an integer or a byte string.
using StateValue = std::variant<int64_t, std::string>;

// The contract's own keys. The implementation (the future state module)
// namespaces them by contract, so a contract can neither name nor reach
// another contract's keys. A non-OK Status is an operational failure of the
// node (disk, corruption): Call returns it as is and records nothing.
class StateAccess {
 public:
  virtual ~StateAccess() = default;
  virtual Result<std::optional<StateValue>> Get(std::string_view key) = 0;
  virtual Status Put(std::string_view key, const StateValue& value) = 0;
  virtual Status Delete(std::string_view key) = 0;
};

// An in-memory StateAccess, for tests and for dry runs.
class MemoryState : public StateAccess {
 public:
  Result<std::optional<StateValue>> Get(std::string_view key) override;
  Status Put(std::string_view key, const StateValue& value) override;
  Status Delete(std::string_view key) override;
  const std::map<std::string, StateValue, std::less<>>& values() const { return values_; }

 private:
  std::map<std::string, StateValue, std::less<>> values_;
};

enum class FailureKind {
  kRuntimeError,     // error(), a type error, a syntax error, stack overflow
  kGasExhausted,     // final: pcall cannot catch it
  kMemoryExhausted,  // final: pcall cannot catch it
  kForbidden,        // a refused operation (os, io, string.dump, ...); final
  kBadResult,        // the return value has no JSON form
  kBadArguments,     // the JSON arguments exceed the limits or hold floats
};
const char* FailureKindName(FailureKind kind);

struct Failure {
  FailureKind kind;
  std::string message;  // deterministic: Lua's own text, no addresses
};

// The outcome of a call, deterministic on every node: it goes on chain.
struct CallResult {
  std::optional<Failure> failure;  // set: the call failed and result is null
  nlohmann::json result;
  uint64_t gas_used = 0;  // on gas exhaustion, the whole limit
  bool ok() const { return !failure.has_value(); }
};

// A contract compiled once (at deployment, or when a node loads it) and
// called many times. The bytecode is made here from source and never comes
// from outside: Lua does not verify bytecode, so there is no constructor
// from bytes.
class Contract {
 public:
  // Syntax errors are kInvalidArgument, with Lua's message ("name:3: ...").
  static Result<Contract> Compile(std::string_view source, std::string_view name);
  const std::string& name() const { return name_; }
  size_t source_size() const { return source_size_; }

 private:
  friend Result<CallResult> Call(const Contract&, std::string_view, const nlohmann::json&,
                                 const CallEnv&, StateAccess*, const Limits&);
  std::string name_;
  std::string bytecode_;
  size_t source_size_ = 0;
};

// Runs the global function `fn` of `contract` with `args` (any JSON value;
// an object or array becomes a table) in a fresh interpreter. `state` may be
// null: then the state functions fail the call as forbidden. A non-OK Result
// is an operational failure (a StateAccess error, a wrong locale), never a
// contract's fault.
Result<CallResult> Call(const Contract& contract, std::string_view fn, const nlohmann::json& args,
                        const CallEnv& env, StateAccess* state, const Limits& limits);

// Compile and Call in one: a syntax error is a kRuntimeError failure.
Result<CallResult> Call(std::string_view source, std::string_view contract_name, std::string_view fn,
                        const nlohmann::json& args, const CallEnv& env, StateAccess* state,
                        const Limits& limits);

}  // namespace medledger::contracts
