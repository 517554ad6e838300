#include "records/decision.h"

#include <algorithm>

#include "model/tx_types.h"
#include "records/consent.h"
#include "records/reasons.h"
#include "records/schema.h"
#include "state/identity_record.h"

namespace medledger::records {

const char* BasisName(Basis b) {
  switch (b) {
    case Basis::kNone: return "none";
    case Basis::kPatient: return "patient";
    case Basis::kRepresentative: return "representative";
    case Basis::kConsent: return "consent";
    case Basis::kBreakGlass: return "break-glass";
    case Basis::kPayment: return "payment";
  }
  return "none";
}

namespace {

Decision Deny(std::string_view code, std::string reason) {
  Decision d;
  d.reason = std::move(reason);
  d.code = std::string(code);
  return d;
}

bool Contains(const std::vector<std::string>& v, std::string_view s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

bool IsBlank(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; });
}

// How far a consent gets towards matching; the deny reason reports the
// furthest stage any consent reached.
enum Stage { kGrantee = 0, kOrg, kType, kPurpose, kPeriod, kLabels, kRevoked, kMatch };

Stage Evaluate(const ConsentInfo& c, const AccessRequest& req, const std::string& accessor_id) {
  if (c.grantee != accessor_id && c.grantee != "org:" + req.accessor_org) return kGrantee;
  if (c.patient_org != "*" && c.patient_org != req.custodian_org) return kOrg;
  if (!Contains(c.types, "*") && !Contains(c.types, req.resource_type)) return kType;
  if (!Contains(c.purposes, req.purpose)) return kPurpose;
  if (!c.InPeriod(req.now_ms)) return kPeriod;
  for (const auto& l : req.labels)
    if (!Contains(c.labels, l)) return kLabels;
  if (c.revoked) return kRevoked;
  return kMatch;
}

Decision StageDenial(Stage s) {
  switch (s) {
    case kGrantee: return Deny(denial::kNoConsent, "no consent names this accessor or its organisation");
    case kOrg: return Deny(denial::kCustodianNotConsented, "no consent covers records of this custodian");
    case kType: return Deny(denial::kTypeNotConsented, "no consent covers this resource type");
    case kPurpose: return Deny(denial::kPurposeNotPermitted, "no consent covers this purpose of use");
    case kPeriod: return Deny(denial::kConsentNotInForce, "no consent is in force at this time");
    case kLabels: return Deny(denial::kSensitiveLabel, "the record carries a sensitive label that no consent names");
    case kRevoked: return Deny(denial::kConsentRevoked, "the consent was revoked");
    case kMatch: break;
  }
  return Deny(denial::kNoConsent, "no consent names this accessor or its organisation");
}

}  // namespace

Decision Decide(const state::StateReader& st, const AccessRequest& req) {
  if (!IsPurpose(req.purpose)) return Deny(denial::kUnknownPurpose, "unknown purpose of use");
  auto accessor = state::LoadIdentity(st, req.accessor);
  if (!accessor || !accessor->active())
    return Deny(denial::kNotRegistered, "accessor is not an active registered identity");
  if (req.accessor == req.patient) return {true, Basis::kPatient, "", false, "", ""};
  if (IsActiveRepresentative(st, req.patient, req.accessor, req.now_ms))
    return {true, Basis::kRepresentative, "", false, "", ""};
  if (req.purpose == kBreakGlassPurpose) {
    if (!(req.accessor_roles & model::kRolePractitioner))
      return Deny(denial::kRoleNotPermitted, "break-glass needs the practitioner role");
    if (IsBlank(req.break_glass_reason)) return Deny(denial::kReasonMissing, "break-glass needs a reason");
    return {true, Basis::kBreakGlass, "", true, "", ""};
  }
  if (req.purpose == "HPAYMT" && (req.accessor_roles & model::kRoleInsurer) && !req.record_id.empty() &&
      !Contains(req.labels, "substance-use") && st.Get(PaymentReadKey(req.record_id, req.accessor_org)))
    return {true, Basis::kPayment, "", false, "", ""};
  const std::string accessor_id = crypto::PublicId(req.accessor);
  Stage best = kGrantee;
  for (const auto& c : ListConsents(st, req.patient)) {
    Stage s = Evaluate(c, req, accessor_id);
    if (s == kMatch) return {true, Basis::kConsent, c.consent_id, false, "", ""};
    best = std::max(best, s);
  }
  return StageDenial(best);
}

}  // namespace medledger::records
