// Reads wait for the chain head (node/head_barrier.h, the read side), on a real
// three-organisation network: org2's node is the custodian of a patient's
// record, org1's node is where the patient revokes a consent and where the
// practitioner reads through. A revocation acknowledged by org1's node is
// honoured by the custodian for every read that starts afterwards, even when
// the custodian was paused (SIGSTOP) while the revocation committed. With no
// etcd quorum the custodian cannot confirm the head: consent-based reads
// answer 503, a declared emergency is served and flagged. Lag is injected by
// pausing processes, never by sleeping; every process is stopped by PID.
#include <gtest/gtest.h>
#include <signal.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "api/http_signature.h"
#include "crypto/aead.h"
#include "crypto/keyfile.h"
#include "http/client.h"
#include "model/transaction.h"
#include "model/tx_json.h"
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

constexpr int kA = 0, kB = 1;  // org1 (the practitioner's), org2 (the custodian)

class ReadBarrierTest : public ::testing::Test {
 protected:
  void SetUp() override {
    crypto::InitCrypto();
    ASSERT_TRUE(net_.MakeDir("medledger-rbar"));
    auto up = net_.Up("--nodes 3");
    ASSERT_TRUE(up.ok()) << up.status().ToString();
    auto s = Client(kA).Get("/v1/status");
    ASSERT_TRUE(s.ok());
    chain_id_ = json::parse(s->body).value("chain_id", "");

    auto admin_a = Key(net_.AdminKeyFile(kA));
    auto admin_b = Key(net_.AdminKeyFile(kB));
    patient_.emplace(crypto::KeyPair::Generate());
    doctor_.emplace(crypto::KeyPair::Generate());
    Commit(kB, admin_b, model::tx::kIdentityRegister, {{"pubkey", patient_->id()}, {"roles", {"patient"}}});
    Commit(kA, admin_a, model::tx::kIdentityRegister, {{"pubkey", doctor_->id()}, {"roles", {"practitioner"}}});
    // The Observation belongs to the patient through its subject.
    const std::string patient = R"({"resourceType":"Patient","id":"p1","gender":"female"})";
    const std::string obs = R"({"resourceType":"Observation","id":"o1","status":"final","code":{"text":"glucose"},)"
                            R"("subject":{"reference":"Patient/p1"},"valueQuantity":{"value":5.40,"unit":"mmol/L"}})";
    for (const auto& [name, body] : {std::pair{"p1.json", patient}, std::pair{"o1.json", obs}}) {
      std::string path = net_.dir() + "/" + name;
      std::ofstream(path) << body;
      CmdResult put = Medledger("record put --url " + net_.Url(kB) + " --key " + net_.AdminKeyFile(kB) +
                                " --patient " + patient_->id() + " " + path);
      ASSERT_EQ(put.rc, 0) << put.out;
    }
  }
  void TearDown() override {
    for (pid_t p : paused_) ::kill(p, SIGCONT);
    net_.TearDown(HasFailure());
  }

  crypto::KeyPair Key(const std::string& file) const {
    auto k = crypto::ReadKeyFile(file);
    EXPECT_TRUE(k.ok()) << file;
    return *k;
  }
  http::Client Client(int i) const { return http::Client(net_.Url(i), std::chrono::seconds(60)); }

  // Submits at node i and returns once node i acknowledges the commit: the
  // other nodes may not have applied it yet (that is the point).
  void Commit(int i, const crypto::KeyPair& k, uint16_t type, const json& payload) {
    uint64_t nonce;
    crypto::RandomBytes(reinterpret_cast<uint8_t*>(&nonce), sizeof nonce);
    auto tx = model::MakeTransaction(chain_id_, k, type, payload, nonce, net_.Height(i) + 1000);
    ASSERT_TRUE(tx.ok());
    auto r = Client(i).Post("/v1/tx?wait_ms=60000", model::TxToJson(*tx).dump());
    ASSERT_TRUE(r.ok());
    ASSERT_EQ(json::parse(r->body, nullptr, false).value("status", ""), "committed") << r->body;
  }

  // The practitioner's read of the record, straight at the custodian.
  http::ClientResponse Read(const std::string& reason = {}) {
    http::HeaderList h = {{std::string(api::kPurposeHeader), reason.empty() ? "TREAT" : "ETREAT"}};
    if (!reason.empty()) h.emplace_back(std::string(api::kBreakGlassHeader), reason);
    const std::string target = "/fhir/Observation/o1";
    auto r = Client(kB).Request("GET", target, {}, api::SignRequest(*doctor_, "GET", target, {}, std::move(h)));
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : http::ClientResponse{};
  }

  void Pause(pid_t p) {
    ASSERT_TRUE(test::StopProcess(p));
    paused_.push_back(p);
  }
  void Resume(pid_t p) {
    ASSERT_EQ(::kill(p, SIGCONT), 0);
    paused_.erase(std::remove(paused_.begin(), paused_.end(), p), paused_.end());
  }

  test::Network net_;
  std::string chain_id_;
  std::optional<crypto::KeyPair> patient_, doctor_;
  std::vector<pid_t> paused_;
};

TEST_F(ReadBarrierTest, RevocationAcknowledgedElsewhereIsHonouredByAPausedCustodian) {
  const std::string consent = ToHex(crypto::RandomArray<16>());
  Commit(kA, *patient_, model::tx::kConsentGrant,
         {{"consent_id", consent}, {"patient_org", "*"}, {"grantee", doctor_->id()}, {"types", {"Observation"}},
          {"purposes", {"TREAT"}}});
  // Granted, once the custodian has the grant: reads wait for the head.
  auto granted = Read();
  ASSERT_EQ(granted.status, 200) << granted.body;

  // The custodian is paused while the revocation commits through org1's node.
  Pause(net_.NodePid(kB));
  Commit(kA, *patient_, model::tx::kConsentRevoke, {{"consent_id", consent}});
  Resume(net_.NodePid(kB));
  // Every read that starts after the acknowledgement is denied.
  for (int i = 0; i < 6; ++i) {
    auto r = Read();
    EXPECT_EQ(r.status, 403) << "read " << i << " after the revocation was acknowledged: " << r.body;
  }
}

TEST_F(ReadBarrierTest, WithoutQuorumConsentReadsWaitAndBreakGlassIsFlagged) {
  Commit(kA, *patient_, model::tx::kConsentGrant,
         {{"consent_id", ToHex(crypto::RandomArray<16>())}, {"patient_org", "*"}, {"grantee", doctor_->id()},
          {"types", {"Observation"}}, {"purposes", {"TREAT"}}});
  ASSERT_EQ(Read().status, 200);
  // Two of three etcd members paused: no quorum, so no linearizable read.
  Pause(net_.EtcdPid(0));
  Pause(net_.EtcdPid(1));
  auto consent_read = Read();
  EXPECT_EQ(consent_read.status, 503) << consent_read.body;
  EXPECT_TRUE(consent_read.Header("Retry-After").has_value());
  auto emergency = Read("patient-unconscious");
  EXPECT_EQ(emergency.status, 200) << emergency.body;
  EXPECT_EQ(emergency.Header("X-Medledger-Head-Unconfirmed").value_or(""), "true");
  EXPECT_EQ(emergency.Header("X-Medledger-Break-Glass").value_or(""), "true");
  // Quorum back: consent reads are served again.
  Resume(net_.EtcdPid(0));
  Resume(net_.EtcdPid(1));
  EXPECT_TRUE(WaitUntil([&] { return Read().status == 200; }));
}

}  // namespace
}  // namespace medledger
