// Tests of outcome.h, compartment.h and capability.h.
#include <gtest/gtest.h>

#include "fhir/bundle.h"
#include "fhir/capability.h"
#include "fhir/compartment.h"
#include "fhir/outcome.h"
#include "fhir/test_util.h"
#include "fhir/validate.h"

namespace medledger::fhir {
namespace {

Value J(std::string_view s) {
  auto r = Parse(s);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? std::move(r).value() : Value();
}

TEST(FhirOutcome, Builds) {
  EXPECT_EQ(OperationOutcome(Severity::kError, IssueCode::kInvalid, "Patient.active: expected a boolean",
                             {"Patient.active"}),
            R"({"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"invalid",)"
            R"("diagnostics":"Patient.active: expected a boolean","expression":["Patient.active"]}]})");
  EXPECT_EQ(OperationOutcome(Severity::kFatal, IssueCode::kTooCostly, ""),
            R"({"resourceType":"OperationOutcome","issue":[{"severity":"fatal","code":"too-costly"}]})");
  std::string quoted = OperationOutcome(Severity::kWarning, IssueCode::kProcessing, "a \"b\"\n");
  EXPECT_NE(quoted.find(R"("diagnostics":"a \"b\"\n")"), std::string::npos);
  EXPECT_TRUE(ValidateResource(J(quoted)).ok());
  for (auto [code, name] : std::vector<std::pair<IssueCode, std::string_view>>{
           {IssueCode::kNotFound, "not-found"}, {IssueCode::kSecurity, "security"},
           {IssueCode::kForbidden, "forbidden"}, {IssueCode::kDeleted, "deleted"},
           {IssueCode::kException, "exception"}, {IssueCode::kNotSupported, "not-supported"}})
    EXPECT_EQ(IssueCodeName(code), name);
  EXPECT_EQ(IssueCodeFor(StatusCode::kPermissionDenied), IssueCode::kForbidden);
  EXPECT_EQ(IssueCodeFor(StatusCode::kGone), IssueCode::kDeleted);
  EXPECT_EQ(IssueCodeFor(StatusCode::kInvalidArgument), IssueCode::kInvalid);
  EXPECT_EQ(IssueCodeFor(StatusCode::kUnavailable), IssueCode::kException);
}

TEST(FhirCompartment, PatientReference) {
  EXPECT_EQ(PatientReference(J(R"({"resourceType":"Patient","id":"p1"})")), "Patient/p1");
  EXPECT_EQ(PatientReference(J(R"({"resourceType":"Patient"})")), std::nullopt);
  EXPECT_EQ(PatientReference(J(R"({"resourceType":"Observation","subject":{"reference":"Patient/7"}})")),
            "Patient/7");
  EXPECT_EQ(PatientReference(J(R"({"resourceType":"Observation","subject":{"reference":"Group/7"}})")), std::nullopt);
  EXPECT_EQ(PatientReference(J(R"({"resourceType":"Immunization","patient":{"reference":"Patient/7/_history/3"}})")),
            "Patient/7");
  EXPECT_EQ(PatientReference(J(R"({"resourceType":"Coverage","beneficiary":{"reference":"https://h/fhir/Patient/9"}})")),
            "Patient/9");
  EXPECT_EQ(PatientReference(J(R"({"resourceType":"ResearchSubject","individual":{"reference":"Patient/r"}})")),
            "Patient/r");
  EXPECT_EQ(PatientReference(J(R"({"resourceType":"Encounter","subject":{"reference":"urn:uuid:abc"}})")),
            std::nullopt);
  EXPECT_EQ(PatientReference(J(R"({"resourceType":"Organization","id":"o"})")), std::nullopt);

  // Every clinical resource of a Synthea bundle links to its patient once rewritten.
  auto parsed = ParseTransactionBundle(testing::ParseData(testing::kSyntheaFiles[1]));
  ASSERT_TRUE(parsed.ok());
  std::unordered_map<std::string, std::string> ids;
  for (auto& e : parsed->entries) {
    const std::string& id = e.resource.Get("id")->string_value();
    ids[e.full_url] = e.url + "/" + id;
  }
  std::string patient = ids[parsed->entries[0].full_url];
  int linked = 0;
  for (auto& e : parsed->entries) {
    ASSERT_TRUE(RewriteReferences(&e.resource, ids).ok());
    auto p = PatientReference(e.resource);
    if (e.url == "Organization" || e.url == "Practitioner") {
      EXPECT_EQ(p, std::nullopt);
    } else {
      EXPECT_EQ(p, patient) << e.url;
      ++linked;
    }
  }
  EXPECT_GT(linked, 50);
  // Consent examples name their patient.
  EXPECT_EQ(PatientReference(testing::ParseData("Consent-consent-example-basic.json")), "Patient/f001");
}

TEST(FhirCompartment, SecurityLabels) {
  Value v = J(R"({"resourceType":"Condition","meta":{"security":[
      {"system":"http://terminology.hl7.org/CodeSystem/v3-Confidentiality","code":"R"},
      {"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"ETH"},
      {"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"42CFRPart2"},
      {"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"PSY"},
      {"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"ETH"},
      {"display":"no code"}]}})");
  EXPECT_EQ(SecurityLabelCodes(v), (std::vector<std::string>{"R", "ETH", "42CFRPart2", "PSY"}));
  EXPECT_EQ(SensitivityCategories(v), (std::vector<Sensitivity>{Sensitivity::kSubstanceUse, Sensitivity::kMentalHealth}));
  Value hiv = J(R"({"resourceType":"Observation","meta":{"security":[{"code":"HIV"},{"code":"SUD"}]}})");
  EXPECT_EQ(SensitivityCategories(hiv), (std::vector<Sensitivity>{Sensitivity::kSubstanceUse, Sensitivity::kHiv}));
  EXPECT_TRUE(SensitivityCategories(J(R"({"resourceType":"Observation","meta":{"tag":[{"code":"HIV"}]}})")).empty());
  EXPECT_TRUE(SecurityLabelCodes(testing::ParseData("Patient-example.json")).empty());
  EXPECT_EQ(SensitivityName(Sensitivity::kSubstanceUse), "substance-use");
  EXPECT_EQ(SensitivityName(Sensitivity::kHiv), "hiv");
  EXPECT_EQ(SensitivityName(Sensitivity::kMentalHealth), "mental-health");
}

TEST(FhirCapability, Statement) {
  CapabilityOptions o;
  o.date = "2024-05-01T00:00:00Z";
  o.software_version = "0.1.0";
  o.implementation_url = "https://node1.example/fhir";
  o.resources.push_back({"Patient",
                         {Interaction::kRead, Interaction::kVread, Interaction::kCreate, Interaction::kUpdate,
                          Interaction::kHistoryInstance, Interaction::kSearchType},
                         {{"identifier", "token"}},
                         true,
                         false});
  o.resources.push_back({"AuditEvent", {Interaction::kRead, Interaction::kSearchType}, {{"patient", "reference"}}});
  std::string json = CapabilityStatement(o);
  Value cs = J(json);
  EXPECT_TRUE(ValidateResource(cs).ok()) << ValidateResource(cs).message();
  EXPECT_EQ(cs.Get("fhirVersion")->string_value(), "4.0.1");
  EXPECT_EQ(cs.Get("kind")->string_value(), "instance");
  EXPECT_EQ(cs.Get("status")->string_value(), "active");
  EXPECT_EQ(cs.Get("date")->string_value(), "2024-05-01T00:00:00Z");
  EXPECT_EQ(Serialize(*cs.Get("format")), R"(["json","application/fhir+json"])");
  const Value& rest = (*cs.Get("rest"))[0];
  EXPECT_EQ(rest.Get("mode")->string_value(), "server");
  EXPECT_EQ(Serialize(*rest.Get("interaction")), R"([{"code":"transaction"},{"code":"batch"}])");
  const Value& patient = (*rest.Get("resource"))[0];
  EXPECT_EQ(Serialize(patient),
            R"({"type":"Patient","interaction":[{"code":"read"},{"code":"vread"},{"code":"create"},)"
            R"({"code":"update"},{"code":"history-instance"},{"code":"search-type"}],"versioning":"versioned",)"
            R"("readHistory":true,"updateCreate":false,"conditionalCreate":true,"conditionalUpdate":false,)"
            R"("searchParam":[{"name":"identifier","type":"token"}]})");
  const Value& audit = (*rest.Get("resource"))[1];
  EXPECT_FALSE(audit.Get("readHistory")->bool_value());
  EXPECT_EQ(audit.Get("conditionalCreate"), nullptr);
}

}  // namespace
}  // namespace medledger::fhir
