#include "records/legal_hold.h"

#include <nlohmann/json.hpp>

#include "model/tx_types.h"
#include "records/reasons.h"
#include "records/schema.h"

namespace medledger::records {

using model::Reject;
using model::Verdict;
using nlohmann::json;

bool LegalHoldModule::Handles(uint16_t type) const { return type == model::tx::kRecordLegalHold; }

namespace {

LegalHoldInfo HoldFromJson(std::string record_id, const json& d) {
  LegalHoldInfo h;
  h.record_id = std::move(record_id);
  h.org = d.value("org", "");
  h.reason = d.value("reason", "");
  h.set_by = d.value("set_by", "");
  h.height = uint64_t(d.value("height", int64_t(0)));
  h.at_ms = uint64_t(d.value("at_ms", int64_t(0)));
  h.tx = d.value("tx", "");
  return h;
}

}  // namespace

Verdict LegalHoldModule::Apply(state::TxContext& ctx) {
  const auto& p = ctx.payload;
  std::string record_id = RequireHexId(p, "record_id");
  auto hold = OptionalBool(p, "hold");
  if (!hold) BadPayload("payload field 'hold' (true or false) is required");
  auto reason = state::OptionalString(p, "reason", 64);
  if (*hold && (!reason || !IsLegalHoldReason(*reason)))
    BadPayload("a hold needs 'reason', a code of the legal-hold vocabulary (docs/RECORDS.md)");
  if (!*hold && reason) BadPayload("a release takes no 'reason'");

  auto head = LoadDoc(ctx.state, RecordHeadKey(record_id));
  if (!head) return Verdict::No(Reject::kNotFound, "no such record");
  std::string org = (*head)["org"].get<std::string>();
  if (org != ctx.signer.org || !ctx.signer.Has(model::kRoleOrgAdmin))
    return Verdict::No(Reject::kRoleNotPermitted, "only an org admin of the record's custodian sets or releases its hold");
  bool held = ctx.Get(LegalHoldKey(record_id)).has_value();
  if (!*hold) {
    if (!held) return Verdict::No(Reject::kNotFound, "record is not under a legal hold");
    ctx.Delete(LegalHoldKey(record_id));
    return Verdict::Accept();
  }
  if ((*head)["erased"].get<bool>()) return Verdict::No(Reject::kConflict, "record was erased");
  if (held) return Verdict::No(Reject::kConflict, "record is already under a legal hold");
  ctx.Put(LegalHoldKey(record_id), state::EncodeState({{"org", org},
                                                       {"reason", *reason},
                                                       {"set_by", crypto::PublicId(ctx.tx.signer)},
                                                       {"height", int64_t(ctx.height)},
                                                       {"at_ms", int64_t(ctx.timestamp_ms)},
                                                       {"tx", ToHex(ctx.tx_id)}}));
  return Verdict::Accept();
}

std::optional<LegalHoldInfo> GetLegalHold(const state::StateReader& st, std::string_view record_id) {
  auto d = LoadDoc(st, LegalHoldKey(record_id));
  if (!d) return std::nullopt;
  return HoldFromJson(std::string(record_id), *d);
}

std::vector<LegalHoldInfo> ListLegalHolds(const state::StateReader& st, std::string_view org) {
  // Holds are few (a handful per custodian), so one scan of all of them is
  // cheaper than a second, per-organisation index in state.
  std::vector<LegalHoldInfo> out;
  std::string prefix = LegalHoldKey("");
  st.Scan(prefix, [&](std::string_view key, const Bytes& value) {
    auto d = state::DecodeState(value);
    if (d && d->value("org", "") == org) out.push_back(HoldFromJson(std::string(key.substr(prefix.size())), *d));
    return true;
  });
  return out;
}

}  // namespace medledger::records
