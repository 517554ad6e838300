#include "custodian/claim_submit.h"

#include <nlohmann/json.hpp>

#include "claims/claim_response.h"
#include "claims/schema.h"
#include "common/date_scan.h"
#include "crypto/aead.h"
#include "crypto/sha256.h"
#include "custodian/fhir_index.h"
#include "fhir/claim_input.h"
#include "fhir/validate.h"
#include "model/tx_types.h"
#include "state/module.h"

namespace medledger::custodian {

using fhir::ClaimInput;
using fhir::StringAt;
using fhir::Value;
using nlohmann::json;

using claims::kCoverageIdSystem;
constexpr auto kCommitWait = std::chrono::seconds(30);

struct ClaimService::Prepared {
  ClaimInput input;
  claims::ResponseInput response;
  std::vector<claims::ClaimRecord::Error> errors;  // set: answered without the chain
  json payload;                                    // claims.submit, less record
  std::string claim_id;                            // once stored
};

namespace {

ClaimReply Answer(const Value& resource, int status = 200) {
  ClaimReply r;
  // Every resource the node sends is validated; a failure here is our bug.
  if (Status v = fhir::ValidateResource(resource); !v.ok()) {
    r.error = Internal("the ClaimResponse fails validation: " + v.message());
    return r;
  }
  r.status = status;
  r.body = fhir::Serialize(resource);
  return r;
}

ClaimReply Failed(Status st) {
  ClaimReply r;
  r.error = std::move(st);
  return r;
}

// Days since 1970-01-01 of a FHIR date or dateTime's date part.
std::optional<int64_t> DayOf(std::string_view s) {
  size_t i = 0;
  int y = 0, m = 0, d = 0;
  if (!ReadDigits(s, &i, 4, &y) || !ReadChar(s, &i, '-') || !ReadDigits(s, &i, 2, &m) || !ReadChar(s, &i, '-') ||
      !ReadDigits(s, &i, 2, &d) || m < 1 || m > 12 || d < 1 || d > DaysInMonth(y, m))
    return std::nullopt;
  // days_from_civil (H. Hinnant).
  y -= m <= 2;
  const int era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = unsigned(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + unsigned(d) - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return int64_t(era) * 146097 + int64_t(doe) - 719468;
}

// A FHIR decimal money value as minor units: at most two decimal places.
std::optional<int64_t> MinorUnits(const Value* v) {
  if (!v || !v->is_number()) return std::nullopt;
  const std::string& t = v->number_text();
  if (t.empty() || t[0] == '-' || t.find_first_of("eE") != std::string::npos) return std::nullopt;
  auto dot = t.find('.');
  std::string whole = t.substr(0, dot), frac = dot == std::string::npos ? "" : t.substr(dot + 1);
  if (frac.size() > 2 || whole.empty() || whole.size() > 12) return std::nullopt;
  while (frac.size() < 2) frac += '0';
  return std::stoll(whole) * 100 + std::stoll(frac);
}

const Value* FirstOf(const Value* arr) {
  if (!arr) return nullptr;
  if (!arr->is_array()) return arr->is_object() ? arr : nullptr;
  return arr->size() ? &(*arr)[0] : nullptr;
}

std::pair<std::string, std::string> FirstCoding(const Value* cc) {
  if (!cc) return {};
  const Value* c = FirstOf(cc->Get("coding"));
  if (!c) return {};
  return {StringAt(*c, "system"), StringAt(*c, "code")};
}

class Resolver {
 public:
  Resolver(Context* ctx, const ClaimInput& in) : ctx_(ctx), in_(in) {}

  // The FHIR id of the local resource of `type` a reference names: by
  // Type/id, by identifier, or by the identifiers of a resource the input
  // carries. "" when it names nothing here.
  std::string LocalId(const Value* ref, std::string_view type) const {
    auto r = in_.Resolve(ref);
    if (!r) return "";
    if (r->resource) {
      const Value* ids = r->resource->Get("identifier");
      if (ids && ids->is_array())
        for (const auto& i : ids->array())
          if (auto id = ByIdentifier(type, StringAt(i, "system"), StringAt(i, "value")); !id.empty()) return id;
      return "";
    }
    if (r->identifier_only()) return ByIdentifier(type, r->system, r->value);
    if (r->type != type) return "";
    auto hit = ctx_->index->Lookup(type, r->id);
    return hit.ok() && *hit && !(*hit)->erased ? r->id : "";
  }

  std::optional<IndexedResource> Local(std::string_view type, const std::string& id) const {
    if (id.empty()) return std::nullopt;
    auto hit = ctx_->index->Lookup(type, id);
    if (!hit.ok() || !*hit || (*hit)->erased) return std::nullopt;
    return **hit;
  }

  // The resource behind a reference: carried in the input, or read from
  // this custodian's vault (its latest version).
  std::optional<Value> Fetch(const Value* ref, std::string_view type) const {
    if (auto r = in_.Resolve(ref); r && r->resource && r->type == type) return *r->resource;
    auto local = Local(type, LocalId(ref, type));
    if (!local) return std::nullopt;
    auto bytes = ctx_->vault->Get({local->record_id, local->version});
    if (!bytes.ok()) return std::nullopt;
    auto v = fhir::Parse(*bytes);
    if (!v.ok()) return std::nullopt;
    return std::move(*v);
  }

 private:
  std::string ByIdentifier(std::string_view type, const std::string& system, const std::string& value) const {
    if (value.empty()) return "";
    auto ids = ctx_->index->FindByIdentifier(type, system, value);
    return ids.ok() && !ids->empty() ? ids->front() : "";
  }

  Context* ctx_;
  const ClaimInput& in_;
};

std::string Digest(const Value& claim) {
  Value c = claim;
  c.Remove("id");
  c.Remove("meta");
  return ToHex(crypto::Sha256(fhir::Serialize(c)));
}

std::string BusinessKeyOf(const FhirIndex& index, const std::string& provider, const std::string& system,
                          const std::string& value) {
  return index.ClaimsDigest("claim\n" + provider + "\n" + system + "\n" + value);
}

}  // namespace

void ClaimService::Submit(std::string body, std::function<void(ClaimReply)> done) {
  auto parsed = ClaimInput::Parse(body);
  if (!parsed.ok()) return done(Failed(parsed.status()));
  auto p = std::make_shared<Prepared>();
  p->input = std::move(*parsed);
  const Value& claim = p->input.claim();
  if (Status v = fhir::ValidateResource(claim); !v.ok()) return done(Failed(v));
  const std::string provider = ctx_->org;
  const auto& st = ctx_->state();
  Resolver res(ctx_, p->input);
  auto& out = p->response;
  out.claim = &p->input.claim();
  out.created_ms = NowMs();
  auto error_reply = [&](std::string code, std::string message) {
    return done(Answer(claims::ClaimResponseError(out, {{std::move(code), std::move(message)}})));
  };

  // The patient, by this custodian's own record.
  std::string patient_id = res.LocalId(claim.Get("patient"), "Patient");
  auto patient = res.Local("Patient", patient_id);
  if (!patient) return error_reply("unknown-patient", "Claim.patient names no patient of this provider");
  out.patient_reference = "Patient/" + patient_id;

  // The coverage: the focal insurance (or the first), a Coverage carrying
  // the identifier the insurer registered on chain.
  const Value* insurance = nullptr;
  if (const Value* ins = claim.Get("insurance"); ins && ins->is_array())
    for (const auto& i : ins->array())
      if (!insurance || (i.Get("focal") && i.Get("focal")->bool_value())) insurance = &i;
  std::optional<Value> coverage = insurance ? res.Fetch(insurance->Get("coverage"), "Coverage") : std::nullopt;
  std::string coverage_id;
  if (coverage)
    if (const Value* ids = coverage->Get("identifier"); ids && ids->is_array())
      for (const auto& i : ids->array())
        if (StringAt(i, "system") == kCoverageIdSystem) coverage_id = StringAt(i, "value");
  if (!coverage || !state::IsHexId(coverage_id))
    return error_reply("no-coverage", "Claim.insurance names no Coverage registered on chain (identifier " +
                                          std::string(kCoverageIdSystem) + ")");
  if (const Value* payor = FirstOf(coverage->Get("payor"))) out.insurer_display = StringAt(*payor, "display");
  auto cov = claims::LoadCoverage(st, coverage_id);
  if (cov) out.insurer = cov->insurer;
  const Value* period = coverage->Get("period");
  auto start = period ? DayOf(StringAt(*period, "start")) : std::nullopt;
  if (!start) return error_reply("no-coverage", "the Coverage has no period start");

  // Dates stay here: the chain gets the service day within the coverage.
  auto service_date = [&](const Value& item) {
    std::string d = StringAt(item, "servicedDate");
    if (d.empty())
      if (const Value* sp = item.Get("servicedPeriod")) d = StringAt(*sp, "start");
    if (d.empty())
      if (const Value* bp = claim.Get("billablePeriod")) d = StringAt(*bp, "start");
    if (d.empty()) d = StringAt(claim, "created");
    return d;
  };
  const Value* items = claim.Get("item");
  if (!items || !items->is_array() || items->size() == 0)
    return done(Failed(InvalidArgument("Claim.item: a claim for adjudication needs at least one item")));
  std::optional<int64_t> first_day;
  std::string currency;
  json items_j = json::array();
  std::optional<std::pair<std::string, int64_t>> encounter;
  for (size_t n = 0; n < items->size(); ++n) {
    const Value& it = (*items)[n];
    const std::string at = "Claim.item[" + std::to_string(n) + "]";
    auto day = DayOf(service_date(it));
    if (!day) return done(Failed(InvalidArgument(at + ": no service date")));
    if (!first_day || *day < *first_day) first_day = day;
    auto [system, code] = FirstCoding(it.Get("productOrService"));
    if (!state::IsCode(code)) return done(Failed(InvalidArgument(at + ".productOrService: a coded service is needed")));
    json modifiers = json::array();
    if (const Value* mods = it.Get("modifier"); mods && mods->is_array())
      for (const auto& m : mods->array())
        if (auto [ms, mc] = FirstCoding(&m); state::IsCode(mc)) modifiers.push_back(mc);
    int64_t units = 1;
    if (const Value* q = it.Get("quantity"); q && q->Get("value")) {
      const Value* qv = q->Get("value");
      if (!qv->is_integer()) return done(Failed(InvalidArgument(at + ".quantity: whole units only")));
      units = std::stoll(qv->number_text());
    }
    const Value* net = it.Get("net");
    std::optional<int64_t> charge = net ? MinorUnits(net->Get("value")) : std::nullopt;
    if (!charge) return done(Failed(InvalidArgument(at + ".net: an amount with at most two decimals is needed")));
    std::string cur = StringAt(*net, "currency").empty() ? "USD" : StringAt(*net, "currency");
    if (!currency.empty() && cur != currency) return done(Failed(InvalidArgument(at + ".net: one currency per claim")));
    currency = cur;
    if (!encounter)
      if (auto e = res.Local("Encounter", res.LocalId(FirstOf(it.Get("encounter")), "Encounter")))
        encounter = std::make_pair(e->record_id, int64_t(e->version));
    std::string dup = ctx_->index->ClaimsDigest("dup\n" + patient->pseudonym + "\n" + provider + "\n" + system + "|" +
                                                code + "\n" + service_date(it));
    const Value* seq = it.Get("sequence");
    items_j.push_back({{"sequence", seq && seq->is_integer() ? std::stoll(seq->number_text()) : int64_t(n + 1)},
                       {"system", system},
                       {"code", code},
                       {"modifiers", modifiers},
                       {"units", units},
                       {"charge", *charge},
                       {"dup", dup}});
  }

  // Records the claim names, for the plan's payment reads and the patient's
  // restrictions: supporting information, diagnoses, procedures.
  json records = json::array();
  auto add_record = [&](const Value* ref) {
    auto r = p->input.Resolve(ref);
    if (!r || r->type.empty()) return;
    if (auto local = res.Local(r->type, res.LocalId(ref, r->type))) records.push_back(local->record_id);
  };
  for (const char* list : {"supportingInfo", "diagnosis", "procedure"})
    if (const Value* a = claim.Get(list); a && a->is_array())
      for (const auto& e : a->array())
        for (const char* k : {"valueReference", "diagnosisReference", "procedureReference"}) add_record(e.Get(k));
  std::sort(records.begin(), records.end());
  records.erase(std::unique(records.begin(), records.end()), records.end());

  json pre_auth = json::array();
  if (const Value* refs = insurance->Get("preAuthRef"); refs && refs->is_array())
    for (const auto& r : refs->array())
      if (state::IsCode(r.string_value())) pre_auth.push_back(r.string_value());

  // The business identifier, keyed: a resend finds its first answer.
  const std::string content = Digest(claim);
  auto [id_system, id_value] = fhir::FirstIdentifier(claim);
  const std::string claim_key = id_value.empty() ? ctx_->index->ClaimsDigest("content\n" + content)
                                                 : BusinessKeyOf(*ctx_->index, provider, id_system, id_value);
  std::string related_prior;
  if (const Value* rel = claim.Get("related"); rel && rel->is_array())
    for (const auto& r : rel->array()) {
      // Only "prior" replaces the original; "associated" voids nothing.
      if (FirstCoding(r.Get("relationship")).second != "prior") continue;
      const Value* cref = r.Get("claim");
      std::string psys, pval;
      if (auto pr = p->input.Resolve(cref); pr && pr->identifier_only()) {
        psys = pr->system;
        pval = pr->value;
      } else if (auto prior = res.Fetch(cref, "Claim")) {
        std::tie(psys, pval) = fhir::FirstIdentifier(*prior);
      }
      auto tx = pval.empty() ? std::nullopt : claims::ClaimByBusinessKey(st, BusinessKeyOf(*ctx_->index, provider, psys, pval));
      if (!tx) return error_reply("not-adjudicable", "Claim.related (prior) names no claim adjudicated for this provider");
      related_prior = *tx;
    }
  if (auto first = claims::ClaimByBusinessKey(st, claim_key); first && *first != related_prior) {
    auto rec = claims::LoadClaim(st, *first);
    if (rec && rec->content == content) {
      // A resend: the original answer, not a duplicate denial.
      if (auto stored = ctx_->index->LookupRecord(rec->record_id); stored.ok() && *stored) out.claim_id = (*stored)->id;
      return done(Answer(claims::ClaimResponse(out, *rec)));
    }
    return error_reply("not-adjudicable", "a claim with this identifier was adjudicated with other content; a "
                                          "correction names it in Claim.related with relationship prior");
  }

  p->payload = {{"claim_key", claim_key}, {"content", content},     {"coverage", coverage_id},
                {"patient", patient->pseudonym}, {"use", StringAt(claim, "use")},
                {"service_day", *first_day - *start}, {"currency", currency}, {"items", items_j},
                {"records", records},   {"pre_auth", pre_auth}};
  if (encounter) p->payload["encounter"] = {{"id", encounter->first}, {"version", encounter->second}};
  if (!related_prior.empty()) p->payload["related_prior"] = related_prior;
  Store(std::move(p), std::move(done));
}

// The Claim is stored and anchored like any record: its patient reference
// made local, so the ingestion files it under the patient's pseudonym.
void ClaimService::Store(std::shared_ptr<Prepared> p, std::function<void(ClaimReply)> done) {
  Value claim = p->input.claim();
  claim.Remove("id");
  claim.Set("patient", Value::MakeObject());
  claim.Get("patient")->Set("reference", Value(p->response.patient_reference));
  WriteRequest w;
  w.type = "Claim";
  w.body = fhir::Serialize(claim);
  w.prefer = "return=minimal";
  auto self_ingest = ingest_;
  ingest_->Write(std::move(w), [this, p, done, self_ingest](WriteReply r) mutable {
    if (!r.error.ok()) return done(Failed(r.error));
    // /fhir/Claim/<id>/_history/<v>
    const std::string prefix = "/fhir/Claim/";
    auto hist = r.location.find("/_history/");
    if (r.location.rfind(prefix, 0) != 0 || hist == std::string::npos)
      return done(Failed(Internal("the stored Claim has no location")));
    p->claim_id = r.location.substr(prefix.size(), hist - prefix.size());
    // The answer comes from the mempool's callback: go back to the pool.
    if (!self_ingest->Post([this, p, done]() mutable { Adjudicate(p, std::move(done)); }))
      done(Failed(Unavailable("the node is shutting down")));
  });
}

void ClaimService::Adjudicate(std::shared_ptr<Prepared> p, std::function<void(ClaimReply)> done) {
  auto stored = ctx_->index->Lookup("Claim", p->claim_id);
  if (!stored.ok() || !*stored) return done(Failed(Internal("the stored Claim is not in the index")));
  p->payload["record"] = {{"id", (*stored)->record_id}, {"version", int64_t((*stored)->version)}};
  p->response.claim_id = p->claim_id;
  auto o = ctx_->SubmitAsNode(model::tx::kClaimSubmit, p->payload, kCommitWait);
  if (Status s = node::OutcomeStatus(o, "the claim"); !s.ok()) return done(Failed(s));
  auto rec = claims::LoadClaim(ctx_->state(), ToHex(o.id));
  if (!rec) return done(Failed(Internal("the committed claim is not in state")));
  if (!rec->insurer.empty()) p->response.insurer = rec->insurer;
  done(Answer(claims::ClaimResponse(p->response, *rec)));
}

void ClaimService::Cancel(std::string body, std::function<void(ClaimReply)> done) {
  auto task = fhir::Parse(body);
  if (!task.ok()) return done(Failed(task.status()));
  if (StringAt(*task, "resourceType") != "Task") return done(Failed(InvalidArgument("resourceType: a Task is expected")));
  if (Status v = fhir::ValidateResource(*task); !v.ok()) return done(Failed(v));
  auto [system, code] = FirstCoding(task->Get("code"));
  if (code != "cancel" || system != "http://hl7.org/fhir/financial-taskcode")
    return done(Failed(InvalidArgument("Task.code: only cancel (http://hl7.org/fhir/financial-taskcode) is processed here")));
  ClaimInput none = ClaimInput::Parse(R"({"resourceType":"Claim"})").value();
  Resolver res(ctx_, none);
  auto claim = res.Fetch(task->Get("focus"), "Claim");
  if (!claim) return done(Failed(NotFound("Task.focus names no Claim of this provider")));
  auto [sys, val] = fhir::FirstIdentifier(*claim);
  const std::string key = val.empty() ? ctx_->index->ClaimsDigest("content\n" + Digest(*claim))
                                      : BusinessKeyOf(*ctx_->index, ctx_->org, sys, val);
  auto tx = claims::ClaimByBusinessKey(ctx_->state(), key);
  if (!tx) return done(Failed(FailedPrecondition("the Claim has no adjudication in force to cancel")));
  auto o = ctx_->SubmitAsNode(model::tx::kClaimVoid, {{"claim", *tx}, {"task", crypto::RandomHexId()}}, kCommitWait);
  if (Status s = node::OutcomeStatus(o, "the void"); !s.ok()) return done(Failed(s));
  // The Task itself is kept as a record of the provider.
  Value t = std::move(*task);
  t.Set("status", Value("completed"));
  WriteRequest w;
  w.type = "Task";
  w.body = fhir::Serialize(t);
  ingest_->Write(std::move(w), [done](WriteReply r) {
    ClaimReply out;
    out.error = r.error;
    out.status = r.status;
    out.body = std::move(r.body);
    out.location = std::move(r.location);
    done(std::move(out));
  });
}

}  // namespace medledger::custodian
