// Request authentication against a real node (api/auth.h), tried as an
// attacker on the same network would: a captured write replayed, a write's
// patient swapped in transit, a capture replayed after a clean restart and
// after a crash, an unregistered key flooding reads, and what such a key
// learns or writes to the chain.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <thread>

#include "api/http_signature.h"
#include "crypto/ed25519.h"
#include "crypto/keyfile.h"
#include "custodian/fhir_index.h"
#include "http/client.h"
#include "model/transaction.h"
#include "model/tx_json.h"
#include "model/tx_types.h"
#include "tests/support/test_node.h"

namespace medledger::test {
namespace {

using nlohmann::json;

constexpr const char* kObservation =
    R"({"resourceType":"Observation","id":"obs-1","status":"final","code":{"text":"heart rate"},)"
    R"("valueQuantity":{"value":72,"unit":"/min"}})";

class RequestAuthTest : public ::testing::Test {
 protected:
  void SetUp() override {
    crypto::InitCrypto();
    auto n = TestNode::Start();
    ASSERT_TRUE(n.ok()) << n.status().ToString();
    node_ = std::move(*n);
    Connect();
    auto admin = crypto::ReadKeyFile(node_->admin_key());
    ASSERT_TRUE(admin.ok());
    admin_.emplace(*admin);
    patient_.emplace(crypto::KeyPair::Generate());
    Commit(model::tx::kIdentityRegister, {{"pubkey", patient_->id()}, {"roles", {"patient"}}});
  }
  void Connect() { client_ = std::make_unique<http::Client>(node_->url(), std::chrono::seconds(60)); }

  json Status() {
    auto s = client_->Get("/v1/status");
    EXPECT_TRUE(s.ok());
    return s.ok() ? json::parse(s->body) : json::object();
  }
  void Commit(uint16_t type, const json& payload) {
    json st = Status();
    static uint64_t nonce = 1;
    auto tx = model::MakeTransaction(st.value("chain_id", ""), *admin_, type, payload, nonce++,
                                     st.value("height", uint64_t(0)) + 1000);
    ASSERT_TRUE(tx.ok());
    auto r = client_->Post("/v1/tx?wait_ms=30000", model::TxToJson(*tx).dump());
    ASSERT_TRUE(r.ok());
    ASSERT_EQ(json::parse(r->body).value("status", ""), "committed") << r->body;
  }

  // A signed PUT of the Observation for `patient_`, as `record put` sends it.
  http::Request SignedPut() {
    http::Request r;
    r.method = "PUT";
    r.target = "/fhir/Observation/obs-1";
    r.body = kObservation;
    r.headers = api::SignRequest(*admin_, r.method, r.target, r.body,
                                 {{"Content-Type", "application/fhir+json"},
                                  {api::kPatientHeader, patient_->id()},
                                  {std::string(api::kNodeHeader), Status().value("node_id", "")}});
    return r;
  }
  http::ClientResponse Send(const http::Request& r) {
    auto resp = client_->Request(r.method, r.target, r.body, r.headers);
    EXPECT_TRUE(resp.ok()) << resp.status().ToString();
    return resp.ok() ? *resp : http::ClientResponse{};
  }
  // The Observation's latest version as the index holds it (0: none).
  // Signed afresh on each try, as the CLI does: after a crash the node
  // answers 503 with Retry-After until signatures postdate its bound.
  int64_t Version() {
    std::string target = "/v1/records?reference=Observation/obs-1";
    for (int attempt = 0; attempt < 30; ++attempt) {
      auto r = client_->Get(target, api::SignRequest(*admin_, "GET", target, "", {}));
      if (r.ok() && r->status == 503 && r->Header("Retry-After")) {
        std::this_thread::sleep_for(std::chrono::seconds(std::stoi(*r->Header("Retry-After"))));
        continue;
      }
      if (!r.ok() || r->status != 200) return 0;
      return json::parse(r->body).value("latest", int64_t(0));
    }
    return 0;
  }

  std::unique_ptr<TestNode> node_;
  std::unique_ptr<http::Client> client_;
  std::optional<crypto::KeyPair> admin_, patient_;
};

// Item 1: the same captured write sent three times makes one version.
TEST_F(RequestAuthTest, CapturedWriteReplayedIsRefused) {
  http::Request put = SignedPut();
  auto first = Send(put);
  ASSERT_LT(first.status, 300) << first.body;
  for (int i = 0; i < 2; ++i) {
    auto again = Send(put);
    EXPECT_EQ(again.status, 401) << again.body;
    EXPECT_NE(again.body.find("replayed"), std::string::npos) << again.body;
  }
  EXPECT_EQ(Version(), 1);
  // The interim header scheme is gone: its headers alone authenticate nothing.
  auto interim = client_->Request("PUT", "/fhir/Observation/obs-1", kObservation,
                                  {{"X-Medledger-Key", admin_->id()},
                                   {"X-Medledger-Signature", std::string(128, '0')},
                                   {"X-Medledger-Created", "0"},
                                   {"Content-Type", "application/fhir+json"}});
  ASSERT_TRUE(interim.ok());
  EXPECT_EQ(interim->status, 401);
}

// Item 2: a proxy that rewrites the patient of a signed write is refused,
// and so is one that adds a header the server acts on.
TEST_F(RequestAuthTest, SwappedPatientOrAddedPreconditionRefused) {
  auto attacker = crypto::KeyPair::Generate();
  http::Request put = SignedPut();
  for (auto& [n, v] : put.headers)
    if (n == api::kPatientHeader) v = attacker.id();
  auto swapped = Send(put);
  EXPECT_EQ(swapped.status, 401) << swapped.body;
  http::Request added = SignedPut();
  added.headers.emplace_back("If-None-Exist", "identifier=x|y");
  EXPECT_EQ(Send(added).status, 401);
  EXPECT_EQ(Version(), 0);
  // A write that does not name this node (or names another) is refused.
  http::Request unbound;
  unbound.method = "PUT";
  unbound.target = "/fhir/Observation/obs-1";
  unbound.body = kObservation;
  unbound.headers = api::SignRequest(*admin_, "PUT", unbound.target, unbound.body,
                                     {{"Content-Type", "application/fhir+json"}, {api::kPatientHeader, patient_->id()}});
  EXPECT_EQ(Send(unbound).status, 401);
  // A body labelled as text is not a FHIR resource.
  http::Request text;
  text.method = "PUT";
  text.target = "/fhir/Observation/obs-1";
  text.body = kObservation;
  text.headers = api::SignRequest(*admin_, "PUT", text.target, text.body,
                                  {{"Content-Type", "text/plain"},
                                   {api::kPatientHeader, patient_->id()},
                                   {std::string(api::kNodeHeader), Status().value("node_id", "")}});
  EXPECT_EQ(Send(text).status, 415);
  auto tx_text = client_->Post("/v1/tx", "{}", "text/plain");
  ASSERT_TRUE(tx_text.ok());
  EXPECT_EQ(tx_text->status, 415);
}

// Item 3: a write captured before a restart is not accepted after it,
// whether the node stopped cleanly (its nonces were saved) or crashed (it
// refuses signatures made before its persisted bound, with Retry-After).
TEST_F(RequestAuthTest, CapturedWriteReplayedAfterRestartIsRefused) {
  http::Request put = SignedPut();
  ASSERT_LT(Send(put).status, 300);
  ASSERT_TRUE(node_->Stop().ok());
  ASSERT_TRUE(node_->Restart().ok());
  Connect();
  EXPECT_EQ(Send(put).status, 401);
  node_->Kill();
  ASSERT_TRUE(node_->Restart().ok());
  Connect();
  auto after_crash = Send(put);
  EXPECT_EQ(after_crash.status, 503) << after_crash.body;
  EXPECT_TRUE(after_crash.Header("Retry-After").has_value());
  EXPECT_EQ(Version(), 1);
}

// Items 4 and 5: an unregistered key spends no nonce and writes nothing to
// the chain, however much it reads; it learns nothing about which ids exist.
TEST_F(RequestAuthTest, UnregisteredKeyWritesNothingAndLearnsNothing) {
  ASSERT_LT(Send(SignedPut()).status, 300);
  const uint64_t committed = Status().value("committed_txs", uint64_t(0));
  auto stranger = crypto::KeyPair::Generate();
  auto read = [&](const std::string& target) {
    auto r = client_->Get(target, api::SignRequest(stranger, "GET", target, "", {{"X-Purpose-Of-Use", "TREAT"}}));
    EXPECT_TRUE(r.ok());
    return r.ok() ? *r : http::ClientResponse{};
  };
  auto existing = read("/fhir/Observation/obs-1");
  auto missing = read("/fhir/Observation/no-such-id");
  EXPECT_EQ(existing.status, 403);
  EXPECT_EQ(missing.status, 403);
  for (int i = 0; i < 20; ++i) EXPECT_EQ(read("/fhir/Patient/" + std::to_string(i) + "/$everything").status, 403);
  // Nothing reached the mempool or the chain on its account.
  auto st = Status();
  EXPECT_EQ(st.value("pending_txs", uint64_t(1)), 0u);
  EXPECT_EQ(st.value("committed_txs", uint64_t(0)), committed);
  auto metrics = client_->Get("/metrics");
  ASSERT_TRUE(metrics.ok());
  EXPECT_NE(metrics->body.find("medledger_auth_unregistered_total 22"), std::string::npos);
  // A registered key's reads are unaffected.
  std::string target = "/v1/records?reference=Observation/obs-1";
  auto ok = client_->Get(target, api::SignRequest(*admin_, "GET", target, "", {}));
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->status, 200);
  // Who is a patient, and where, is not for strangers.
  std::string who = "/v1/identities/" + patient_->id();
  EXPECT_EQ(client_->Get(who)->status, 401);
  EXPECT_EQ(client_->Get(who, api::SignRequest(stranger, "GET", who, "", {}))->status, 403);
  EXPECT_EQ(client_->Get(who, api::SignRequest(*patient_, "GET", who, "", {}))->status, 200);
  EXPECT_EQ(client_->Get(who, api::SignRequest(*admin_, "GET", who, "", {}))->status, 200);
}

}  // namespace
}  // namespace medledger::test
