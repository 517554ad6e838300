// trial.register, trial.amend, trial.lock and trial.publish (module.h).
#include <algorithm>

#include "crypto/ed25519.h"
#include "model/tx_types.h"
#include "state/identity_record.h"
#include "trials/compare.h"
#include "trials/handlers.h"
#include "trials/payload.h"
#include "trials/schema.h"

namespace medledger::trials::internal {

using model::Reject;
using model::Verdict;
using nlohmann::json;

json Stamp(const state::TxContext& ctx) {
  return {{"height", int64_t(ctx.height)},
          {"at_ms", int64_t(ctx.timestamp_ms)},
          {"tx", ToHex(ctx.tx_id)},
          {"signer", crypto::PublicId(ctx.tx.signer)},
          {"signer_org", ctx.signer.org}};
}

void PutRecord(state::TxContext& ctx, const std::string& record, const char* kind, const std::string& study_id,
               const std::string& key, const std::string& sha256) {
  ctx.Put(RecordKey(record),
          state::EncodeState({{"kind", kind}, {"study_id", study_id}, {"key", key}, {"sha256", sha256}}));
}

std::optional<json> LatestVersion(const state::StateReader& st, const std::string& study_id, const json& study) {
  return state::LoadDoc(st, VersionKey(study_id, study.value("version", int64_t(1))));
}

bool IsSite(const json& version, const std::string& org) {
  for (const auto& s : version.value("sites", json::array()))
    if (s == org) return true;
  return false;
}

namespace {

std::vector<Objective> ObjectivesOf(const json& version) {
  std::vector<Objective> out;
  for (const auto& o : version.value("objectives", json::array()))
    out.push_back({o.value("name", ""), o.value("type", "")});
  return out;
}

std::optional<Verdict> UnknownSite(const state::TxContext& ctx, const StudyDef& d) {
  for (const auto& s : d.sites)
    if (!state::LoadOrg(ctx.state, s)) return Verdict::No(Reject::kNotFound, "site organisation " + s + " is unknown");
  return std::nullopt;
}

void PutVersion(state::TxContext& ctx, const StudyDef& d, bool after_enrolment) {
  json v = Stamp(ctx);
  v["version"] = d.version;
  v["protocol_sha256"] = d.protocol_sha256;
  v["plan_definition"] = d.plan_definition;
  v["objectives"] = ObjectivesJson(d.objectives);
  v["sites"] = d.sites;
  v["after_enrolment"] = after_enrolment;
  if (!d.reason.empty()) v["reason"] = d.reason;
  const std::string key = VersionKey(d.study_id, d.version);
  ctx.Put(key, state::EncodeState(v));
  PutRecord(ctx, ToHex(ctx.tx_id), "version", d.study_id, key, d.protocol_sha256);
}

// The study of `study_id` and whether the signer's organisation sponsors it.
Verdict LoadOwnStudy(const state::TxContext& ctx, const std::string& study_id, json* study) {
  auto s = state::LoadDoc(ctx.state, StudyKey(study_id));
  if (!s) return Verdict::No(Reject::kNotFound, "study is not registered");
  if (s->value("sponsor_org", "") != ctx.signer.org)
    return Verdict::No(Reject::kRoleNotPermitted, "only the study's sponsor organisation may do this");
  *study = std::move(*s);
  return Verdict::Accept();
}

bool Locked(const json& study) { return study.value("status", "") == "locked"; }

}  // namespace

Verdict Register(state::TxContext& ctx) {
  StudyDef d = DecodeRegister(ctx.payload);
  const std::string key = StudyKey(d.study_id);
  if (ctx.Get(key)) return Verdict::No(Reject::kConflict, "study id is already registered");
  if (auto v = UnknownSite(ctx, d)) return *v;
  json s = Stamp(ctx);
  s["study_id"] = d.study_id;
  s["sponsor_org"] = ctx.signer.org;
  if (!d.registry_id.empty()) s["registry_id"] = d.registry_id;
  if (!d.title.empty()) s["title"] = d.title;
  s["version"] = int64_t(1);
  s["status"] = "registered";
  s["enrolled"] = s["withdrawn"] = s["submissions"] = int64_t(0);
  s["first_enrolment_height"] = int64_t(0);
  s["baseline_version"] = int64_t(0);
  s["amended_after_enrolment"] = json::array();
  ctx.Put(key, state::EncodeState(s));
  PutVersion(ctx, d, false);
  return Verdict::Accept();
}

Verdict Amend(state::TxContext& ctx) {
  StudyDef d = DecodeAmend(ctx.payload);
  json s;
  if (auto v = LoadOwnStudy(ctx, d.study_id, &s); !v.ok()) return v;
  if (Locked(s)) return Verdict::No(Reject::kConflict, "the study's database is locked");
  const int64_t latest = s.value("version", int64_t(1));
  if (d.version != latest + 1)
    return Verdict::No(Reject::kConflict, "version must be " + std::to_string(latest + 1) + ", the latest + 1");
  if (auto v = UnknownSite(ctx, d)) return *v;
  const bool after = s.value("first_enrolment_height", int64_t(0)) > 0;
  s["version"] = d.version;
  if (after) s["amended_after_enrolment"].push_back(d.version);
  ctx.Put(StudyKey(d.study_id), state::EncodeState(s));
  PutVersion(ctx, d, after);
  return Verdict::Accept();
}

Verdict Lock(state::TxContext& ctx) {
  LockReq r = DecodeLock(ctx.payload);
  json s;
  if (auto v = LoadOwnStudy(ctx, r.study_id, &s); !v.ok()) return v;
  if (Locked(s)) return Verdict::No(Reject::kConflict, "the study's database is locked already");
  s["status"] = "locked";
  s["lock"] = Stamp(ctx);
  const std::string key = StudyKey(r.study_id);
  ctx.Put(key, state::EncodeState(s));
  PutRecord(ctx, ToHex(ctx.tx_id), "lock", r.study_id, key, ToHex(ctx.tx_id));
  return Verdict::Accept();
}

Verdict Publish(state::TxContext& ctx) {
  PublishReq r = DecodePublish(ctx.payload);
  json s;
  if (auto v = LoadOwnStudy(ctx, r.study_id, &s); !v.ok()) return v;
  if (!Locked(s)) return Verdict::No(Reject::kConflict, "lock the study's database before publishing its results");
  const std::string key = PublicationKey(r.study_id, r.publication_id);
  if (ctx.Get(key)) return Verdict::No(Reject::kConflict, "publication id is already used for this study");
  // The baseline is the version in force at the first enrolment: objectives
  // changed by a later amendment do not become the "registered" ones.
  int64_t baseline = s.value("baseline_version", int64_t(0));
  if (baseline == 0) baseline = s.value("version", int64_t(1));
  auto base = state::LoadDoc(ctx.state, VersionKey(r.study_id, baseline));
  if (!base) return Verdict::No(Reject::kNotFound, "the study's baseline version is missing");
  std::vector<Flag> flags = CompareObjectives(ObjectivesOf(*base), r.objectives);
  for (const auto& av : s.value("amended_after_enrolment", json::array())) {
    const int64_t v = av.get<int64_t>();
    auto cur = state::LoadDoc(ctx.state, VersionKey(r.study_id, v));
    auto prev = state::LoadDoc(ctx.state, VersionKey(r.study_id, v - 1));
    Flag f{"amended_after_enrolment", "", "", "", v, false};
    if (cur && prev) f.objectives_changed = !SameObjectives(ObjectivesOf(*cur), ObjectivesOf(*prev));
    flags.push_back(f);
  }
  json p = Stamp(ctx);
  p["study_id"] = r.study_id;
  p["publication_id"] = r.publication_id;
  p["sha256"] = r.sha256;
  p["objectives"] = ObjectivesJson(r.objectives);
  if (!r.uri.empty()) p["uri"] = r.uri;
  p["baseline_version"] = baseline;
  p["flags"] = FlagsJson(flags);
  p["outcome_switch"] = std::any_of(flags.begin(), flags.end(),
                                    [](const Flag& f) { return f.flag != "amended_after_enrolment"; });
  ctx.Put(key, state::EncodeState(p));
  PutRecord(ctx, ToHex(ctx.tx_id), "publication", r.study_id, key, r.sha256);
  return Verdict::Accept();
}

}  // namespace medledger::trials::internal
