// Governance through the real binary: `medledger governance ...` and
// `medledger orgs` against a node on a development chain (one organisation,
// threshold 1, so a proposal executes when it is made; the threshold and
// per-organisation counting are covered by src/state/governance_test.cc).
// An organisation is added, its admin registers a key, it is removed, its
// keys are refused from then on, and `verify` replays it all cleanly.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/support/test_node.h"

namespace medledger::test {
namespace {

using nlohmann::json;

json Parse(const CommandResult& r) { return json::parse(r.out, nullptr, false); }

class GovernanceCli : public ::testing::Test {
 protected:
  void SetUp() override {
    auto n = TestNode::Start();
    ASSERT_TRUE(n.ok()) << n.status().ToString();
    node_ = std::move(*n);
  }

  // keygen NAME.key in the node's temp dir; returns {path, public id}.
  std::pair<std::string, std::string> NewKey(const std::string& name) {
    std::string path = node_->dir() + "/" + name + ".key";
    CommandResult r = RunCli({"keygen", "--out", path});
    EXPECT_EQ(r.exit_code, 0) << r.Describe();
    std::string id = r.out.substr(0, r.out.find('\n'));
    return {path, id};
  }

  CommandResult Gov(std::vector<std::string> args, const std::string& key) {
    args.insert(args.begin(), "governance");
    args.insert(args.end(), {"--url", node_->url()});
    if (!key.empty()) args.insert(args.end(), {"--key", key});
    return RunCli(args);
  }

  json Orgs() {
    CommandResult r = RunCli({"orgs", "--url", node_->url()});
    EXPECT_EQ(r.exit_code, 0) << r.Describe();
    json by_id = json::object();
    for (const auto& o : Parse(r).value("orgs", json::array())) by_id[o.value("id", "")] = o;
    return by_id;
  }

  std::unique_ptr<TestNode> node_;
};

TEST_F(GovernanceCli, AddThenRemoveAnOrganisation) {
  auto [lab_admin, lab_admin_id] = NewKey("lab-admin");
  auto [lab_node, lab_node_id] = NewKey("lab-node");
  auto [doctor, doctor_id] = NewKey("doctor");
  auto [nurse, nurse_id] = NewKey("nurse");
  const std::string admin = node_->admin_key();

  CommandResult r = Gov({"propose-add", "--org-id", "lab", "--name", "Lab One", "--admin", lab_admin_id, "--node",
                         lab_node_id},
                        admin);
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  json out = Parse(r);
  EXPECT_EQ(out.value("status", ""), "committed") << r.out;
  EXPECT_EQ(out.value("proposal_status", ""), "executed") << r.out;
  std::string add_id = out.value("proposal_id", "");
  EXPECT_EQ(add_id.size(), 32u);

  json orgs = Orgs();
  ASSERT_TRUE(orgs.contains("lab")) << orgs.dump();
  EXPECT_EQ(orgs["lab"].value("active", false), true);
  EXPECT_EQ(orgs["lab"].value("name", ""), "Lab One");

  // The new admin registers a practitioner of its own organisation.
  r = RunCli({"identity", "register", "--url", node_->url(), "--key", lab_admin, "--pubkey", doctor_id, "--role",
              "practitioner"});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  // A practitioner cannot propose.
  r = Gov({"propose-remove", "--org-id", "dev"}, doctor);
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("role_not_permitted"), std::string::npos) << r.Describe();

  // Already executed: approving again is a conflict; an unknown id is not found.
  r = Gov({"approve", add_id}, admin);
  EXPECT_NE(r.err.find("conflict"), std::string::npos) << r.Describe();
  r = Gov({"approve", "0123456789abcdef0123456789abcdef"}, admin);
  EXPECT_NE(r.err.find("not_found"), std::string::npos) << r.Describe();

  // Remove it (two organisations, threshold 1: one may go).
  r = Gov({"propose-remove", "--org-id", "lab"}, admin);
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_EQ(Parse(r).value("proposal_status", ""), "executed") << r.out;
  EXPECT_EQ(Orgs()["lab"].value("active", true), false);

  // From then on every key of the organisation is refused.
  r = RunCli({"identity", "register", "--url", node_->url(), "--key", lab_admin, "--pubkey", nurse_id, "--role",
              "practitioner"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("revoked_key"), std::string::npos) << r.Describe();
  // The last organisation can never be removed.
  r = Gov({"propose-remove", "--org-id", "dev"}, admin);
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("conflict"), std::string::npos) << r.Describe();

  r = Gov({"list", "--status", "executed"}, "");
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  json list = Parse(r);
  EXPECT_EQ(list.value("threshold", 0), 1);
  EXPECT_EQ(list["proposals"].size(), 2u) << r.out;

  // The history replays: the doctor's registration stays valid.
  ASSERT_TRUE(node_->Stop().ok()) << node_->LogTail();
  r = RunCli({"verify", "--data-dir", node_->data_dir()});
  EXPECT_EQ(r.exit_code, 0) << r.Describe();
}

}  // namespace
}  // namespace medledger::test
