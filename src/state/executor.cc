#include "state/executor.h"

#include <mutex>
#include <nlohmann/json.hpp>
#include <unordered_set>

#include "model/tx_types.h"
#include "model/value.h"
#include "state/identity.h"

namespace medledger::state {

using model::Reject;
using model::Verdict;

namespace {

// A module read a payload field as the wrong type, or one that is absent.
std::string PayloadErrorDetail(const nlohmann::json::exception& e) {
  if (dynamic_cast<const nlohmann::json::type_error*>(&e)) return "payload: a field has the wrong type";
  if (dynamic_cast<const nlohmann::json::out_of_range*>(&e)) return "payload: a required field is missing";
  return "payload: not readable";
}

}  // namespace

Executor::Executor(std::vector<std::unique_ptr<Module>> modules) : modules_(std::move(modules)) {}

std::unique_ptr<Executor> Executor::Core() {
  std::vector<std::unique_ptr<Module>> m;
  m.push_back(std::make_unique<IdentityModule>());
  m.push_back(std::make_unique<AnchorModule>());
  return std::make_unique<Executor>(std::move(m));
}

Module* Executor::FindModule(uint16_t type) const {
  for (const auto& m : modules_)
    if (m->Handles(type)) return m.get();
  return nullptr;
}

Result<ChainParams> LoadParams(const StateReader& st) {
  auto j = DecodeState(st.Get(kParamsKey));
  if (!j) return DataLoss("chain parameters missing from state");
  return ChainParams::FromJson(*j);
}

Verdict Executor::ApplyOne(Overlay& block_state, const ChainParams& params, uint64_t height,
                           uint64_t timestamp_ms, const model::Transaction& tx, const Hash32& id,
                           bool sig_ok, bool in_block_dup, SignerCache& cache, bool admission) const {
  if (tx.chain_id != params.chain_id) return Verdict::No(Reject::kWrongChain, "transaction is for chain '" + tx.chain_id.substr(0, 64) + "'");
  const model::TxTypeInfo* info = model::FindTxType(tx.type);
  Module* module = info ? FindModule(tx.type) : nullptr;
  if (!module) return Verdict::No(Reject::kUnknownType, "unknown transaction type " + std::to_string(tx.type));
  if (!sig_ok) return Verdict::No(Reject::kBadSignature, "signature does not verify");
  if (tx.payload.size() > model::kMaxPayloadBytes) return Verdict::No(Reject::kOversized, "payload too large");
  if (tx.expiry_height < height)
    return Verdict::No(Reject::kExpired, "expired at height " + std::to_string(tx.expiry_height) + ", chain is at " + std::to_string(height));
  if (tx.expiry_height > height + params.max_expiry_window)
    return Verdict::No(Reject::kExpired, "expiry height more than " + std::to_string(params.max_expiry_window) + " blocks ahead");
  if (in_block_dup) return Verdict::No(Reject::kReplayed, "transaction already accepted");
  auto cached = cache.map.find(tx.signer);
  if (cached == cache.map.end()) {
    auto rec = LoadIdentity(block_state, tx.signer);
    bool org_active = false;
    if (rec) {
      auto org = LoadOrg(block_state, rec->org);
      org_active = org && org->active;
    }
    cached = cache.map.emplace(tx.signer, std::make_pair(std::move(rec), org_active)).first;
  }
  const std::optional<IdentityRecord>& signer = cached->second.first;
  if (!signer) return Verdict::No(Reject::kUnknownSigner, "signer is not a registered identity");
  if (!signer->active() && signer->revoked_at <= height)
    return Verdict::No(Reject::kRevokedKey, signer->status == KeyStatus::kRotated ? "signer key was rotated" : "signer key was revoked");
  if (!cached->second.second) return Verdict::No(Reject::kRevokedKey, "signer's organisation is not an active member");
  if (!(signer->roles & info->allowed_roles))
    return Verdict::No(Reject::kRoleNotPermitted, std::string(info->name) + " needs one of the roles: " + [&] {
      std::string s;
      for (const auto& r : model::RoleNames(info->allowed_roles)) s += (s.empty() ? "" : ",") + r;
      return s;
    }());
  Overlay tx_state(&block_state);
  static const nlohmann::json kNoPayload;
  TxContext fast_ctx{height, timestamp_ms, tx, id, *signer, params, kNoPayload, tx_state};
  std::optional<Verdict> fast = module->ApplyCanonical(fast_ctx);
  Verdict v;
  if (fast) {
    v = std::move(*fast);
  } else {
    auto payload = model::DecodeValue(tx.payload);
    if (!payload.ok()) return Verdict::No(Reject::kMalformed, payload.status().message());
    if (!payload->is_object()) return Verdict::No(Reject::kInvalidPayload, "payload must be an object");
    TxContext ctx{height, timestamp_ms, tx, id, *signer, params, *payload, tx_state};
    try {
      std::optional<Verdict> admitted = admission ? module->Admit(ctx) : std::nullopt;
      v = admitted ? std::move(*admitted) : module->Apply(ctx);
    } catch (const PayloadError& e) {
      v = e.verdict;
    } catch (const nlohmann::json::exception& e) {
      // The detail goes into the block: it is fixed here, never a library's
      // wording, so a block's bytes do not depend on the JSON library.
      v = Verdict::No(Reject::kInvalidPayload, PayloadErrorDetail(e));
    }
  }
  if (v.ok()) {
    if (tx_state.WritesPrefix("id/") || tx_state.WritesPrefix("org/") || tx_state.WritesPrefix("params/"))
      cache.map.clear();
    tx_state.MergeInto(&block_state);
  }
  return v;
}

BlockExecution Executor::Execute(const StateReader& base, const Hash32& prev_state_root, uint64_t height,
                                 uint64_t timestamp_ms, const std::vector<model::Transaction>& txs,
                                 const std::vector<Hash32>& ids, const std::vector<uint8_t>& sig_ok,
                                 const ReplayGuard& replay) const {
  SignerCache cache;  // one block only: the caller may not commit this block
  return Execute(base, prev_state_root, height, timestamp_ms, txs, ids, sig_ok, replay, cache);
}

BlockExecution Executor::Execute(const StateReader& base, const Hash32& prev_state_root, uint64_t height,
                                 uint64_t timestamp_ms, const std::vector<model::Transaction>& txs,
                                 const std::vector<Hash32>& ids, const std::vector<uint8_t>& sig_ok,
                                 const ReplayGuard& replay, SignerCache& cache) const {
  BlockExecution out;
  out.verdicts.reserve(txs.size());
  Overlay block_state(&base);
  auto params = LoadParams(base);
  std::unordered_set<Hash32, HashHasher> seen;
  seen.reserve(txs.size());
  for (size_t i = 0; i < txs.size(); ++i) {
    bool dup = !seen.insert(ids[i]).second || replay.Contains(ids[i]);
    if (!params.ok()) {
      out.verdicts.push_back(Verdict::No(Reject::kMalformed, "chain parameters unavailable"));
      continue;
    }
    out.verdicts.push_back(ApplyOne(block_state, *params, height, timestamp_ms, txs[i], ids[i], sig_ok[i] != 0, dup, cache));
  }
  out.writes = block_state.TakeWrites();
  out.state_root = NextStateRoot(prev_state_root, height, out.writes);
  return out;
}

void AdmissionCache::Reset() {
  std::unique_lock lock(mu_);
  epoch_++;
  params_.reset();
  signers_.clear();
}

std::shared_ptr<const Result<ChainParams>> AdmissionCache::Params(const StateReader& base) {
  uint64_t epoch;
  {
    std::shared_lock lock(mu_);
    if (params_) return params_;
    epoch = epoch_;
  }
  auto loaded = std::make_shared<const Result<ChainParams>>(LoadParams(base));
  std::unique_lock lock(mu_);
  if (epoch == epoch_) params_ = loaded;
  return loaded;
}

AdmissionCache::Signer AdmissionCache::Lookup(const StateReader& base, const crypto::PublicKey& pk) {
  uint64_t epoch;
  {
    std::shared_lock lock(mu_);
    auto it = signers_.find(pk);
    if (it != signers_.end()) return it->second;
    epoch = epoch_;
  }
  Signer s{LoadIdentity(base, pk), false};
  if (s.first) {
    auto org = LoadOrg(base, s.first->org);
    s.second = org && org->active;
  }
  std::unique_lock lock(mu_);
  if (epoch == epoch_) {
    if (signers_.size() >= kMaxSigners) signers_.clear();
    signers_.emplace(pk, s);
  }
  return s;
}

Verdict Executor::Check(const StateReader& base, uint64_t height, uint64_t timestamp_ms,
                        const model::Transaction& tx, const Hash32& id, const ReplayGuard& replay,
                        AdmissionCache& ac) const {
  auto params = ac.Params(base);
  if (!params->ok()) return Verdict::No(Reject::kMalformed, "chain parameters unavailable");
  SignerCache cache;
  cache.map.emplace(tx.signer, ac.Lookup(base, tx.signer));
  Overlay scratch(&base);
  return ApplyOne(scratch, **params, height, timestamp_ms, tx, id, true, replay.Contains(id), cache, true);
}

Verdict Executor::Check(const StateReader& base, uint64_t height, uint64_t timestamp_ms,
                        const model::Transaction& tx, const Hash32& id, const ReplayGuard& replay) const {
  auto params = LoadParams(base);
  if (!params.ok()) return Verdict::No(Reject::kMalformed, "chain parameters unavailable");
  Overlay scratch(&base);
  SignerCache cache;
  return ApplyOne(scratch, *params, height, timestamp_ms, tx, id, true, replay.Contains(id), cache, true);
}

}  // namespace medledger::state
