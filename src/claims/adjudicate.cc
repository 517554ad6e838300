#include "claims/adjudicate.h"

#include <algorithm>
#include <set>

#include <nlohmann/json.hpp>

#include "records/records.h"
#include "records/schema.h"
#include "state/identity_record.h"

namespace medledger::claims {

using model::Reject;
using model::Verdict;
using nlohmann::json;

namespace {

constexpr size_t kMaxItems = 100;
constexpr size_t kMaxRecords = 64;
constexpr int64_t kMaxUnits = 10'000;
constexpr int64_t kMaxCharge = 1'000'000'000'000;  // minor units: ten billion in a major unit
// X12 claim adjustment reason code 18, "exact duplicate claim/service".
constexpr const char* kDuplicateReason = "https://x12.org/codes/claim-adjustment-reason-codes|18";
constexpr std::string_view kCategories[] = {"submitted", "eligible", "copay", "deductible", "benefit"};

bool IsHex64(std::string_view s) {
  return s.size() == 64 && std::all_of(s.begin(), s.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

std::string RequireHex64(const json& p, const char* name) {
  std::string s = state::RequireString(p, name, 64);
  if (!IsHex64(s)) state::BadPayload(std::string("'") + name + "' must be 64 lower-case hex characters");
  return s;
}

std::pair<std::string, int64_t> RequireRecordRef(const json& p, const char* name) {
  if (!p.contains(name) || !p[name].is_object()) state::BadPayload(std::string("'") + name + "' must be {id, version}");
  const json& r = p[name];
  std::string id = state::RequireHexId(r, "id");
  int64_t v = state::RequireInt(r, "version");
  if (v < 1) state::BadPayload(std::string("'") + name + ".version' must be at least 1");
  return {id, v};
}

std::vector<std::string> CodeList(const json& p, const char* name, size_t max) {
  std::vector<std::string> out;
  if (!p.contains(name) || p[name].is_null()) return out;
  if (!p[name].is_array() || p[name].size() > max) state::BadPayload(std::string("'") + name + "' must be a short array");
  for (const auto& v : p[name]) {
    if (!v.is_string() || !state::IsCode(v.get<std::string>()))
      state::BadPayload(std::string("'") + name + "' holds a value that is not a code");
    out.push_back(v.get<std::string>());
  }
  return out;
}

}  // namespace

Submission ReadSubmission(const json& p) {
  Submission s;
  s.claim_key = RequireHex64(p, "claim_key");
  s.content = RequireHex64(p, "content");
  std::tie(s.record_id, s.record_version) = RequireRecordRef(p, "record");
  if (p.contains("coverage") && !p["coverage"].is_null()) s.coverage = state::RequireHexId(p, "coverage");
  s.patient = state::RequireHexId(p, "patient");
  s.use = state::RequireCode(p, "use");
  if (s.use != "claim" && s.use != "preauthorization" && s.use != "predetermination")
    state::BadPayload("'use' must be claim, preauthorization or predetermination");
  s.service_day = state::RequireInt(p, "service_day");
  if (s.service_day < -100'000 || s.service_day > 100'000) state::BadPayload("'service_day' is out of range");
  s.currency = state::RequireCode(p, "currency");
  if (s.currency.size() != 3) state::BadPayload("'currency' must be an ISO 4217 code");
  if (p.contains("encounter") && !p["encounter"].is_null()) s.encounter = RequireRecordRef(p, "encounter");
  s.records = records::OptionalStringSet(p, "records", state::IsHexId, kMaxRecords);
  s.pre_auth = CodeList(p, "pre_auth", 8);
  if (p.contains("related_prior") && !p["related_prior"].is_null()) s.related_prior = RequireHex64(p, "related_prior");
  if (!p.contains("items") || !p["items"].is_array() || p["items"].empty() || p["items"].size() > kMaxItems)
    state::BadPayload("'items' must be an array of 1.." + std::to_string(kMaxItems) + " items");
  std::set<int64_t> seen;
  for (const auto& j : p["items"]) {
    if (!j.is_object()) state::BadPayload("an item must be an object");
    Item it;
    it.sequence = state::RequireInt(j, "sequence");
    if (it.sequence < 1 || !seen.insert(it.sequence).second) state::BadPayload("item sequences must be unique and positive");
    // The code system may be absent from the Claim (HL7's own examples omit it).
    if (!j.contains("system") || !j["system"].is_string() || j["system"].get<std::string>().size() > 256)
      state::BadPayload("'system' must be a string of at most 256 characters");
    it.system = j["system"].get<std::string>();
    it.code = state::RequireCode(j, "code");
    it.modifiers = CodeList(j, "modifiers", 4);
    it.units = state::RequireInt(j, "units");
    if (it.units < 1 || it.units > kMaxUnits) state::BadPayload("'units' must be 1.." + std::to_string(kMaxUnits));
    it.charge = state::RequireInt(j, "charge");
    if (it.charge < 0 || it.charge > kMaxCharge) state::BadPayload("'charge' is out of range");
    it.dup = RequireHex64(j, "dup");
    s.items.push_back(std::move(it));
  }
  return s;
}

namespace {

// What a claim needs of an anchored record: its head (custodian,
// pseudonym, type), and that the version exists (versions run 1..latest).
// One state read, where records::GetAnchor makes two.
struct Anchored {
  std::string org, patient, type;
  bool erased = false;
};
std::optional<Anchored> AnchoredRecord(const state::StateReader& st, const std::string& id, int64_t version) {
  auto head = state::LoadDoc(st, records::RecordHeadKey(id));
  if (!head || version < 1 || version > head->value("latest", int64_t(0))) return std::nullopt;
  return Anchored{head->value("org", ""), head->value("patient", ""), head->value("resource_type", ""),
                  head->value("erased", false)};
}

ClaimRecord::Error Err(std::string code, std::string message) { return {std::move(code), std::move(message)}; }

// A service line as the duplicate rule knows it: the keyed hash (patient,
// provider, service, date) and the units. A different quantity is a
// distinct line, so each quantity has a holder of its own: a line of other
// units cannot take the key from the first.
std::string ServiceLine(const Item& it) { return it.dup + "/" + std::to_string(it.units); }

// Whether an earlier service makes this item a duplicate: the same service
// line, and no modifier that makes a repeat legitimate.
std::optional<std::string> DuplicateOf(const state::StateReader& st, const Item& it,
                                       const std::set<std::string>& in_this_claim) {
  if (std::any_of(it.modifiers.begin(), it.modifiers.end(), [](const std::string& m) { return IsRepeatModifier(m); }))
    return std::nullopt;
  if (in_this_claim.count(ServiceLine(it))) return "this claim";
  if (auto d = state::LoadDoc(st, DuplicateKey(ServiceLine(it)))) return d->value("tx", std::string());
  return std::nullopt;
}

json PolicyRequest(const Submission& s, const std::string& tx, const std::string& provider, const Coverage& cov,
                   bool encounter, const std::vector<const Item*>& items) {
  json its = json::array();
  for (const Item* it : items)
    its.push_back({{"sequence", it->sequence},
                   {"system", it->system},
                   {"code", it->code},
                   {"modifiers", it->modifiers},
                   {"units", it->units},
                   {"charge", it->charge}});
  return {{"claim",
           {{"id", tx},
            {"use", s.use},
            {"provider", provider},
            {"patient", s.patient},
            {"service_day", s.service_day},
            {"currency", s.currency},
            {"encounter", encounter},
            {"pre_auth", s.pre_auth},
            {"items", its}}},
          {"coverage",
           {{"id", cov.id},
            {"plan", cov.plan},
            {"period_days", cov.period_days},
            {"cancelled_from_day", cov.cancelled_from_day ? json(*cov.cancelled_from_day) : json()}}},
          {"insurer", cov.insurer}};
}

}  // namespace

// Reads the policy's decisions into `out`; false if the result has another
// shape than docs/CLAIMS.md says (the claim then gets policy-failed).
bool ReadDecisions(const json& r, const std::vector<const Item*>& items, ClaimRecord* out, std::string* why) {
  if (!r.is_object() || !r.contains("items") || !r["items"].is_array()) return *why = "no 'items' array", false;
  std::map<int64_t, const json*> by_seq;
  for (const auto& d : r["items"]) {
    if (!d.is_object() || !d.contains("sequence") || !d["sequence"].is_number_integer())
      return *why = "an item without an integer 'sequence'", false;
    by_seq[d["sequence"].get<int64_t>()] = &d;
  }
  for (const Item* it : items) {
    auto f = by_seq.find(it->sequence);
    if (f == by_seq.end()) return *why = "no decision for item " + std::to_string(it->sequence), false;
    const json& d = *f->second;
    ItemDecision dec;
    dec.sequence = it->sequence;
    const json adj = d.value("adjudication", json());
    if (!adj.is_object() || !adj.contains("submitted") || !adj.contains("benefit"))
      return *why = "item " + std::to_string(it->sequence) + " lacks 'submitted' or 'benefit'", false;
    for (auto cat : kCategories) {
      auto a = adj.find(std::string(cat));
      if (a == adj.end()) continue;
      if (!a->is_number_integer() || a->get<int64_t>() < 0)
        return *why = "item " + std::to_string(it->sequence) + ": '" + std::string(cat) + "' is not a non-negative integer", false;
      dec.adjudication.emplace_back(std::string(cat), a->get<int64_t>());
    }
    for (const auto& rc : d.value("reasons", json::array())) {
      if (!rc.is_string() || rc.get<std::string>().empty() || rc.get<std::string>().size() > 256)
        return *why = "item " + std::to_string(it->sequence) + ": a reason is not a code", false;
      dec.reasons.push_back(rc.get<std::string>());
    }
    out->items.push_back(std::move(dec));
  }
  out->disposition = r.value("disposition", json("")).is_string() ? r.value("disposition", "") : "";
  if (out->disposition.size() > 256) out->disposition.resize(256);
  if (auto pa = r.find("pre_auth_ref"); pa != r.end() && pa->is_string() && state::IsCode(pa->get<std::string>()))
    out->pre_auth_ref = pa->get<std::string>();
  return true;
}

std::optional<Verdict> Retire(contracts::Invoker& invoker, state::TxContext& ctx, ClaimRecord& c, const std::string& status) {
  if (c.outcome == "complete" && !c.request.is_null()) {
    json req = c.request;
    // What adjudicate returned, as the record keeps it (not stored twice):
    // the decisions of the items the policy was given.
    json items = json::array();
    for (const auto& it : c.items) {
      if (!it.duplicate_of.empty()) continue;
      json adj = json::object();
      for (const auto& [cat, amount] : it.adjudication) adj[cat] = amount;
      items.push_back({{"sequence", it.sequence}, {"adjudication", adj}, {"reasons", it.reasons}});
    }
    req["result"] = {{"items", items}, {"disposition", c.disposition}};
    if (!c.pre_auth_ref.empty()) req["result"]["pre_auth_ref"] = c.pre_auth_ref;
    contracts::CallEnv env{ctx.height, ctx.timestamp_ms, crypto::PublicId(ctx.tx.signer)};
    auto inv = invoker.Invoke(ctx.state, c.policy, "release", req, env, contracts::Limits{});
    if (!inv.ok()) return Verdict::No(Reject::kContractError, "the policy's release failed: " + inv.status().message());
    if (inv->call.failure)
      return Verdict::No(contracts::RejectFor(inv->call.failure->kind), "the policy's release failed: " + contracts::FailureDetail(inv->call));
  }
  // Free the duplicate keys this claim holds (only those still pointing at it).
  for (const auto& h : c.dups) {
    std::string key = DuplicateKey(h);
    auto d = state::LoadDoc(ctx.state, key);
    if (d && d->value("tx", "") == c.tx) ctx.Delete(key);
  }
  if (auto k = ClaimByBusinessKey(ctx.state, c.claim_key); k && *k == c.tx) ctx.Delete(BusinessKey(c.claim_key));
  c.status = status;
  return std::nullopt;
}

// The rejections of a claims.submit that do not depend on the policy.
static std::optional<Verdict> CheckSubmission(const state::TxContext& ctx, const Submission& s) {
  const std::string provider = ctx.signer.org;

  // The Claim itself must be anchored by this provider, for this patient.
  auto claim_anchor = AnchoredRecord(ctx.state, s.record_id, s.record_version);
  if (!claim_anchor || claim_anchor->type != "Claim")
    return Verdict::No(Reject::kNotFound, "the Claim record is not anchored at that version");
  if (claim_anchor->org != provider || claim_anchor->patient != s.patient)
    return Verdict::No(Reject::kConflict, "the Claim record is not this provider's, for this patient");

  // Resending is answered off chain with the first ClaimResponse; a claim
  // that reuses a business identifier must say it corrects the first.
  if (auto first = ClaimByBusinessKey(ctx.state, s.claim_key); first && *first != s.related_prior)
    return Verdict::No(Reject::kConflict, "a claim with this identifier was already adjudicated (tx " + *first +
                                              "); a correction names it in related (prior)");
  if (!s.related_prior.empty()) {
    auto prior = LoadClaim(ctx.state, s.related_prior);
    if (!prior) return Verdict::No(Reject::kNotFound, "the prior claim is unknown");
    if (prior->provider != provider) return Verdict::No(Reject::kRoleNotPermitted, "the prior claim is another provider's");
    if (prior->status != "active") return Verdict::No(Reject::kConflict, "the prior claim is already " + prior->status);
    if (prior->paid > 0) return Verdict::No(Reject::kConflict, "the prior claim has payments recorded");
  }
  return std::nullopt;
}

Verdict AdmitSubmit(state::TxContext& ctx) {
  const Submission s = ReadSubmission(ctx.payload);
  if (auto v = CheckSubmission(ctx, s)) return *v;
  return Verdict::Accept();
}

Verdict ApplySubmit(contracts::Invoker& invoker, state::TxContext& ctx) {
  const Submission s = ReadSubmission(ctx.payload);
  const std::string tx = ToHex(ctx.tx_id);
  const std::string provider = ctx.signer.org;
  if (auto v = CheckSubmission(ctx, s)) return *v;
  // Everything an adjudicated claim changes (the prior claim retired, the
  // policy's state, duplicate keys) is written to `work`, which joins the
  // block only when the outcome is complete: a correction that cannot be
  // adjudicated leaves the prior claim in force, and a failed policy call
  // leaves no writes.
  state::Overlay work(&ctx.state);
  state::TxContext wctx{ctx.height, ctx.timestamp_ms, ctx.tx, ctx.tx_id, ctx.signer, ctx.params, ctx.payload, work};
  if (!s.related_prior.empty()) {
    auto prior = LoadClaim(ctx.state, s.related_prior);  // checked above
    if (auto v = Retire(invoker, wctx, *prior, "replaced")) return *v;
    prior->replaced_by = tx;
    wctx.Put(ClaimKey(prior->tx), state::EncodeState(prior->ToJson()));
  }

  ClaimRecord c;
  c.tx = tx;
  c.provider = provider;
  c.patient = s.patient;
  c.coverage = s.coverage;
  c.use = s.use;
  c.currency = s.currency;
  c.claim_key = s.claim_key;
  c.content = s.content;
  c.record_id = s.record_id;
  c.record_version = s.record_version;
  c.status = "active";
  c.replaces = s.related_prior;
  c.height = ctx.height;
  c.at_ms = ctx.timestamp_ms;
  c.outcome = "error";
  auto finish = [&]() {
    if (c.outcome == "complete") work.MergeInto(&ctx.state);
    else c.replaces.clear();  // the prior claim stays in force
    // The policy's input is moved, not copied, into the record: the
    // record's JSON tree was a tenth of a claim's time in the block.
    json doc = c.ToJson(false);
    doc["request"] = std::move(c.request);
    ctx.Put(ClaimKey(tx), state::EncodeState(doc));
    return Verdict::Accept();
  };

  // Facts the claim cannot be adjudicated without: outcome error.
  std::optional<Coverage> cov;
  if (!s.coverage.empty()) cov = LoadCoverage(ctx.state, s.coverage);
  if (!cov) {
    c.errors.push_back(Err("no-coverage", "no Coverage record is registered for this claim"));
    return finish();
  }
  c.insurer = cov->insurer;
  c.policy = cov->policy;
  if (cov->provider != provider || cov->patient != s.patient) {
    c.errors.push_back(Err("unknown-member", "the coverage is not registered for this patient at this provider"));
    return finish();
  }
  if (auto ins = state::LoadOrg(ctx.state, cov->insurer); !ins || !ins->active) {
    c.errors.push_back(Err("unknown-insurer", "the coverage's insurer is no longer a member"));
    return finish();
  }
  std::vector<std::string> named = s.records;
  named.push_back(s.record_id);
  if (s.encounter) named.push_back(s.encounter->first);
  const bool restricted_patient = ctx.Get(RestrictedPatientKey(provider, s.patient)).has_value();
  for (const auto& r : named)
    if (restricted_patient && (ctx.Get(RestrictionKey(r, cov->insurer)) || ctx.Get(RestrictionKey(r, "*")))) {
      c.errors.push_back(Err("restricted", "the patient restricted disclosure of a record this claim names to this plan "
                                           "(45 CFR 164.522(a)(1)(vi))"));
      return finish();
    }

  bool encounter = false;
  if (s.encounter) {
    auto e = AnchoredRecord(ctx.state, s.encounter->first, s.encounter->second);
    encounter = e && e->type == "Encounter" && e->org == provider && e->patient == s.patient && !e->erased;
  }

  // Duplicates are the platform's rule, the same for every policy; only a
  // claim (not a pre-authorisation) holds its services.
  std::vector<const Item*> to_policy;
  std::set<std::string> in_this_claim;
  std::vector<ItemDecision> dup_items;
  for (const Item& it : s.items) {
    auto dup = s.use == "claim" ? DuplicateOf(work, it, in_this_claim) : std::nullopt;
    if (dup) {
      ItemDecision d;
      d.sequence = it.sequence;
      d.adjudication = {{"submitted", it.charge}, {"benefit", 0}};
      d.reasons = {kDuplicateReason};
      d.duplicate_of = *dup == "this claim" ? tx : *dup;
      dup_items.push_back(std::move(d));
      continue;
    }
    if (s.use == "claim") in_this_claim.insert(ServiceLine(it));
    to_policy.push_back(&it);
  }

  if (!to_policy.empty()) {
    json req = PolicyRequest(s, tx, provider, *cov, encounter, to_policy);
    contracts::CallEnv env{ctx.height, ctx.timestamp_ms, crypto::PublicId(ctx.tx.signer)};
    auto inv = invoker.Invoke(work, cov->policy, "adjudicate", req, env, contracts::Limits{});
    if (!inv.ok()) {
      c.errors.push_back(Err("unknown-insurer", "the insurer's policy cannot run: " + inv.status().message()));
      return finish();
    }
    c.policy_version = inv->version;
    c.gas_used = inv->call.gas_used;
    if (inv->call.failure) {
      c.errors.push_back(Err("policy-failed", contracts::FailureDetail(inv->call)));
      return finish();
    }
    const json& r = inv->call.result;
    if (r.is_object() && r.contains("error")) {
      std::string code = r["error"].is_string() ? r["error"].get<std::string>() : "";
      if (!IsErrorCode(code)) code = "not-adjudicable";
      std::string msg = r.value("message", json("")).is_string() ? r.value("message", "") : "";
      c.errors.push_back(Err(code, msg.substr(0, 256)));
      return finish();
    }
    std::string why;
    if (!ReadDecisions(r, to_policy, &c, &why)) {
      c.errors.push_back(Err("policy-failed", "the policy's result is malformed: " + why));
      return finish();
    }
    c.request = std::move(req);
  }
  for (auto& d : dup_items) c.items.push_back(std::move(d));
  std::sort(c.items.begin(), c.items.end(), [](const auto& a, const auto& b) { return a.sequence < b.sequence; });
  c.outcome = "complete";
  c.errors.clear();

  if (s.use == "claim") {
    for (const Item* it : to_policy) {
      // A legitimate repeat leaves the first service as the holder of the
      // key: a correction of the first then finds the key freed.
      if (std::any_of(it->modifiers.begin(), it->modifiers.end(), [](const std::string& m) { return IsRepeatModifier(m); }))
        continue;
      work.Put(DuplicateKey(ServiceLine(*it)), state::EncodeState({{"tx", tx}, {"sequence", it->sequence}}));
      c.dups.push_back(ServiceLine(*it));
    }
    work.Put(BusinessKey(s.claim_key), state::EncodeState({{"tx", tx}}));
    // The plan may now read, for payment, the records this claim names
    // (HIPAA 164.506(c): no consent needed; minimum necessary).
    for (const auto& r : named) work.Put(records::PaymentReadKey(r, cov->insurer), state::EncodeState({{"claim", tx}}));
  }
  return finish();
}

}  // namespace medledger::claims
