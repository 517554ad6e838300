#include "contracts/module.h"

#include <nlohmann/json.hpp>

#include "crypto/sha256.h"
#include "model/tx_types.h"
#include "model/value.h"
#include "state/contract_record.h"
#include "state/executor.h"
#include "state/governance.h"

namespace medledger::contracts {

using model::Reject;
using model::Verdict;
using nlohmann::json;

namespace {

// A Lua identifier: what a global function can be called.
bool ValidFunctionName(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  auto alpha = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; };
  if (!alpha(s[0])) return false;
  for (char c : s)
    if (!alpha(c) && !(c >= '0' && c <= '9')) return false;
  return true;
}

std::string RequireName(const json& p) {
  std::string name = state::RequireString(p, "name", 64);
  if (!state::ValidContractName(name)) state::BadPayload("'name' must be 1..64 characters of a-z 0-9 _ - .");
  return name;
}

// A contract's own keys: the contract names only the part after its prefix,
// so it can reach no other contract's keys and nothing else in state.
class ContractState : public StateAccess {
 public:
  ContractState(state::Overlay& st, const std::string& contract) : st_(st), prefix_("ctr/kv/" + contract + "/") {}
  Result<std::optional<StateValue>> Get(std::string_view key) override {
    auto d = state::LoadDoc(st_, prefix_ + std::string(key));
    if (!d) return std::optional<StateValue>();
    if (auto it = d->find("i"); it != d->end()) return std::optional<StateValue>(it->get<int64_t>());
    return std::optional<StateValue>(d->value("s", std::string()));
  }
  Status Put(std::string_view key, const StateValue& v) override {
    json doc = std::holds_alternative<int64_t>(v) ? json{{"i", std::get<int64_t>(v)}} : json{{"s", std::get<std::string>(v)}};
    auto b = model::EncodeValue(doc);
    if (!b.ok()) return b.status();  // a string that is not UTF-8, say
    st_.Put(prefix_ + std::string(key), std::move(*b));
    return Status::Ok();
  }
  Status Delete(std::string_view key) override {
    st_.Delete(prefix_ + std::string(key));
    return Status::Ok();
  }

 private:
  state::Overlay& st_;
  std::string prefix_;
};

// What a contract.call names, read once for admission and the block alike.
struct CallRequest {
  std::string name, fn;
  Limits limits;
};

CallRequest ReadCall(const json& p) {
  CallRequest c;
  c.name = RequireName(p);
  c.fn = state::RequireString(p, "fn", 64);
  if (!ValidFunctionName(c.fn)) state::BadPayload("'fn' must be a Lua identifier of at most 64 characters");
  if (p.contains("gas")) {
    int64_t gas = state::RequireInt(p, "gas");
    if (gas <= 0 || uint64_t(gas) > kDefaultGas) state::BadPayload("'gas' must be 1.." + std::to_string(kDefaultGas));
    c.limits.gas = uint64_t(gas);
  }
  return c;
}

}  // namespace

Reject RejectFor(FailureKind k) {
  switch (k) {
    case FailureKind::kGasExhausted: return Reject::kGasExhausted;
    case FailureKind::kMemoryExhausted: return Reject::kMemoryExhausted;
    case FailureKind::kForbidden: return Reject::kForbidden;
    case FailureKind::kBadArguments: return Reject::kInvalidPayload;
    case FailureKind::kRuntimeError:
    case FailureKind::kBadResult: break;
  }
  return Reject::kContractError;
}

std::string FailureDetail(const CallResult& r) {
  if (!r.failure) return "";
  return std::string(FailureKindName(r.failure->kind)) + ": " + r.failure->message + " (gas " +
         std::to_string(r.gas_used) + ")";
}

bool ContractModule::Handles(uint16_t type) const {
  return type == model::tx::kContractDeploy || type == model::tx::kContractUpgrade ||
         type == model::tx::kContractCall;
}

Result<std::shared_ptr<const Contract>> Invoker::Compiled(const state::StateReader& st, const std::string& name,
                                                         uint64_t version, const std::string& sha256) {
  const std::string key = name + "\n" + sha256;
  {
    std::lock_guard l(mu_);
    if (auto it = compiled_.find(key); it != compiled_.end()) return it->second;
  }
  auto source = state::LoadContractSource(st, name, version);
  if (!source) return NotFound("contract '" + name + "' has no source for its version");
  ML_ASSIGN_OR_RETURN(Contract c, Contract::Compile(*source, name));
  auto shared = std::make_shared<const Contract>(std::move(c));
  std::lock_guard l(mu_);
  if (compiled_.size() >= kMaxCompiled) compiled_.clear();
  compiled_.emplace(key, shared);
  return shared;
}

Verdict ContractModule::Propose(state::TxContext& ctx, bool upgrade) {
  const std::string name = RequireName(ctx.payload);
  std::string source = state::RequireString(ctx.payload, "source", model::kMaxPayloadBytes);
  if (auto c = Contract::Compile(source, name); !c.ok())
    return Verdict::No(Reject::kInvalidPayload, "source does not compile: " + c.status().message());
  uint64_t version = 1;
  if (upgrade) {
    auto cur = state::LoadContract(ctx.state, name);
    if (!cur) return Verdict::No(Reject::kNotFound, "contract '" + name + "' is not deployed");
    version = cur->version + 1;
  }
  return state::ProposeContract(ctx, {upgrade, name, version, source, ToHex(crypto::Sha256(source))});
}

Result<Invoker::Invocation> Invoker::Invoke(state::Overlay& st, const std::string& name, std::string_view fn,
                                            const json& args, const CallEnv& env, const Limits& limits) {
  auto rec = state::LoadContract(st, name);
  if (!rec) return NotFound("contract '" + name + "' is not deployed");
  auto contract = Compiled(st, name, rec->version, rec->source_sha256);
  if (!contract.ok() && contract.status().code() == StatusCode::kNotFound) return contract.status();
  if (!contract.ok()) return FailedPrecondition("contract does not compile: " + contract.status().message());
  ContractState kv(st, name);
  auto r = Call(**contract, fn, args, env, &kv, limits);
  // Overlay reads and writes cannot fail; a non-OK result is the locale
  // check (the node must run in the C locale), the same on every call.
  if (!r.ok()) return FailedPrecondition("contract engine: " + r.status().message());
  return Invocation{rec->version, std::move(*r)};
}

Verdict ContractModule::RunCall(state::TxContext& ctx) {
  const auto [name, fn, limits] = ReadCall(ctx.payload);
  const json args = ctx.payload.value("args", json());
  CallEnv env{ctx.height, ctx.timestamp_ms, crypto::PublicId(ctx.tx.signer)};
  auto inv = invoker_.Invoke(ctx.state, name, fn, args, env, limits);
  if (!inv.ok())
    return Verdict::No(inv.status().code() == StatusCode::kNotFound ? Reject::kNotFound : Reject::kContractError,
                       inv.status().message());
  const CallResult& r = inv->call;
  if (r.failure) return Verdict::No(RejectFor(r.failure->kind), FailureDetail(r));
  const std::string tx_hex = ToHex(ctx.tx_id);
  ctx.Put(CallKey(tx_hex), state::EncodeState({{"contract", name},
                                               {"version", int64_t(inv->version)},
                                               {"fn", fn},
                                               {"result", r.result},
                                               {"gas_used", int64_t(r.gas_used)},
                                               {"height", int64_t(ctx.height)}}));
  return Verdict::Accept();
}

Verdict ContractModule::Apply(state::TxContext& ctx) {
  switch (ctx.tx.type) {
    case model::tx::kContractDeploy: return Propose(ctx, false);
    case model::tx::kContractUpgrade: return Propose(ctx, true);
    case model::tx::kContractCall: return RunCall(ctx);
  }
  return Verdict::No(Reject::kUnknownType, "not a contract transaction");
}

std::optional<Verdict> ContractModule::Admit(state::TxContext& ctx) {
  if (ctx.tx.type != model::tx::kContractCall) return std::nullopt;  // deploy and upgrade only compile: Apply
  const std::string name = ReadCall(ctx.payload).name;
  if (!state::LoadContract(ctx.state, name))
    return Verdict::No(Reject::kNotFound, "contract '" + name + "' is not deployed");
  return Verdict::Accept();
}

std::string CallKey(std::string_view tx_hex) { return "ctr/call/" + std::string(tx_hex); }

std::optional<CallRecord> LoadCall(const state::StateReader& st, std::string_view tx_hex) {
  auto d = state::LoadDoc(st, CallKey(tx_hex));
  if (!d) return std::nullopt;
  CallRecord c;
  c.tx = std::string(tx_hex);
  c.contract = d->value("contract", "");
  c.fn = d->value("fn", "");
  c.version = uint64_t(d->value("version", int64_t(0)));
  c.gas_used = uint64_t(d->value("gas_used", int64_t(0)));
  c.height = uint64_t(d->value("height", int64_t(0)));
  c.result = d->value("result", json());
  return c;
}

void RegisterContractModules(state::Executor& exec) { exec.AddModule(std::make_unique<ContractModule>()); }

}  // namespace medledger::contracts
