// Cross-organisation reads (api/fhir_forward.h) on a real three-organisation
// network (`medledger network up`, real etcd, loopback only): org2 holds a
// patient's record; a practitioner registered by org1 reads it through
// org1's node, which forwards to org2's node. Denied without consent (exit 3,
// the denial on chain at every node), allowed after the patient's consent
// (bytes match the anchor), the access in the patient's audit at every node,
// and node-to-node calls with a forged, unregistered or non-node hop key
// refused. Waits are bounded by progress conditions, never by elapsed time;
// every process is stopped by PID.
#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "api/fhir_forward.h"
#include "api/http_signature.h"
#include "crypto/aead.h"
#include "crypto/keyfile.h"
#include "crypto/sha256.h"
#include "http/client.h"
#include "model/transaction.h"
#include "model/tx_json.h"
#include "model/tx_types.h"
#include "tests/support/network.h"
#include "tests/support/shell.h"

namespace medledger {
namespace {

using nlohmann::json;
using test::CmdResult;
using test::Medledger;
using test::WaitUntil;
namespace fs = std::filesystem;

class CrossOrgTest : public ::testing::Test {
 protected:
  void SetUp() override {
    crypto::InitCrypto();
    ASSERT_TRUE(net_.MakeDir("medledger-xorg"));
    auto up = net_.Up("--nodes 3");
    ASSERT_TRUE(up.ok()) << up.status().ToString();
    ASSERT_EQ(net_.info()["nodes"].size(), 3u);
    auto s = Client(0).Get("/v1/status");
    ASSERT_TRUE(s.ok());
    chain_id_ = json::parse(s->body).value("chain_id", "");
  }

  void TearDown() override { net_.TearDown(HasFailure()); }

  crypto::KeyPair Key(const std::string& file) const {
    auto k = crypto::ReadKeyFile(file);
    EXPECT_TRUE(k.ok()) << file;
    return *k;
  }
  http::Client Client(int i) const { return http::Client(net_.Url(i), std::chrono::seconds(60)); }
  uint64_t Height(int i) const { return net_.Height(i, std::chrono::seconds(60)); }

  // Submits at node i, waits for its block, then for every node to reach it.
  void Commit(int i, const crypto::KeyPair& k, uint16_t type, const json& payload) {
    uint64_t nonce;
    crypto::RandomBytes(reinterpret_cast<uint8_t*>(&nonce), sizeof nonce);
    auto tx = model::MakeTransaction(chain_id_, k, type, payload, nonce, Height(i) + 1000);
    ASSERT_TRUE(tx.ok());
    auto r = Client(i).Post("/v1/tx?wait_ms=60000", model::TxToJson(*tx).dump());
    ASSERT_TRUE(r.ok());
    json j = json::parse(r->body, nullptr, false);
    ASSERT_EQ(j.value("status", ""), "committed") << r->body;
    uint64_t h = j.value("height", uint64_t(0));
    ASSERT_TRUE(WaitUntil([&] { return Height(0) >= h && Height(1) >= h && Height(2) >= h; }));
  }

  std::string WriteKey(const std::string& name, const crypto::KeyPair& k) {
    std::string path = net_.dir() + "/" + name + ".key";
    EXPECT_TRUE(crypto::WriteKeyFile(path, k).ok());
    return path;
  }
  std::string WriteFile(const std::string& name, const std::string& body) {
    std::string path = net_.dir() + "/" + name;
    std::ofstream(path) << body;
    return path;
  }

  // The patient's AuditEvent Bundle at node i once it holds `n` events.
  json Audit(int i, size_t n) {
    json b;
    WaitUntil([&] {
      CmdResult r = Medledger("audit --url " + net_.Url(i) + " --key " + patient_file_ + " --patient " + patient_->id());
      b = json::parse(r.out, nullptr, false);
      return r.rc == 0 && !b.is_discarded() && b.value("total", size_t(0)) >= n;
    });
    return b;
  }

  // A read signed by `k`, sent to node i.
  http::ClientResponse Read(int i, const crypto::KeyPair& k, const std::string& target, http::HeaderList extra = {}) {
    // Every header the server acts on (the custodian, here) is signed.
    extra.emplace_back(std::string(api::kPurposeHeader), "TREAT");
    auto h = api::SignRequest(k, "GET", target, {}, std::move(extra));
    auto r = Client(i).Request("GET", target, {}, h);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : http::ClientResponse{};
  }

  test::Network net_;
  std::string chain_id_;
  std::optional<crypto::KeyPair> patient_;
  std::string patient_file_;
};

size_t Count(const json& bundle, const std::string& outcome, const std::string& who) {
  size_t n = 0;
  if (!bundle.contains("entry")) return 0;
  for (const auto& e : bundle["entry"]) {
    const json& ev = e["resource"];
    if (ev.value("outcome", "") != outcome) continue;
    for (const auto& a : ev.value("agent", json::array()))
      if (a.contains("who") && a["who"].value("identifier", json::object()).value("value", "") == who) n++;
  }
  return n;
}

TEST_F(CrossOrgTest, ReadThroughAnotherOrganisationsNodeWithAndWithoutConsent) {
  const int kA = 0, kB = 1, kC = 2;  // org1, org2 (the custodian), org3
  // `network up` names each node's organisation: what --custodian takes.
  ASSERT_EQ(net_.info()["nodes"][kB].value("org", ""), "org2") << net_.info().dump();
  auto admin_a = Key(net_.AdminKeyFile(kA));
  auto admin_b = Key(net_.AdminKeyFile(kB));
  patient_.emplace(crypto::KeyPair::Generate());
  patient_file_ = WriteKey("patient", *patient_);
  auto doctor = crypto::KeyPair::Generate();
  std::string doctor_file = WriteKey("doctor", doctor);

  // org2 registers the patient, org1 the practitioner.
  Commit(kB, admin_b, model::tx::kIdentityRegister, {{"pubkey", patient_->id()}, {"roles", {"patient"}}});
  Commit(kA, admin_a, model::tx::kIdentityRegister, {{"pubkey", doctor.id()}, {"roles", {"practitioner"}}});

  // org2 ingests the record at its own node.
  std::string patient_json = WriteFile("p1.json", R"({"resourceType":"Patient","id":"p1","gender":"female"})");
  std::string obs = R"({"resourceType":"Observation","id":"o1","status":"final","code":{"text":"glucose"},)"
                    R"("subject":{"reference":"Patient/p1"},"valueQuantity":{"value":5.40,"unit":"mmol/L"}})";
  std::string obs_json = WriteFile("o1.json", obs);
  for (const auto& f : {patient_json, obs_json}) {
    CmdResult put = Medledger("record put --url " + net_.Url(kB) + " --key " + net_.AdminKeyFile(kB) + " --patient " +
                              patient_->id() + " " + f);
    ASSERT_EQ(put.rc, 0) << put.out;
  }

  const std::string get = "record get --url " + net_.Url(kA) + " --key " + doctor_file + " --purpose treatment ";
  // Without naming the custodian, org1's node does not know the record.
  EXPECT_EQ(Medledger(get + "Observation/o1").rc, 1);

  // No consent: denied by org2, exit 3; the denial is on chain at every node.
  CmdResult denied = Medledger(get + "--custodian org2 Observation/o1");
  EXPECT_EQ(denied.rc, 3) << denied.out;
  EXPECT_TRUE(denied.out.empty());
  for (int i : {kA, kB, kC}) EXPECT_GE(Count(Audit(i, 1), "4", doctor.id()), 1u) << "node " << i;

  // The patient consents; the read through org1 now succeeds and verifies.
  Commit(kA, *patient_, model::tx::kConsentGrant,
         {{"consent_id", ToHex(crypto::RandomArray<16>())},
          {"patient_org", "*"},
          {"grantee", doctor.id()},
          {"types", {"Observation"}},
          {"purposes", {"TREAT"}}});
  CmdResult ok = Medledger(get + "--custodian org2 Observation/o1");
  ASSERT_EQ(ok.rc, 0) << ok.out;
  std::string printed = ok.out;
  if (!printed.empty() && printed.back() == '\n') printed.pop_back();

  // The same read over HTTP: served by org2's node, the bytes hash to the anchor.
  auto node_b = Key(net_.NodeKeyFile(kB));
  auto r = Read(kA, doctor, "/fhir/Observation/o1?custodian=org2");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Header(api::kServedByHeader).value_or(""), node_b.id());
  EXPECT_EQ(ToHex(crypto::Sha256(r.body)), r.Header("X-Medledger-Anchor").value_or("-"));
  EXPECT_EQ(r.body, printed);
  EXPECT_NE(r.body.find("5.40"), std::string::npos);
  // A version, and the custodian named by header instead of query.
  auto v1 = Read(kA, doctor, "/fhir/Observation/o1/_history/1", {{std::string(api::kCustodianHeader), "org2"}});
  EXPECT_EQ(v1.status, 200) << v1.body;
  EXPECT_EQ(v1.body, r.body);

  // Reads forwarded one after another, each sent only once the previous
  // one was answered, so every one finds the forwarding workers idle: each
  // must be picked up. (A wakeup lost to the directory publisher once left
  // such a read unanswered; see common/work_queue.h.)
  constexpr int kSequential = 20;
  for (int n = 0; n < kSequential; ++n) {
    auto again = Read(kA, doctor, "/fhir/Observation/o1?custodian=org2");
    ASSERT_EQ(again.status, 200) << "read " << n << ": " << again.body;
    EXPECT_EQ(again.body, r.body);
  }

  // All the granted reads and the denial, in the patient's audit at every node.
  for (int i : {kA, kB, kC}) {
    json b = Audit(i, 4 + kSequential);
    EXPECT_GE(Count(b, "0", doctor.id()), 3u + kSequential) << "node " << i << ": " << b.dump();
    EXPECT_GE(Count(b, "4", doctor.id()), 1u) << "node " << i;
  }

  // Node-to-node calls straight to org2's node: a valid client signature
  // with a hop signed by an unregistered key, by a registered non-node key,
  // or a hop that does not verify, is refused.
  const std::string target = "/fhir/Observation/o1?custodian=org2";
  auto forged_hop = [&](const crypto::KeyPair& hop_key, bool tamper) {
    http::HeaderList h = api::SignRequest(doctor, "GET", target, {}, {{std::string(api::kPurposeHeader), "TREAT"}});
    auto hop = api::HopHeaders(hop_key, "GET", target, h);
    EXPECT_EQ(hop.size(), 2u);
    if (tamper) hop[1].second[6] = hop[1].second[6] == 'A' ? 'B' : 'A';
    for (auto& kv : hop) h.push_back(kv);
    auto resp = Client(kB).Request("GET", target, {}, h);
    EXPECT_TRUE(resp.ok());
    return resp.ok() ? *resp : http::ClientResponse{};
  };
  auto stranger = crypto::KeyPair::Generate();
  auto f1 = forged_hop(stranger, false);
  EXPECT_EQ(f1.status, 403) << f1.body;
  EXPECT_NE(f1.body.find("node-to-node"), std::string::npos) << f1.body;
  EXPECT_EQ(forged_hop(admin_a, false).status, 403);  // registered, but not a node key
  auto node_a = Key(net_.NodeKeyFile(kA));
  EXPECT_EQ(forged_hop(node_a, true).status, 401);   // a real node key, a signature that does not verify
  // The genuine hop, as org1's node sends it, is accepted by org2's node.
  auto good = forged_hop(node_a, false);
  EXPECT_EQ(good.status, 200) << good.body;
  EXPECT_EQ(good.Header(api::kForwardedByHeader).value_or(""), node_a.id());
}

}  // namespace
}  // namespace medledger
