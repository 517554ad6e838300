#include "api/fhir_context.h"

#include <future>

#include "crypto/aead.h"
#include "model/transaction.h"

namespace medledger::api {

node::TxOutcome FhirContext::SubmitAsNode(uint16_t type, const nlohmann::json& payload,
                                          std::chrono::milliseconds wait) const {
  node::TxOutcome o;
  uint64_t nonce;
  crypto::RandomBytes(reinterpret_cast<uint8_t*>(&nonce), sizeof nonce);
  auto meta = ledger->chain->Meta();
  auto tx = model::MakeTransaction(ledger->chain->params().chain_id, *node_key, type, payload, nonce,
                                   meta.height + 1000);
  if (!tx.ok()) {
    o.state = node::TxState::kRejected;
    o.verdict = model::Verdict::No(model::Reject::kInvalidPayload, tx.status().message());
    return o;
  }
  o = AdmitTx(ledger, std::move(*tx));
  if (o.state != node::TxState::kPending || wait.count() == 0) return o;
  std::promise<node::TxOutcome> p;
  auto f = p.get_future();
  ledger->pool->WaitAll({o.id}, wait, [&p](std::vector<node::TxOutcome> outs) { p.set_value(outs[0]); });
  return f.get();
}

}  // namespace medledger::api
