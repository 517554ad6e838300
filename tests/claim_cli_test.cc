// Claims end to end on a development node, through the CLI (docs/CLAIMS.md):
// HL7's example Claim is submitted against coverage the insurer registered,
// adjudicated by a deployed policy, resent, repeated, corrected, paid and
// voided; claims that cannot be adjudicated still get a ClaimResponse; every
// ClaimResponse passes FHIR R4 validation.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli/api_client.h"
#include "cli/commands.h"
#include "fhir/json.h"
#include "fhir/validate.h"
#include "tests/support/dev_node_cli.h"

namespace medledger::test {
namespace {

using nlohmann::json;

// Pays the allowed amount less a 10.00 co-pay, for the codes it knows.
constexpr const char* kPolicy = R"(
local allowed = {["1200"] = 12000}
function adjudicate(req)
  local c, cov = req.claim, req.coverage
  if cov.plan ~= "dental" then return {error = "unknown-plan"} end
  local items = json.array({})
  for _, it in ipairs(c.items) do
    local cap = allowed[it.code]
    local active = c.service_day >= 0 and c.service_day < cov.period_days
    if cap and active then
      local eligible = math.min(it.charge, cap)
      items[#items + 1] = {sequence = it.sequence, reasons = json.array({}),
        adjudication = {submitted = it.charge, eligible = eligible, copay = 1000, benefit = eligible - 1000}}
    else
      items[#items + 1] = {sequence = it.sequence, reasons = {"ar001"}, adjudication = {submitted = it.charge, benefit = 0}}
    end
  end
  return {items = items, disposition = "Claim settled as per contract."}
end
function release(req) end
)";

std::string ReadText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class ClaimCliTest : public DevNodeCliTest {
 protected:
  void SetUp() override {
    DevNodeCliTest::SetUp();
    if (node_) org_ = node_->init_info().value("org", "dev");
  }
  // Submits and checks the answer is a valid ClaimResponse.
  json Submit(const json& body) {
    static int n = 0;
    json r = CliJson({"claim", "submit", Write("claim-" + std::to_string(n++) + ".json", body.dump())});
    EXPECT_EQ(r.value("resourceType", ""), "ClaimResponse") << r.dump();
    auto v = fhir::Parse(r.dump());
    EXPECT_TRUE(v.ok() && fhir::ValidateResource(*v).ok()) << r.dump();
    return r;
  }
  // The patient's pseudonym here, as the patient finds it to tell its insurer.
  std::string PseudonymOf(const std::string& patient_key) {
    json p = CliJson({"pseudonyms"}, patient_key);
    for (const auto& e : p.value("pseudonyms", json::array()))
      if (e.value("org", "") == org_) return e.value("pseudonym", "");
    return "";
  }
  static const json& Benefit(const json& response, size_t item) {
    for (const auto& a : response["item"][item]["adjudication"])
      if (a["category"]["coding"][0]["code"] == "benefit") return a;
    static json none;
    return none;
  }

  std::string org_;
};

TEST_F(ClaimCliTest, SubmitResendRepeatCorrectPayAndVoid) {
  const std::string hl7_claim = ReadText(std::string(MEDLEDGER_SOURCE_DIR) + "/tests/data/fhir/Claim-100150.json");
  ASSERT_FALSE(hl7_claim.empty());
  // The patient, and the insurer's policy and coverage (the development
  // organisation is provider and insurer at once).
  std::string patient_key = node_->dir() + "/patient.key";
  CommandResult kg = RunCli({"keygen", "--out", patient_key});
  ASSERT_EQ(kg.exit_code, 0) << kg.Describe();
  std::string patient_id = kg.out.substr(0, kg.out.find_first_of(" \n"));  // keygen prints the public id
  CliJson({"identity", "register", "--pubkey", patient_id, "--role", "patient"});
  CliJson({"record", "put", "--patient", patient_id,
           Write("patient.json", R"({"resourceType": "Patient", "id": "1", "identifier": [{"system": "urn:mrn", "value": "MRN-1"}],
                                     "name": [{"family": "Chalmers", "given": ["Peter"]}]})")});
  const std::string pseudonym = PseudonymOf(patient_key);
  ASSERT_EQ(pseudonym.size(), 32u);
  CliJson({"contract", "deploy", "--name", "dental-policy", Write("policy.lua", kPolicy)});
  json cov = CliJson({"claim", "coverage", "--patient", pseudonym, "--provider", org_, "--plan", "dental", "--policy",
                      "dental-policy", "--period-days", "365"});
  const std::string coverage_id = cov.value("coverage_id", "");
  ASSERT_EQ(cov.value("status", ""), "committed") << cov.dump();
  // The provider's copy of the Coverage carries the on-chain id; its dates
  // and the subscriber id stay here.
  CliJson({"record", "put", Write("coverage.json", json({{"resourceType", "Coverage"},
                                                         {"id", "9876B1"},
                                                         {"status", "active"},
                                                         {"subscriberId", "AB9876"},
                                                         {"beneficiary", {{"reference", "Patient/1"}}},
                                                         {"payor", {{{"display", "Happy Valley Insurance"}}}},
                                                         {"period", {{"start", "2014-01-01"}, {"end", "2014-12-31"}}},
                                                         {"identifier", {{{"system", "https://medledger.example/fhir/NamingSystem/coverage"},
                                                                          {"value", coverage_id}}}}})
                                                       .dump())});

  // HL7's example claim: 135.57 charged, 120.00 allowed, 10.00 co-pay.
  json claim = json::parse(hl7_claim);
  json r1 = Submit(claim);
  EXPECT_EQ(r1.value("outcome", ""), "complete") << r1.dump();
  EXPECT_EQ(Benefit(r1, 0)["amount"]["value"], 110.0) << r1.dump();
  EXPECT_EQ(r1["insurer"].value("display", ""), "Happy Valley Insurance");
  EXPECT_EQ(r1["request"].value("reference", "").rfind("Claim/", 0), 0u);
  const std::string tx = r1["identifier"][0].value("value", "");
  ASSERT_EQ(tx.size(), 64u);
  // The chain holds no PHI of it: no name, no MRN, no date, no subscriber id.
  cli::ApiClient c(node_->url());
  auto key = cli::LoadKey(node_->admin_key());
  auto t = c.GetSignedJson(*key, "/v1/tx/" + tx);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  for (const char* phi : {"Chalmers", "MRN-1", "2014-08-16", "AB9876", "12345", "happyvalley"})
    EXPECT_EQ(t->dump().find(phi), std::string::npos) << phi << " in " << t->dump();

  // Resending the same Claim returns the original ClaimResponse.
  json again = Submit(claim);
  EXPECT_EQ(again["identifier"][0].value("value", ""), tx);
  EXPECT_EQ(Benefit(again, 0), Benefit(r1, 0));

  // The same service under another identifier is a duplicate...
  json dup = claim;
  dup["identifier"][0]["value"] = "12346";
  json r2 = Submit(dup);
  EXPECT_EQ(r2.value("outcome", ""), "complete");
  EXPECT_EQ(Benefit(r2, 0)["amount"]["value"], 0);
  EXPECT_EQ(Benefit(r2, 0)["reason"]["coding"][0].value("code", ""), "18") << r2.dump();
  // ...unless a modifier makes the repeat legitimate (76: repeat procedure).
  json repeat = claim;
  repeat["identifier"][0]["value"] = "12347";
  repeat["item"][0]["modifier"] = {{{"coding", {{{"system", "http://www.ama-assn.org/go/cpt"}, {"code", "76"}}}}}};
  json r3 = Submit(repeat);
  EXPECT_EQ(Benefit(r3, 0)["amount"]["value"], 110.0) << r3.dump();

  // A correction (related: prior) replaces the first claim.
  json fix = claim;
  fix["identifier"][0]["value"] = "12345-c";
  fix["item"][0]["net"]["value"] = 100;
  fix["related"] = {{{"claim", {{"identifier", {{"system", "http://happyvalley.com/claim"}, {"value", "12345"}}}}},
                     {"relationship", {{"coding", {{{"system", "http://terminology.hl7.org/CodeSystem/related-claim-relationship"},
                                                     {"code", "prior"}}}}}}}};
  json r4 = Submit(fix);
  EXPECT_EQ(r4.value("outcome", ""), "complete") << r4.dump();
  EXPECT_EQ(Benefit(r4, 0)["amount"]["value"], 90.0) << r4.dump();

  // The insurer pays the correction; then it cannot be voided.
  const std::string fix_tx = r4["identifier"][0].value("value", "");
  json paid = CliJson({"claim", "pay", "--claim", fix_tx, "--amount", "9000"});
  EXPECT_EQ(paid.value("status", ""), "committed");
  CommandResult over = Cli({"claim", "pay", "--claim", fix_tx, "--amount", "1"});
  EXPECT_NE(over.exit_code, 0);
  EXPECT_NE(over.err.find("exceed"), std::string::npos) << over.Describe();

  // The legitimate repeat is voided with a Task.
  std::string repeat_id = r3["request"].value("reference", "").substr(6);
  json task = CliJson({"claim", "void", "--claim-id", repeat_id});
  EXPECT_EQ(task.value("resourceType", ""), "Task") << task.dump();
  EXPECT_EQ(task.value("status", ""), "completed");
  CommandResult twice = Cli({"claim", "void", "--claim-id", repeat_id});
  EXPECT_NE(twice.exit_code, 0) << twice.Describe();
}

TEST_F(ClaimCliTest, ClaimsThatCannotBeAdjudicatedStillGetAResponse) {
  json claim = json::parse(ReadText(std::string(MEDLEDGER_SOURCE_DIR) + "/tests/data/fhir/Claim-100150.json"));
  // No such patient here: outcome error, exit 0.
  json r = Submit(claim);
  EXPECT_EQ(r.value("outcome", ""), "error") << r.dump();
  EXPECT_EQ(r["error"][0]["code"]["coding"][0].value("code", ""), "a001") << r.dump();
  // The Parameters form, with a contained patient that resolves by
  // identifier, and no Coverage here: no-coverage.
  std::string patient_key = node_->dir() + "/p.key";
  CommandResult kg = RunCli({"keygen", "--out", patient_key});
  std::string patient_id = kg.out.substr(0, kg.out.find_first_of(" \n"));  // keygen prints the public id
  CliJson({"identity", "register", "--pubkey", patient_id, "--role", "patient"});
  CliJson({"record", "put", "--patient", patient_id,
           Write("patient.json", R"({"resourceType": "Patient", "id": "p7", "identifier": [{"system": "urn:mrn", "value": "MRN-7"}]})")});
  claim["contained"] = {{{"resourceType", "Patient"}, {"id", "pat"}, {"identifier", {{{"system", "urn:mrn"}, {"value", "MRN-7"}}}}}};
  claim["patient"] = {{"reference", "#pat"}};
  json params = {{"resourceType", "Parameters"}, {"parameter", {{{"name", "resource"}, {"resource", claim}}}}};
  json e = Submit(params);
  EXPECT_EQ(e.value("outcome", ""), "error");
  EXPECT_EQ(e["error"][0]["code"]["coding"][0].value("code", ""), "no-coverage") << e.dump();
  EXPECT_EQ(e["patient"].value("reference", ""), "Patient/p7");
  // A malformed Claim is the only 4xx.
  CommandResult bad = Cli({"claim", "submit", Write("bad.json", R"({"resourceType": "Claim", "status": "nonsense"})")});
  EXPECT_NE(bad.exit_code, 0) << bad.Describe();
}

// HL7's own ClaimResponse examples pass the validator that checks ours.
TEST(ClaimResponseValidationTest, Hl7ExamplesValidate) {
  for (const char* f : {"ClaimResponse-R3500.json", "ClaimResponse-R3501.json", "ClaimResponse-R3502.json"}) {
    auto v = fhir::Parse(ReadText(std::string(MEDLEDGER_SOURCE_DIR) + "/tests/data/fhir/" + f));
    ASSERT_TRUE(v.ok()) << f;
    EXPECT_TRUE(fhir::ValidateResource(*v).ok()) << f << ": " << fhir::ValidateResource(*v).ToString();
  }
}

}  // namespace
}  // namespace medledger::test
