#include "records/access.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <tuple>

#include "model/tx_types.h"
#include "records/consent.h"
#include "records/reasons.h"
#include "records/records.h"
#include "records/schema.h"

namespace medledger::records {

using model::Reject;
using model::Verdict;
using nlohmann::json;

bool AccessModule::Handles(uint16_t type) const {
  return type == model::tx::kAccessEvent || type == model::tx::kDisclosure ||
         type == model::tx::kAccountingSuspend;
}

namespace {

// A reason from a fixed vocabulary (reasons.h): free text, even shaped like
// a code, could carry PHI onto the chain, where nothing can be erased.
std::optional<std::string> OptionalReason(const json& p, const char* name, bool (*in_vocabulary)(std::string_view)) {
  auto s = state::OptionalString(p, name, 64);
  if (s && !in_vocabulary(*s))
    BadPayload(std::string("payload field '") + name + "' is not a reason code of the vocabulary (docs/RECORDS.md)");
  return s;
}

int64_t RequireTime(const json& p, const char* name) {
  int64_t t = state::RequireInt(p, name);
  if (t < 0) BadPayload(std::string("payload field '") + name + "' must not be negative");
  return t;
}

bool IsBasis(std::string_view s) {
  return s == "patient" || s == "representative" || s == "consent" || s == "break-glass" || s == "payment";
}

Verdict ApplyAccessEvent(state::TxContext& ctx) {
  const auto& p = ctx.payload;
  std::string event_id = RequireHexId(p, "event_id");
  crypto::PublicKey accessor = state::RequireKey(p, "accessor");
  std::string record_id = RequireHexId(p, "record_id");
  int64_t version = state::RequireInt(p, "version");
  std::string purpose = state::RequireString(p, "purpose", 16);
  if (!IsPurpose(purpose)) BadPayload("payload field 'purpose' is not a purpose of use");
  std::string outcome = state::RequireString(p, "outcome", 16);
  if (outcome != "granted" && outcome != "denied") BadPayload("payload field 'outcome' must be granted or denied");
  auto basis = state::OptionalString(p, "basis", 32);
  auto consent_id = OptionalHexId(p, "consent_id");
  auto bg_reason = OptionalReason(p, "break_glass_reason", IsBreakGlassReason);
  auto denial = OptionalReason(p, "denial_reason", IsDenialReason);
  int64_t at_ms = RequireTime(p, "at_ms");
  if (at_ms > int64_t(ctx.timestamp_ms) + kMaxClockSkewMs) BadPayload("'at_ms' is in the future");

  bool granted = outcome == "granted";
  if (granted) {
    if (!basis || !IsBasis(*basis)) BadPayload("a granted access needs 'basis': patient, representative, consent, break-glass or payment");
    if (denial) BadPayload("a granted access has no 'denial_reason'");
    if ((*basis == "consent") != consent_id.has_value()) BadPayload("'consent_id' goes with basis consent, and only with it");
    if (*basis == "break-glass" && (purpose != kBreakGlassPurpose || !bg_reason))
      BadPayload("break-glass needs purpose ETREAT and a 'break_glass_reason'");
    if (*basis != "break-glass" && purpose == kBreakGlassPurpose) BadPayload("purpose ETREAT is break-glass");
  } else {
    if (!denial) BadPayload("a denied access needs 'denial_reason'");
    if (basis || consent_id) BadPayload("a denied access has no 'basis' or 'consent_id'");
  }

  auto anchor = GetAnchor(ctx.state, record_id, version);
  if (!anchor) return Verdict::No(Reject::kNotFound, "no such record version");
  if (anchor->org != ctx.signer.org) return Verdict::No(Reject::kRoleNotPermitted, "only the record's custodian records its accesses");
  if (ctx.Get(AccessEventIdKey(event_id))) return Verdict::No(Reject::kConflict, "event id already used");
  auto patient = BoundPatient(ctx.state, anchor->org, anchor->pseudonym);
  if (granted && *basis == "consent") {
    auto c = GetConsent(ctx.state, *consent_id);
    if (!c) return Verdict::No(Reject::kNotFound, "no such consent");
    if (!patient || c->patient != crypto::PublicId(*patient))
      return Verdict::No(Reject::kConflict, "consent is not the record's patient's");
  }
  if (granted && *basis == "patient" && (!patient || *patient != accessor))
    return Verdict::No(Reject::kConflict, "accessor is not the record's patient");
  if (granted && *basis == "representative" &&
      (!patient || !ctx.Get(RepresentativeKey(crypto::PublicId(*patient), crypto::PublicId(accessor)))))
    return Verdict::No(Reject::kConflict, "accessor was never appointed representative of the record's patient");

  auto acc_id = state::LoadIdentity(ctx.state, accessor);
  std::string accessor_org = acc_id ? acc_id->org : "";
  if (granted && *basis == "payment" && (purpose != "HPAYMT" || !ctx.Get(PaymentReadKey(record_id, accessor_org))))
    return Verdict::No(Reject::kConflict, "no adjudicated claim of the accessor's plan names this record");
  auto seq_doc = LoadDoc(ctx.state, AccessSeqKey(anchor->org, anchor->pseudonym));
  uint64_t seq = uint64_t(seq_doc ? seq_doc->value("n", int64_t(0)) : 0) + 1;
  std::string key = AccessEventKey(anchor->org, anchor->pseudonym, seq);
  json doc = {{"event_id", event_id},
              {"accessor", crypto::PublicId(accessor)},
              {"accessor_org", accessor_org},
              {"record_id", record_id},
              {"version", version},
              {"resource_type", anchor->resource_type},
              {"purpose", purpose},
              {"outcome", outcome},
              {"break_glass", granted && *basis == "break-glass"},
              {"at_ms", at_ms},
              {"height", int64_t(ctx.height)},
              {"tx", ToHex(ctx.tx_id)},
              {"signer", crypto::PublicId(ctx.tx.signer)}};
  if (basis) doc["basis"] = *basis;
  if (consent_id) doc["consent_id"] = *consent_id;
  if (bg_reason) doc["break_glass_reason"] = *bg_reason;
  if (denial) doc["denial_reason"] = *denial;
  ctx.Put(key, state::EncodeState(doc));
  ctx.Put(AccessSeqKey(anchor->org, anchor->pseudonym), state::EncodeState({{"n", int64_t(seq)}}));
  ctx.Put(AccessEventIdKey(event_id), state::EncodeState({{"key", key}}));
  if (granted) {
    std::string rkey = RecordAccessorKey(record_id, crypto::PublicId(accessor));
    auto r = LoadDoc(ctx.state, rkey);
    json rd = r ? *r : json{{"org", accessor_org}, {"first_height", int64_t(ctx.height)}, {"count", 0}};
    rd["last_height"] = int64_t(ctx.height);
    rd["count"] = rd["count"].get<int64_t>() + 1;
    ctx.Put(rkey, state::EncodeState(rd));
  }
  return Verdict::Accept();
}

Verdict ApplyDisclosure(state::TxContext& ctx) {
  const auto& p = ctx.payload;
  std::string id = RequireHexId(p, "disclosure_id");
  std::string pseudonym = RequireHexId(p, "patient");
  Hash32 recipient = state::RequireHash(p, "recipient_ref");
  std::string description = RequireCode(p, "description");
  std::string purpose = RequireCode(p, "purpose");
  int64_t at_ms = RequireTime(p, "at_ms");
  if (at_ms > int64_t(ctx.timestamp_ms) + kMaxClockSkewMs) BadPayload("'at_ms' is in the future");
  auto record_ids = OptionalStringSet(p, "record_ids", IsHexId, 256);
  const std::string& org = ctx.signer.org;
  if (!BoundPatient(ctx.state, org, pseudonym)) return Verdict::No(Reject::kNotFound, "pseudonym is not bound at this custodian");
  for (const auto& r : record_ids) {
    auto head = LoadDoc(ctx.state, RecordHeadKey(r));
    if (!head) return Verdict::No(Reject::kNotFound, "no such record in 'record_ids'");
    if (head->value("org", "") != org || head->value("patient", "") != pseudonym)
      return Verdict::No(Reject::kConflict, "a record in 'record_ids' is not this patient's at this custodian");
  }
  if (ctx.Get(DisclosureIdKey(id))) return Verdict::No(Reject::kConflict, "disclosure id already used");
  std::string key = DisclosureKey(org, pseudonym, at_ms, id);
  ctx.Put(key, state::EncodeState({{"recipient_ref", ToHex(recipient)},
                                   {"description", description},
                                   {"purpose", purpose},
                                   {"record_ids", record_ids},
                                   {"at_ms", at_ms},
                                   {"height", int64_t(ctx.height)},
                                   {"tx", ToHex(ctx.tx_id)},
                                   {"signer", crypto::PublicId(ctx.tx.signer)}}));
  ctx.Put(DisclosureIdKey(id), state::EncodeState({{"key", key}}));
  return Verdict::Accept();
}

Verdict ApplySuspend(state::TxContext& ctx) {
  const auto& p = ctx.payload;
  std::string id = RequireHexId(p, "suspension_id");
  std::string agency = RequireCode(p, "agency");
  int64_t until = RequireTime(p, "until_ms");
  std::optional<std::string> recipient;
  if (p.contains("recipient_ref") && !p["recipient_ref"].is_null()) recipient = ToHex(state::RequireHash(p, "recipient_ref"));
  if (until <= int64_t(ctx.timestamp_ms)) BadPayload("'until_ms' must be after the block time");
  bool by_key = p.contains("patient") && !p["patient"].is_null();
  bool by_pseudonym = p.contains("pseudonym") && !p["pseudonym"].is_null();
  if (by_key == by_pseudonym) BadPayload("give either 'patient' or 'org' and 'pseudonym'");
  crypto::PublicKey patient;
  if (by_key) {
    patient = state::RequireKey(p, "patient");
    auto id_rec = state::LoadIdentity(ctx.state, patient);
    if (!id_rec || !id_rec->Has(model::kRolePatient)) return Verdict::No(Reject::kNotFound, "patient is not a registered patient identity");
  } else {
    std::string org = state::RequireString(p, "org", 64);
    auto bound = BoundPatient(ctx.state, org, RequireHexId(p, "pseudonym"));
    if (!bound) return Verdict::No(Reject::kNotFound, "pseudonym is not bound at that organisation");
    patient = *bound;
  }
  std::string key = SuspensionKey(crypto::PublicId(patient), id);
  if (ctx.Get(key)) return Verdict::No(Reject::kConflict, "suspension id already used");
  json doc = {{"agency", agency},
              {"until_ms", until},
              {"height", int64_t(ctx.height)},
              {"tx", ToHex(ctx.tx_id)},
              {"signer", crypto::PublicId(ctx.tx.signer)}};
  if (recipient) doc["recipient_ref"] = *recipient;
  ctx.Put(key, state::EncodeState(doc));
  return Verdict::Accept();
}

AccessEventInfo EventFromJson(std::string_view org, std::string_view pseudonym, uint64_t seq, const json& d) {
  AccessEventInfo e;
  e.org = std::string(org);
  e.pseudonym = std::string(pseudonym);
  e.seq = seq;
  e.event_id = d.value("event_id", "");
  e.accessor = d.value("accessor", "");
  e.accessor_org = d.value("accessor_org", "");
  e.record_id = d.value("record_id", "");
  e.version = d.value("version", int64_t(0));
  e.resource_type = d.value("resource_type", "");
  e.purpose = d.value("purpose", "");
  e.granted = d.value("outcome", "") == "granted";
  e.basis = d.value("basis", "");
  e.consent_id = d.value("consent_id", "");
  e.break_glass = d.value("break_glass", false);
  e.break_glass_reason = d.value("break_glass_reason", "");
  e.denial_reason = d.value("denial_reason", "");
  e.at_ms = d.value("at_ms", int64_t(0));
  e.height = uint64_t(d.value("height", int64_t(0)));
  e.tx = d.value("tx", "");
  e.signer = d.value("signer", "");
  return e;
}

}  // namespace

Verdict AccessModule::Apply(state::TxContext& ctx) {
  switch (ctx.tx.type) {
    case model::tx::kAccessEvent: return ApplyAccessEvent(ctx);
    case model::tx::kDisclosure: return ApplyDisclosure(ctx);
    case model::tx::kAccountingSuspend: return ApplySuspend(ctx);
  }
  return Verdict::No(Reject::kUnknownType, "not an access transaction");
}

std::vector<AccessEventInfo> ListAccessEvents(const state::StateReader& st, std::string_view org,
                                              std::string_view pseudonym) {
  std::vector<AccessEventInfo> out;
  std::string prefix = AccessEventKey(org, pseudonym, 0);
  prefix.resize(prefix.size() - 20);
  st.Scan(prefix, [&](std::string_view key, const Bytes& value) {
    auto d = state::DecodeState(value);
    if (d) out.push_back(EventFromJson(org, pseudonym, std::stoull(std::string(key.substr(prefix.size()))), *d));
    return true;
  });
  return out;
}

std::vector<AccessEventInfo> ListAccessEvents(const state::StateReader& st, const crypto::PublicKey& patient) {
  std::vector<AccessEventInfo> out;
  for (const auto& ps : PseudonymsOf(st, patient)) {
    auto part = ListAccessEvents(st, ps.org, ps.pseudonym);
    out.insert(out.end(), part.begin(), part.end());
  }
  std::stable_sort(out.begin(), out.end(), [](const AccessEventInfo& a, const AccessEventInfo& b) {
    return std::tie(a.height, a.org, a.pseudonym, a.seq) < std::tie(b.height, b.org, b.pseudonym, b.seq);
  });
  return out;
}

std::optional<AccessEventInfo> GetAccessEvent(const state::StateReader& st, std::string_view event_id) {
  auto ref = LoadDoc(st, AccessEventIdKey(event_id));
  if (!ref) return std::nullopt;
  std::string key = ref->value("key", "");
  auto d = LoadDoc(st, key);
  if (!d) return std::nullopt;
  // acc/<org>/<pseudonym>/<seq>
  auto a = key.find('/'), b = key.find('/', a + 1), c = key.rfind('/');
  return EventFromJson(key.substr(a + 1, b - a - 1), key.substr(b + 1, c - b - 1), std::stoull(key.substr(c + 1)), *d);
}

std::vector<RecordAccessor> ListRecordAccessors(const state::StateReader& st, std::string_view record_id) {
  std::vector<RecordAccessor> out;
  std::string prefix = RecordAccessorKey(record_id, "");
  st.Scan(prefix, [&](std::string_view key, const Bytes& value) {
    auto d = state::DecodeState(value);
    if (!d) return true;
    RecordAccessor r;
    r.accessor = std::string(key.substr(prefix.size()));
    r.org = d->value("org", "");
    r.first_height = uint64_t(d->value("first_height", int64_t(0)));
    r.last_height = uint64_t(d->value("last_height", int64_t(0)));
    r.count = d->value("count", int64_t(0));
    out.push_back(std::move(r));
    return true;
  });
  return out;
}

std::vector<SuspensionInfo> ListSuspensions(const state::StateReader& st, const crypto::PublicKey& patient) {
  std::vector<SuspensionInfo> out;
  std::string prefix = SuspensionKey(crypto::PublicId(patient), "");
  st.Scan(prefix, [&](std::string_view key, const Bytes& value) {
    auto d = state::DecodeState(value);
    if (!d) return true;
    SuspensionInfo s;
    s.suspension_id = std::string(key.substr(prefix.size()));
    s.agency = d->value("agency", "");
    s.recipient_ref = d->value("recipient_ref", "");
    s.until_ms = d->value("until_ms", int64_t(0));
    s.height = uint64_t(d->value("height", int64_t(0)));
    s.tx = d->value("tx", "");
    out.push_back(std::move(s));
    return true;
  });
  return out;
}

bool ExcludedFromAccounting(std::string_view purpose) {
  return purpose == "TREAT" || purpose == "HPAYMT" || purpose == "HOPERAT" || purpose == "PATRQT";
}

std::vector<DisclosureInfo> ListDisclosures(const state::StateReader& st, const crypto::PublicKey& patient,
                                            bool accounting, int64_t since_ms, int64_t now_ms) {
  std::vector<SuspensionInfo> active;
  if (accounting)
    for (auto& s : ListSuspensions(st, patient))
      if (now_ms < s.until_ms) active.push_back(std::move(s));
  std::vector<DisclosureInfo> out;
  for (const auto& ps : PseudonymsOf(st, patient)) {
    std::string prefix = "dis/" + ps.org + "/" + ps.pseudonym + "/";
    st.Scan(prefix, [&](std::string_view key, const Bytes& value) {
      auto d = state::DecodeState(value);
      if (!d) return true;
      DisclosureInfo x;
      x.org = ps.org;
      x.pseudonym = ps.pseudonym;
      x.disclosure_id = std::string(key.substr(prefix.size() + 21));
      x.recipient_ref = d->value("recipient_ref", "");
      x.description = d->value("description", "");
      x.purpose = d->value("purpose", "");
      x.record_ids = d->value("record_ids", std::vector<std::string>{});
      x.at_ms = d->value("at_ms", int64_t(0));
      x.height = uint64_t(d->value("height", int64_t(0)));
      x.tx = d->value("tx", "");
      if (x.at_ms < since_ms) return true;
      if (accounting) {
        if (ExcludedFromAccounting(x.purpose)) return true;
        for (const auto& s : active)
          if (s.recipient_ref.empty() || s.recipient_ref == x.recipient_ref) return true;
      }
      out.push_back(std::move(x));
      return true;
    });
  }
  std::stable_sort(out.begin(), out.end(), [](const DisclosureInfo& a, const DisclosureInfo& b) {
    return std::tie(a.at_ms, a.org, a.pseudonym, a.disclosure_id) < std::tie(b.at_ms, b.org, b.pseudonym, b.disclosure_id);
  });
  return out;
}

}  // namespace medledger::records
