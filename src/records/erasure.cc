#include "records/erasure.h"

#include <nlohmann/json.hpp>
#include <set>

#include "model/tx_types.h"
#include "records/access.h"
#include "records/legal_hold.h"
#include "records/schema.h"

namespace medledger::records {

using model::Reject;
using model::Verdict;
using nlohmann::json;

bool ErasureModule::Handles(uint16_t type) const {
  return type == model::tx::kErasureRequest || type == model::tx::kErasureDecision;
}

namespace {

Verdict Request(state::TxContext& ctx) {
  std::string request_id = RequireHexId(ctx.payload, "request_id");
  std::string record_id = RequireHexId(ctx.payload, "record_id");
  crypto::PublicKey patient;
  if (auto v = ResolveActingPatient(ctx, &patient); !v.ok()) return v;
  auto head = LoadDoc(ctx.state, RecordHeadKey(record_id));
  if (!head) return Verdict::No(Reject::kNotFound, "no such record");
  std::string org = (*head)["org"].get<std::string>();
  auto bound = BoundPatient(ctx.state, org, (*head)["patient"].get<std::string>());
  if (!bound || *bound != patient) return Verdict::No(Reject::kRoleNotPermitted, "record is not this patient's");
  if ((*head)["erased"].get<bool>()) return Verdict::No(Reject::kConflict, "record is already erased");
  if (head->contains("pending_erasure")) return Verdict::No(Reject::kConflict, "an erasure request for this record is pending");
  if (ctx.Get(ErasureRequestKey(request_id))) return Verdict::No(Reject::kConflict, "request id already used");
  ctx.Put(ErasureRequestKey(request_id), state::EncodeState({{"record_id", record_id},
                                                             {"org", org},
                                                             {"patient", crypto::PublicId(patient)},
                                                             {"requested_by", crypto::PublicId(ctx.tx.signer)},
                                                             {"status", "pending"},
                                                             {"height", int64_t(ctx.height)},
                                                             {"tx", ToHex(ctx.tx_id)}}));
  ctx.Put(PendingErasureKey(org, request_id), state::EncodeState({{"record_id", record_id}}));
  (*head)["pending_erasure"] = request_id;
  ctx.Put(RecordHeadKey(record_id), state::EncodeState(*head));
  return Verdict::Accept();
}

Verdict DecideRequest(state::TxContext& ctx) {
  const auto& p = ctx.payload;
  std::string request_id = RequireHexId(p, "request_id");
  std::string decision = state::RequireString(p, "decision", 16);
  if (decision != "erased" && decision != "refused") BadPayload("payload field 'decision' must be erased or refused");
  auto reason = OptionalCode(p, "reason");
  bool legal_hold = OptionalBool(p, "legal_hold").value_or(false);
  if (decision == "erased" && legal_hold) BadPayload("a record under legal hold cannot be erased");
  if (decision == "refused" && !reason && !legal_hold) BadPayload("a refusal needs a 'reason' or 'legal_hold'");
  if (decision == "refused" && !reason) reason = "legal-hold";

  auto req = LoadDoc(ctx.state, ErasureRequestKey(request_id));
  if (!req) return Verdict::No(Reject::kNotFound, "no such erasure request");
  std::string org = (*req)["org"].get<std::string>();
  std::string record_id = (*req)["record_id"].get<std::string>();
  if (org != ctx.signer.org) return Verdict::No(Reject::kRoleNotPermitted, "only the record's custodian decides its erasure");
  if ((*req)["status"] != "pending") return Verdict::No(Reject::kConflict, "request was already decided");
  // The hold is on chain, so it binds every node of the custodian, not only
  // the one through which it was set.
  if (decision == "erased" && GetLegalHold(ctx.state, record_id))
    return Verdict::No(Reject::kConflict, "record is under a legal hold: it cannot be erased");

  (*req)["status"] = decision;
  if (reason) (*req)["reason"] = *reason;
  (*req)["legal_hold"] = legal_hold;
  (*req)["decided_by"] = crypto::PublicId(ctx.tx.signer);
  (*req)["decided_height"] = int64_t(ctx.height);
  (*req)["decided_tx"] = ToHex(ctx.tx_id);
  ctx.Put(ErasureRequestKey(request_id), state::EncodeState(*req));
  ctx.Delete(PendingErasureKey(org, request_id));

  auto head = LoadDoc(ctx.state, RecordHeadKey(record_id));
  if (!head) return Verdict::No(Reject::kNotFound, "no such record");
  head->erase("pending_erasure");
  if (decision == "erased") {
    (*head)["erased"] = true;
    std::set<std::string> orgs;
    for (const auto& a : ListRecordAccessors(ctx.state, record_id))
      if (!a.org.empty()) orgs.insert(a.org);
    ctx.Put(ErasedKey(record_id), state::EncodeState({{"org", org},
                                                      {"request_id", request_id},
                                                      {"versions", (*head)["latest"]},
                                                      {"recipients", std::vector<std::string>(orgs.begin(), orgs.end())},
                                                      {"height", int64_t(ctx.height)},
                                                      {"at_ms", int64_t(ctx.timestamp_ms)},
                                                      {"tx", ToHex(ctx.tx_id)}}));
  }
  ctx.Put(RecordHeadKey(record_id), state::EncodeState(*head));
  return Verdict::Accept();
}

ErasedRecord ErasedFromJson(std::string record_id, const json& d) {
  ErasedRecord e;
  e.record_id = std::move(record_id);
  e.org = d.value("org", "");
  e.request_id = d.value("request_id", "");
  e.versions = d.value("versions", int64_t(0));
  e.recipients = d.value("recipients", std::vector<std::string>{});
  e.height = uint64_t(d.value("height", int64_t(0)));
  e.at_ms = uint64_t(d.value("at_ms", int64_t(0)));
  e.tx = d.value("tx", "");
  return e;
}

}  // namespace

Verdict ErasureModule::Apply(state::TxContext& ctx) {
  switch (ctx.tx.type) {
    case model::tx::kErasureRequest: return Request(ctx);
    case model::tx::kErasureDecision: return DecideRequest(ctx);
  }
  return Verdict::No(Reject::kUnknownType, "not an erasure transaction");
}

bool IsErased(const state::StateReader& st, std::string_view record_id) {
  return st.Get(ErasedKey(record_id)).has_value();
}

std::optional<ErasedRecord> GetErased(const state::StateReader& st, std::string_view record_id) {
  auto d = LoadDoc(st, ErasedKey(record_id));
  if (!d) return std::nullopt;
  return ErasedFromJson(std::string(record_id), *d);
}

std::vector<ErasedRecord> ListErased(const state::StateReader& st) {
  std::vector<ErasedRecord> out;
  std::string prefix = ErasedKey("");
  st.Scan(prefix, [&](std::string_view key, const Bytes& value) {
    if (auto d = state::DecodeState(value)) out.push_back(ErasedFromJson(std::string(key.substr(prefix.size())), *d));
    return true;
  });
  return out;
}

std::optional<ErasureRequestInfo> GetErasureRequest(const state::StateReader& st, std::string_view request_id) {
  auto d = LoadDoc(st, ErasureRequestKey(request_id));
  if (!d) return std::nullopt;
  ErasureRequestInfo r;
  r.request_id = std::string(request_id);
  r.record_id = d->value("record_id", "");
  r.org = d->value("org", "");
  r.patient = d->value("patient", "");
  r.requested_by = d->value("requested_by", "");
  r.status = d->value("status", "");
  r.reason = d->value("reason", "");
  r.legal_hold = d->value("legal_hold", false);
  r.height = uint64_t(d->value("height", int64_t(0)));
  r.decided_height = uint64_t(d->value("decided_height", int64_t(0)));
  r.tx = d->value("tx", "");
  r.decided_tx = d->value("decided_tx", "");
  return r;
}

std::vector<ErasureRequestInfo> ListPendingErasures(const state::StateReader& st, std::string_view org) {
  std::vector<std::string> ids;
  std::string prefix = PendingErasureKey(org, "");
  st.Scan(prefix, [&](std::string_view key, const Bytes&) {
    ids.emplace_back(key.substr(prefix.size()));
    return true;
  });
  std::vector<ErasureRequestInfo> out;
  for (const auto& id : ids)
    if (auto r = GetErasureRequest(st, id)) out.push_back(std::move(*r));
  return out;
}

}  // namespace medledger::records
