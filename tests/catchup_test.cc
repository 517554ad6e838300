// Catch-up from peers on a real etcd network (node/peer_sync.h): nodes sign
// checkpoints every 10 blocks and prune etcd's block keys 5 below the latest
// majority checkpoint; a node stopped meanwhile finds its next blocks gone
// from etcd and fetches them from peers, checked against the checkpoint.
//
//   honest:   the peers are honest; the node catches up, every node has the
//             same head and state root, and `verify` is clean everywhere.
//   withheld, tampered: node 1 is stopped and its directory entry (signed
//             with its genuine node key) points at a fake peer in this test
//             that answers 404 for one block of the gap, or serves that
//             block altered and re-signed with node 1's key. The catching-up
//             node names the fake peer and the height, and finishes from the
//             honest node 2.
//
// Waits are bounded by progress conditions; nothing passes or fails on time.
#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "api/fhir_forward.h"
#include "api/http_signature.h"
#include "cli/api_client.h"
#include "crypto/keyfile.h"
#include "etcd/etcd_client.h"
#include "http/client.h"
#include "http/server.h"
#include "model/block.h"
#include "model/tx_types.h"
#include "node/checkpoint.h"
#include "node/etcd_orderer.h"
#include "node/orderer.h"
#include "tests/support/network.h"
#include "tests/support/process.h"
#include "tests/support/shell.h"

namespace medledger {
namespace {

using nlohmann::json;
using test::CmdResult;
using test::Medledger;
using test::WaitUntil;

constexpr int kCheckpointInterval = 10;
constexpr int kKeepBlocks = 5;

// A peer that serves node 2's blocks, except one height, which it withholds
// (404) or serves altered and re-signed with a genuine node key.
class FakePeer {
 public:
  FakePeer(std::string honest_url, crypto::KeyPair key, std::string mode, uint64_t bad_height)
      : honest_url_(std::move(honest_url)), key_(std::move(key)), mode_(std::move(mode)), bad_height_(bad_height) {
    http::ServerOptions o;
    server_ = std::make_unique<http::Server>(o);
    server_->Route("GET", "/v1/blocks/{height}", [this](http::Request& req, http::Reply reply) {
      uint64_t h = std::stoull(req.params[0]);
      requests_++;
      if (h == bad_height_ && mode_ == "withheld") {
        bad_served_++;
        return reply(http::Response::Error(404, "not_found", "no block at height " + req.params[0]));
      }
      http::Client c(honest_url_, std::chrono::seconds(10));
      std::string target = "/v1/blocks/" + std::to_string(h) + "?format=binary";
      auto r = c.Get(target, api::SignRequest(key_, "GET", target, "", {}));
      if (!r.ok() || r->status != 200) return reply(http::Response::Error(502, "upstream", "honest node failed"));
      http::Response out;
      out.content_type = "application/octet-stream";
      out.body = r->body;
      if (h == bad_height_ && mode_ == "tampered") {
        // A different state root, properly signed by a registered node key:
        // only the hash chain down from the checkpoint can tell.
        auto b = model::DecodeBlock(Bytes(r->body.begin(), r->body.end()));
        if (!b.ok()) return reply(http::Response::Error(502, "upstream", "undecodable"));
        b->header.state_root[0] ^= 0x5a;
        b->Sign(key_);
        Bytes enc = b->Encode();
        out.body.assign(enc.begin(), enc.end());
        bad_served_++;
      }
      reply(std::move(out));
    });
  }
  Status Start() { return server_->Start(); }
  ~FakePeer() { server_->Stop(); }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(server_->port()); }
  int requests() const { return requests_; }
  int bad_served() const { return bad_served_; }

 private:
  std::string honest_url_;
  crypto::KeyPair key_;
  std::string mode_;
  uint64_t bad_height_;
  std::unique_ptr<http::Server> server_;
  std::atomic<int> requests_{0}, bad_served_{0};
};

class CatchupTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override { ASSERT_TRUE(net_.MakeDir("medledger-catchup")); }
  void TearDown() override {
    fake_.reset();
    restarted_.reset();  // SIGKILLs and reaps it if still running
    net_.TearDown(HasFailure());
  }

  void Up() {
    auto up = net_.Up("--nodes 3 --checkpoint-interval " + std::to_string(kCheckpointInterval) +
                      " --etcd-keep-blocks " + std::to_string(kKeepBlocks));
    ASSERT_TRUE(up.ok()) << up.status().ToString();
    chain_id_ = net_.Status(0)["chain_id"].get<std::string>();
  }

  crypto::KeyPair Key(int i, const char* which) const {
    auto k = crypto::ReadKeyFile(net_.info()["nodes"][i][which].get<std::string>());
    EXPECT_TRUE(k.ok());
    return *k;
  }

  // Anchors from two threads, one per node in `nodes`, until *stop.
  void Load(const std::vector<int>& nodes, std::atomic<bool>* stop) {
    std::vector<std::thread> ts;
    for (int node : nodes) {
      ts.emplace_back([&, node] {
        cli::ApiClient c(net_.Url(node), std::chrono::seconds(60));
        crypto::KeyPair admin = Key(node, "key");
        while (!*stop) (void)c.Submit(admin, model::tx::kAnchorPut, {{"hash", test::RandomHex32()}, {"tag", "catchup"}});
      });
    }
    for (auto& t : ts) t.join();
  }

  bool BlockInEtcd(etcd::EtcdClient& etcd, uint64_t h) {
    auto g = etcd.Get(node::EtcdBlockKey(chain_id_, h));
    return g.ok() && g->has_value();
  }

  // Starts node i again, by PID, with the flags `network up` gives it.
  void RestartNode(int i) {
    std::string url = net_.Url(i);
    std::string orderer = net_.OrdererUrl();
    test::ProcessOptions po;
    po.stdout_path = net_.dir() + "/restarted.out";
    po.stderr_path = net_.dir() + "/restarted.log";
    auto p = test::Process::Spawn({test::MedledgerBin(), "node", "--data-dir", net_.DataDir(i),
                                   "--listen", url.substr(std::string("http://").size()), "--orderer", orderer,
                                   "--checkpoint-interval", std::to_string(kCheckpointInterval), "--etcd-keep-blocks",
                                   std::to_string(kKeepBlocks)},
                                  po);
    ASSERT_TRUE(p.ok()) << p.status().ToString();
    restarted_ = std::move(*p);
    ASSERT_TRUE(WaitUntil([&] { return net_.Status(i).is_object() || !restarted_->Running(); }))
        << test::FileTail(po.stderr_path);
    ASSERT_TRUE(restarted_->Running()) << test::FileTail(po.stderr_path);
  }

  // Publishes a directory entry for `key` pointing at `url`, newer than any
  // the real nodes publish, so the catching-up node asks it first.
  void PublishPeer(etcd::EtcdClient& etcd, const crypto::KeyPair& key, const std::string& org,
                   const std::string& url) {
    node::PeerEntry e;
    e.node_id = key.id();
    e.org = org;
    e.url = url;
    e.time_ms = int64_t(node::NowMs()) + 3600 * 1000;
    e.sig = key.Sign(e.SigningBytes(chain_id_));
    auto put = etcd.Put(node::PeerDirectoryPrefix(chain_id_) + e.node_id, ToBytes(e.ToJson()));
    ASSERT_TRUE(put.ok()) << put.status().ToString();
  }

  test::Network net_;
  std::string chain_id_;
  std::unique_ptr<test::Process> restarted_;
  std::unique_ptr<FakePeer> fake_;
};

TEST_P(CatchupTest, StoppedNodeCatchesUpFromPeersAfterEtcdWasPruned) {
  const std::string mode = GetParam();
  Up();
  etcd::EtcdClient etcd(net_.EtcdEndpoints(), std::chrono::milliseconds(5000));
  std::atomic<bool> stop{false};
  std::thread load([&] { Load({0, 1}, &stop); });
  ASSERT_TRUE(WaitUntil([&] { return net_.Height(2) > 3; }));
  // Node 3 stops; the others go on and prune what it has not applied.
  ASSERT_EQ(::kill(net_.NodePid(2), SIGKILL), 0);
  ASSERT_TRUE(WaitUntil([&] { return !net_.Status(2).is_object(); }));
  uint64_t behind = 0;
  {
    // Its head: read from its store after the kill, by `verify`.
    CmdResult v = Medledger("verify --data-dir " + net_.DataDir(2));
    json vj = json::parse(v.out, nullptr, false);
    ASSERT_TRUE(vj.is_object()) << v.out;
    behind = vj["height"].get<uint64_t>();
  }
  bool pruned = WaitUntil([&] { return !BlockInEtcd(etcd, behind + 1) && net_.Height(0) > behind + 3 * kCheckpointInterval; });
  stop = true;
  load.join();
  ASSERT_TRUE(pruned) << "etcd was not pruned past node 3's head " << behind << "; node 1 status: " << net_.Status(0).dump();
  // Whichever node pruned (any may; the other may not have had its round yet).
  uint64_t pruned_below = 0, checkpoint = 0;
  for (int i = 0; i < 2; ++i) {
    json si = net_.Status(i);
    pruned_below = std::max(pruned_below, si["catchup"]["pruned_below"].get<uint64_t>());
    checkpoint = std::max(checkpoint, si["catchup"]["latest_checkpoint"].get<uint64_t>());
  }
  EXPECT_GT(pruned_below, behind + 1);
  EXPECT_GE(checkpoint, pruned_below + kKeepBlocks);
  ASSERT_TRUE(WaitUntil([&] { return net_.Height(1) == net_.Height(0); }));

  int honest = 1;  // node 2
  if (mode != "honest") {
    // Node 1 goes away; its genuine key now fronts a peer that cheats on
    // block behind + 1 (in the gap, so it must be fetched from a peer).
    ASSERT_EQ(::kill(net_.NodePid(0), SIGKILL), 0);
    ASSERT_TRUE(WaitUntil([&] { return !net_.Status(0).is_object(); }));
    fake_ = std::make_unique<FakePeer>(net_.Url(honest), Key(0, "node_key"), mode, behind + 1);
    ASSERT_TRUE(fake_->Start().ok());
    PublishPeer(etcd, Key(0, "node_key"), "org1", fake_->url());
  }
  uint64_t target = net_.Height(honest);

  RestartNode(2);
  ASSERT_TRUE(WaitUntil([&] { return net_.Height(2) >= target; })) << net_.Status(2).dump(2) << test::FileTail(net_.dir() + "/restarted.log");
  json s2 = net_.Status(2);
  EXPECT_EQ(s2["halted"], false) << s2.dump(2);
  EXPECT_GT(s2["catchup"]["blocks_from_peers"].get<uint64_t>(), 0u) << s2.dump(2);
  EXPECT_EQ(s2["height"], net_.Status(honest)["height"]);
  EXPECT_EQ(s2["state_root"], net_.Status(honest)["state_root"]);
  if (mode != "honest") {
    EXPECT_GT(fake_->bad_served(), 0) << "the fake peer was never asked for the block it cheats on";
    std::string why = s2["catchup"].value("last_peer_failure", "");
    std::string fake_id = Key(0, "node_key").id().substr(0, 16);
    EXPECT_NE(why.find("peer " + fake_id), std::string::npos) << why;
    EXPECT_NE(why.find("block " + std::to_string(behind + 1) + ":"), std::string::npos) << why;
    EXPECT_NE(why.find(mode == "withheld" ? "withheld" : "altered"), std::string::npos) << why;
    std::string log = test::ReadFileOrEmpty(net_.dir() + "/restarted.log");
    EXPECT_NE(log.find("peer " + fake_id), std::string::npos);
  }

  // Stop everything and audit every store offline.
  restarted_->Terminate();
  fake_.reset();
  CmdResult down = Medledger("network down --dir " + net_.dir());
  ASSERT_EQ(down.rc, 0) << down.out;
  for (int i = 0; i < 3; ++i) {
    CmdResult v = Medledger("verify --data-dir " + net_.DataDir(i));
    EXPECT_EQ(v.rc, 0) << "node " << i << ": " << v.out;
    json vj = json::parse(v.out, nullptr, false);
    EXPECT_EQ(vj["ok"], true) << v.out;
  }
}

INSTANTIATE_TEST_SUITE_P(Peers, CatchupTest, ::testing::Values("honest", "withheld", "tampered"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace medledger
