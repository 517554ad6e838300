// Multi-organisation governance on a real etcd network (issue 4): three
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
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "api/http_signature.h"
#include "cli/api_client.h"
#include "crypto/keyfile.h"
#include "model/block.h"
#include "model/tx_types.h"
#include "node/etcd_orderer.h"
#include "ordering/etcd_client.h"
#include "tests/support/process.h"
#include "tests/support/shell.h"

namespace medledger {
namespace {

using nlohmann::json;
using test::CmdResult;
using test::Medledger;
using test::WaitUntil;
namespace fs = std::filesystem;

std::string RandomHex32() {
  static std::mt19937_64 rng(std::random_device{}());
  std::string s;
  char buf[17];
  for (int i = 0; i < 4; ++i) {
    std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(rng()));
    s += buf;
  }
  return s;
}

// True while `pid` runs a program (a zombie has an empty command line).
bool Alive(pid_t pid) { return !test::ReadFileOrEmpty("/proc/" + std::to_string(pid) + "/cmdline").empty(); }

class MultiOrgGovernanceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/medledger-gov-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    node4_.reset();
    test::TearDownNetwork(dir_, pids_, HasFailure());
  }

  void Up() {
    CmdResult r = Medledger("network up --dir " + dir_ + " --nodes 3");
    ASSERT_EQ(r.rc, 0) << r.out;
    net_ = json::parse(r.out, nullptr, false);
    ASSERT_FALSE(net_.is_discarded()) << r.out;
    Track(net_);
  }
  void Track(const json& net) {
    for (const auto& n : net["nodes"])
      if (n["pid"].is_number()) pids_.push_back(n["pid"].get<pid_t>());
    for (const auto& e : net["etcd"])
      if (e["pid"].is_number()) pids_.push_back(e["pid"].get<pid_t>());
  }
  std::string Url(int i) const { return i == 3 ? url4_ : net_["nodes"][i]["url"].get<std::string>(); }
  std::string AdminKeyPath(int i) const { return net_["nodes"][i]["key"].get<std::string>(); }
  std::vector<std::string> EtcdEndpoints() const {
    std::vector<std::string> eps;
    for (const auto& e : net_["etcd"]) eps.push_back(e["endpoint"].get<std::string>());
    return eps;
  }
  json Status(int i) const {
    cli::ApiClient c(Url(i), std::chrono::seconds(5));
    auto s = c.Status();
    return s.ok() ? *s : json();
  }
  bool Converged(const std::vector<int>& nodes) const {
    json first = Status(nodes[0]);
    if (!first.is_object()) return false;
    for (int i : nodes) {
      json s = Status(i);
      if (!s.is_object() || s["height"] != first["height"] || s["state_root"] != first["state_root"]) return false;
    }
    return true;
  }
  json Gov(std::vector<std::string> args, int via, const std::string& key) {
    std::string cmd = "governance";
    for (const auto& a : args) cmd += " " + a;
    CmdResult r = Medledger(cmd + " --url " + Url(via) + " --key " + key + " 2>&1");
    json j = json::parse(r.out, nullptr, false);
    EXPECT_EQ(r.rc, 0) << r.out;
    return j.is_discarded() ? json() : j;
  }
  json Org(int via, const std::string& id) {
    CmdResult r = Medledger("orgs --url " + Url(via));
    json j = json::parse(r.out, nullptr, false);
    if (j.is_discarded()) return json();
    for (const auto& o : j.value("orgs", json::array()))
      if (o.value("id", "") == id) return o;
    return json();
  }
  std::set<std::string> PeerIds(int i) {
    std::set<std::string> ids;
    for (const auto& p : Status(i).value("peers", json::array())) ids.insert(p.value("node_id", ""));
    return ids;
  }

  std::string dir_, url4_;
  json net_;
  std::vector<pid_t> pids_;
  std::unique_ptr<test::Process> node4_;
};

TEST_F(MultiOrgGovernanceTest, OrganisationAddedThenRemovedByThresholdAcrossOrganisations) {
  Up();
  auto admin4 = crypto::KeyPair::Generate();
  auto node4 = crypto::KeyPair::Generate();
  std::string admin4_path = dir_ + "/org4-admin.key";
  ASSERT_TRUE(crypto::WriteKeyFile(admin4_path, admin4).ok());

  // org1 proposes; one approval of two needed, so it stays open.
  json p = Gov({"propose-add", "--org-id", "org4", "--name", "Org4", "--admin", admin4.id(), "--node", node4.id()}, 0,
               AdminKeyPath(0));
  ASSERT_EQ(p.value("status", ""), "committed") << p.dump();
  EXPECT_EQ(p.value("proposal_status", ""), "open") << p.dump();
  std::string add_id = p.value("proposal_id", "");
  // Not a member yet: its admin cannot act.
  cli::ApiClient c4(Url(1), std::chrono::seconds(60));
  auto early = c4.Submit(admin4, model::tx::kAnchorPut, {{"hash", RandomHex32()}, {"tag", "early"}});
  EXPECT_FALSE(early.ok());
  // org1 again does not count twice; org2 through its own node completes it.
  CmdResult twice = Medledger("governance approve " + add_id + " --url " + Url(0) + " --key " + AdminKeyPath(0) + " 2>&1");
  EXPECT_NE(twice.rc, 0) << twice.out;
  json a = Gov({"approve", add_id}, 1, AdminKeyPath(1));
  EXPECT_EQ(a.value("proposal_status", ""), "executed") << a.dump();
  ASSERT_TRUE(WaitUntil([&] { return Converged({0, 1, 2}); }));
  for (int i = 0; i < 3; ++i) EXPECT_EQ(Org(i, "org4").value("active", false), true) << "node " << i;

  // org4's node joins: a copy of node 3's data dir (its chain already holds
  // org4) with org4's node key.
  pid_t pid3 = net_["nodes"][2]["pid"].get<pid_t>();
  ASSERT_EQ(::kill(pid3, SIGTERM), 0);
  ASSERT_TRUE(WaitUntil([&] { return !Alive(pid3); }));
  std::string dir4 = dir_ + "/node4";
  fs::copy(net_["nodes"][2]["data_dir"].get<std::string>(), dir4, fs::copy_options::recursive);
  fs::remove(dir4 + "/keys/node.key");
  ASSERT_TRUE(crypto::WriteKeyFile(dir4 + "/keys/node.key", node4).ok());
  CmdResult again = Medledger("network up --dir " + dir_);
  ASSERT_EQ(again.rc, 0) << again.out;
  Track(json::parse(again.out));
  std::string orderer = "etcd://";
  for (const auto& ep : EtcdEndpoints()) orderer += (orderer.size() > 7 ? "," : "") + ep;
  test::ProcessOptions po;
  po.stdout_path = dir_ + "/node4.out";
  po.stderr_path = dir_ + "/node4.log";
  auto proc = test::Process::Spawn(
      {test::MedledgerBin(), "node", "--data-dir", dir4, "--listen", "127.0.0.1:0", "--orderer", orderer}, po);
  ASSERT_TRUE(proc.ok()) << proc.status().ToString();
  node4_ = std::move(*proc);
  ASSERT_TRUE(WaitUntil([&] {
    auto j = json::parse(test::ReadFileOrEmpty(po.stdout_path), nullptr, false);
    if (j.is_object() && j.contains("url")) url4_ = j["url"].get<std::string>();
    return !url4_.empty() || !node4_->Running();
  }));
  ASSERT_FALSE(url4_.empty()) << test::FileTail(po.stderr_path);

  // Its admin now acts, through its own node, whose blocks everyone applies
  // (a node's mempool is its own: these commit only in blocks it proposes).
  cli::ApiClient via4(Url(3), std::chrono::seconds(60));
  for (int i = 0; i < 5; ++i) {
    auto r = via4.Submit(admin4, model::tx::kAnchorPut, {{"hash", RandomHex32()}, {"tag", "org4"}});
    ASSERT_TRUE(r.ok()) << r.status().ToString() << test::FileTail(po.stderr_path);
  }
  EXPECT_GT(Status(3)["ordering"]["blocks_won"].get<uint64_t>(), 0u);
  ASSERT_TRUE(WaitUntil([&] { return Converged({0, 1, 2, 3}); })) << Status(3).dump(2);
  ASSERT_TRUE(WaitUntil([&] { return PeerIds(0).count(node4.id()) == 1; })) << Status(0).dump(2);

  // Removal: org2 proposes, org3 approves.
  p = Gov({"propose-remove", "--org-id", "org4"}, 1, AdminKeyPath(1));
  EXPECT_EQ(p.value("proposal_status", ""), "open") << p.dump();
  a = Gov({"approve", p.value("proposal_id", "")}, 2, AdminKeyPath(2));
  EXPECT_EQ(a.value("proposal_status", ""), "executed") << a.dump();
  ASSERT_TRUE(WaitUntil([&] { return Converged({0, 1, 2, 3}); }));
  for (int i = 0; i < 4; ++i) EXPECT_EQ(Org(i, "org4").value("active", true), false) << "node " << i;

  // Its keys are refused from then on, at any node.
  cli::ApiClient c0(Url(0), std::chrono::seconds(60));
  auto late = c0.Submit(admin4, model::tx::kAnchorPut, {{"hash", RandomHex32()}, {"tag", "late"}});
  ASSERT_FALSE(late.ok());
  EXPECT_NE(late.status().message().find("revoked_key"), std::string::npos) << late.status().ToString();
  // Its node is no peer any more (nor a checkpoint signer: same rule).
  EXPECT_TRUE(WaitUntil([&] { return PeerIds(0).count(node4.id()) == 0; })) << Status(0).dump(2);

  // A block signed by its node key is refused by every node: they halt
  // naming the organisation instead of applying it.
  json s = Status(0);
  uint64_t h = s["height"].get<uint64_t>();
  auto nk0 = crypto::ReadKeyFile(net_["nodes"][0]["node_key"].get<std::string>());
  ASSERT_TRUE(nk0.ok());
  std::string target = "/v1/blocks/" + std::to_string(h) + "?format=binary";
  auto head = c0.Raw("GET", target, "", "application/json", api::SignRequest(*nk0, "GET", target, "", {}));
  ASSERT_TRUE(head.ok() && head->status == 200);
  auto prev = model::DecodeHeader(Bytes(head->body.begin(), head->body.end()));
  ASSERT_TRUE(prev.ok());
  model::Block bad;
  bad.header.height = h + 1;
  bad.header.prev_hash = prev->Hash();
  bad.header.timestamp_ms = prev->timestamp_ms + 1;
  bad.header.state_root = prev->state_root;
  bad.Seal();
  bad.Sign(node4);
  ordering::EtcdClient etcd(EtcdEndpoints(), std::chrono::milliseconds(5000));
  auto put = etcd.PutIfAbsent(node::EtcdBlockKey(s["chain_id"].get<std::string>(), h + 1), bad.Encode());
  ASSERT_TRUE(put.ok()) << put.status().ToString();
  ASSERT_TRUE(WaitUntil([&] {
    for (int i = 0; i < 4; ++i)
      if (Status(i)["halted"] != true) return false;
    return true;
  }));
  for (int i = 0; i < 4; ++i) {
    json si = Status(i);
    EXPECT_EQ(si["height"], h) << "node " << i << " applied the removed organisation's block";
    std::string why = si.value("halt_reason", "");
    EXPECT_NE(why.find("'org4' is not an active member"), std::string::npos) << why;
  }

  // Every store replays cleanly offline.
  node4_->Terminate();
  CmdResult down = Medledger("network down --dir " + dir_);
  ASSERT_EQ(down.rc, 0) << down.out;
  for (const std::string& d : {net_["nodes"][0]["data_dir"].get<std::string>(),
                               net_["nodes"][1]["data_dir"].get<std::string>(),
                               net_["nodes"][2]["data_dir"].get<std::string>(), dir4}) {
    CmdResult v = Medledger("verify --data-dir " + d);
    EXPECT_EQ(v.rc, 0) << d << ": " << v.out;
  }
}

}  // namespace
}  // namespace medledger
