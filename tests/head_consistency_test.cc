// A node answers from the chain, not from how far it happens to have got
// (node/head_barrier.h): before screening a transaction against its state, a
// node waits until it has applied every block the ordering service held when
// the request arrived (node::Orderer::AwaitHead). Lag is injected by pausing
// a process (SIGSTOP, then SIGCONT), never by sleeping; waits are bounded by
// progress conditions with generous limits, and nothing passes or fails on
// elapsed time.
#include <gtest/gtest.h>
#include <signal.h>

#include <fstream>
#include <future>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "cli/api_client.h"
#include "crypto/keyfile.h"
#include "http/client.h"
#include "model/block.h"
#include "model/tx_json.h"
#include "model/tx_types.h"
#include "tests/support/network.h"
#include "tests/support/process.h"
#include "tests/support/shell.h"

namespace medledger {
namespace {

using nlohmann::json;
using test::QueuedRequests;
using test::WaitUntil;

int PortOf(const std::string& url) { return std::stoi(url.substr(url.rfind(':') + 1)); }

class HeadConsistencyTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(net_.MakeDir("medledger-head")); }
  void TearDown() override {
    // Whatever failed, nothing stays stopped: `network down` must reach it.
    for (pid_t p : stopped_) ::kill(p, SIGCONT);
    net_.TearDown(HasFailure());
  }

  void Up() {
    auto up = net_.Up("--nodes 3");
    ASSERT_TRUE(up.ok()) << up.status().ToString();
  }
  crypto::KeyPair AdminKey(int i) const {
    auto k = crypto::ReadKeyFile(net_.AdminKeyFile(i));
    EXPECT_TRUE(k.ok());
    return *k;
  }
  void Pause(pid_t p) {
    stopped_.push_back(p);
    ASSERT_TRUE(test::StopProcess(p));
  }
  void Resume(pid_t p) {
    ASSERT_EQ(::kill(p, SIGCONT), 0);
    std::erase(stopped_, p);
  }
  // A transaction built here, without asking any node (a node being asked
  // would give the paused one time to catch up before the request).
  model::Transaction Tx(const crypto::KeyPair& key, uint16_t type, const json& payload) {
    json s = net_.Status(0);
    uint64_t h = s.value("height", uint64_t(0));
    auto tx = model::MakeTransaction(s.value("chain_id", ""), key, type, payload, ++nonce_, h + 1000);
    EXPECT_TRUE(tx.ok()) << tx.status().ToString();
    return *tx;
  }
  // POST /v1/tx at node i, as raw as it gets: no retry.
  Result<http::ClientResponse> Post(int i, const model::Transaction& tx) {
    http::Client c(net_.Url(i), std::chrono::seconds(60));
    return c.Post("/v1/tx", model::TxToJson(tx).dump());
  }
  // Post, again while the answer is 503 (etcd electing a leader after a
  // partition, say), bounded against a hang.
  Result<http::ClientResponse> PostAnswered(int i, const model::Transaction& tx) {
    Result<http::ClientResponse> r = Unavailable("not sent");
    WaitUntil([&] {
      r = Post(i, tx);
      return !r.ok() || r->status != 503;
    });
    return r;
  }
  // What node i says about a transaction, asked by org 1's admin (a member).
  Result<json> Lookup(int i, const std::string& id) {
    cli::ApiClient c(net_.Url(i), std::chrono::seconds(60));
    return c.GetSignedJson(AdminKey(0), "/v1/tx/" + id);
  }
  uint64_t Ordering(int i, const char* field) {
    json s = net_.Status(i);
    return s.is_object() && s.contains("ordering") ? s["ordering"].value(field, uint64_t(0)) : 0;
  }

  test::Network net_;
  std::vector<pid_t> stopped_;
  uint64_t nonce_ = 0;
};

// An identity registered through node 1 is used at once through node 2,
// which was paused while the registration committed: node 2 admits the
// transaction (after applying the registration) and never rejects it
// unknown_signer. Several rounds, since each is a race without the barrier.
TEST_F(HeadConsistencyTest, IdentityRegisteredThroughOneNodeIsUsableAtOnceThroughALaggingOne) {
  Up();
  const crypto::KeyPair admin = AdminKey(0);
  cli::ApiClient via0(net_.Url(0), std::chrono::seconds(60));
  const int port1 = PortOf(net_.Url(1));
  for (int round = 0; round < 5; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    auto key = crypto::KeyPair::Generate();
    Pause(net_.NodePid(1));
    auto reg = via0.Submit(admin, model::tx::kIdentityRegister, {{"pubkey", key.id()}, {"roles", {"practitioner"}}});
    ASSERT_TRUE(reg.ok()) << reg.status().ToString();
    ASSERT_EQ(reg->value("status", ""), "committed") << reg->dump();
    model::Transaction tx = Tx(key, model::tx::kAnchorPut, {{"hash", test::RandomHex32()}, {"tag", "lag"}});
    const std::string id = ToHex(tx.Id());
    auto answer = std::async(std::launch::async, [&] { return Post(1, tx); });
    // The request waits in node 2's socket, with the registration's block in
    // its watch stream; both are handled when it resumes.
    bool queued = WaitUntil([&] {
      return QueuedRequests(port1) >= 1 || answer.wait_for(std::chrono::seconds(0)) == std::future_status::ready;
    });
    ASSERT_TRUE(queued);
    ASSERT_NE(answer.wait_for(std::chrono::seconds(0)), std::future_status::ready)
        << "answered while paused: " << [&] {
             auto r = answer.get();
             return r.ok() ? std::to_string(r->status) + " " + r->body : r.status().ToString();
           }();
    Resume(net_.NodePid(1));
    auto r = answer.get();
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_TRUE(r->status == 200 || r->status == 202) << r->status << " " << r->body;
    EXPECT_EQ(r->body.find("unknown_signer"), std::string::npos) << r->body;
    json got = json::parse(r->body, nullptr, false);
    ASSERT_TRUE(got.is_object()) << r->body;
    EXPECT_NE(got.value("status", ""), "rejected") << r->body;
    cli::ApiClient via1(net_.Url(1), std::chrono::seconds(60));
    auto done = via1.WaitTx(key, id, std::chrono::seconds(120));
    ASSERT_TRUE(done.ok()) << done.status().ToString();
    EXPECT_EQ(done->value("status", ""), "committed") << done->dump();
  }
  EXPECT_GT(Ordering(1, "head_reads"), 0u);
}

// Without an etcd quorum a node cannot know the head: admission answers 503
// with Retry-After, for a valid transaction and for one it would reject
// alike, and records nothing (afterwards the node knows neither id). The CLI
// retries such answers and succeeds once the quorum is back. A halted node
// answers 503 too.
TEST_F(HeadConsistencyTest, AdmissionIsUnavailableAndRecordsNothingWithoutQuorumOrWhenHalted) {
  Up();
  const crypto::KeyPair admin = AdminKey(0);
  {
    // One transaction through the barrier first, so that its head client is
    // connected and the failures below are the partition's.
    cli::ApiClient via0(net_.Url(0), std::chrono::seconds(60));
    auto warm = via0.Submit(admin, model::tx::kAnchorPut, {{"hash", test::RandomHex32()}, {"tag", "warm"}});
    ASSERT_TRUE(warm.ok()) << warm.status().ToString();
  }
  const uint64_t failures_before = Ordering(0, "head_read_failures") + Ordering(0, "head_timeouts");
  model::Transaction valid = Tx(admin, model::tx::kAnchorPut, {{"hash", test::RandomHex32()}, {"tag", "cut off"}});
  model::Transaction stranger =
      Tx(crypto::KeyPair::Generate(), model::tx::kAnchorPut, {{"hash", test::RandomHex32()}, {"tag", "unknown"}});

  // Two of three etcd members paused: no quorum.
  Pause(net_.EtcdPid(1));
  Pause(net_.EtcdPid(2));
  for (const model::Transaction* tx : {&valid, &stranger}) {
    auto r = Post(0, *tx);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->status, 503) << r->body;
    EXPECT_TRUE(r->Header("retry-after").has_value()) << r->body;
    EXPECT_EQ(r->body.find("rejected"), std::string::npos) << r->body;
  }
  EXPECT_GT(Ordering(0, "head_read_failures") + Ordering(0, "head_timeouts"), failures_before);

  // The CLI, meanwhile, keeps retrying a registration until etcd is back.
  auto newcomer = crypto::KeyPair::Generate();
  test::ProcessOptions po;
  po.stdout_path = net_.dir() + "/cli-retry.out";
  po.stderr_path = net_.dir() + "/cli-retry.err";
  po.env = {"MEDLEDGER_URL", "MEDLEDGER_KEY"};
  auto cli = test::Process::Spawn({test::MedledgerBin(), "identity", "register", "--pubkey", newcomer.id(), "--role",
                                   "practitioner", "--url", net_.Url(0), "--key", net_.AdminKeyFile(0)},
                                  po);
  ASSERT_TRUE(cli.ok()) << cli.status().ToString();
  const uint64_t seen = Ordering(0, "head_read_failures") + Ordering(0, "head_timeouts");
  // Its first try has been answered 503 once another head wait failed.
  ASSERT_TRUE(WaitUntil([&] { return Ordering(0, "head_read_failures") + Ordering(0, "head_timeouts") > seen; }));
  Resume(net_.EtcdPid(1));
  Resume(net_.EtcdPid(2));
  auto code = (*cli)->Wait(std::chrono::seconds(120));
  ASSERT_TRUE(code.has_value()) << "the CLI did not finish";
  EXPECT_EQ(*code, 0) << test::FileTail(po.stdout_path) << test::FileTail(po.stderr_path);

  // Nothing was recorded for the two refused transactions.
  for (const model::Transaction* tx : {&valid, &stranger}) {
    Result<json> got = Unavailable("not asked");
    ASSERT_TRUE(WaitUntil([&] {
      got = Lookup(0, ToHex(tx->Id()));
      return got.ok() || got.status().code() != StatusCode::kUnavailable;
    }));
    ASSERT_FALSE(got.ok()) << got->dump();
    EXPECT_EQ(got.status().code(), StatusCode::kNotFound) << got.status().ToString();
  }
  // Sent again, the valid one is admitted and the stranger's rejected.
  auto again = PostAnswered(0, valid);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->status == 200 || again->status == 202) << again->body;
  auto refused = PostAnswered(0, stranger);
  ASSERT_TRUE(refused.ok());
  EXPECT_NE(refused->body.find("unknown_signer"), std::string::npos) << refused->body;

  // A block signed by a key that is no node's halts every node; a halted
  // node cannot catch up, so it answers 503 rather than screen.
  // (Built on the current head; if a block of the transactions above takes
  // that height first, the put loses and is built again.)
  Status put = Unavailable("not put");
  ASSERT_TRUE(WaitUntil([&] {
    json s = net_.Status(0);
    auto bad = net_.NextBlock(0, s["height"].get<uint64_t>());
    if (!bad.ok()) return false;
    bad->Seal();
    bad->Sign(crypto::KeyPair::Generate());
    put = net_.PutBlock(s["chain_id"].get<std::string>(), *bad);
    return put.ok();
  })) << put.ToString();
  ASSERT_TRUE(WaitUntil([&] { return net_.AllHalted(3); }));
  auto halted = Post(1, Tx(admin, model::tx::kAnchorPut, {{"hash", test::RandomHex32()}, {"tag", "halted"}}));
  ASSERT_TRUE(halted.ok());
  EXPECT_EQ(halted->status, 503) << halted->body;
  EXPECT_TRUE(halted->Header("retry-after").has_value());
  EXPECT_NE(halted->body.find("halted"), std::string::npos) << halted->body;
}

}  // namespace
}  // namespace medledger
