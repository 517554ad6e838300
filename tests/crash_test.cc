// Durability across a crash of the real node process: concurrent submitters
// post binary batches with ?wait=1 and remember every transaction the node
// acknowledged as committed; the node is SIGKILLed mid-load, restarted on the
// same data dir, and every acknowledged transaction must be there, committed;
// then the offline audit of the whole chain must be clean.
//
// (kill -9 leaves the page cache intact, so this test cannot see a missing
// fsync: tests/power_loss_test.cc runs the node in process with every store
// and the access journal on fault layers that drop unsynced writes, and
// src/ledger/crash_test.cc does the same for the block store alone.)
#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "api/http_signature.h"
#include "common/bytes.h"
#include "crypto/aead.h"
#include "crypto/ed25519.h"
#include "crypto/keyfile.h"
#include "http/client.h"
#include "model/transaction.h"
#include "model/tx_json.h"
#include "model/tx_types.h"
#include "tests/support/test_node.h"

namespace medledger::test {
namespace {

using nlohmann::json;

struct LoadResult {
  std::vector<std::string> acked;  // ids the node answered "committed" for
  uint64_t batches_acked = 0;
  uint64_t transport_errors = 0;   // requests cut off by the kill
  std::vector<std::string> unexpected;  // anything else worth failing on
};

// One submitter: signs batches of anchor transactions and posts them until
// told to stop or until the node is gone.
void Submit(const std::string& url, const crypto::KeyPair& key, const std::string& chain_id, uint64_t expiry,
            int batch_size, const std::atomic<bool>& stop, std::atomic<uint64_t>& acked_total, LoadResult& out) {
  http::Client client(url, std::chrono::seconds(120));
  while (!stop.load()) {
    Bytes body;
    ByteWriter w(&body);
    std::vector<std::string> ids;
    for (int i = 0; i < batch_size; ++i) {
      uint64_t nonce;
      crypto::RandomBytes(reinterpret_cast<uint8_t*>(&nonce), sizeof nonce);
      auto tx = model::MakeTransaction(chain_id, key, model::tx::kAnchorPut,
                                       {{"hash", ToHex(crypto::RandomArray<32>())}, {"tag", "crash"}}, nonce, expiry);
      if (!tx.ok()) {
        out.unexpected.push_back("cannot build a transaction: " + tx.status().ToString());
        return;
      }
      w.Var(tx->Encode());
      ids.push_back(ToHex(tx->Id()));
    }
    auto r = client.Post("/v1/txs?wait=1", std::string_view(reinterpret_cast<const char*>(body.data()), body.size()),
                         "application/octet-stream");
    if (!r.ok()) {
      // The node died under this request: none of it was acknowledged.
      out.transport_errors++;
      return;
    }
    if (r->status != 200) {
      out.unexpected.push_back("HTTP " + std::to_string(r->status) + ": " + r->body.substr(0, 300));
      return;
    }
    json j = json::parse(r->body, nullptr, false);
    if (j.is_discarded() || !j.contains("results") || j["results"].size() != ids.size()) {
      out.unexpected.push_back("unexpected batch answer: " + r->body.substr(0, 300));
      return;
    }
    for (size_t i = 0; i < ids.size(); ++i) {
      const json& res = j["results"][i];
      if (res.value("id", "") != ids[i]) {
        out.unexpected.push_back("result " + std::to_string(i) + " is for another transaction");
        return;
      }
      std::string status = res.value("status", "");
      if (status == "committed") {
        out.acked.push_back(ids[i]);
      } else if (status == "rejected") {
        out.unexpected.push_back("transaction rejected: " + res.dump());
      }
      // "pending" at the wait deadline is not an acknowledgement.
    }
    out.batches_acked++;
    acked_total += ids.size();
  }
}

TEST(CrashTest, AcknowledgedTransactionsSurviveKill9MidLoad) {
  crypto::InitCrypto();
  auto started = TestNode::Start();
  ASSERT_TRUE(started.ok()) << started.status().ToString();
  std::unique_ptr<TestNode> node = std::move(*started);
  auto admin = crypto::ReadKeyFile(node->admin_key());
  ASSERT_TRUE(admin.ok()) << admin.status().ToString();
  const std::string chain_id = node->init_info().value("chain_id", "");
  ASSERT_FALSE(chain_id.empty());

  // Several signers, so that transactions of many keys interleave in blocks.
  constexpr int kThreads = 8;
  constexpr int kBatch = 50;
  std::vector<crypto::KeyPair> keys = {*admin};
  {
    http::Client c(node->url(), std::chrono::seconds(60));
    for (int i = 1; i < 4; ++i) {
      crypto::KeyPair k = crypto::KeyPair::Generate();
      auto tx = model::MakeTransaction(chain_id, *admin, model::tx::kIdentityRegister,
                                       {{"pubkey", k.id()}, {"roles", {"practitioner"}}}, uint64_t(i), 1000);
      ASSERT_TRUE(tx.ok());
      auto r = c.Post("/v1/tx?wait=1", model::TxToJson(*tx).dump());
      ASSERT_TRUE(r.ok()) << r.status().ToString();
      ASSERT_EQ(json::parse(r->body).value("status", ""), "committed") << r->body;
      keys.push_back(k);
    }
  }

  std::atomic<bool> stop{false};
  std::atomic<uint64_t> acked_total{0};
  std::vector<LoadResult> results(kThreads);
  std::vector<std::thread> threads;
  const std::string url = node->url();
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      Submit(url, keys[t % keys.size()], chain_id, 5000, kBatch, stop, acked_total, results[t]);
    });

  // Kill once a good number of batches has been acknowledged, while the
  // submitters still have requests in flight. Bounded: if the node stops
  // acknowledging, the test fails rather than waits forever.
  constexpr uint64_t kKillAfter = 3000;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(5);
  while (acked_total.load() < kKillAfter && std::chrono::steady_clock::now() < deadline && node->running())
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  uint64_t acked_at_kill = acked_total.load();
  pid_t pid = node->pid();
  node->Kill();
  stop = true;
  for (auto& th : threads) th.join();
  ASSERT_GE(acked_at_kill, kKillAfter) << "the node did not acknowledge enough load before the deadline; log: "
                                       << node->LogTail();

  std::vector<std::string> acked;
  uint64_t cut_off = 0;
  for (const auto& r : results) {
    for (const auto& u : r.unexpected) ADD_FAILURE() << u;
    acked.insert(acked.end(), r.acked.begin(), r.acked.end());
    cut_off += r.transport_errors;
  }
  ASSERT_GE(acked.size(), kKillAfter);
  // The kill landed mid-load: requests were in flight when it came.
  EXPECT_GE(cut_off, 1u) << "no request was cut off by the kill of pid " << pid;

  // Restart on the same data dir: every acknowledged transaction is there.
  ASSERT_TRUE(node->Restart().ok()) << node->LogTail();
  ASSERT_NE(node->pid(), pid);
  http::Client c(node->url(), std::chrono::seconds(60));
  auto st = c.Get("/v1/status");
  ASSERT_TRUE(st.ok()) << st.status().ToString();
  json status = json::parse(st->body);
  // Three registrations plus the anchors; unacknowledged ones may or may not
  // have made it, but nothing acknowledged is missing.
  EXPECT_GE(status.value("committed_txs", uint64_t(0)), acked.size() + 3) << st->body;
  size_t missing = 0;
  for (const auto& id : acked) {
    // Reading a transaction needs a member's signed request (api/ledger_api.h).
    const std::string target = "/v1/tx/" + id;
    auto r = c.Get(target, api::SignRequest(*admin, "GET", target, "", {}));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    json j = json::parse(r->body, nullptr, false);
    if (r->status != 200 || j.value("status", "") != "committed" || !j.contains("height")) {
      if (++missing <= 5) ADD_FAILURE() << "acknowledged tx " << id << " after restart: HTTP " << r->status << " " << r->body;
    }
  }
  EXPECT_EQ(missing, 0u) << "of " << acked.size() << " acknowledged transactions";

  // The restarted node still takes transactions.
  auto tx = model::MakeTransaction(chain_id, *admin, model::tx::kAnchorPut,
                                   {{"hash", ToHex(crypto::RandomArray<32>())}, {"tag", "after"}}, 77, 6000);
  ASSERT_TRUE(tx.ok());
  auto after = c.Post("/v1/tx?wait=1", model::TxToJson(*tx).dump());
  ASSERT_TRUE(after.ok()) << after.status().ToString();
  EXPECT_EQ(json::parse(after->body).value("status", ""), "committed") << after->body;
  auto st2 = c.Get("/v1/status");
  ASSERT_TRUE(st2.ok());
  json final_status = json::parse(st2->body);

  // Stop it cleanly; the offline audit of the whole chain is clean and
  // agrees with what the node reported.
  ASSERT_TRUE(node->Stop().ok()) << node->LogTail();
  CommandResult v = RunCli({"verify", "--data-dir", node->data_dir()}, {}, std::chrono::minutes(5));
  ASSERT_EQ(v.exit_code, 0) << v.Describe();
  json report = json::parse(v.out, nullptr, false);
  ASSERT_FALSE(report.is_discarded()) << v.out;
  EXPECT_EQ(report.value("ok", false), true) << v.out;
  EXPECT_EQ(report.value("height", uint64_t(0)), final_status.value("height", uint64_t(1))) << v.out;
  EXPECT_EQ(report.value("valid_txs", uint64_t(0)), final_status.value("committed_txs", uint64_t(1))) << v.out;
}

}  // namespace
}  // namespace medledger::test
