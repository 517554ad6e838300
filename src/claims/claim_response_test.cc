// The ClaimResponse (claims/claim_response.h): every one passes FHIR R4
// validation, carries the elements R4 requires, and shows the decision in
// the item adjudications.
#include "claims/claim_response.h"

#include <gtest/gtest.h>

#include "fhir/claim_input.h"
#include "fhir/validate.h"

namespace medledger::claims {
namespace {

using fhir::Value;

constexpr const char* kClaim = R"({"resourceType": "Claim", "id": "c1", "status": "active",
  "identifier": [{"system": "https://hosp-a.example/claims", "value": "CLM-1"}],
  "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/claim-type", "code": "professional"}]},
  "use": "claim", "patient": {"reference": "#pat"}, "created": "2026-03-01T10:00:00Z",
  "provider": {"reference": "Organization/hosp-a"},
  "priority": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/processpriority", "code": "normal"}]},
  "insurance": [{"sequence": 1, "focal": true, "coverage": {"reference": "Coverage/cov1"}}]})";

Value Claim() { return fhir::Parse(kClaim).value(); }

ClaimRecord Adjudicated() {
  ClaimRecord r;
  r.tx = std::string(64, 'a');
  r.outcome = "complete";
  r.currency = "USD";
  r.disposition = "adjudicated";
  r.items.push_back({1, {{"submitted", 12000}, {"eligible", 10000}, {"copay", 1500}, {"benefit", 8500}}, {}, ""});
  r.items.push_back({2, {{"submitted", 5000}, {"benefit", 0}}, {"ar001"}, ""});
  r.items.push_back({3, {{"submitted", 3000}, {"benefit", 0}},
                     {"https://x12.org/codes/claim-adjustment-reason-codes|18"}, std::string(64, 'b')});
  return r;
}

ResponseInput Input(const Value& claim) {
  return {&claim, "c1", "Patient/p1", "ins-a", "Acme Health", 1'772'000'000'000};
}

TEST(ClaimResponseTest, AnAdjudicatedClaimValidatesAndShowsItsDecisions) {
  Value claim = Claim();
  Value r = ClaimResponse(Input(claim), Adjudicated());
  ASSERT_TRUE(fhir::ValidateResource(r).ok()) << fhir::ValidateResource(r).ToString() << "\n" << fhir::Serialize(r);
  std::string text = fhir::Serialize(r);
  for (const char* required : {"\"status\":\"active\"", "\"use\":\"claim\"", "\"patient\":{\"reference\":\"Patient/p1\"}",
                               "\"outcome\":\"complete\"", "\"request\":{\"reference\":\"Claim/c1\"}", "\"insurer\":",
                               "\"created\":", "\"type\":", "\"disposition\":\"adjudicated\""})
    EXPECT_NE(text.find(required), std::string::npos) << required << " in " << text;
  EXPECT_NE(text.find("\"value\":85.00"), std::string::npos) << text;   // the benefit, as a decimal
  EXPECT_NE(text.find("\"code\":\"ar001\""), std::string::npos);
  EXPECT_NE(text.find("\"system\":\"https://x12.org/codes/claim-adjustment-reason-codes\",\"code\":\"18\""), std::string::npos);
  EXPECT_EQ(text.find("decision"), std::string::npos);  // R5 only
}

TEST(ClaimResponseTest, ErrorsValidateToo) {
  Value claim = Claim();
  ClaimRecord rec;
  rec.tx = std::string(64, 'c');
  rec.outcome = "error";
  rec.errors = {{"no-coverage", "no Coverage record is registered for this claim"}};
  Value r = ClaimResponse(Input(claim), rec);
  ASSERT_TRUE(fhir::ValidateResource(r).ok()) << fhir::ValidateResource(r).ToString();
  std::string text = fhir::Serialize(r);
  EXPECT_NE(text.find("\"outcome\":\"error\""), std::string::npos);
  EXPECT_NE(text.find("\"code\":\"no-coverage\""), std::string::npos);

  // Before the chain: no stored Claim, no known insurer; still valid.
  ResponseInput in{&claim, "", "", "", "", 1'772'000'000'000};
  Value e = ClaimResponseError(in, {{"unknown-patient", ""}});
  ASSERT_TRUE(fhir::ValidateResource(e).ok()) << fhir::ValidateResource(e).ToString();
  text = fhir::Serialize(e);
  EXPECT_NE(text.find("\"code\":\"a001\""), std::string::npos);
  EXPECT_NE(text.find("\"request\":{\"identifier\""), std::string::npos);
}

TEST(ClaimResponseTest, MinorUnitsAreExactDecimals) {
  EXPECT_EQ(MinorToDecimal(0), "0.00");
  EXPECT_EQ(MinorToDecimal(5), "0.05");
  EXPECT_EQ(MinorToDecimal(12345), "123.45");
  EXPECT_EQ(MinorToDecimal(-250), "-2.50");
}

TEST(ClaimInputTest, TheThreeFormsAndTheirReferences) {
  std::string bare = kClaim;
  auto a = fhir::ClaimInput::Parse(bare);
  ASSERT_TRUE(a.ok());
  std::string params = R"({"resourceType": "Parameters", "parameter": [{"name": "resource", "resource": )" + bare + "}]}";
  ASSERT_TRUE(fhir::ClaimInput::Parse(params).ok());
  std::string bundle = R"({"resourceType": "Bundle", "type": "collection", "entry": [{"fullUrl": "urn:uuid:1", "resource": )" + bare +
                       R"(}, {"fullUrl": "urn:uuid:2", "resource": {"resourceType": "Coverage", "id": "cov1", "status": "active"}}]})";
  auto b = fhir::ClaimInput::Parse(bundle);
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  auto cov = b->Resolve(b->claim().Get("insurance")->array()[0].Get("coverage"));
  ASSERT_TRUE(cov && cov->resource);
  EXPECT_EQ(cov->type, "Coverage");
  // Not carried: Type/id for the custodian's own index.
  auto prov = b->Resolve(b->claim().Get("provider"));
  ASSERT_TRUE(prov);
  EXPECT_EQ(prov->resource, nullptr);
  EXPECT_EQ(prov->type, "Organization");
  EXPECT_EQ(prov->id, "hosp-a");
  // A contained reference with nothing behind it.
  EXPECT_FALSE(b->Resolve(b->claim().Get("patient")));
  // Identifier-only.
  Value idref = fhir::Parse(R"({"identifier": {"system": "urn:mrn", "value": "42"}})").value();
  auto i = b->Resolve(&idref);
  ASSERT_TRUE(i);
  EXPECT_TRUE(i->identifier_only());

  EXPECT_FALSE(fhir::ClaimInput::Parse(R"({"resourceType": "Patient"})").ok());
  EXPECT_FALSE(fhir::ClaimInput::Parse(R"({"resourceType": "Parameters", "parameter": []})").ok());
  EXPECT_FALSE(fhir::ClaimInput::Parse(R"({"resourceType": "Bundle", "entry": [{"resource": {"resourceType": "Patient"}}]})").ok());
  EXPECT_FALSE(fhir::ClaimInput::Parse("[1]").ok());
}

}  // namespace
}  // namespace medledger::claims
