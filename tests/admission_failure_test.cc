// When this node cannot read its own state, admission must say "retry", not
// "rejected": a failure of the node is never a verdict on the transaction.
// The node runs in process with a hook that fails the ledger's state reads
// (ledger/store_testing.h), as a failing disk would.
#include <gtest/gtest.h>

#include <atomic>
#include <nlohmann/json.hpp>

#include "api/http_signature.h"
#include "cli/daemon.h"
#include "crypto/aead.h"
#include "crypto/keyfile.h"
#include "http/client.h"
#include "model/transaction.h"
#include "model/tx_json.h"
#include "model/tx_types.h"
#include "tests/support/test_node.h"

namespace medledger::test {
namespace {

using nlohmann::json;

class AdmissionFailureTest : public ::testing::Test {
 protected:
  void SetUp() override {
    crypto::InitCrypto();
    data_ = dir_.path() + "/data";
    CommandResult init = RunCli({"init", "--data-dir", data_});
    ASSERT_EQ(init.exit_code, 0) << init.Describe();
    auto admin = crypto::ReadKeyFile(data_ + "/keys/admin.key");
    ASSERT_TRUE(admin.ok());
    admin_.emplace(*admin);
    cli::DaemonConfig cfg;
    cfg.data_dir = data_;
    cfg.listen = "127.0.0.1:0";
    cfg.state_read_fault = [this](std::string_view) {
      return failing_.load() ? Unavailable("injected: the disk could not be read") : Status::Ok();
    };
    auto d = cli::Daemon::Start(cfg);
    ASSERT_TRUE(d.ok()) << d.status().ToString();
    node_ = std::move(*d);
    client_ = std::make_unique<http::Client>(node_->url(), std::chrono::seconds(60));
    auto s = client_->Get("/v1/status");
    ASSERT_TRUE(s.ok() && s->status == 200);
    json st = json::parse(s->body);
    chain_id_ = st.value("chain_id", "");
    height_ = st.value("height", uint64_t(0));
  }
  void TearDown() override {
    failing_ = false;
    node_.reset();
  }

  model::Transaction Register(const crypto::KeyPair& who) {
    uint64_t nonce;
    crypto::RandomBytes(reinterpret_cast<uint8_t*>(&nonce), sizeof nonce);
    auto tx = model::MakeTransaction(chain_id_, *admin_, model::tx::kIdentityRegister,
                                     json{{"pubkey", who.id()}, {"roles", {"patient"}}}, nonce, height_ + 1000);
    EXPECT_TRUE(tx.ok());
    return *tx;
  }
  json SignedGet(const std::string& target) {
    auto r = client_->Get(target, api::SignRequest(*admin_, "GET", target, "", {}));
    EXPECT_TRUE(r.ok());
    return json::parse(r->body, nullptr, false);
  }

  TempDir dir_{"medledger-admission"};
  std::string data_, chain_id_;
  uint64_t height_ = 0;
  std::optional<crypto::KeyPair> admin_;
  std::atomic<bool> failing_{false};
  std::unique_ptr<cli::Daemon> node_;
  std::unique_ptr<http::Client> client_;
};

TEST_F(AdmissionFailureTest, UnreadableStateAnswers503AndRecordsNoRejection) {
  auto tx = Register(crypto::KeyPair::Generate());
  const std::string id = ToHex(tx.Id());
  failing_ = true;
  auto r = client_->Post("/v1/tx", model::TxToJson(tx).dump());
  failing_ = false;
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 503) << r->body;
  EXPECT_TRUE(r->Header("Retry-After").has_value());
  json body = json::parse(r->body, nullptr, false);
  EXPECT_EQ(body["error"].value("code", ""), "unavailable") << r->body;

  // Nothing was recorded: the transaction is unknown, not rejected.
  json got = SignedGet("/v1/tx/" + id);
  EXPECT_NE(got.value("status", ""), "rejected") << got.dump();

  // The same transaction, once the disk reads again, is admitted and commits.
  auto again = client_->Post("/v1/tx?wait_ms=30000", model::TxToJson(tx).dump());
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(json::parse(again->body, nullptr, false).value("status", ""), "committed") << again->body;
}

TEST_F(AdmissionFailureTest, UnreadableStateInABatchIsUnavailableNotRejected) {
  auto tx = Register(crypto::KeyPair::Generate());
  failing_ = true;
  auto r = client_->Post("/v1/txs", json::array({model::TxToJson(tx)}).dump());
  failing_ = false;
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->status, 200) << r->body;
  json body = json::parse(r->body, nullptr, false);
  EXPECT_EQ(body.value("rejected", -1), 0) << r->body;
  EXPECT_EQ(body.value("unavailable", -1), 1) << r->body;
  EXPECT_EQ(body["results"][0].value("status", ""), "unavailable") << r->body;
  EXPECT_NE(SignedGet("/v1/tx/" + ToHex(tx.Id())).value("status", ""), "rejected");
}

}  // namespace
}  // namespace medledger::test
