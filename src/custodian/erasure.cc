#include "custodian/erasure.h"

#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>

#include "custodian/fhir_index.h"
#include "fhir/validate.h"
#include "model/tx_types.h"
#include "records/erasure.h"
#include "records/legal_hold.h"

namespace medledger::custodian {

using nlohmann::json;

namespace {

// Canonical bytes of a receipt: a domain prefix and the compact JSON of the
// receipt without "signature" (object keys sorted, as nlohmann::json dumps).
std::string ReceiptSigningBytes(json receipt) {
  receipt.erase("signature");
  return "medledger-erasure-receipt-v1\n" + receipt.dump();
}

// Legal holds are on chain (record.legal_hold), so a hold set through any
// node of the organisation counts here.
bool OnHold(const Context& ctx, const std::string& record_id) {
  return records::GetLegalHold(ctx.state(), record_id).has_value();
}

}  // namespace

Result<json> DecideErasure(const Context& ctx, const ErasureRequest& req) {
  const auto wait = std::chrono::seconds(30);
  auto refuse = [&]() -> Status {
    json d = {{"request_id", req.request_id}, {"decision", "refused"}, {"legal_hold", true}};
    auto o = ctx.SubmitAsNode(model::tx::kErasureDecision, d, wait);
    std::string where = o.state == node::TxState::kCommitted
                            ? " (decision tx " + ToHex(o.id) + ", block " + std::to_string(o.height) + ")"
                            : " (decision not committed: " + std::string(node::TxStateName(o.state)) + ")";
    return FailedPrecondition("erasure refused: legal-hold" + where);
  };
  if (OnHold(ctx, req.record_id)) return refuse();
  json d = {{"request_id", req.request_id}, {"decision", "erased"}};
  auto o = ctx.SubmitAsNode(model::tx::kErasureDecision, d, wait);
  // A hold committed since the check above (through any node) makes the
  // chain reject "erased": refuse instead.
  if (o.state == node::TxState::kRejected && OnHold(ctx, req.record_id)) return refuse();
  if (o.state != node::TxState::kCommitted)
    return Unavailable(std::string("erasure decision not committed: ") + node::TxStateName(o.state) + " " +
                       (o.error.ok() ? o.verdict.detail : o.error.message()));
  // The chain says erased first; if the node dies before the keys are gone,
  // the start-up re-application destroys them before serving.
  Status st = ctx.vault->Erase(req.record_id);
  if (!st.ok()) return Internal("vault erase failed: " + st.message());
  // The record's identifiers (an MRN, say) leave the index too, older
  // versions of its entries included; the Type/id entry stays as a
  // tombstone, so reads still find the record and answer 410.
  if (ctx.index) st = ctx.index->EraseRecords({req.record_id});
  if (!st.ok()) return Internal("index erase failed: " + st.message());
  auto er = records::GetErased(ctx.state(), req.record_id);
  json versions = json::array();
  for (int64_t v = 1; er && v <= er->versions; ++v) versions.push_back(v);
  json receipt = {{"type", "medledger-erasure-receipt"},
                  {"version", 1},
                  {"reference", req.reference},
                  {"record_id", req.record_id},
                  {"versions_destroyed", versions},
                  {"request_id", req.request_id},
                  {"request_tx", req.request_tx},
                  {"decision_tx", ToHex(o.id)},
                  {"block_height", o.height},
                  {"erased_at_ms", er ? er->at_ms : 0},
                  {"erased_at", fhir::FormatInstant(er ? static_cast<int64_t>(er->at_ms) : NowMs())},
                  {"custodian", ctx.org},
                  {"node_key", ctx.node_key->id()},
                  {"recipients_notified", er ? json(er->recipients) : json::array()}};
  std::string bytes = ReceiptSigningBytes(receipt);
  auto sig = ctx.node_key->Sign(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
  receipt["signature"] = ToHex(sig);
  return receipt;
}

Status ReapplyErasures(const Context& ctx) {
  std::vector<std::string> erased;
  for (const auto& e : records::ListErased(ctx.state()))
    if (e.org == ctx.org) erased.push_back(e.record_id);
  ML_RETURN_IF_ERROR(ctx.vault->ReapplyErasures(erased));
  // The index too: a node stopped between the vault and the index, or an
  // index restored from a backup, still holds the identifiers.
  if (!erased.empty() && ctx.index) ML_RETURN_IF_ERROR(ctx.index->EraseRecords(erased));
  if (!erased.empty()) spdlog::info("re-applied {} on-chain erasures to the vault and the index", erased.size());
  return Status::Ok();
}

std::vector<std::function<void()>> LeftoverErasures(const Context& ctx) {
  std::vector<std::function<void()>> jobs;
  for (const auto& p : records::ListPendingErasures(ctx.state(), ctx.org)) {
    spdlog::info("erasure request {} for record {} was never decided; deciding it now", p.request_id, p.record_id);
    ErasureRequest req{"", p.record_id, p.request_id, p.tx};
    jobs.push_back([&ctx, req] {
      auto r = DecideErasure(ctx, req);
      if (r.ok()) spdlog::info("erasure request {}: record erased", req.request_id);
      else spdlog::warn("erasure request {}: {}", req.request_id, r.status().ToString());
    });
  }
  return jobs;
}

}  // namespace medledger::custodian
