// Consortium network on loopback (issue 4): real etcd members and real
// medledger nodes started by `medledger network up`, driven through the HTTP
// API and the CLI. Waits are bounded by progress conditions (heights, tx
// states) with generous deadlines; nothing passes or fails on elapsed time.
// Every process is stopped by PID (`network down`, and the fixture kills
// what is left by the PIDs `network up` printed).
#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "api/http_signature.h"
#include "cli/api_client.h"
#include "tests/support/shell.h"
#include "crypto/keyfile.h"
#include "model/block.h"
#include "model/tx_types.h"
#include "node/etcd_orderer.h"
#include "ordering/etcd_client.h"

namespace medledger {
namespace {

using nlohmann::json;
using test::CmdResult;
using test::Medledger;
using test::WaitUntil;
namespace fs = std::filesystem;

std::string RandomHex32() {
  static std::mutex mu;
  static std::mt19937_64 rng(std::random_device{}());
  std::lock_guard lock(mu);
  std::string s;
  char buf[17];
  for (int i = 0; i < 4; ++i) {
    std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(rng()));
    s += buf;
  }
  return s;
}

class NetworkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/medledger-net-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }

  void TearDown() override { test::TearDownNetwork(dir_, pids_, HasFailure()); }

  void Up() {
    CmdResult r = Medledger("network up --dir " + dir_ + " --nodes 3");
    ASSERT_EQ(r.rc, 0) << r.out;
    net_ = json::parse(r.out, nullptr, false);
    ASSERT_FALSE(net_.is_discarded()) << r.out;
    ASSERT_EQ(net_["nodes"].size(), 3u);
    ASSERT_EQ(net_["etcd"].size(), 3u);
    for (const auto& n : net_["nodes"])
      if (n["pid"].is_number()) pids_.push_back(n["pid"].get<pid_t>());
    for (const auto& e : net_["etcd"])
      if (e["pid"].is_number()) pids_.push_back(e["pid"].get<pid_t>());
  }

  std::string Url(int i) const { return net_["nodes"][i]["url"].get<std::string>(); }
  crypto::KeyPair AdminKey(int i) const {
    auto k = crypto::ReadKeyFile(net_["nodes"][i]["key"].get<std::string>());
    EXPECT_TRUE(k.ok());
    return *k;
  }
  std::vector<std::string> EtcdEndpoints() const {
    std::vector<std::string> eps;
    for (const auto& e : net_["etcd"]) eps.push_back(e["endpoint"].get<std::string>());
    return eps;
  }
  pid_t NodePid(int i) const { return net_["nodes"][i]["pid"].get<pid_t>(); }
  pid_t EtcdPid(int i) const { return net_["etcd"][i]["pid"].get<pid_t>(); }

  json Status(int i) const {
    cli::ApiClient c(Url(i), std::chrono::seconds(5));
    auto s = c.Status();
    return s.ok() ? *s : json();
  }
  uint64_t Height(int i) const {
    json s = Status(i);
    return s.is_object() ? s.value("height", uint64_t(0)) : 0;
  }

  // All listed nodes at the same height >= min_height with the same root.
  bool Converged(const std::vector<int>& nodes, uint64_t min_height) const {
    std::string root;
    uint64_t h = 0;
    for (size_t k = 0; k < nodes.size(); ++k) {
      json s = Status(nodes[k]);
      if (!s.is_object()) return false;
      if (k == 0) {
        h = s["height"].get<uint64_t>();
        root = s["state_root"].get<std::string>();
        if (h < min_height) return false;
      } else if (s["height"].get<uint64_t>() != h || s["state_root"].get<std::string>() != root) {
        return false;
      }
    }
    return true;
  }

  // Submits `count` transactions, round robin over `nodes`, from `threads`
  // client threads; each waits for its commit. Mixed: anchors, identity
  // registrations, and one deliberately rejected transaction per thread.
  // Returns the ids of committed (acknowledged) transactions.
  std::vector<std::string> Load(const std::vector<int>& nodes, int count, int threads = 3,
                                std::atomic<bool>* stop = nullptr) {
    std::mutex mu;
    std::vector<std::string> acked;
    std::atomic<int> next{0};
    std::vector<std::thread> ts;
    for (int t = 0; t < threads; ++t) {
      ts.emplace_back([&, t] {
        int node = nodes[t % nodes.size()];
        cli::ApiClient c(Url(node), std::chrono::seconds(60));
        crypto::KeyPair admin = AdminKey(node);
        bool sent_bad = false;
        while (true) {
          int i = next++;
          if (i >= count || (stop && *stop)) break;
          Result<json> r = Unavailable("not sent");
          if (i % 4 == 3) {
            auto k = crypto::KeyPair::Generate();
            r = c.Submit(admin, model::tx::kIdentityRegister, {{"pubkey", k.id()}, {"roles", {"practitioner"}}});
          } else {
            r = c.Submit(admin, model::tx::kAnchorPut, {{"hash", RandomHex32()}, {"tag", "net"}});
          }
          if (r.ok()) {
            std::lock_guard lock(mu);
            acked.push_back((*r)["id"].get<std::string>());
          }
          if (!sent_bad) {
            // Rejected by every node alike: registering an existing key.
            sent_bad = true;
            auto bad = c.Submit(admin, model::tx::kIdentityRegister, {{"pubkey", admin.id()}, {"roles", {"practitioner"}}});
            EXPECT_FALSE(bad.ok());
          }
        }
      });
    }
    for (auto& t : ts) t.join();
    return acked;
  }

  void ExpectCommittedEverywhere(const std::vector<std::string>& ids) {
    for (int i = 0; i < 3; ++i) {
      cli::ApiClient c(Url(i), std::chrono::seconds(10));
      const crypto::KeyPair admin = AdminKey(0);  // a member's key reads at every node
      for (const auto& id : ids) {
        auto r = c.GetSignedJson(admin, "/v1/tx/" + id);
        ASSERT_TRUE(r.ok()) << "node " << i << " tx " << id << ": " << r.status().ToString();
        EXPECT_EQ((*r).value("status", ""), "committed") << "node " << i << " tx " << id;
      }
    }
  }

  std::string dir_;
  json net_;
  std::vector<pid_t> pids_;
};

TEST_F(NetworkTest, ThreeNodesAgreeAfterMixedLoad) {
  Up();
  auto acked = Load({0, 1, 2}, 90, 6);
  EXPECT_GE(acked.size(), 80u);
  uint64_t h = Height(0);
  ASSERT_TRUE(WaitUntil([&] { return Converged({0, 1, 2}, h); })) << "nodes did not converge";
  ExpectCommittedEverywhere(acked);
  // Every node sees every other's signed root report, agreeing.
  ASSERT_TRUE(WaitUntil([&] {
    for (int i = 0; i < 3; ++i) {
      json s = Status(i);
      if (!s.contains("peers") || s["peers"].size() != 3) return false;
      for (const auto& p : s["peers"])
        if (p["agrees"] != true) return false;
    }
    return true;
  })) << Status(0).dump(2);
  for (int i = 0; i < 3; ++i) {
    json s = Status(i);
    EXPECT_EQ(s["orderer"], "etcd");
    EXPECT_EQ(s["halted"], false);
    EXPECT_EQ(s["divergent_peers"], 0);
  }
  CmdResult st = Medledger("network status --dir " + dir_);
  EXPECT_EQ(st.rc, 0) << st.out;
  json sj = json::parse(st.out, nullptr, false);
  EXPECT_EQ(sj["roots_agree"], true) << st.out;
}

TEST_F(NetworkTest, KilledNodeCatchesUpAndVerifies) {
  Up();
  Load({0, 1, 2}, 20);
  std::atomic<bool> stop{false};
  std::vector<std::string> acked;
  std::thread load([&] { acked = Load({0, 1}, 100000, 2, &stop); });
  uint64_t before = Height(0);
  ASSERT_TRUE(WaitUntil([&] { return Height(0) > before + 3; }));
  ASSERT_EQ(::kill(NodePid(2), SIGKILL), 0);
  uint64_t at_kill = Height(0);
  // The others keep committing without node 3.
  EXPECT_TRUE(WaitUntil([&] { return Height(0) > at_kill + 10 && Height(1) > at_kill + 10; }));
  stop = true;
  load.join();
  // `network up` again restarts only what is not running.
  CmdResult r = Medledger("network up --dir " + dir_);
  ASSERT_EQ(r.rc, 0) << r.out;
  json again = json::parse(r.out);
  EXPECT_EQ(again["nodes"][0]["pid"], net_["nodes"][0]["pid"]);
  EXPECT_NE(again["nodes"][2]["pid"], net_["nodes"][2]["pid"]);
  pids_.push_back(again["nodes"][2]["pid"].get<pid_t>());
  uint64_t h = Height(0);
  ASSERT_TRUE(WaitUntil([&] { return Converged({0, 1, 2}, h); })) << Status(2).dump(2);
  ExpectCommittedEverywhere(acked);
  CmdResult down = Medledger("network down --dir " + dir_);
  ASSERT_EQ(down.rc, 0) << down.out;
  for (int i = 0; i < 3; ++i) {
    CmdResult v = Medledger("verify --data-dir " + net_["nodes"][i]["data_dir"].get<std::string>());
    EXPECT_EQ(v.rc, 0) << v.out;
    json vj = json::parse(v.out, nullptr, false);
    EXPECT_EQ(vj["ok"], true) << v.out;
    EXPECT_EQ(vj["height"], h) << "node " << i;
  }
}

TEST_F(NetworkTest, EtcdQuorumLossStopsCommitsWithoutLosingAcknowledgedTxs) {
  Up();
  auto acked = Load({0, 1, 2}, 15);
  // One of three members gone: commits continue.
  ASSERT_EQ(::kill(EtcdPid(2), SIGKILL), 0);
  auto more = Load({0, 1, 2}, 15);
  EXPECT_EQ(more.size(), 15u);
  acked.insert(acked.end(), more.begin(), more.end());
  uint64_t h = Height(0);
  ASSERT_TRUE(WaitUntil([&] { return Converged({0, 1, 2}, h); }));
  // Two gone: no quorum, so nothing can be ordered and nothing commits.
  ASSERT_EQ(::kill(EtcdPid(1), SIGKILL), 0);
  uint64_t frozen = Height(0);
  std::vector<std::string> during;
  std::thread pending([&] {
    cli::ApiClient c(Url(0), std::chrono::seconds(120));
    auto admin = AdminKey(0);
    auto r = c.Submit(admin, model::tx::kAnchorPut, {{"hash", RandomHex32()}, {"tag", "outage"}}, false);
    if (r.ok()) {
      during.push_back((*r)["id"].get<std::string>());
      auto done = c.WaitTx(admin, (*r)["id"].get<std::string>(), std::chrono::seconds(120));
      EXPECT_TRUE(done.ok()) << done.status().ToString();
    }
  });
  // Observe the frozen network for a while (a check of no progress, not a
  // timing assertion: a slow machine cannot make it fail wrongly).
  std::this_thread::sleep_for(std::chrono::seconds(3));
  for (int i = 0; i < 3; ++i) EXPECT_EQ(Height(i), frozen) << "node " << i << " committed without quorum";
  for (int i = 0; i < 3; ++i) EXPECT_EQ(Status(i)["halted"], false);
  // Restart the two members; the pending transaction then commits.
  CmdResult r = Medledger("network up --dir " + dir_);
  ASSERT_EQ(r.rc, 0) << r.out;
  json again = json::parse(r.out);
  for (const auto& e : again["etcd"]) pids_.push_back(e["pid"].get<pid_t>());
  pending.join();
  auto after = Load({0, 1, 2}, 6);
  EXPECT_EQ(after.size(), 6u);
  acked.insert(acked.end(), during.begin(), during.end());
  acked.insert(acked.end(), after.begin(), after.end());
  h = Height(0);
  ASSERT_TRUE(WaitUntil([&] { return Converged({0, 1, 2}, h); }));
  ExpectCommittedEverywhere(acked);
}

TEST_F(NetworkTest, TamperedBlockHaltsEveryNodeWithAClearError) {
  Up();
  Load({0, 1, 2}, 9);
  uint64_t h = Height(0);
  ASSERT_TRUE(WaitUntil([&] { return Converged({0, 1, 2}, h); }));
  json s = Status(0);
  h = s["height"].get<uint64_t>();
  // A block signed by a genuine node key (node 1's) whose state root is a
  // lie: only re-execution can catch it.
  auto node_key = crypto::ReadKeyFile(net_["nodes"][0]["node_key"].get<std::string>());
  ASSERT_TRUE(node_key.ok());
  cli::ApiClient c(Url(0));
  const std::string head_target = "/v1/blocks/" + std::to_string(h) + "?format=binary";
  auto head = c.Raw("GET", head_target, "", "application/json", api::SignRequest(*node_key, "GET", head_target, "", {}));
  ASSERT_TRUE(head.ok());
  auto prev = model::DecodeHeader(Bytes(head->body.begin(), head->body.end()));
  ASSERT_TRUE(prev.ok());
  model::Block bad;
  bad.header.height = h + 1;
  bad.header.prev_hash = prev->Hash();
  bad.header.timestamp_ms = prev->timestamp_ms + 1;
  bad.header.state_root = prev->state_root;
  bad.header.state_root[0] ^= 0xff;
  bad.Seal();
  bad.Sign(*node_key);
  ordering::EtcdClient etcd(EtcdEndpoints(), std::chrono::milliseconds(5000));
  std::string chain_id = s["chain_id"].get<std::string>();
  auto put = etcd.PutIfAbsent(node::EtcdBlockKey(chain_id, h + 1), bad.Encode());
  ASSERT_TRUE(put.ok()) << put.status().ToString();
  ASSERT_TRUE(WaitUntil([&] {
    for (int i = 0; i < 3; ++i)
      if (Status(i)["halted"] != true) return false;
    return true;
  }));
  for (int i = 0; i < 3; ++i) {
    json si = Status(i);
    EXPECT_EQ(si["height"], h) << "node " << i << " applied the tampered block";
    std::string why = si.value("halt_reason", "");
    EXPECT_NE(why.find("block " + std::to_string(h + 1)), std::string::npos) << why;
    EXPECT_NE(why.find("state root differs"), std::string::npos) << why;
  }
  // A halted node does not order anything more.
  auto r = c.Submit(AdminKey(0), model::tx::kAnchorPut, {{"hash", RandomHex32()}, {"tag", "after"}}, false);
  ASSERT_TRUE(r.ok());
  std::this_thread::sleep_for(std::chrono::seconds(1));
  EXPECT_EQ(Height(0), h);
  CmdResult st = Medledger("network status --dir " + dir_);
  EXPECT_NE(st.rc, 0) << st.out;
}

TEST(NetworkCliTest, RejectsBadOrdererUrls) {
  EXPECT_FALSE(node::ParseEtcdOrdererUrl("etcd://").ok());
  EXPECT_FALSE(node::ParseEtcdOrdererUrl("etcd://host").ok());
  EXPECT_FALSE(node::ParseEtcdOrdererUrl("etcd://host:0").ok());
  EXPECT_FALSE(node::ParseEtcdOrdererUrl("http://h:1").ok());
  auto ok = node::ParseEtcdOrdererUrl("etcd://127.0.0.1:2379,127.0.0.1:2380");
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->size(), 2u);
}

}  // namespace
}  // namespace medledger
