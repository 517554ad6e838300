#include "cli/demo_claims.h"

#include <fstream>
#include <iostream>
#include <sstream>

#include "cli/api_client.h"
#include "claims/schema.h"
#include "cli/commands.h"
#include "crypto/aead.h"
#include "crypto/keyfile.h"
#include "model/tx_types.h"

namespace medledger::cli {

// cli/record_cmds.cc
Result<nlohmann::json> RecordPut(const std::string& url, const crypto::KeyPair& key, const std::string& patient_id,
                                 const std::string& body);

using nlohmann::json;
namespace tx = model::tx;

namespace {


Result<std::string> ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound("cannot read " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A policy deployed by governance: proposed by org1, approved by org2.
Status DeployPolicy(const DemoOrgRef& org1, const DemoOrgRef& org2, const std::string& name, const std::string& file) {
  ML_ASSIGN_OR_RETURN(std::string source, ReadAll(AssetDir() + "/policies/" + file));
  const std::string pid = crypto::RandomHexId();
  ML_ASSIGN_OR_RETURN(auto p, ApiClient(org1.url).Submit(*org1.admin, tx::kContractDeploy,
                                                         {{"proposal_id", pid}, {"name", name}, {"source", source}}));
  ML_ASSIGN_OR_RETURN(auto a, ApiClient(org2.url).Submit(*org2.admin, tx::kGovApprove, {{"proposal_id", pid}}));
  std::cout << "  policy " << name << " (policies/" << file << ") deployed: proposed by " << org1.id
            << ", approved by " << org2.id << std::endl;
  return Status::Ok();
}

json Item(int seq, const std::string& code, const std::string& charge) {
  return {{"sequence", seq},
          {"productOrService", {{"coding", {{{"system", "http://www.ama-assn.org/go/cpt"}, {"code", code}}}}}},
          {"servicedDate", "2026-03-02"},
          {"encounter", {{{"reference", "Encounter/demo-visit"}}}},
          {"net", {{"value", json::parse(charge)}, {"currency", "USD"}}}};
}

json DemoClaim(const std::string& identifier, json items) {
  return {{"resourceType", "Claim"},
          {"identifier", {{{"system", "https://org1.example/claims"}, {"value", identifier}}}},
          {"status", "active"},
          {"type", {{"coding", {{{"system", "http://terminology.hl7.org/CodeSystem/claim-type"}, {"code", "professional"}}}}}},
          {"use", "claim"},
          {"patient", {{"reference", "Patient/demo-claims-patient"}}},
          {"created", "2026-03-02T10:00:00Z"},
          {"provider", {{"display", "Demo Hospital"}}},
          {"priority", {{"coding", {{{"system", "http://terminology.hl7.org/CodeSystem/processpriority"}, {"code", "normal"}}}}}},
          {"insurance", {{{"sequence", 1}, {"focal", true}, {"coverage", {{"reference", "Coverage/demo-gold"}}}}}},
          {"item", std::move(items)}};
}

// Submits through Claim/$submit; the ClaimResponse's outcome and each
// item's benefit and reason, for the console and demo.json.
Result<json> Submit(const DemoOrgRef& org1, const std::string& file, const json& claim) {
  std::ofstream(file) << claim.dump(2) << "\n";
  ApiClient c(org1.url);
  ML_ASSIGN_OR_RETURN(auto r, SignedSend(c, *org1.admin, "POST", "/fhir/Claim/$submit", claim.dump(), ""));
  if (r.status != 200) return Internal("Claim/$submit answered " + std::to_string(r.status) + ": " + OutcomeMessage(r.body));
  json cr = json::parse(r.body, nullptr, false);
  if (cr.is_discarded()) return Internal("Claim/$submit answered no JSON");
  json out = {{"outcome", cr.value("outcome", "")}, {"tx", cr["identifier"][0].value("value", "")}, {"items", json::array()}};
  std::string line;
  for (const auto& it : cr.value("item", json::array()))
    for (const auto& a : it["adjudication"])
      if (a["category"]["coding"][0]["code"] == "benefit" && a.contains("amount")) {
        std::string reason = a.contains("reason") ? a["reason"]["coding"][0].value("code", "") : "";
        out["items"].push_back({{"sequence", it["itemSequence"]}, {"benefit", a["amount"]["value"]}, {"reason", reason}});
        line += " item " + it["itemSequence"].dump() + ": benefit " + a["amount"]["value"].dump() +
                (reason.empty() ? "" : " (" + reason + ")") + ";";
      }
  std::cout << "  " << file.substr(file.rfind('/') + 1) << ": outcome " << out["outcome"].get<std::string>() << "," << line
            << std::endl;
  return out;
}

}  // namespace

Result<json> LoadDemoClaims(const DemoOrgRef& org1, const DemoOrgRef& org2, const std::string& key_dir,
                            const std::function<Status()>& check) {
  std::cout << "Loading insurance claims (insurer at " << org2.id << ", provider " << org1.id << ")..." << std::endl;
  ML_RETURN_IF_ERROR(DeployPolicy(org1, org2, "simple-plan", "simple.lua"));
  ML_RETURN_IF_ERROR(DeployPolicy(org1, org2, "managed-plan", "managed.lua"));
  ML_RETURN_IF_ERROR(check());

  crypto::KeyPair insurer = crypto::KeyPair::Generate(), patient = crypto::KeyPair::Generate();
  ML_RETURN_IF_ERROR(crypto::WriteKeyFile(key_dir + "/plan-insurer.key", insurer));
  ML_RETURN_IF_ERROR(crypto::WriteKeyFile(key_dir + "/claims-patient.key", patient));
  ML_ASSIGN_OR_RETURN(auto ri, ApiClient(org2.url).Submit(*org2.admin, tx::kIdentityRegister,
                                                          {{"pubkey", insurer.id()}, {"roles", {"insurer"}}, {"label", "plan-insurer"}}));
  ApiClient c1(org1.url);
  ML_ASSIGN_OR_RETURN(auto rp, c1.Submit(*org1.admin, tx::kIdentityRegister,
                                         {{"pubkey", patient.id()}, {"roles", {"patient"}}, {"label", "claims-patient"}}));
  ML_ASSIGN_OR_RETURN(auto pr, RecordPut(org1.url, *org1.admin, patient.id(),
                                         json({{"resourceType", "Patient"},
                                               {"id", "demo-claims-patient"},
                                               {"name", {{{"family", "Demo"}, {"given", {"Claire"}}}}}})
                                             .dump()));
  ML_ASSIGN_OR_RETURN(auto er, RecordPut(org1.url, *org1.admin, "",
                                         json({{"resourceType", "Encounter"},
                                               {"id", "demo-visit"},
                                               {"status", "finished"},
                                               {"class", {{"system", "http://terminology.hl7.org/CodeSystem/v3-ActCode"}, {"code", "AMB"}}},
                                               {"subject", {{"reference", "Patient/demo-claims-patient"}}},
                                               {"period", {{"start", "2026-03-02T09:00:00Z"}}}})
                                             .dump()));
  // The patient finds its pseudonym at org1 and tells the insurer.
  ML_ASSIGN_OR_RETURN(auto ps, c1.GetSignedJson(patient, "/v1/patients/me/pseudonyms"));
  std::string pseudonym;
  for (const auto& p : ps.value("pseudonyms", json::array()))
    if (p.value("org", "") == org1.id) pseudonym = p.value("pseudonym", "");
  if (pseudonym.empty()) return DataLoss("the demo patient has no pseudonym at " + org1.id);
  const std::string coverage_id = crypto::RandomHexId();
  ML_ASSIGN_OR_RETURN(auto rc, ApiClient(org2.url).Submit(insurer, tx::kClaimCoverage,
                                                          {{"coverage_id", coverage_id}, {"patient", pseudonym},
                                                           {"provider", org1.id}, {"plan", "gold"},
                                                           {"policy", "managed-plan"}, {"period_days", 365}}));
  std::cout << "  coverage " << coverage_id << " (gold, managed-plan) registered by the insurer at " << org2.id
            << " for the patient's pseudonym at " << org1.id << std::endl;
  ML_ASSIGN_OR_RETURN(auto cv, RecordPut(org1.url, *org1.admin, "",
                                         json({{"resourceType", "Coverage"},
                                               {"id", "demo-gold"},
                                               {"status", "active"},
                                               {"subscriberId", "GOLD-000417"},
                                               {"beneficiary", {{"reference", "Patient/demo-claims-patient"}}},
                                               {"payor", {{{"display", "Demo Health Plan (" + org2.id + ")"}}}},
                                               {"period", {{"start", "2026-01-01"}, {"end", "2026-12-31"}}},
                                               {"identifier", {{{"system", claims::kCoverageIdSystem}, {"value", coverage_id}}}}})
                                             .dump()));
  ML_RETURN_IF_ERROR(check());

  json out = {{"urls", {{org1.id, org1.url}, {org2.id, org2.url}}},
              {"provider", org1.id},
              {"insurer_org", org2.id},
              {"coverage_id", coverage_id},
              {"keys", {{"insurer", key_dir + "/plan-insurer.key"}, {"patient", key_dir + "/claims-patient.key"}}}};
  const std::string dir = key_dir.substr(0, key_dir.rfind('/'));
  ML_ASSIGN_OR_RETURN(out["visit"], Submit(org1, dir + "/claim-visit.json",
                                           DemoClaim("DEMO-1", {Item(1, "99213", "125.00"), Item(2, "80053", "18.00")})));
  ML_ASSIGN_OR_RETURN(out["duplicate"], Submit(org1, dir + "/claim-duplicate.json",
                                               DemoClaim("DEMO-2", {Item(1, "99213", "125.00"), Item(2, "80053", "18.00")})));
  ML_ASSIGN_OR_RETURN(out["mri"], Submit(org1, dir + "/claim-mri.json", DemoClaim("DEMO-3", {Item(1, "70553", "1400.00")})));
  out["files"] = {{"visit", dir + "/claim-visit.json"}};
  ML_RETURN_IF_ERROR(check());
  int64_t benefit = 0;
  for (const auto& i : out["visit"]["items"]) benefit += int64_t(i["benefit"].get<double>() * 100 + 0.5);
  ML_ASSIGN_OR_RETURN(auto pay, ApiClient(org2.url).Submit(insurer, tx::kClaimPayment,
                                                           {{"payment_id", crypto::RandomHexId()},
                                                            {"claim", out["visit"]["tx"]},
                                                            {"amount", benefit},
                                                            {"currency", "USD"}}));
  std::cout << "  the insurer paid the visit: " << benefit << " cents" << std::endl;
  out["paid_cents"] = benefit;
  return out;
}

std::string DemoClaimsSummary(const json& c, const std::string& bin,
                              const std::function<std::string(const std::string&)>& show) {
  std::ostringstream o;
  const std::string provider = c["provider"].get<std::string>();
  const std::string url = c["urls"][provider].get<std::string>();
  auto line = [](const json& r) {
    std::string s = r.value("outcome", "");
    for (const auto& i : r.value("items", json::array()))
      s += ", item " + i["sequence"].dump() + " benefit " + i["benefit"].dump() +
           (i.value("reason", "").empty() ? "" : " (" + i.value("reason", "") + ")");
    return s;
  };
  o << "\nInsurance claims (docs/CLAIMS.md): coverage " << c["coverage_id"].get<std::string>() << " by the insurer at "
    << c["insurer_org"].get<std::string>() << ", policies simple-plan and managed-plan\n"
    << "  an office visit and a lab panel: " << line(c["visit"]) << "; paid " << c["paid_cents"].dump() << " cents\n"
    << "  the same services again:          " << line(c["duplicate"]) << "\n"
    << "  an MRI without authorisation:     " << line(c["mri"]) << "\n"
    << "try:\n"
    << "  " << bin << " claim submit --url " << url << " --key ORG1_ADMIN_KEY " << show(c["files"]["visit"].get<std::string>())
    << "   # a resend: the first ClaimResponse again\n"
    << "  " << bin << " contract show --url " << url << " --key " << show(c["keys"]["insurer"].get<std::string>())
    << " --name managed-plan\n";
  return o.str();
}

}  // namespace medledger::cli
