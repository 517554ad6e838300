#include "records/consent.h"

#include <nlohmann/json.hpp>

#include "model/tx_types.h"
#include "records/schema.h"

namespace medledger::records {

using model::Reject;
using model::Verdict;
using nlohmann::json;

bool ConsentModule::Handles(uint16_t type) const {
  return type == model::tx::kConsentGrant || type == model::tx::kConsentRevoke ||
         type == model::tx::kRepresentativeAppoint;
}

namespace {

bool IsTypeOrStar(std::string_view s) { return s == "*" || IsResourceType(s); }
bool IsGrantable(std::string_view s) { return IsGrantablePurpose(s); }
bool IsKind(std::string_view s) { return s == "parent" || s == "guardian" || s == "personal-representative"; }

Verdict Grant(state::TxContext& ctx) {
  const auto& p = ctx.payload;
  std::string consent_id = RequireHexId(p, "consent_id");
  std::string patient_org = state::RequireString(p, "patient_org", 64);
  std::string grantee = state::RequireString(p, "grantee", 68);
  auto types = RequireStringSet(p, "types", false, IsTypeOrStar);
  if (types.size() > 1 && types[0] == "*") BadPayload("payload field 'types' is [\"*\"] or a list of types");
  auto it = p.find("purposes");
  if (it != p.end() && it->is_array())
    for (const auto& v : *it)
      if (v == kBreakGlassPurpose) BadPayload("ETREAT is break-glass and cannot be granted");
  auto purposes = RequireStringSet(p, "purposes", false, IsGrantable, 4);
  auto labels = OptionalStringSet(p, "labels", IsSensitiveLabel, 3);
  auto not_before = OptionalInt(p, "not_before_ms");
  auto until = OptionalInt(p, "until_ms");
  if (not_before && until && *until <= *not_before) BadPayload("'until_ms' must be after 'not_before_ms'");

  crypto::PublicKey patient;
  if (auto v = ResolveActingPatient(ctx, &patient); !v.ok()) return v;
  if (patient_org != "*" && !state::LoadOrg(ctx.state, patient_org))
    return Verdict::No(Reject::kNotFound, "patient_org is not an organisation");
  // A grant for records at Y by a key bound at X covers nothing (the key has
  // no records at Y); refusing it tells the patient to use Y's key.
  if (patient_org != "*" && BoundElsewhere(ctx.state, patient, patient_org))
    return Verdict::No(Reject::kConflict,
                       "patient key is bound at another custodian: grant with the key derived for " + patient_org);
  if (grantee.starts_with("org:")) {
    auto org = state::LoadOrg(ctx.state, std::string_view(grantee).substr(4));
    if (!org) return Verdict::No(Reject::kNotFound, "grantee organisation does not exist");
  } else if (!crypto::ParsePublicId(grantee).ok()) {
    BadPayload("payload field 'grantee' must be a public id or \"org:<org id>\"");
  }
  if (ctx.Get(ConsentKey(consent_id))) return Verdict::No(Reject::kConflict, "consent id already used");

  json doc = {{"patient", crypto::PublicId(patient)}, {"patient_org", patient_org}, {"grantee", grantee},
              {"types", types},  {"purposes", purposes}, {"labels", labels},
              {"granted_by", crypto::PublicId(ctx.tx.signer)}, {"tx", ToHex(ctx.tx_id)},
              {"height", int64_t(ctx.height)}, {"revoked", false}};
  if (not_before) doc["not_before_ms"] = *not_before;
  if (until) doc["until_ms"] = *until;
  ctx.Put(ConsentKey(consent_id), state::EncodeState(doc));
  ctx.Put(PatientConsentKey(crypto::PublicId(patient), consent_id), state::EncodeState(json::object()));
  return Verdict::Accept();
}

Verdict Revoke(state::TxContext& ctx) {
  std::string consent_id = RequireHexId(ctx.payload, "consent_id");
  auto doc = LoadDoc(ctx.state, ConsentKey(consent_id));
  if (!doc) return Verdict::No(Reject::kNotFound, "no such consent");
  auto patient = crypto::ParsePublicId((*doc)["patient"].get<std::string>());
  if (!patient.ok()) return Verdict::No(Reject::kNotFound, "consent has no valid patient");
  bool allowed = *patient == ctx.tx.signer ||
                 (ctx.signer.Has(model::kRoleRepresentative) &&
                  IsActiveRepresentative(ctx.state, *patient, ctx.tx.signer, int64_t(ctx.timestamp_ms)));
  if (!allowed) return Verdict::No(Reject::kRoleNotPermitted, "only the patient or its active representative may revoke");
  if ((*doc)["revoked"].get<bool>()) return Verdict::No(Reject::kConflict, "consent is already revoked");
  (*doc)["revoked"] = true;
  (*doc)["revoked_by"] = crypto::PublicId(ctx.tx.signer);
  (*doc)["revoked_height"] = int64_t(ctx.height);
  ctx.Put(ConsentKey(consent_id), state::EncodeState(*doc));
  return Verdict::Accept();
}

Verdict Appoint(state::TxContext& ctx) {
  const auto& p = ctx.payload;
  crypto::PublicKey patient = state::RequireKey(p, "patient");
  crypto::PublicKey rep = state::RequireKey(p, "representative");
  std::string kind = state::RequireString(p, "kind", 32);
  if (!IsKind(kind)) BadPayload("payload field 'kind' must be parent, guardian or personal-representative");
  auto until = OptionalInt(p, "until_ms");
  if (patient == rep) BadPayload("a patient cannot represent itself");
  auto pid = state::LoadIdentity(ctx.state, patient);
  if (!pid || !pid->Has(model::kRolePatient)) return Verdict::No(Reject::kNotFound, "patient is not a registered patient identity");
  bool allowed = patient == ctx.tx.signer || (ctx.signer.Has(model::kRoleOrgAdmin) && ctx.signer.org == pid->org);
  if (!allowed)
    return Verdict::No(Reject::kRoleNotPermitted,
                       "only the patient or an admin of the organisation that registered it may appoint a representative");
  auto rid = state::LoadIdentity(ctx.state, rep);
  if (!rid) return Verdict::No(Reject::kNotFound, "representative is not a registered identity");
  if (!rid->active()) return Verdict::No(Reject::kConflict, "representative key is revoked");
  if (!rid->Has(model::kRoleRepresentative)) return Verdict::No(Reject::kConflict, "representative key lacks the representative role");
  json doc = {{"kind", kind},
              {"appointed_by", crypto::PublicId(ctx.tx.signer)},
              {"tx", ToHex(ctx.tx_id)},
              {"height", int64_t(ctx.height)}};
  if (until) doc["until_ms"] = *until;
  ctx.Put(RepresentativeKey(crypto::PublicId(patient), crypto::PublicId(rep)), state::EncodeState(doc));
  return Verdict::Accept();
}

}  // namespace

Verdict ConsentModule::Apply(state::TxContext& ctx) {
  switch (ctx.tx.type) {
    case model::tx::kConsentGrant: return Grant(ctx);
    case model::tx::kConsentRevoke: return Revoke(ctx);
    case model::tx::kRepresentativeAppoint: return Appoint(ctx);
  }
  return Verdict::No(Reject::kUnknownType, "not a consent transaction");
}

bool ConsentInfo::InPeriod(int64_t now_ms) const {
  if (not_before_ms && now_ms < *not_before_ms) return false;
  if (until_ms && now_ms >= *until_ms) return false;
  return true;
}

std::optional<ConsentInfo> ConsentInfo::FromJson(std::string consent_id, const json& j) {
  if (!j.is_object()) return std::nullopt;
  ConsentInfo c;
  c.consent_id = std::move(consent_id);
  c.patient = j.value("patient", "");
  c.patient_org = j.value("patient_org", "");
  c.grantee = j.value("grantee", "");
  c.types = j.value("types", std::vector<std::string>{});
  c.purposes = j.value("purposes", std::vector<std::string>{});
  c.labels = j.value("labels", std::vector<std::string>{});
  if (j.contains("not_before_ms")) c.not_before_ms = j["not_before_ms"].get<int64_t>();
  if (j.contains("until_ms")) c.until_ms = j["until_ms"].get<int64_t>();
  c.granted_by = j.value("granted_by", "");
  c.tx = j.value("tx", "");
  c.height = uint64_t(j.value("height", int64_t(0)));
  c.revoked = j.value("revoked", false);
  c.revoked_by = j.value("revoked_by", "");
  c.revoked_height = uint64_t(j.value("revoked_height", int64_t(0)));
  return c;
}

std::optional<ConsentInfo> GetConsent(const state::StateReader& st, std::string_view consent_id) {
  auto doc = LoadDoc(st, ConsentKey(consent_id));
  if (!doc) return std::nullopt;
  return ConsentInfo::FromJson(std::string(consent_id), *doc);
}

std::vector<ConsentInfo> ListConsents(const state::StateReader& st, const crypto::PublicKey& patient) {
  std::vector<std::string> ids;
  std::string prefix = PatientConsentKey(crypto::PublicId(patient), "");
  st.Scan(prefix, [&](std::string_view key, const Bytes&) {
    ids.emplace_back(key.substr(prefix.size()));
    return true;
  });
  std::vector<ConsentInfo> out;
  for (const auto& id : ids)
    if (auto c = GetConsent(st, id)) out.push_back(std::move(*c));
  return out;
}

std::vector<RepresentativeInfo> GetRepresentatives(const state::StateReader& st, const crypto::PublicKey& patient) {
  std::vector<RepresentativeInfo> out;
  std::string prefix = RepresentativeKey(crypto::PublicId(patient), "");
  st.Scan(prefix, [&](std::string_view key, const Bytes& value) {
    auto doc = state::DecodeState(value);
    if (!doc) return true;
    RepresentativeInfo r;
    r.representative = std::string(key.substr(prefix.size()));
    r.kind = doc->value("kind", "");
    if (doc->contains("until_ms")) r.until_ms = (*doc)["until_ms"].get<int64_t>();
    r.appointed_by = doc->value("appointed_by", "");
    r.tx = doc->value("tx", "");
    r.height = uint64_t(doc->value("height", int64_t(0)));
    out.push_back(std::move(r));
    return true;
  });
  return out;
}

}  // namespace medledger::records
