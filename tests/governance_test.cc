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

// A command refused because its transaction was rejected for `reason` with a
// detail containing `detail`: not a refusal for any other cause (a lagging
// node's unknown_signer, a transport error, a usage error).
::testing::AssertionResult RejectedFor(const CommandResult& r, const std::string& reason, const std::string& detail) {
  if (r.exit_code == 0) return ::testing::AssertionFailure() << "the command succeeded: " << r.Describe();
  const std::string want = " rejected: " + reason + ": ";
  const size_t at = r.err.find(want);
  if (at == std::string::npos || r.err.find(detail, at + want.size()) == std::string::npos)
    return ::testing::AssertionFailure() << "expected \"" << want << "..." << detail << "\": " << r.Describe();
  return ::testing::AssertionSuccess();
}

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
  EXPECT_TRUE(RejectedFor(r, "role_not_permitted", "governance.propose needs one of the roles"));

  // Already executed: approving again is a conflict; an unknown id is not found.
  r = Gov({"approve", add_id}, admin);
  EXPECT_TRUE(RejectedFor(r, "conflict", "proposal was already executed at height "));
  r = Gov({"approve", "0123456789abcdef0123456789abcdef"}, admin);
  EXPECT_TRUE(RejectedFor(r, "not_found", "no proposal 0123456789abcdef0123456789abcdef"));

  // Remove it (two organisations, threshold 1: one may go).
  r = Gov({"propose-remove", "--org-id", "lab"}, admin);
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_EQ(Parse(r).value("proposal_status", ""), "executed") << r.out;
  EXPECT_EQ(Orgs()["lab"].value("active", true), false);

  // From then on every key of the organisation is refused.
  r = RunCli({"identity", "register", "--url", node_->url(), "--key", lab_admin, "--pubkey", nurse_id, "--role",
              "practitioner"});
  EXPECT_TRUE(RejectedFor(r, "revoked_key", "signer's organisation is not an active member"));
  // The last organisation can never be removed.
  r = Gov({"propose-remove", "--org-id", "dev"}, admin);
  EXPECT_TRUE(RejectedFor(r, "conflict", "removing 'dev' would leave 0 active organisations"));

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
