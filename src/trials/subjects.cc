// trial.enrol, trial.submit, trial.withdraw and trial.sign (module.h).
#include "crypto/ed25519.h"
#include "model/tx_types.h"
#include "records/consent.h"
#include "records/decision.h"
#include "records/reasons.h"
#include "records/records.h"
#include "records/schema.h"
#include "trials/handlers.h"
#include "trials/module.h"
#include "trials/payload.h"
#include "trials/schema.h"

namespace medledger::trials::internal {

using model::Reject;
using model::Verdict;
using nlohmann::json;

namespace {

Verdict LoadStudy(const state::TxContext& ctx, const std::string& study_id, json* study) {
  auto s = state::LoadDoc(ctx.state, StudyKey(study_id));
  if (!s) return Verdict::No(Reject::kNotFound, "study is not registered");
  *study = std::move(*s);
  return Verdict::Accept();
}

bool Locked(const json& study) { return study.value("status", "") == "locked"; }

void Bump(json& study, const char* counter) { study[counter] = study.value(counter, int64_t(0)) + 1; }

// The anchored research Consent an enrolment names: a Consent record of the
// same pseudonym at the site, not erased.
std::optional<Verdict> CheckConsentRecord(const state::TxContext& ctx, const EnrolReq& r) {
  if (r.consent_record.empty()) return std::nullopt;
  auto a = records::GetLatestAnchor(ctx.state, r.consent_record);
  if (!a) return Verdict::No(Reject::kNotFound, "consent_record is not an anchored record");
  if (a->org != ctx.signer.org || a->pseudonym != r.subject || a->resource_type != "Consent")
    return Verdict::No(Reject::kConflict, "consent_record is not a Consent of this subject at this site");
  if (a->erased) return Verdict::No(Reject::kConflict, "consent_record was erased");
  return std::nullopt;
}

}  // namespace

Verdict Enrol(state::TxContext& ctx) {
  EnrolReq r = DecodeEnrol(ctx.payload);
  json s;
  if (auto v = LoadStudy(ctx, r.study_id, &s); !v.ok()) return v;
  if (Locked(s)) return Verdict::No(Reject::kConflict, "the study's database is locked");
  auto ver = LatestVersion(ctx.state, r.study_id, s);
  if (!ver || !IsSite(*ver, ctx.signer.org))
    return Verdict::No(Reject::kRoleNotPermitted, "the signer's organisation is not a site of the study");
  const std::string key = SubjectKey(r.study_id, ctx.signer.org, r.subject);
  if (ctx.Get(key)) return Verdict::No(Reject::kConflict, "subject is already enrolled in the study");
  auto patient = records::BoundPatient(ctx.state, ctx.signer.org, r.subject);
  if (!patient) return Verdict::No(Reject::kNotFound, "subject is not a pseudonym bound at the site");
  if (auto v = CheckConsentRecord(ctx, r)) return *v;
  records::AccessRequest req;
  req.accessor = ctx.tx.signer;
  req.accessor_org = ctx.signer.org;
  req.accessor_roles = ctx.signer.roles;
  req.custodian_org = ctx.signer.org;
  req.patient = *patient;
  req.resource_type = kEnrolResourceType;
  req.purpose = kResearchPurpose;
  req.now_ms = int64_t(ctx.timestamp_ms);
  records::Decision d = records::Decide(ctx.state, req);
  if (!d.allowed) return Verdict::No(Reject::kDenied, "no research consent (HRESCH): " + d.code);
  json subj = Stamp(ctx);
  subj["study_id"] = r.study_id;
  subj["site"] = ctx.signer.org;
  subj["subject"] = r.subject;
  subj["status"] = "on-study";
  subj["basis"] = records::BasisName(d.basis);
  if (!d.consent_id.empty()) subj["consent_id"] = d.consent_id;
  if (!r.consent_record.empty()) subj["consent_record"] = r.consent_record;
  subj["protocol_version"] = s.value("version", int64_t(1));
  subj["submissions"] = int64_t(0);
  ctx.Put(key, state::EncodeState(subj));
  PutRecord(ctx, ToHex(ctx.tx_id), "enrolment", r.study_id, key, ToHex(ctx.tx_id));
  if (s.value("first_enrolment_height", int64_t(0)) == 0) {
    s["first_enrolment_height"] = int64_t(ctx.height);
    s["baseline_version"] = s.value("version", int64_t(1));
  }
  Bump(s, "enrolled");
  ctx.Put(StudyKey(r.study_id), state::EncodeState(s));
  return Verdict::Accept();
}

Verdict Submit(state::TxContext& ctx) {
  SubmitReq r = DecodeSubmit(ctx.payload);
  json s;
  if (auto v = LoadStudy(ctx, r.study_id, &s); !v.ok()) return v;
  const std::string skey = SubjectKey(r.study_id, ctx.signer.org, r.subject);
  auto subj = state::LoadDoc(ctx.state, skey);
  if (!subj) return Verdict::No(Reject::kNotFound, "subject is not enrolled in the study at the signer's site");
  if (Locked(s)) return Verdict::No(Reject::kConflict, "the study's database is locked");
  if (subj->value("status", "") == "withdrawn")
    return Verdict::No(Reject::kConflict, "subject has withdrawn: no new data are accepted");
  if (subj->contains("consent_id")) {
    auto c = records::GetConsent(ctx.state, (*subj)["consent_id"].get<std::string>());
    if (!c || c->revoked || !c->InPeriod(int64_t(ctx.timestamp_ms)))
      return Verdict::No(Reject::kConflict, "the subject's research consent is revoked or has ended");
  }
  if (ctx.Get(RecordKey(r.submission_id)) || ctx.Get(SubmissionKey(r.submission_id)))
    return Verdict::No(Reject::kConflict, "submission id is already used");
  json sub = Stamp(ctx);
  sub["submission_id"] = r.submission_id;
  sub["study_id"] = r.study_id;
  sub["site"] = ctx.signer.org;
  sub["subject"] = r.subject;
  sub["sha256"] = r.sha256;
  if (!r.resource_type.empty()) sub["resource_type"] = r.resource_type;
  sub["protocol_version"] = s.value("version", int64_t(1));
  const std::string key = SubmissionKey(r.submission_id);
  ctx.Put(key, state::EncodeState(sub));
  ctx.Put(SubmissionIndexKey(r.study_id, ctx.height, r.submission_id), state::EncodeState(json::object()));
  PutRecord(ctx, r.submission_id, "submission", r.study_id, key, r.sha256);
  Bump(*subj, "submissions");
  ctx.Put(skey, state::EncodeState(*subj));
  Bump(s, "submissions");
  ctx.Put(StudyKey(r.study_id), state::EncodeState(s));
  return Verdict::Accept();
}

Verdict Withdraw(state::TxContext& ctx) {
  WithdrawReq r = DecodeWithdraw(ctx.payload);
  json s;
  if (auto v = LoadStudy(ctx, r.study_id, &s); !v.ok()) return v;
  const std::string key = SubjectKey(r.study_id, r.site, r.subject);
  auto subj = state::LoadDoc(ctx.state, key);
  if (!subj) return Verdict::No(Reject::kNotFound, "subject is not enrolled in the study at that site");
  bool allowed = ctx.signer.Has(model::kRolePractitioner) && ctx.signer.org == r.site;
  if (!allowed) {
    auto patient = records::BoundPatient(ctx.state, r.site, r.subject);
    allowed = patient && (*patient == ctx.tx.signer ||
                          (ctx.signer.Has(model::kRoleRepresentative) &&
                           records::IsActiveRepresentative(ctx.state, *patient, ctx.tx.signer,
                                                           int64_t(ctx.timestamp_ms))));
  }
  if (!allowed)
    return Verdict::No(Reject::kRoleNotPermitted,
                       "only the subject's patient, its active representative or a practitioner of the site may "
                       "withdraw it");
  if (subj->value("status", "") == "withdrawn") return Verdict::No(Reject::kConflict, "subject has withdrawn already");
  (*subj)["status"] = "withdrawn";
  json w = Stamp(ctx);
  if (!r.reason.empty()) w["reason"] = r.reason;
  (*subj)["withdrawal"] = w;
  ctx.Put(key, state::EncodeState(*subj));
  PutRecord(ctx, ToHex(ctx.tx_id), "withdrawal", r.study_id, key, ToHex(ctx.tx_id));
  Bump(s, "withdrawn");
  ctx.Put(StudyKey(r.study_id), state::EncodeState(s));
  return Verdict::Accept();
}

Verdict Sign(state::TxContext& ctx) {
  SignReq r = DecodeSign(ctx.payload);
  // §11.100(a): a signature belongs to one person. Organisation admin and
  // node keys act for the organisation, so they never sign.
  if (ctx.signer.Has(model::kRoleOrgAdmin | model::kRoleNode))
    return Verdict::No(Reject::kRoleNotPermitted,
                       "21 CFR 11.100(a): a key holding org_admin or node is not one person's and cannot sign");
  const int64_t t = int64_t(ctx.timestamp_ms);
  if (r.signed_at_ms < t - kSignedAtBeforeMs || r.signed_at_ms > t + kSignedAtAfterMs)
    state::BadPayload("payload field 'signed_at' is more than 24 h before or 5 min after the block time");
  auto rec = state::LoadDoc(ctx.state, RecordKey(r.record));
  if (!rec) return Verdict::No(Reject::kNotFound, "record is not a trial record");
  const std::string study_id = rec->value("study_id", "");
  auto s = state::LoadDoc(ctx.state, StudyKey(study_id));
  if (!s) return Verdict::No(Reject::kNotFound, "the record's study is missing");
  if (rec->value("sha256", "") != r.record_sha256)
    return Verdict::No(Reject::kConflict, "record_sha256 is not the record's hash (21 CFR 11.70)");
  const bool sponsor_org = s->value("sponsor_org", "") == ctx.signer.org;
  bool allowed = ctx.signer.Has(model::kRoleRegulator) || (ctx.signer.Has(model::kRoleSponsor) && sponsor_org);
  if (!allowed && ctx.signer.Has(model::kRolePractitioner)) {
    auto ver = LatestVersion(ctx.state, study_id, *s);
    allowed = sponsor_org || (ver && IsSite(*ver, ctx.signer.org));
  }
  if (!allowed)
    return Verdict::No(Reject::kRoleNotPermitted,
                       "a signer is a regulator, or a sponsor or practitioner of the study's sponsor or sites");
  const std::string pid = crypto::PublicId(ctx.tx.signer);
  const std::string skey = SignerKey(pid);
  auto who = state::LoadDoc(ctx.state, skey);
  if (who && who->value("printed_name", "") != r.printed_name)
    return Verdict::No(Reject::kConflict, "this key signs as '" + who->value("printed_name", "") + "'");
  bool dup = false;
  ctx.state.Scan(SignaturePrefix(r.record), [&](std::string_view, const Bytes& v) {
    auto d = state::DecodeState(v);
    if (d && d->value("signer", "") == pid && d->value("meaning", "") == r.meaning) dup = true;
    return !dup;
  });
  if (dup) return Verdict::No(Reject::kConflict, "the signer has signed this record with this meaning already");
  if (!who)
    ctx.Put(skey, state::EncodeState({{"printed_name", r.printed_name}, {"first_height", int64_t(ctx.height)}}));
  json sig = Stamp(ctx);
  sig["record"] = r.record;
  sig["kind"] = rec->value("kind", "");
  sig["study_id"] = study_id;
  sig["record_sha256"] = r.record_sha256;
  sig["printed_name"] = r.printed_name;
  sig["meaning"] = r.meaning;
  sig["signed_at"] = r.signed_at_ms;
  sig["roles"] = model::RoleNames(ctx.signer.roles);
  sig["manifestation"] = Manifestation(r.printed_name, r.meaning, r.signed_at_ms);
  ctx.Put(SignatureKey(r.record, ctx.height, ToHex(ctx.tx_id)), state::EncodeState(sig));
  return Verdict::Accept();
}

}  // namespace medledger::trials::internal
