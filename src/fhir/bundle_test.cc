#include "fhir/bundle.h"

#include <gtest/gtest.h>

#include <map>

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

std::string ErrorOf(std::string_view bundle) {
  auto r = ParseTransactionBundle(J(bundle));
  return r.ok() ? "" : r.status().message();
}

TEST(FhirBundle, SyntheaTransactionUrnRewriting) {
  for (const char* file : testing::kSyntheaFiles) {
    auto parsed = ParseTransactionBundle(testing::ParseData(file));
    ASSERT_TRUE(parsed.ok()) << file << ": " << parsed.status().message();
    EXPECT_EQ(parsed->kind, BundleKind::kTransaction);
    ASSERT_GT(parsed->entries.size(), 50u);
    // Assign ids the way a server would: urn:uuid:X -> Type/<n>.
    std::unordered_map<std::string, std::string> ids;
    for (size_t i = 0; i < parsed->entries.size(); ++i) {
      const BundleEntry& e = parsed->entries[i];
      EXPECT_EQ(e.method, "POST");
      EXPECT_EQ(e.url, e.resource.Get("resourceType")->string_value());
      ASSERT_EQ(e.full_url.rfind("urn:uuid:", 0), 0u);
      ids[e.full_url] = e.url + "/" + std::to_string(i + 1);
    }
    size_t urn_refs = 0, rewritten = 0;
    for (BundleEntry& e : parsed->entries) {
      for (const std::string& r : CollectReferences(e.resource)) urn_refs += r.rfind("urn:uuid:", 0) == 0;
      ASSERT_TRUE(RewriteReferences(&e.resource, ids).ok()) << file;
      for (const std::string& r : CollectReferences(e.resource)) {
        EXPECT_NE(r.rfind("urn:", 0), 0u) << r;
        rewritten += r.find('/') != std::string::npos && r[0] != '#';
      }
      EXPECT_TRUE(ValidateResource(e.resource).ok());
    }
    EXPECT_GT(urn_refs, 100u) << file;
    EXPECT_GE(rewritten, urn_refs);
  }
  // A reference into the Patient entry of the first bundle now reads Patient/1.
  auto parsed = ParseTransactionBundle(testing::ParseData(testing::kSyntheaFiles[0]));
  std::unordered_map<std::string, std::string> ids{{parsed->entries[0].full_url, "Patient/1"}};
  Value enc;
  for (BundleEntry& e : parsed->entries)
    if (e.url == "Encounter") enc = std::move(e.resource);
  ASSERT_FALSE(enc.is_null());
  // Other urn references are unresolved with only the patient mapped.
  Status st = RewriteReferences(&enc, ids);
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("unresolved urn reference"), std::string::npos);
  EXPECT_EQ(st.message().rfind("Encounter.", 0), 0u) << st.message();
  EXPECT_EQ(enc.Get("subject")->Get("reference")->string_value(), "Patient/1");
}

TEST(FhirBundle, ConditionalReferencesOnFhirDataPipes) {
  auto parsed = ParseTransactionBundle(testing::ParseData(testing::kPipesFile));
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  std::unordered_map<std::string, std::string> ids;
  for (size_t i = 0; i < parsed->entries.size(); ++i)
    ids[parsed->entries[i].full_url] = parsed->entries[i].url + "/" + std::to_string(i + 1);
  std::map<std::string, int> by_type;
  std::set<std::string> distinct;
  for (const BundleEntry& e : parsed->entries)
    for (const ConditionalReference& c : CollectConditionalReferences(e.resource)) {
      ++by_type[c.type];
      distinct.insert(c.type + "?" + c.query);
    }
  EXPECT_GT(by_type["Organization"], 0);
  EXPECT_GT(by_type["Practitioner"], 0);
  EXPECT_TRUE(distinct.count("Practitioner?identifier=http://hl7.org/fhir/sid/us-npi|9999995189"));

  // Without a resolver, a conditional reference is an error.
  Value first_encounter;
  for (const BundleEntry& e : parsed->entries)
    if (e.url == "Encounter") { first_encounter = e.resource; break; }
  Value copy = first_encounter;
  EXPECT_EQ(RewriteReferences(&copy, ids).code(), StatusCode::kInvalidArgument);

  // A resolver that knows everything: all references become literal.
  int calls = 0;
  ConditionalResolver all = [&](std::string_view type, std::string_view query) -> Result<std::string> {
    ++calls;
    EXPECT_FALSE(query.empty());
    return std::string(type) + "/resolved";
  };
  for (BundleEntry& e : parsed->entries) {
    ASSERT_TRUE(RewriteReferences(&e.resource, ids, all).ok());
    EXPECT_TRUE(CollectConditionalReferences(e.resource).empty());
  }
  EXPECT_GT(calls, 100);

  // NotFound from the resolver keeps its code and names the location, not the query.
  ConditionalResolver none = [](std::string_view, std::string_view) -> Result<std::string> {
    return NotFound("no match");
  };
  Status st = RewriteReferences(&first_encounter, ids, none);
  EXPECT_EQ(st.code(), StatusCode::kNotFound);
  EXPECT_EQ(st.message().rfind("Encounter.participant[0].individual.reference: conditional reference to "
                               "Practitioner", 0), 0u) << st.message();
  EXPECT_EQ(st.message().find("9999995189"), std::string::npos);
}

TEST(FhirBundle, ParseConditionalReference) {
  auto c = ParseConditionalReference("Organization?identifier=https://github.com/synthetichealth/synthea|x");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->type, "Organization");
  EXPECT_EQ(c->query, "identifier=https://github.com/synthetichealth/synthea|x");
  EXPECT_FALSE(ParseConditionalReference("Patient/1"));
  EXPECT_FALSE(ParseConditionalReference("Patient?"));
  EXPECT_FALSE(ParseConditionalReference("Nope?x=1"));
  EXPECT_FALSE(ParseConditionalReference("http://x/Patient?x=1"));
  EXPECT_FALSE(ParseConditionalReference("urn:uuid:1234"));
}

TEST(FhirBundle, Hl7TransactionExample) {
  auto parsed = ParseTransactionBundle(testing::ParseData("Bundle-bundle-transaction.json"));
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  const auto& e = parsed->entries;
  ASSERT_EQ(e.size(), 10u);
  EXPECT_EQ(e[1].if_none_exist, "identifier=http:/example.org/fhir/ids|234234");
  EXPECT_EQ(e[2].method, "PUT");
  EXPECT_EQ(e[2].full_url, "http://example.org/fhir/Patient/123");
  EXPECT_EQ(e[4].if_match, "W/\"2\"");
  EXPECT_EQ(e[5].method, "DELETE");
  EXPECT_TRUE(e[5].resource.is_null());
  EXPECT_EQ(e[7].url, "ValueSet/$lookup");
  EXPECT_EQ(e[9].if_none_match, "W/\"4\"");
  EXPECT_EQ(e[9].if_modified_since, "2015-08-31T08:14:33+10:00");
}

TEST(FhirBundle, RejectsBadShapes) {
  EXPECT_EQ(ErrorOf(R"({"resourceType":"Patient"})"), "Bundle: expected a Bundle resource");
  EXPECT_EQ(ErrorOf(R"({"resourceType":"Bundle","type":"collection"})"), "Bundle.type: expected transaction or batch");
  EXPECT_EQ(ErrorOf(R"({"resourceType":"Bundle","type":"batch","entry":{}})"), "Bundle.entry: expected an array");
  EXPECT_EQ(ErrorOf(R"({"resourceType":"Bundle","type":"batch","entry":[1]})"), "Bundle.entry[0]: expected an object");
  EXPECT_EQ(ErrorOf(R"({"resourceType":"Bundle","type":"batch","entry":[{"resource":{"resourceType":"Patient"}}]})"),
            "Bundle.entry[0].request: required object is missing");
  EXPECT_EQ(ErrorOf(R"({"resourceType":"Bundle","type":"batch","entry":[{"request":{"method":"FETCH","url":"x"}}]})"),
            "Bundle.entry[0].request.method: expected GET, HEAD, POST, PUT, PATCH or DELETE");
  EXPECT_EQ(ErrorOf(R"({"resourceType":"Bundle","type":"batch","entry":[{"request":{"method":"GET"}}]})"),
            "Bundle.entry[0].request.url: required string is missing");
  EXPECT_EQ(ErrorOf(R"({"resourceType":"Bundle","type":"batch","entry":[{"request":{"method":"POST","url":"Patient"}}]})"),
            "Bundle.entry[0].resource: required for POST");
  EXPECT_EQ(ErrorOf(R"({"resourceType":"Bundle","type":"batch","entry":[{"resource":{"resourceType":"Observation"},
      "request":{"method":"POST","url":"Patient"}}]})"),
            "Bundle.entry[0].request.url: resource type does not match the resource");
  EXPECT_EQ(ErrorOf(R"({"resourceType":"Bundle","type":"batch","entry":[{"resource":{"resourceType":"Patient","id":"2"},
      "request":{"method":"PUT","url":"Patient/1"}}]})"),
            "Bundle.entry[0].resource.id: does not match the id in request.url");
  EXPECT_EQ(ErrorOf(R"({"resourceType":"Bundle","type":"transaction","entry":[
      {"fullUrl":"urn:uuid:1","resource":{"resourceType":"Patient"},"request":{"method":"POST","url":"Patient"}},
      {"fullUrl":"urn:uuid:1","resource":{"resourceType":"Patient"},"request":{"method":"POST","url":"Patient"}}]})"),
            "Bundle.entry[1].fullUrl: used by an earlier entry");
  EXPECT_EQ(ErrorOf(R"({"resourceType":"Bundle","type":"batch","entry":[{"resource":[],
      "request":{"method":"POST","url":"Patient"}}]})"), "Bundle.entry[0].resource: expected a resource object");
  auto empty = ParseTransactionBundle(J(R"({"resourceType":"Bundle","type":"batch"})"));
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->kind, BundleKind::kBatch);
  EXPECT_TRUE(empty->entries.empty());
}

TEST(FhirBundle, ResponseBundle) {
  EXPECT_EQ(HistoryLocation("Patient", "123", "1"), "Patient/123/_history/1");
  EXPECT_EQ(WeakEtag("1"), "W/\"1\"");
  EXPECT_EQ(StatusLine(201), "201 Created");
  EXPECT_EQ(StatusLine(299), "299");
  std::vector<Value> entries;
  entries.push_back(ResponseEntry({201, HistoryLocation("Patient", "123", "1"), WeakEtag("1"),
                                   "2024-05-01T10:00:00Z", Value()}));
  entries.push_back(ResponseEntry(
      {404, "", "", "", OperationOutcomeValue(Severity::kError, IssueCode::kNotFound, "Patient/9 not found")}));
  Value b = ResponseBundle(BundleKind::kTransaction, std::move(entries));
  EXPECT_EQ(Serialize(b),
            R"({"resourceType":"Bundle","type":"transaction-response","entry":[)"
            R"({"response":{"status":"201 Created","location":"Patient/123/_history/1","etag":"W/\"1\"",)"
            R"("lastModified":"2024-05-01T10:00:00Z"}},)"
            R"({"response":{"status":"404 Not Found","outcome":{"resourceType":"OperationOutcome","issue":[)"
            R"({"severity":"error","code":"not-found","diagnostics":"Patient/9 not found"}]}}}]})");
  EXPECT_TRUE(ValidateResource(b).ok()) << ValidateResource(b).message();
  EXPECT_EQ(Serialize(ResponseBundle(BundleKind::kBatch, {})), R"({"resourceType":"Bundle","type":"batch-response"})");
}

}  // namespace
}  // namespace medledger::fhir
