#include "records/records.h"

#include <nlohmann/json.hpp>

#include "model/tx_types.h"
#include "records/schema.h"

namespace medledger::records {

using model::Reject;
using model::Verdict;
using nlohmann::json;

bool RecordsModule::Handles(uint16_t type) const {
  return type == model::tx::kRecordAnchor || type == model::tx::kRecordAnchorBatch ||
         type == model::tx::kPatientRebind;
}

namespace {

// Checks that `key` is a registered, active identity holding the patient role.
Verdict CheckPatientKey(const state::StateReader& st, const crypto::PublicKey& key) {
  auto id = state::LoadIdentity(st, key);
  if (!id) return Verdict::No(Reject::kNotFound, "patient key is not a registered identity");
  if (!id->active()) return Verdict::No(Reject::kConflict, "patient key is revoked");
  if (!id->Has(model::kRolePatient)) return Verdict::No(Reject::kConflict, "patient key does not hold the patient role");
  return Verdict::Accept();
}

// The message does not name the other custodian: the submitter is staff of
// this one, and learning where else the patient is treated is the link the
// rule exists to prevent.
Verdict BoundElsewhereVerdict() {
  return Verdict::No(Reject::kConflict,
                     "patient key is bound at another custodian: a patient uses one key per custodian "
                     "(medledger keygen --derive)");
}

void Bind(state::TxContext& ctx, const std::string& org, const std::string& pseudonym, const crypto::PublicKey& key,
          json history) {
  ctx.Put(BindingKey(org, pseudonym), state::EncodeState({{"patient_key", crypto::PublicId(key)},
                                                          {"bound_height", int64_t(ctx.height)},
                                                          {"bound_tx", ToHex(ctx.tx_id)},
                                                          {"history", std::move(history)}}));
  ctx.Put(PatientIndexKey(crypto::PublicId(key), org, pseudonym), state::EncodeState(json::object()));
}

Verdict ApplyAnchor(state::TxContext& ctx, const json& a) {
  if (!a.is_object()) BadPayload("an anchor must be an object");
  std::string record_id = RequireHexId(a, "record_id");
  std::string pseudonym = RequireHexId(a, "patient");
  std::string type = state::RequireString(a, "resource_type", 64);
  if (!IsResourceType(type)) BadPayload("payload field 'resource_type' is not a resource type name");
  int64_t version = state::RequireInt(a, "version");
  if (version < 1 || version > (int64_t(1) << 31)) BadPayload("payload field 'version' must be 1 to 2^31");
  Hash32 hash = state::RequireHash(a, "hash");
  auto labels = OptionalStringSet(a, "labels", IsSensitiveLabel, 3);
  std::optional<crypto::PublicKey> patient_key;
  if (a.contains("patient_key") && !a["patient_key"].is_null()) patient_key = state::RequireKey(a, "patient_key");

  const std::string& org = ctx.signer.org;
  auto bound = BoundPatient(ctx.state, org, pseudonym);
  if (!bound) {
    if (!patient_key)
      return Verdict::No(Reject::kNotFound, "pseudonym is not bound to a patient key: the first anchor needs 'patient_key'");
    if (auto v = CheckPatientKey(ctx.state, *patient_key); !v.ok()) return v;
    if (BoundElsewhere(ctx.state, *patient_key, org)) return BoundElsewhereVerdict();
    Bind(ctx, org, pseudonym, *patient_key, json::array());
  } else if (patient_key && *patient_key != *bound) {
    return Verdict::No(Reject::kConflict, "pseudonym is bound to another patient key (use patient.rebind)");
  }

  auto head = LoadDoc(ctx.state, RecordHeadKey(record_id));
  if (!head) {
    if (version != 1) return Verdict::No(Reject::kConflict, "a new record starts at version 1");
    head = json{{"org", org}, {"patient", pseudonym}, {"resource_type", type}, {"latest", 0}, {"erased", false}};
    ctx.Put(PatientRecordKey(org, pseudonym, record_id), state::EncodeState({{"resource_type", type}}));
  } else {
    if ((*head)["org"] != org) return Verdict::No(Reject::kRoleNotPermitted, "record belongs to another custodian");
    if ((*head)["erased"].get<bool>()) return Verdict::No(Reject::kConflict, "record was erased");
    if ((*head)["patient"] != pseudonym) return Verdict::No(Reject::kConflict, "record belongs to another patient pseudonym");
    if ((*head)["resource_type"] != type) return Verdict::No(Reject::kConflict, "record has another resource type");
    int64_t latest = (*head)["latest"].get<int64_t>();
    if (version != latest + 1)
      return Verdict::No(Reject::kConflict, "version must be " + std::to_string(latest + 1));
  }
  (*head)["latest"] = version;
  ctx.Put(RecordHeadKey(record_id), state::EncodeState(*head));
  ctx.Put(RecordVersionKey(record_id, version), state::EncodeState({{"hash", ToHex(hash)},
                                                                    {"labels", labels},
                                                                    {"signer", crypto::PublicId(ctx.tx.signer)},
                                                                    {"tx", ToHex(ctx.tx_id)},
                                                                    {"height", int64_t(ctx.height)},
                                                                    {"at_ms", int64_t(ctx.timestamp_ms)}}));
  return Verdict::Accept();
}

Verdict ApplyRebind(state::TxContext& ctx) {
  const auto& p = ctx.payload;
  std::string pseudonym = RequireHexId(p, "pseudonym");
  crypto::PublicKey next = state::RequireKey(p, "new_patient_key");
  std::string reason = RequireCode(p, "reason");
  std::string org = state::OptionalString(p, "org", 64).value_or(ctx.signer.org);
  if (org != ctx.signer.org || !ctx.signer.Has(model::kRoleOrgAdmin))
    return Verdict::No(Reject::kRoleNotPermitted, "only an admin of the custodian that bound the pseudonym may re-bind it");
  auto doc = LoadDoc(ctx.state, BindingKey(org, pseudonym));
  if (!doc) return Verdict::No(Reject::kNotFound, "pseudonym is not bound at this custodian");
  auto old = crypto::ParsePublicId((*doc)["patient_key"].get<std::string>());
  if (old.ok() && *old == next) return Verdict::No(Reject::kConflict, "pseudonym is already bound to that key");
  if (auto v = CheckPatientKey(ctx.state, next); !v.ok()) return v;
  if (BoundElsewhere(ctx.state, next, org)) return BoundElsewhereVerdict();
  json history = (*doc)["history"];
  history.push_back({{"patient_key", (*doc)["patient_key"]},
                     {"until_height", int64_t(ctx.height)},
                     {"reason", reason},
                     {"tx", ToHex(ctx.tx_id)}});
  ctx.Delete(PatientIndexKey((*doc)["patient_key"].get<std::string>(), org, pseudonym));
  Bind(ctx, org, pseudonym, next, std::move(history));
  return Verdict::Accept();
}

}  // namespace

Verdict RecordsModule::Apply(state::TxContext& ctx) {
  switch (ctx.tx.type) {
    case model::tx::kRecordAnchor:
      return ApplyAnchor(ctx, ctx.payload);
    case model::tx::kRecordAnchorBatch: {
      auto it = ctx.payload.find("anchors");
      if (it == ctx.payload.end() || !it->is_array() || it->empty() || it->size() > kMaxBatchAnchors)
        BadPayload("payload field 'anchors' must be an array of 1 to " + std::to_string(kMaxBatchAnchors) + " anchors");
      for (size_t i = 0; i < it->size(); ++i) {
        Verdict v;
        try {
          v = ApplyAnchor(ctx, (*it)[i]);
        } catch (const state::PayloadError& e) {
          v = e.verdict;
        }
        if (!v.ok()) return Verdict::No(v.reason, "anchors[" + std::to_string(i) + "]: " + v.detail);
      }
      return Verdict::Accept();
    }
    case model::tx::kPatientRebind:
      return ApplyRebind(ctx);
  }
  return Verdict::No(Reject::kUnknownType, "not a records transaction");
}

std::optional<int64_t> LatestVersion(const state::StateReader& st, std::string_view record_id) {
  auto head = LoadDoc(st, RecordHeadKey(record_id));
  if (!head) return std::nullopt;
  return head->value("latest", int64_t(0));
}

std::optional<AnchorInfo> GetAnchor(const state::StateReader& st, std::string_view record_id, int64_t version) {
  auto head = LoadDoc(st, RecordHeadKey(record_id));
  if (!head || version < 1) return std::nullopt;
  auto v = LoadDoc(st, RecordVersionKey(record_id, version));
  if (!v) return std::nullopt;
  AnchorInfo a;
  a.record_id = std::string(record_id);
  a.org = head->value("org", "");
  a.pseudonym = head->value("patient", "");
  a.resource_type = head->value("resource_type", "");
  a.erased = head->value("erased", false);
  a.version = version;
  a.hash = v->value("hash", "");
  a.labels = v->value("labels", std::vector<std::string>{});
  a.signer = v->value("signer", "");
  a.tx = v->value("tx", "");
  a.height = uint64_t(v->value("height", int64_t(0)));
  a.at_ms = uint64_t(v->value("at_ms", int64_t(0)));
  return a;
}

std::optional<AnchorInfo> GetLatestAnchor(const state::StateReader& st, std::string_view record_id) {
  auto latest = LatestVersion(st, record_id);
  if (!latest) return std::nullopt;
  return GetAnchor(st, record_id, *latest);
}

std::vector<PatientRecord> ListPatientRecords(const state::StateReader& st, std::string_view org,
                                              std::string_view pseudonym) {
  std::vector<PatientRecord> out;
  std::string prefix = PatientRecordKey(org, pseudonym, "");
  st.Scan(prefix, [&](std::string_view key, const Bytes&) {
    PatientRecord r;
    r.record_id = std::string(key.substr(prefix.size()));
    out.push_back(std::move(r));
    return true;
  });
  for (auto& r : out) {
    auto head = LoadDoc(st, RecordHeadKey(r.record_id));
    if (!head) continue;
    r.resource_type = head->value("resource_type", "");
    r.latest = head->value("latest", int64_t(0));
    r.erased = head->value("erased", false);
  }
  return out;
}

std::vector<PseudonymRef> PseudonymsOf(const state::StateReader& st, const crypto::PublicKey& patient,
                                       std::optional<std::string_view> org) {
  std::vector<PseudonymRef> out;
  std::string prefix = "patk/" + crypto::PublicId(patient) + "/";
  if (org) prefix += std::string(*org) + "/";
  st.Scan(prefix, [&](std::string_view key, const Bytes&) {
    std::string_view rest = key.substr(std::string_view("patk/").size() + 64 + 1);  // <org>/<pseudonym>
    auto slash = rest.find('/');
    if (slash != std::string_view::npos) out.push_back({std::string(rest.substr(0, slash)), std::string(rest.substr(slash + 1))});
    return true;
  });
  return out;
}

}  // namespace medledger::records
