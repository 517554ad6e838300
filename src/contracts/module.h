// The contract module (docs/CONTRACTS.md): deployment and upgrade through
// governance, and calls run in the sandbox (contracts/sandbox.h) when their
// block executes.
//
// - contract.deploy {proposal_id, name, source, expires_height?}
//   contract.upgrade {proposal_id, name, source, expires_height?}
//     The source must compile (invalid_payload with Lua's message). Then a
//     governance proposal deploy_contract (version 1 of an unused name) or
//     upgrade_contract (the current version + 1), which the signer's
//     organisation approves by proposing (state/governance.h): on a
//     development chain (threshold 1) it executes at once; otherwise the
//     other members approve it with governance.approve.
// - contract.call {name, fn, args, gas?}
//     Runs the global function `fn` of the contract's current version with
//     `args` (any JSON value) and at most `gas` (default and maximum
//     contracts::kDefaultGas). The call sees env = {height, timestamp_ms,
//     caller} and the contract's own keys, "ctr/kv/<name>/<key>". Accepted:
//     "ctr/call/<tx id>" = {contract, version, fn, result, gas_used,
//     height}. A failed call is rejected with contract_error,
//     gas_exhausted, memory_exhausted or forbidden, detail
//     "<kind>: <message> (gas <used>)", and its writes are dropped; the
//     verdict stays in the block.
// Admission checks the payload's shape and that the contract exists; no
// contract code runs there (it runs on the HTTP threads).
#pragma once

#include <map>
#include <memory>
#include <mutex>

#include "contracts/sandbox.h"
#include "state/executor.h"
#include "state/module.h"

namespace medledger::contracts {

// Runs a deployed contract's function on block state, for the contract
// module and for the modules that call contracts themselves (the claims
// module runs insurers' policies). Keeps the compiled contracts, by source
// hash, between calls; safe to share between threads.
class Invoker {
 public:
  struct Invocation {
    uint64_t version = 0;
    CallResult call;  // call.failure set: the contract failed (deterministic)
  };
  // kNotFound: the contract is not deployed (or lost its source);
  // kFailedPrecondition: it does not compile, or the engine refused (the
  // locale). Both are the same on every node.
  Result<Invocation> Invoke(state::Overlay& st, const std::string& name, std::string_view fn,
                            const nlohmann::json& args, const CallEnv& env, const Limits& limits);

 private:
  // The compiled contract of this name and source hash; the source (a read
  // of up to the transaction size limit) is loaded only on a miss.
  Result<std::shared_ptr<const Contract>> Compiled(const state::StateReader& st, const std::string& name,
                                                  uint64_t version, const std::string& sha256);
  static constexpr size_t kMaxCompiled = 64;
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<const Contract>> compiled_;
};

// The verdict code for a failed call, and its detail
// "<kind>: <message> (gas <used>)".
model::Reject RejectFor(FailureKind kind);
std::string FailureDetail(const CallResult& r);

class ContractModule : public state::Module {
 public:
  const char* name() const override { return "contracts"; }
  bool Handles(uint16_t type) const override;
  model::Verdict Apply(state::TxContext& ctx) override;
  std::optional<model::Verdict> Admit(state::TxContext& ctx) override;
  // A contract's keys and call results are read by exact key only: the
  // sandbox has no scan.
  std::vector<std::string> PointKeyPrefixes() const override { return {"ctr/kv/", "ctr/call/"}; }

 private:
  model::Verdict Propose(state::TxContext& ctx, bool upgrade);
  model::Verdict RunCall(state::TxContext& ctx);
  Invoker invoker_;
};

// The key of a call's result, and the result as state keeps it.
std::string CallKey(std::string_view tx_hex);
struct CallRecord {
  std::string contract, fn, tx;
  uint64_t version = 0, gas_used = 0, height = 0;
  nlohmann::json result;
};
std::optional<CallRecord> LoadCall(const state::StateReader& st, std::string_view tx_hex);

void RegisterContractModules(state::Executor& exec);

}  // namespace medledger::contracts
