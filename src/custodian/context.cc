#include "custodian/context.h"

#include <future>
#include <nlohmann/json.hpp>

#include "crypto/aead.h"
#include "model/transaction.h"
#include "model/tx_json.h"

namespace medledger::custodian {

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Status OutcomeStatus(const node::TxOutcome& o, std::string_view what) {
  if (!o.error.ok()) return Status(o.error.code(), std::string(what) + " not admitted: " + o.error.message());
  switch (o.state) {
    case node::TxState::kCommitted:
    case node::TxState::kPending: return Status::Ok();
    case node::TxState::kRejected:
      return Status(model::RejectStatusCode(o.verdict.reason), std::string(what) + " rejected: " +
                                                                   model::RejectName(o.verdict.reason) + ": " +
                                                                   o.verdict.detail);
    case node::TxState::kUnknown: break;
  }
  return Unavailable(std::string(what) + " not committed in time: " + node::TxStateName(o.state));
}

node::TxOutcome Context::SubmitAsNode(uint16_t type, const nlohmann::json& payload,
                                      std::chrono::milliseconds wait) const {
  node::TxOutcome o;
  uint64_t nonce;
  crypto::RandomBytes(reinterpret_cast<uint8_t*>(&nonce), sizeof nonce);
  auto meta = chain->Meta();
  auto tx = model::MakeTransaction(chain->params().chain_id, *node_key, type, payload, nonce, meta.height + 1000);
  if (!tx.ok()) {
    o.state = node::TxState::kRejected;
    o.verdict = model::Verdict::No(model::Reject::kInvalidPayload, tx.status().message());
    return o;
  }
  o = admission->Admit(std::move(*tx));
  if (o.state != node::TxState::kPending || wait.count() == 0) return o;
  std::promise<node::TxOutcome> p;
  auto f = p.get_future();
  pool->WaitAll({o.id}, wait, [&p](std::vector<node::TxOutcome> outs) { p.set_value(outs[0]); });
  return f.get();
}

}  // namespace medledger::custodian
