#include "cli/demo_trials.h"

#include <chrono>
#include <iostream>
#include <sstream>

#include "cli/api_client.h"
#include "crypto/aead.h"
#include "crypto/keyfile.h"
#include "crypto/sha256.h"
#include "model/tx_types.h"

namespace medledger::cli {

using nlohmann::json;
namespace tx = model::tx;

namespace {

std::string HashHex(const std::string& s) {
  auto h = crypto::Sha256(s);
  return ToHex(h.data(), h.size());
}

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Result<crypto::KeyPair> Person(const DemoOrgRef& org, const std::string& key_dir, const std::string& name,
                               const std::string& role) {
  crypto::KeyPair kp = crypto::KeyPair::Generate();
  ML_RETURN_IF_ERROR(crypto::WriteKeyFile(key_dir + "/" + name + ".key", kp));
  ML_ASSIGN_OR_RETURN(auto r, ApiClient(org.url).Submit(*org.admin, tx::kIdentityRegister,
                                                        {{"pubkey", kp.id()}, {"roles", {role}}, {"label", name}}));
  std::cout << "  registered " << role << " " << name << " at " << org.id << std::endl;
  return kp;
}

Result<json> Sign(ApiClient& c, const crypto::KeyPair& k, const std::string& record, const std::string& sha,
                  const std::string& name, const std::string& meaning) {
  return c.Submit(k, tx::kTrialSign,
                  {{"record", record},
                   {"record_sha256", sha},
                   {"printed_name", name},
                   {"meaning", meaning},
                   {"signed_at", NowMs()}});
}

}  // namespace

Result<json> LoadDemoTrial(const DemoOrgRef& org1, const DemoOrgRef& org2, const std::string& key_dir,
                           const std::function<Status()>& check) {
  std::cout << "Loading a clinical trial (sponsor " << org2.id << ", site " << org1.id << ")..." << std::endl;
  ApiClient c(org1.url);
  ML_ASSIGN_OR_RETURN(auto sponsor, Person(org2, key_dir, "trial-sponsor", "sponsor"));
  ML_ASSIGN_OR_RETURN(auto inv, Person(org1, key_dir, "trial-investigator", "practitioner"));
  std::vector<crypto::KeyPair> patients;
  std::vector<std::string> subjects;
  for (int i = 1; i <= 2; ++i) {
    ML_RETURN_IF_ERROR(check());
    ML_ASSIGN_OR_RETURN(auto p, Person(org1, key_dir, "trial-patient-" + std::to_string(i), "patient"));
    const std::string pseud = crypto::RandomHexId();
    // The anchor of the patient's research Consent (FHIR, scope research)
    // binds the pseudonym; the grant is what the enrolment decides on.
    const std::string consent_record = crypto::RandomHexId();
    ML_ASSIGN_OR_RETURN(auto a, c.Submit(*org1.admin, tx::kRecordAnchor,
                                         {{"record_id", consent_record},
                                          {"patient", pseud},
                                          {"resource_type", "Consent"},
                                          {"version", 1},
                                          {"hash", HashHex("research consent " + pseud)},
                                          {"patient_key", p.id()}}));
    ML_ASSIGN_OR_RETURN(auto g, c.Submit(p, tx::kConsentGrant,
                                         {{"consent_id", crypto::RandomHexId()},
                                          {"patient_org", org1.id},
                                          {"grantee", "org:" + org1.id},
                                          {"types", {"*"}},
                                          {"purposes", {"HRESCH"}}}));
    patients.push_back(p);
    subjects.push_back(pseud);
    subjects.push_back(consent_record);
  }
  ML_RETURN_IF_ERROR(check());
  const std::string study = crypto::RandomHexId();
  const std::string protocol_sha = HashHex("demo protocol: drug X versus placebo, version 1");
  const json objectives = json::array({{{"name", "Overall survival"}, {"type", "primary"}},
                                       {{"name", "Quality of life"}, {"type", "secondary"}}});
  ML_ASSIGN_OR_RETURN(json reg, c.Submit(sponsor, tx::kTrialRegister,
                                         {{"study_id", study},
                                          {"protocol_sha256", protocol_sha},
                                          {"plan_definition", "PlanDefinition/demo-protocol"},
                                          {"objectives", objectives},
                                          {"sites", {org1.id}},
                                          {"registry_id", "NCT00000000"},
                                          {"title", "Drug X in a demo population"}}));
  const std::string reg_tx = reg.value("id", "");
  ML_ASSIGN_OR_RETURN(auto s1, Sign(c, sponsor, reg_tx, protocol_sha, "Sam Sponsor", "approval"));
  std::cout << "  study " << study << " registered and signed (approval)" << std::endl;
  std::vector<std::string> submissions;
  for (size_t i = 0; i < patients.size(); ++i) {
    ML_RETURN_IF_ERROR(check());
    const std::string& pseud = subjects[2 * i];
    ML_ASSIGN_OR_RETURN(auto e, c.Submit(inv, tx::kTrialEnrol,
                                         {{"study_id", study}, {"subject", pseud}, {"consent_record", subjects[2 * i + 1]}}));
    const std::string sid = crypto::RandomHexId(), sha = HashHex("visit 1 of " + pseud);
    ML_ASSIGN_OR_RETURN(auto d, c.Submit(inv, tx::kTrialSubmit,
                                         {{"study_id", study},
                                          {"submission_id", sid},
                                          {"subject", pseud},
                                          {"sha256", sha},
                                          {"resource_type", "Observation"}}));
    ML_ASSIGN_OR_RETURN(auto sg, Sign(c, inv, sid, sha, "Dr Ida Investigator", "authorship"));
    submissions.push_back(sid);
  }
  std::cout << "  2 subjects enrolled, their first visits anchored and signed (authorship)" << std::endl;
  ML_ASSIGN_OR_RETURN(auto w, c.Submit(patients[1], tx::kTrialWithdraw,
                                       {{"study_id", study}, {"site", org1.id}, {"subject", subjects[2]},
                                        {"reason", "patient-request"}}));
  auto late = c.Submit(inv, tx::kTrialSubmit,
                       {{"study_id", study},
                        {"submission_id", crypto::RandomHexId()},
                        {"subject", subjects[2]},
                        {"sha256", HashHex("visit 2 of " + subjects[2])}});
  if (late.ok()) return Internal("a withdrawn subject's data were accepted");
  std::cout << "  patient 2 withdrew; a later submission was refused: " << late.status().message() << std::endl;
  ML_RETURN_IF_ERROR(check());
  ML_ASSIGN_OR_RETURN(auto lk, c.Submit(sponsor, tx::kTrialLock, {{"study_id", study}}));
  // The results report quality of life as the primary outcome and demote
  // survival: an outcome switch, accepted and flagged.
  const json reported = json::array({{{"name", "Overall survival"}, {"type", "secondary"}},
                                     {{"name", "Quality of life"}, {"type", "primary"}}});
  const std::string pub_id = crypto::RandomHexId();
  const std::string pub_doc = json{{"study_id", study}, {"title", "Drug X: results"}, {"objectives", reported}}.dump();
  ML_ASSIGN_OR_RETURN(auto pb, c.Submit(sponsor, tx::kTrialPublish,
                                        {{"study_id", study},
                                         {"publication_id", pub_id},
                                         {"sha256", HashHex(pub_doc)},
                                         {"objectives", reported}}));
  ML_ASSIGN_OR_RETURN(json st, c.GetSignedJson(sponsor, "/v1/trials/" + study));
  json flags = json::array();
  for (const auto& p : st.value("publications", json::array()))
    if (p.value("publication_id", "") == pub_id) flags = p.value("flags", json::array());
  std::cout << "  locked and published; the publication's flags: " << flags.dump() << std::endl;
  return json{{"study_id", study},
              {"site", org1.id},
              {"sponsor_org", org2.id},
              {"urls", {{org1.id, org1.url}, {org2.id, org2.url}}},
              {"keys",
               {{"sponsor", key_dir + "/trial-sponsor.key"},
                {"investigator", key_dir + "/trial-investigator.key"},
                {"patient_1", key_dir + "/trial-patient-1.key"},
                {"patient_2", key_dir + "/trial-patient-2.key"}}},
              {"subjects", {subjects[0], subjects[2]}},
              {"submissions", submissions},
              {"registration_tx", reg_tx},
              {"withdrawn_subject", subjects[2]},
              {"refused", late.status().message()},
              {"publication_id", pub_id},
              {"flags", flags}};
}

std::string DemoTrialSummary(const json& t, const std::string& bin,
                             const std::function<std::string(const std::string&)>& show) {
  std::ostringstream o;
  const std::string url = t["urls"][t["site"].get<std::string>()].get<std::string>();
  const std::string inv = show(t["keys"]["investigator"].get<std::string>());
  o << "\nA clinical trial (docs/TRIALS.md): study " << t["study_id"].get<std::string>() << ", sponsor "
    << t["sponsor_org"].get<std::string>() << ", site " << t["site"].get<std::string>() << "\n"
    << "  subject " << t["withdrawn_subject"].get<std::string>() << " withdrew; its later data were refused\n"
    << "  the publication switched outcomes: " << t["flags"].dump() << "\n"
    << "try:\n"
    << "  " << bin << " trial show --url " << url << " --key " << inv << " --study " << t["study_id"].get<std::string>()
    << " --subjects --submissions   # every record with its Part 11 signatures and flags\n"
    << "  " << bin << " trial sign --url " << url << " --key " << inv << " --record "
    << t["submissions"][0].get<std::string>() << " --name 'Dr Ida Investigator' --meaning review\n";
  return o.str();
}

}  // namespace medledger::cli
