#include "node/admission.h"

#include <future>
#include <nlohmann/json.hpp>

#include "crypto/aead.h"
#include "crypto/sha256.h"
#include "model/tx_json.h"
#include "model/tx_types.h"

namespace medledger::node {

VerifiedTxs Admission::Verify(std::vector<model::Transaction> txs) {
  VerifiedTxs v;
  v.txs = std::move(txs);
  // The batch equation costs well under half of one check per signature.
  v.sig_ok.resize(v.txs.size());
  model::VerifyTxSignatures(v.txs, &v.signing, v.sig_ok.data());
  return v;
}

// The stateless checks, the signature verdict and the stateful check against
// the latest committed state. Returns the final outcome, or nullopt when the
// transaction goes to the mempool.
std::optional<TxOutcome> Admission::Screen(const model::Transaction& tx, const Hash32& id, bool sig_ok) {
  TxOutcome o;
  o.id = id;
  counters_.received++;
  auto reject = [&](model::Reject r, std::string msg) {
    o.state = TxState::kRejected;
    o.verdict = model::Verdict::No(r, std::move(msg));
    pool_->RecordRejection(o.id, o.verdict);
    counters_.rejected++;
    return o;
  };
  if (tx.chain_id != chain_->params().chain_id)
    return reject(model::Reject::kWrongChain, "this node serves chain '" + chain_->params().chain_id + "'");
  if (!model::FindTxType(tx.type))
    return reject(model::Reject::kUnknownType, "unknown transaction type " + std::to_string(tx.type));
  if (tx.payload.size() > model::kMaxPayloadBytes) return reject(model::Reject::kOversized, "payload too large");
  if (!sig_ok) return reject(model::Reject::kBadSignature, "signature does not verify");
  // A resubmission of a transaction already pending or committed is answered
  // with what is known about it (idempotent). Asking the mempool first cost a
  // locked lookup per transaction; instead the two places that notice a known
  // id ask it: Check (committed: kReplayed; or a pending one that no longer
  // passes) and Add (kAlreadyExists: pending). In the window where a block is
  // in the chain but its commit listener has not run, Lookup says pending.
  Result<model::Verdict> v = chain_->Check(tx, o.id);
  if (!v.ok()) {
    // This node failed, not the transaction: nothing is recorded.
    o.error = v.status();
    counters_.unavailable++;
    return o;
  }
  if (!v->ok()) {
    TxOutcome known = pool_->Lookup(o.id);
    if (known.state == TxState::kPending || known.state == TxState::kCommitted) return known;
    return reject(v->reason, std::move(v->detail));
  }
  return std::nullopt;
}

TxOutcome Admission::Added(const Hash32& id, const Status& added) {
  TxOutcome o;
  o.id = id;
  o.state = TxState::kPending;
  if (added.code() == StatusCode::kAlreadyExists) return o;  // already pending: admitted once, counted once
  if (!added.ok()) {
    // A full mempool says "later", not "never": no verdict.
    o.state = TxState::kUnknown;
    o.error = added;
    counters_.unavailable++;
    return o;
  }
  counters_.admitted++;
  return o;
}

std::vector<TxOutcome> Admission::Admit(VerifiedTxs v) {
  std::vector<model::Transaction>& txs = v.txs;
  std::vector<TxOutcome> outs(txs.size());
  std::vector<model::Transaction> add;
  std::vector<Hash32> add_ids;
  std::vector<size_t> add_pos;
  add.reserve(txs.size());
  add_ids.reserve(txs.size());
  add_pos.reserve(txs.size());
  for (size_t i = 0; i < txs.size(); ++i) {
    const Hash32 id = crypto::Sha256(v.signing[i]);
    if (auto done = Screen(txs[i], id, v.sig_ok[i])) {
      outs[i] = std::move(*done);
      continue;
    }
    add.push_back(std::move(txs[i]));
    add_ids.push_back(id);
    add_pos.push_back(i);
  }
  // One mempool lock for the whole batch.
  std::vector<Status> added;
  pool_->AddAll(&add, add_ids, &added);
  for (size_t k = 0; k < add_pos.size(); ++k) outs[add_pos[k]] = Added(add_ids[k], added[k]);
  return outs;
}

TxOutcome Admission::Admit(model::Transaction tx) {
  std::vector<model::Transaction> one;
  one.push_back(std::move(tx));
  return std::move(Admit(Verify(std::move(one))).front());
}

TxOutcome SubmitAsNode(Chain* chain, Admission* admission, Mempool* pool, const crypto::KeyPair& node_key,
                       uint16_t type, const nlohmann::json& payload, std::chrono::milliseconds wait) {
  TxOutcome o;
  uint64_t nonce;
  crypto::RandomBytes(reinterpret_cast<uint8_t*>(&nonce), sizeof nonce);
  auto meta = chain->Meta();
  auto tx = model::MakeTransaction(chain->params().chain_id, node_key, type, payload, nonce, meta.height + 1000);
  if (!tx.ok()) {
    o.state = TxState::kRejected;
    o.verdict = model::Verdict::No(model::Reject::kInvalidPayload, tx.status().message());
    return o;
  }
  o = admission->Admit(std::move(*tx));
  if (o.state != TxState::kPending || wait.count() == 0) return o;
  std::promise<TxOutcome> p;
  auto f = p.get_future();
  pool->WaitAll({o.id}, wait, [&p](std::vector<TxOutcome> outs) { p.set_value(outs[0]); });
  return f.get();
}

Status OutcomeStatus(const TxOutcome& o, std::string_view what) {
  if (!o.error.ok()) return Status(o.error.code(), std::string(what) + " not admitted: " + o.error.message());
  switch (o.state) {
    case TxState::kCommitted:
    case TxState::kPending: return Status::Ok();
    case TxState::kRejected:
      return Status(model::RejectStatusCode(o.verdict.reason), std::string(what) + " rejected: " +
                                                                   model::RejectName(o.verdict.reason) + ": " +
                                                                   o.verdict.detail);
    case TxState::kUnknown: break;
  }
  return Unavailable(std::string(what) + " not committed in time: " + TxStateName(o.state));
}

}  // namespace medledger::node
