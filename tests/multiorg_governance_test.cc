// Multi-organisation governance on a real etcd network: three
// organisations (threshold 2), each with its own node. An organisation and
// its node key are added by two organisations' approvals, its node joins and
// orders blocks that every node accepts; then two organisations remove it,
// after which its keys are refused, its node drops out of every node's peer
// list and checkpoint electorate, and a block signed by its node key halts
// every node with a reason naming it rather than being applied.
#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "cli/api_client.h"
#include "crypto/keyfile.h"
#include "model/block.h"
#include "model/tx_types.h"
#include "tests/support/network.h"
#include "tests/support/process.h"
#include "tests/support/shell.h"

namespace medledger {
namespace {

using nlohmann::json;
using test::CmdResult;
using test::Medledger;
using test::WaitUntil;
namespace fs = std::filesystem;

class MultiOrgGovernanceTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(net_.MakeDir("medledger-gov")); }
  void TearDown() override {
    node4_.reset();
    net_.TearDown(HasFailure());
  }

  void Up() {
    auto up = net_.Up("--nodes 3");
    ASSERT_TRUE(up.ok()) << up.status().ToString();
  }
  bool Converged(const std::vector<int>& nodes) const {
    json first = net_.Status(nodes[0]);
    if (!first.is_object()) return false;
    for (int i : nodes) {
      json s = net_.Status(i);
      if (!s.is_object() || s["height"] != first["height"] || s["state_root"] != first["state_root"]) return false;
    }
    return true;
  }
  json Gov(std::vector<std::string> args, int via, const std::string& key) {
    std::string cmd = "governance";
    for (const auto& a : args) cmd += " " + a;
    CmdResult r = Medledger(cmd + " --url " + net_.Url(via) + " --key " + key + " 2>&1");
    json j = json::parse(r.out, nullptr, false);
    EXPECT_EQ(r.rc, 0) << r.out;
    return j.is_discarded() ? json() : j;
  }
  json Org(int via, const std::string& id) {
    CmdResult r = Medledger("orgs --url " + net_.Url(via));
    json j = json::parse(r.out, nullptr, false);
    if (j.is_discarded()) return json();
    for (const auto& o : j.value("orgs", json::array()))
      if (o.value("id", "") == id) return o;
    return json();
  }
  std::set<std::string> PeerIds(int i) {
    std::set<std::string> ids;
    for (const auto& p : net_.Status(i).value("peers", json::array())) ids.insert(p.value("node_id", ""));
    return ids;
  }

  test::Network net_;  // node 4, once started, is net_.Url(3)
  std::unique_ptr<test::Process> node4_;
};

TEST_F(MultiOrgGovernanceTest, OrganisationAddedThenRemovedByThresholdAcrossOrganisations) {
  Up();
  auto admin4 = crypto::KeyPair::Generate();
  auto node4 = crypto::KeyPair::Generate();
  std::string admin4_path = net_.dir() + "/org4-admin.key";
  ASSERT_TRUE(crypto::WriteKeyFile(admin4_path, admin4).ok());

  // org1 proposes; one approval of two needed, so it stays open.
  json p = Gov({"propose-add", "--org-id", "org4", "--name", "Org4", "--admin", admin4.id(), "--node", node4.id()}, 0,
               net_.AdminKeyFile(0));
  ASSERT_EQ(p.value("status", ""), "committed") << p.dump();
  EXPECT_EQ(p.value("proposal_status", ""), "open") << p.dump();
  std::string add_id = p.value("proposal_id", "");
  // Not a member yet: its admin cannot act.
  cli::ApiClient c4(net_.Url(1), std::chrono::seconds(60));
  auto early = c4.Submit(admin4, model::tx::kAnchorPut, {{"hash", test::RandomHex32()}, {"tag", "early"}});
  ASSERT_FALSE(early.ok());
  EXPECT_NE(early.status().message().find(" rejected: unknown_signer: signer is not a registered identity"),
            std::string::npos)
      << early.status().ToString();
  // org1 again does not count twice; org2 through its own node completes it.
  CmdResult twice = Medledger("governance approve " + add_id + " --url " + net_.Url(0) + " --key " + net_.AdminKeyFile(0) + " 2>&1");
  EXPECT_NE(twice.rc, 0) << twice.out;
  EXPECT_NE(twice.out.find(" rejected: conflict: organisation 'org1' has already approved"), std::string::npos)
      << twice.out;
  json a = Gov({"approve", add_id}, 1, net_.AdminKeyFile(1));
  EXPECT_EQ(a.value("proposal_status", ""), "executed") << a.dump();
  ASSERT_TRUE(WaitUntil([&] { return Converged({0, 1, 2}); }));
  for (int i = 0; i < 3; ++i) EXPECT_EQ(Org(i, "org4").value("active", false), true) << "node " << i;

  // org4's node joins late with a store that holds only the shared genesis:
  // it learns its own key by catching up, then serves.
  std::string dir4 = net_.dir() + "/node4";
  fs::create_directories(dir4 + "/keys");
  ASSERT_TRUE(crypto::WriteKeyFile(dir4 + "/keys/node.key", node4).ok());
  CmdResult init4 = Medledger("init --data-dir " + dir4 + " --genesis " + net_.dir() + "/genesis.json");
  ASSERT_EQ(init4.rc, 0) << init4.out;
  std::string orderer = net_.OrdererUrl();
  test::ProcessOptions po;
  po.stdout_path = net_.dir() + "/node4.out";
  po.stderr_path = net_.dir() + "/node4.log";
  auto proc = test::Process::Spawn(
      {test::MedledgerBin(), "node", "--data-dir", dir4, "--listen", "127.0.0.1:0", "--orderer", orderer}, po);
  ASSERT_TRUE(proc.ok()) << proc.status().ToString();
  node4_ = std::move(*proc);
  std::string url4;
  ASSERT_TRUE(WaitUntil([&] {
    auto j = json::parse(test::ReadFileOrEmpty(po.stdout_path), nullptr, false);
    if (j.is_object() && j.contains("url")) url4 = j["url"].get<std::string>();
    return !url4.empty() || !node4_->Running();
  }));
  ASSERT_FALSE(url4.empty()) << test::FileTail(po.stderr_path);
  ASSERT_EQ(net_.AddNode(url4), 3);

  // Its admin now acts, through its own node, whose blocks everyone applies
  // (a node's mempool is its own: these commit only in blocks it proposes).
  cli::ApiClient via4(net_.Url(3), std::chrono::seconds(60));
  for (int i = 0; i < 5; ++i) {
    auto r = via4.Submit(admin4, model::tx::kAnchorPut, {{"hash", test::RandomHex32()}, {"tag", "org4"}});
    ASSERT_TRUE(r.ok()) << r.status().ToString() << test::FileTail(po.stderr_path);
  }
  EXPECT_GT(net_.Status(3)["ordering"]["blocks_won"].get<uint64_t>(), 0u);
  ASSERT_TRUE(WaitUntil([&] { return Converged({0, 1, 2, 3}); })) << net_.Status(3).dump(2);
  ASSERT_TRUE(WaitUntil([&] { return PeerIds(0).count(node4.id()) == 1; })) << net_.Status(0).dump(2);

  // Removal: org2 proposes, org3 approves.
  p = Gov({"propose-remove", "--org-id", "org4"}, 1, net_.AdminKeyFile(1));
  EXPECT_EQ(p.value("proposal_status", ""), "open") << p.dump();
  a = Gov({"approve", p.value("proposal_id", "")}, 2, net_.AdminKeyFile(2));
  EXPECT_EQ(a.value("proposal_status", ""), "executed") << a.dump();
  ASSERT_TRUE(WaitUntil([&] { return Converged({0, 1, 2, 3}); }));
  for (int i = 0; i < 4; ++i) EXPECT_EQ(Org(i, "org4").value("active", true), false) << "node " << i;

  // Its keys are refused from then on, at any node.
  cli::ApiClient c0(net_.Url(0), std::chrono::seconds(60));
  auto late = c0.Submit(admin4, model::tx::kAnchorPut, {{"hash", test::RandomHex32()}, {"tag", "late"}});
  ASSERT_FALSE(late.ok());
  EXPECT_NE(late.status().message().find(" rejected: revoked_key: signer's organisation is not an active member"),
            std::string::npos)
      << late.status().ToString();
  // Its node is no peer any more (nor a checkpoint signer: same rule).
  EXPECT_TRUE(WaitUntil([&] { return PeerIds(0).count(node4.id()) == 0; })) << net_.Status(0).dump(2);

  // A block signed by its node key is refused by every node: they halt
  // naming the organisation instead of applying it.
  json s = net_.Status(0);
  uint64_t h = s["height"].get<uint64_t>();
  auto bad = net_.NextBlock(0, h);
  ASSERT_TRUE(bad.ok()) << bad.status().ToString();
  bad->Seal();
  bad->Sign(node4);
  auto put = net_.PutBlock(s["chain_id"].get<std::string>(), *bad);
  ASSERT_TRUE(put.ok()) << put.ToString();
  ASSERT_TRUE(WaitUntil([&] { return net_.AllHalted(4); }));
  for (int i = 0; i < 4; ++i) {
    json si = net_.Status(i);
    EXPECT_EQ(si["height"], h) << "node " << i << " applied the removed organisation's block";
    std::string why = si.value("halt_reason", "");
    EXPECT_NE(why.find("'org4' is not an active member"), std::string::npos) << why;
  }

  // Every store replays cleanly offline.
  node4_->Terminate();
  CmdResult down = Medledger("network down --dir " + net_.dir());
  ASSERT_EQ(down.rc, 0) << down.out;
  for (const std::string& d : {net_.DataDir(0),
                               net_.DataDir(1),
                               net_.DataDir(2), dir4}) {
    CmdResult v = Medledger("verify --data-dir " + d);
    EXPECT_EQ(v.rc, 0) << d << ": " << v.out;
  }
}

}  // namespace
}  // namespace medledger
