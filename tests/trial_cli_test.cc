// A small trial end to end through the CLI on a development node (one
// organisation, "dev", which is sponsor and site): register, enrolment
// refused without research consent and accepted with it, data anchored, a
// Part 11 signature shown with its manifestation, refused for the admin's
// key, a withdrawal whose later data are refused, the lock, and a
// publication that switches outcomes, accepted with its flags. Rules:
// src/trials/module.h; exit codes: src/cli/exit_codes.h.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "tests/support/dev_node_cli.h"

namespace medledger::test {
namespace {

using nlohmann::json;

class TrialCliTest : public DevNodeCliTest {
 protected:
  // A new key registered at dev with `role`; returns its file.
  std::string Person(const std::string& name, const std::string& role) {
    std::string path = node_->dir() + "/" + name + ".key";
    CommandResult k = RunCli({"keygen", "--out", path});
    EXPECT_EQ(k.exit_code, 0) << k.Describe();
    std::string id = k.out.substr(0, 64);
    CliJson({"identity", "register", "--pubkey", id, "--role", role});
    ids_[name] = id;
    return path;
  }
  // Binds pseudonym `pseud` at dev to the patient `who` with a first anchor.
  void Bind(const std::string& who, const std::string& pseud, const std::string& record) {
    json a = {{"record_id", record}, {"patient", pseud},           {"resource_type", "Observation"},
              {"version", 1},        {"hash", std::string(64, 'c')}, {"patient_key", ids_[who]}};
    CliJson({"tx", "send", "--type", "record.anchor", "--payload", a.dump()});
  }
  std::map<std::string, std::string> ids_;
};

TEST_F(TrialCliTest, ASmallTrialWithAWithdrawalAndAnOutcomeSwitch) {
  const std::string sponsor = Person("sponsor", "sponsor");
  const std::string doc = Person("doc", "practitioner");
  const std::string pat = Person("pat", "patient");
  const std::string p1 = "00000000000000000000000000000001";
  Bind("pat", p1, "0000000000000000000000000000aa01");

  CommandResult help = RunCli({"trial", "--help"});
  EXPECT_EQ(help.exit_code, 0);
  for (const char* sub : {"register", "enrol", "submit", "sign", "withdraw", "lock", "publish"})
    EXPECT_NE(help.out.find(sub), std::string::npos) << sub;

  const std::string protocol = Write("protocol.pdf", "protocol version 1");
  json reg = CliJson({"trial", "register", "--protocol", protocol, "--plan-definition", "PlanDefinition/p1",
                      "--objective", "primary:Overall survival", "--objective", "secondary:Quality of life",
                      "--site", "dev", "--registry-id", "NCT01234567"},
                     sponsor);
  ASSERT_EQ(reg.value("status", ""), "committed") << reg.dump();
  const std::string study = reg.value("study_id", "");
  const std::string reg_tx = reg.value("tx", "");
  CommandResult bad = Cli({"trial", "register", "--protocol-sha256", std::string(64, 'a'), "--plan-definition",
                           "PlanDefinition/p1", "--objective", "secondary:QoL", "--site", "dev"},
                          sponsor);
  EXPECT_EQ(bad.exit_code, 2) << "no primary objective: a usage error; " << bad.Describe();

  // No research consent: denied (exit 3). With it: enrolled.
  CommandResult denied = Cli({"trial", "enrol", "--study", study, "--subject", p1}, doc);
  EXPECT_EQ(denied.exit_code, 3) << denied.Describe();
  CliJson({"consent", "grant", "--to", "org:dev", "--types", "all", "--purpose", "research", "--org", "dev"}, pat);
  json en = CliJson({"trial", "enrol", "--study", study, "--subject", p1}, doc);
  EXPECT_EQ(en.value("status", ""), "committed") << en.dump();

  const std::string data = Write("visit1.json", R"({"resourceType": "Observation"})");
  json sub = CliJson({"trial", "submit", "--study", study, "--subject", p1, "--file", data, "--resource-type",
                      "Observation"},
                     doc);
  const std::string sid = sub.value("submission_id", "");
  ASSERT_FALSE(sid.empty()) << sub.dump();

  // Part 11: one person's key; the admin's is refused.
  CommandResult admin_sign = Cli({"trial", "sign", "--record", sid, "--name", "Admin", "--meaning", "approval"});
  EXPECT_EQ(admin_sign.exit_code, 3) << admin_sign.Describe();
  EXPECT_NE(admin_sign.err.find("11.100"), std::string::npos) << admin_sign.Describe();
  json sg = CliJson({"trial", "sign", "--record", sid, "--name", "Dr Ada Byron", "--meaning", "authorship"}, doc);
  EXPECT_EQ(sg.value("record_sha256", ""), sub.value("sha256", ""));
  EXPECT_EQ(sg.value("manifestation", "").rfind("Dr Ada Byron | authorship | ", 0), 0u) << sg.dump();
  json sg2 = CliJson({"trial", "sign", "--record", reg_tx, "--name", "Sam Sponsor", "--meaning", "approval"}, sponsor);
  EXPECT_EQ(sg2.value("kind", ""), "version") << sg2.dump();

  // The patient withdraws: new data refused (exit 5), the earlier stay.
  CliJson({"trial", "withdraw", "--study", study, "--site", "dev", "--subject", p1, "--reason", "patient-request"},
          pat);
  CommandResult late = Cli({"trial", "submit", "--study", study, "--subject", p1, "--sha256", std::string(64, 'b')}, doc);
  EXPECT_EQ(late.exit_code, 5) << late.Describe();
  json show = CliJson({"trial", "show", "--study", study, "--subjects", "--submissions"}, doc);
  ASSERT_EQ(show["submissions"].size(), 1u) << show.dump();
  EXPECT_EQ(show["submissions"][0]["signatures"][0]["printed_name"], "Dr Ada Byron");
  EXPECT_EQ(show["subjects"][0]["status"], "withdrawn");
  EXPECT_EQ(show["versions"][0]["signatures"][0]["meaning"], "approval");
  CommandResult as_patient = Cli({"trial", "show", "--study", study}, pat);
  EXPECT_EQ(as_patient.exit_code, 3) << "the registry is for staff, sponsors and regulators; " << as_patient.Describe();

  // Lock, then a publication that demotes the primary objective.
  json lk = CliJson({"trial", "lock", "--study", study}, sponsor);
  EXPECT_EQ(lk.value("status", ""), "committed");
  const std::string pub = Write("results.json", json{{"study_id", study},
                                                     {"title", "Results"},
                                                     {"objectives",
                                                      {{{"name", "Overall survival"}, {"type", "secondary"}},
                                                       {{"name", "Response rate"}, {"type", "primary"}}}}}
                                                    .dump());
  json pb = CliJson({"trial", "publish", pub}, sponsor);
  EXPECT_EQ(pb.value("outcome_switch", false), true) << pb.dump();
  ASSERT_EQ(pb["flags"].size(), 2u) << pb.dump();
  EXPECT_EQ(pb["flags"][0]["flag"], "demoted_primary");
  EXPECT_EQ(pb["flags"][1]["flag"], "added_primary");
  CommandResult again = Cli({"trial", "submit", "--study", study, "--subject", p1, "--sha256", std::string(64, 'd')}, doc);
  EXPECT_EQ(again.exit_code, 5) << again.Describe();
}

}  // namespace
}  // namespace medledger::test
