#include "claims/claim_response.h"

#include <map>

#include "fhir/claim_input.h"
#include "fhir/validate.h"

namespace medledger::claims {

using fhir::Value;

namespace {

constexpr const char* kAdjudication = "http://terminology.hl7.org/CodeSystem/adjudication";
constexpr const char* kAdjudicationReason = "http://terminology.hl7.org/CodeSystem/adjudication-reason";
constexpr const char* kAdjudicationError = "http://terminology.hl7.org/CodeSystem/adjudication-error";
constexpr const char* kLocalError = "https://medledger.example/fhir/CodeSystem/adjudication-error";
constexpr const char* kClaimTx = "https://medledger.example/fhir/NamingSystem/claim-tx";
constexpr const char* kOrgSystem = "https://medledger.example/fhir/NamingSystem/organisation";

Value Obj(std::initializer_list<std::pair<const char*, Value>> members) {
  Value v = Value::MakeObject();
  for (auto& [k, m] : members) v.Set(k, m);
  return v;
}

Value Arr(std::vector<Value> items) {
  Value a = Value::MakeArray();
  for (auto& i : items) a.Append(std::move(i));
  return a;
}

Value Coding(const std::string& system, const std::string& code, const std::string& display = "") {
  Value c = Obj({{"system", Value(system)}, {"code", Value(code)}});
  if (!display.empty()) c.Set("display", Value(display));
  return c;
}

Value Concept(Value coding) { return Obj({{"coding", Arr({std::move(coding)})}}); }

Value Money(int64_t minor, const std::string& currency) {
  return Obj({{"value", Value::Number(MinorToDecimal(minor)).value()}, {"currency", Value(currency)}});
}

// "ar001", or "system|code" (a policy's own code system).
Value ReasonConcept(const std::string& r) {
  auto bar = r.rfind('|');
  if (bar == std::string::npos) return Concept(Coding(kAdjudicationReason, r));
  return Concept(Coding(r.substr(0, bar), r.substr(bar + 1)));
}

std::string ErrorDisplay(const std::string& code) {
  static const std::map<std::string, std::string> kText = {
      {"unknown-patient", "The patient is not known to the provider"},
      {"unknown-member", "The coverage is not the patient's at this provider"},
      {"no-coverage", "No Coverage record is registered for the claim"},
      {"unknown-plan", "The plan is not offered by the insurer"},
      {"unknown-insurer", "The insurer or its policy is unknown"},
      {"restricted", "The patient restricted disclosure of this item to the plan"},
      {"not-adjudicable", "The claim cannot be adjudicated"},
      {"policy-failed", "The insurer's policy failed"}};
  auto it = kText.find(code);
  return it == kText.end() ? code : it->second;
}

// Everything but item, total, outcome and error.
Value Skeleton(const ResponseInput& in, const std::string& id) {
  const Value& claim = *in.claim;
  Value r = Obj({{"resourceType", Value("ClaimResponse")}});
  if (!id.empty()) r.Set("id", Value(id));
  r.Set("status", Value("active"));
  if (const Value* t = claim.Get("type")) r.Set("type", *t);
  r.Set("use", Value(fhir::StringAt(claim, "use").empty() ? "claim" : fhir::StringAt(claim, "use")));
  if (!in.patient_reference.empty()) r.Set("patient", Obj({{"reference", Value(in.patient_reference)}}));
  else if (const Value* p = claim.Get("patient")) r.Set("patient", *p);  // as the provider wrote it
  r.Set("created", Value(fhir::FormatInstant(in.created_ms)));
  // ClaimResponse.insurer is required though Claim.insurer is optional: the
  // coverage's insurer, as a display-only (identifier) reference.
  Value insurer = Value::MakeObject();
  if (!in.insurer.empty()) insurer.Set("identifier", Obj({{"system", Value(kOrgSystem)}, {"value", Value(in.insurer)}}));
  insurer.Set("display", Value(!in.insurer_display.empty() ? in.insurer_display
                               : !in.insurer.empty()       ? in.insurer
                                                           : std::string("unknown insurer")));
  r.Set("insurer", std::move(insurer));
  if (const Value* p = claim.Get("provider")) r.Set("requestor", *p);
  if (!in.claim_id.empty()) {
    r.Set("request", Obj({{"reference", Value("Claim/" + in.claim_id)}}));
  } else if (auto [sys, val] = fhir::FirstIdentifier(claim); !val.empty()) {
    Value idf = Obj({{"value", Value(val)}});
    if (!sys.empty()) idf.Set("system", Value(sys));
    r.Set("request", Obj({{"identifier", std::move(idf)}}));
  }
  return r;
}

void SetErrors(Value* r, const std::vector<ClaimRecord::Error>& errors) {
  r->Set("outcome", Value("error"));
  std::string disposition;
  Value errs = Value::MakeArray();
  for (const auto& e : errors) {
    Value codings = Value::MakeArray();
    // The HL7 adjudication-error system has a001 (missing identifier) for
    // an identifier that resolves to no one; the rest are our own codes.
    if (e.code == "unknown-patient" || e.code == "unknown-member")
      codings.Append(Coding(kAdjudicationError, "a001", "Missing Identifier"));
    codings.Append(Coding(kLocalError, e.code, ErrorDisplay(e.code)));
    Value code = Obj({{"coding", std::move(codings)}});
    if (!e.message.empty()) code.Set("text", Value(e.message));
    errs.Append(Obj({{"code", std::move(code)}}));
    if (disposition.empty()) disposition = ErrorDisplay(e.code) + (e.message.empty() ? "" : ": " + e.message);
  }
  r->Set("disposition", Value(disposition.substr(0, 1024)));
  r->Set("error", std::move(errs));
}

}  // namespace

std::string MinorToDecimal(int64_t minor) {
  bool neg = minor < 0;
  uint64_t m = neg ? uint64_t(-(minor + 1)) + 1 : uint64_t(minor);
  std::string cents = std::to_string(m % 100);
  if (cents.size() < 2) cents = "0" + cents;
  return (neg ? "-" : "") + std::to_string(m / 100) + "." + cents;
}

Value ClaimResponse(const ResponseInput& in, const ClaimRecord& rec) {
  Value r = Skeleton(in, rec.tx.substr(0, 32));
  r.Set("identifier", Arr({Obj({{"system", Value(kClaimTx)}, {"value", Value(rec.tx)}})}));
  if (rec.outcome != "complete") {
    SetErrors(&r, rec.errors);
    return r;
  }
  r.Set("outcome", Value("complete"));
  r.Set("disposition", Value(rec.disposition.empty() ? "Claim adjudicated." : rec.disposition));
  if (!rec.pre_auth_ref.empty()) r.Set("preAuthRef", Value(rec.pre_auth_ref));
  std::map<std::string, int64_t> totals;
  Value items = Value::MakeArray();
  for (const auto& it : rec.items) {
    Value adj = Value::MakeArray();
    for (const auto& [cat, amount] : it.adjudication) {
      Value a = Obj({{"category", Concept(Coding(kAdjudication, cat))}});
      // The reasons explain the benefit decided (a denial, a limit).
      if (cat == "benefit" && !it.reasons.empty()) a.Set("reason", ReasonConcept(it.reasons.front()));
      a.Set("amount", Money(amount, rec.currency));
      adj.Append(std::move(a));
      totals[cat] += amount;
    }
    // Further reasons, each on an adjudication entry of its own.
    for (size_t i = 1; i < it.reasons.size(); ++i)
      adj.Append(Obj({{"category", Concept(Coding(kAdjudication, "benefit"))}, {"reason", ReasonConcept(it.reasons[i])}}));
    items.Append(Obj({{"itemSequence", Value(it.sequence)}, {"adjudication", std::move(adj)}}));
  }
  if (items.size()) r.Set("item", std::move(items));
  Value total = Value::MakeArray();
  for (const char* cat : {"submitted", "eligible", "copay", "deductible", "benefit"})
    if (auto t = totals.find(cat); t != totals.end())
      total.Append(Obj({{"category", Concept(Coding(kAdjudication, cat))}, {"amount", Money(t->second, rec.currency)}}));
  if (total.size()) r.Set("total", std::move(total));
  if (rec.paid > 0)
    r.Set("payment", Obj({{"type", Concept(Coding("http://terminology.hl7.org/CodeSystem/ex-paymenttype",
                                                 rec.paid >= rec.Benefit() ? "complete" : "partial"))},
                          {"amount", Money(rec.paid, rec.currency)}}));
  return r;
}

Value ClaimResponseError(const ResponseInput& in, const std::vector<ClaimRecord::Error>& errors) {
  Value r = Skeleton(in, "");
  SetErrors(&r, errors);
  return r;
}

}  // namespace medledger::claims
