// Consortium network on loopback: real etcd members and real
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
#include <string>
#include <thread>
#include <vector>

#include "cli/api_client.h"
#include "crypto/keyfile.h"
#include "model/block.h"
#include "model/tx_json.h"
#include "model/tx_types.h"
#include "node/etcd_orderer.h"
#include "tests/support/network.h"
#include "tests/support/shell.h"

namespace medledger {
namespace {

using nlohmann::json;
using test::CmdResult;
using test::Medledger;
using test::WaitUntil;
namespace fs = std::filesystem;

class NetworkTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(net_.MakeDir("medledger-net")); }

  void TearDown() override { net_.TearDown(HasFailure()); }

  void Up() {
    auto up = net_.Up("--nodes 3");
    ASSERT_TRUE(up.ok()) << up.status().ToString();
    ASSERT_EQ(net_.info()["nodes"].size(), 3u);
    ASSERT_EQ(net_.info()["etcd"].size(), 3u);
  }

  crypto::KeyPair AdminKey(int i) const {
    auto k = crypto::ReadKeyFile(net_.AdminKeyFile(i));
    EXPECT_TRUE(k.ok());
    return *k;
  }

  // All listed nodes at the same height >= min_height with the same root.
  bool Converged(const std::vector<int>& nodes, uint64_t min_height) const {
    std::string root;
    uint64_t h = 0;
    for (size_t k = 0; k < nodes.size(); ++k) {
      json s = net_.Status(nodes[k]);
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
  // registrations, and one deliberately rejected transaction per thread,
  // which must be rejected for its own reason (a conflict) and no other.
  // Returns the ids of committed (acknowledged) transactions; a submission
  // that was not acknowledged adds its error to `failures` (if given), so a
  // caller that needs every one can say which failed and why.
  std::vector<std::string> Load(const std::vector<int>& nodes, int count, int threads = 3,
                                std::atomic<bool>* stop = nullptr, std::vector<std::string>* failures = nullptr) {
    std::mutex mu;
    std::vector<std::string> acked;
    std::atomic<int> next{0};
    std::vector<std::thread> ts;
    for (int t = 0; t < threads; ++t) {
      ts.emplace_back([&, t] {
        int node = nodes[t % nodes.size()];
        cli::ApiClient c(net_.Url(node), std::chrono::seconds(60));
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
            r = c.Submit(admin, model::tx::kAnchorPut, {{"hash", test::RandomHex32()}, {"tag", "net"}});
          }
          {
            std::lock_guard lock(mu);
            if (r.ok()) acked.push_back((*r)["id"].get<std::string>());
            else if (failures) failures->push_back("submission " + std::to_string(i) + " via node " +
                                                   std::to_string(node) + ": " + r.status().ToString());
          }
          if (!sent_bad) {
            // Rejected by every node alike: registering an existing key. Its
            // reason is asserted, so that a lagging node's unknown_signer or a
            // transport error cannot pass for it.
            sent_bad = true;
            auto bad = c.Submit(admin, model::tx::kIdentityRegister, {{"pubkey", admin.id()}, {"roles", {"practitioner"}}});
            EXPECT_FALSE(bad.ok()) << "registering an existing key was accepted";
            if (!bad.ok()) {
              EXPECT_EQ(bad.status().code(), StatusCode::kFailedPrecondition) << bad.status().ToString();
              EXPECT_NE(bad.status().message().find(" rejected: conflict: key is already registered"),
                        std::string::npos)
                  << bad.status().ToString();
            }
          }
        }
      });
    }
    for (auto& t : ts) t.join();
    return acked;
  }

  void ExpectCommittedEverywhere(const std::vector<std::string>& ids) {
    for (int i = 0; i < 3; ++i) {
      cli::ApiClient c(net_.Url(i), std::chrono::seconds(10));
      const crypto::KeyPair admin = AdminKey(0);  // a member's key reads at every node
      for (const auto& id : ids) {
        auto r = c.GetSignedJson(admin, "/v1/tx/" + id);
        ASSERT_TRUE(r.ok()) << "node " << i << " tx " << id << ": " << r.status().ToString();
        EXPECT_EQ((*r).value("status", ""), "committed") << "node " << i << " tx " << id;
      }
    }
  }

  test::Network net_;
};

TEST_F(NetworkTest, ThreeNodesAgreeAfterMixedLoad) {
  Up();
  std::vector<std::string> failures;
  auto acked = Load({0, 1, 2}, 90, 6, nullptr, &failures);
  // Every valid submission commits, whichever node it went to.
  EXPECT_EQ(acked.size(), 90u) << ::testing::PrintToString(failures);
  EXPECT_TRUE(failures.empty()) << ::testing::PrintToString(failures);
  uint64_t h = net_.Height(0);
  ASSERT_TRUE(WaitUntil([&] { return Converged({0, 1, 2}, h); })) << "nodes did not converge";
  ExpectCommittedEverywhere(acked);
  // Every node sees every other's signed root report, agreeing.
  ASSERT_TRUE(WaitUntil([&] {
    for (int i = 0; i < 3; ++i) {
      json s = net_.Status(i);
      if (!s.contains("peers") || s["peers"].size() != 3) return false;
      for (const auto& p : s["peers"])
        if (p["agrees"] != true) return false;
    }
    return true;
  })) << net_.Status(0).dump(2);
  for (int i = 0; i < 3; ++i) {
    json s = net_.Status(i);
    EXPECT_EQ(s["orderer"], "etcd");
    EXPECT_EQ(s["halted"], false);
    EXPECT_EQ(s["divergent_peers"], 0);
  }
  CmdResult st = Medledger("network status --dir " + net_.dir());
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
  uint64_t before = net_.Height(0);
  ASSERT_TRUE(WaitUntil([&] { return net_.Height(0) > before + 3; }));
  ASSERT_EQ(::kill(net_.NodePid(2), SIGKILL), 0);
  uint64_t at_kill = net_.Height(0);
  // The others keep committing without node 3.
  EXPECT_TRUE(WaitUntil([&] { return net_.Height(0) > at_kill + 10 && net_.Height(1) > at_kill + 10; }));
  stop = true;
  load.join();
  // `network up` again restarts only what is not running.
  auto again = net_.Up();  // tracks the restarted node's PID
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ((*again)["nodes"][0]["pid"], net_.info()["nodes"][0]["pid"]);
  EXPECT_NE((*again)["nodes"][2]["pid"], net_.info()["nodes"][2]["pid"]);
  uint64_t h = net_.Height(0);
  ASSERT_TRUE(WaitUntil([&] { return Converged({0, 1, 2}, h); })) << net_.Status(2).dump(2);
  ExpectCommittedEverywhere(acked);
  CmdResult down = Medledger("network down --dir " + net_.dir());
  ASSERT_EQ(down.rc, 0) << down.out;
  for (int i = 0; i < 3; ++i) {
    CmdResult v = Medledger("verify --data-dir " + net_.DataDir(i));
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
  ASSERT_EQ(::kill(net_.EtcdPid(2), SIGKILL), 0);
  auto more = Load({0, 1, 2}, 15);
  EXPECT_EQ(more.size(), 15u);
  acked.insert(acked.end(), more.begin(), more.end());
  uint64_t h = net_.Height(0);
  ASSERT_TRUE(WaitUntil([&] { return Converged({0, 1, 2}, h); }));
  // Two gone: no quorum, so nothing can be ordered and nothing commits.
  ASSERT_EQ(::kill(net_.EtcdPid(1), SIGKILL), 0);
  uint64_t frozen = net_.Height(0);
  std::vector<std::string> during;
  std::thread pending([&] {
    cli::ApiClient c(net_.Url(0), std::chrono::seconds(120));
    auto admin = AdminKey(0);
    auto r = c.Submit(admin, model::tx::kAnchorPut, {{"hash", test::RandomHex32()}, {"tag", "outage"}}, false);
    if (r.ok()) {
      during.push_back((*r)["id"].get<std::string>());
      auto done = c.WaitTx(admin, (*r)["id"].get<std::string>(), std::chrono::seconds(120));
      EXPECT_TRUE(done.ok()) << done.status().ToString();
    }
  });
  // Observe the frozen network for a while (a check of no progress, not a
  // timing assertion: a slow machine cannot make it fail wrongly).
  std::this_thread::sleep_for(std::chrono::seconds(3));
  for (int i = 0; i < 3; ++i) EXPECT_EQ(net_.Height(i), frozen) << "node " << i << " committed without quorum";
  for (int i = 0; i < 3; ++i) EXPECT_EQ(net_.Status(i)["halted"], false);
  // Restart the two members; the pending transaction then commits.
  auto again = net_.Up();  // tracks the restarted members' PIDs
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  pending.join();
  auto after = Load({0, 1, 2}, 6);
  EXPECT_EQ(after.size(), 6u);
  acked.insert(acked.end(), during.begin(), during.end());
  acked.insert(acked.end(), after.begin(), after.end());
  h = net_.Height(0);
  ASSERT_TRUE(WaitUntil([&] { return Converged({0, 1, 2}, h); }));
  ExpectCommittedEverywhere(acked);
}

TEST_F(NetworkTest, TamperedBlockHaltsEveryNodeWithAClearError) {
  Up();
  Load({0, 1, 2}, 9);
  uint64_t h = net_.Height(0);
  ASSERT_TRUE(WaitUntil([&] { return Converged({0, 1, 2}, h); }));
  json s = net_.Status(0);
  h = s["height"].get<uint64_t>();
  // A block signed by a genuine node key (node 1's) whose state root is a
  // lie: only re-execution can catch it.
  auto node_key = crypto::ReadKeyFile(net_.NodeKeyFile(0));
  ASSERT_TRUE(node_key.ok());
  cli::ApiClient c(net_.Url(0));
  auto bad = net_.NextBlock(0, h);
  ASSERT_TRUE(bad.ok()) << bad.status().ToString();
  bad->header.state_root[0] ^= 0xff;
  bad->Seal();
  bad->Sign(*node_key);
  auto put = net_.PutBlock(s["chain_id"].get<std::string>(), *bad);
  ASSERT_TRUE(put.ok()) << put.ToString();
  ASSERT_TRUE(WaitUntil([&] { return net_.AllHalted(3); }));
  for (int i = 0; i < 3; ++i) {
    json si = net_.Status(i);
    EXPECT_EQ(si["height"], h) << "node " << i << " applied the tampered block";
    std::string why = si.value("halt_reason", "");
    EXPECT_NE(why.find("block " + std::to_string(h + 1)), std::string::npos) << why;
    EXPECT_NE(why.find("state root differs"), std::string::npos) << why;
  }
  // A halted node admits nothing more: 503 with Retry-After, nothing
  // recorded (it cannot tell what the chain's head is).
  auto tx = c.Build(AdminKey(0), model::tx::kAnchorPut, {{"hash", test::RandomHex32()}, {"tag", "after"}});
  ASSERT_TRUE(tx.ok());
  auto r = c.Raw("POST", "/v1/tx", model::TxToJson(*tx).dump());
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 503) << r->body;
  EXPECT_TRUE(r->Header("Retry-After").has_value());
  EXPECT_EQ(net_.Height(0), h);
  CmdResult st = Medledger("network status --dir " + net_.dir());
  EXPECT_EQ(st.rc, 7) << st.out;  // the nodes disagree (cli/exit_codes.h)
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
