// One key per custodian (issue 14; docs/RECORDS.md, "One key per custodian")
// on a real two-organisation network (`medledger network up`, real etcd,
// loopback only). A patient holds one seed; the CLI derives its key for
// each custodian. The patient, and a parent who represents it with keys of
// its own per custodian, act at both custodians: records, grants made in
// one command, reads, a merged audit, erasures, a revocation of the grants
// made together. Then the blocks alone are searched: no public id,
// pseudonym, record, consent or representative id appears in both
// custodians' footprints, and neither seed's public id appears anywhere.
// Waits are bounded by progress conditions, never by elapsed time; every
// process is stopped by PID.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <string>

#include "api/http_signature.h"
#include "crypto/aead.h"
#include "crypto/derive.h"
#include "crypto/keyfile.h"
#include "http/client.h"
#include "model/block.h"
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

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

class UnlinkablePatientsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    crypto::InitCrypto();
    ASSERT_TRUE(net_.MakeDir("medledger-unlink"));
    auto up = net_.Up("--nodes 2");
    ASSERT_TRUE(up.ok()) << up.status().ToString();
    auto s = http::Client(net_.Url(0), std::chrono::seconds(60)).Get("/v1/status");
    ASSERT_TRUE(s.ok());
    chain_id_ = json::parse(s->body).value("chain_id", "");
  }
  void TearDown() override { net_.TearDown(HasFailure()); }

  crypto::KeyPair Key(const std::string& file) const {
    auto k = crypto::ReadKeyFile(file);
    EXPECT_TRUE(k.ok()) << file;
    return *k;
  }
  std::string Path(const std::string& name) const { return net_.dir() + "/" + name; }
  std::string WriteFile(const std::string& name, const std::string& body) {
    std::ofstream(Path(name)) << body;
    return Path(name);
  }
  // `medledger ARGS --url <node i>`, expecting exit code rc.
  CmdResult Run(int i, const std::string& args, int rc = 0) {
    CmdResult r = Medledger(args + " --url " + net_.Url(i));
    EXPECT_EQ(r.rc, rc) << "medledger " << args << "\n" << r.out;
    return r;
  }
  json RunJson(int i, const std::string& args) {
    CmdResult r = Run(i, args);
    json j = json::parse(r.out, nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << r.out;
    return j;
  }
  // Submits at node i and waits for its block.
  void Commit(int i, const crypto::KeyPair& k, uint16_t type, const json& payload) {
    uint64_t nonce;
    crypto::RandomBytes(reinterpret_cast<uint8_t*>(&nonce), sizeof nonce);
    auto tx = model::MakeTransaction(chain_id_, k, type, payload, nonce, net_.Height(i) + 1000);
    ASSERT_TRUE(tx.ok());
    auto r = http::Client(net_.Url(i), std::chrono::seconds(60))
                 .Post("/v1/tx?wait_ms=60000", model::TxToJson(*tx).dump());
    ASSERT_TRUE(r.ok());
    ASSERT_EQ(json::parse(r->body, nullptr, false).value("status", ""), "committed") << r->body;
  }
  // A block in its canonical bytes, read from node 0 with org1's admin key.
  std::string BlockBytes(uint64_t h) {
    const std::string target = "/v1/blocks/" + std::to_string(h) + "?format=binary";
    auto admin = Key(net_.AdminKeyFile(0));
    auto r = http::Client(net_.Url(0), std::chrono::seconds(60))
                 .Request("GET", target, {}, api::SignRequest(admin, "GET", target, {}, {}));
    EXPECT_TRUE(r.ok() && r->status == 200) << (r.ok() ? r->body : r.status().ToString());
    return r.ok() ? r->body : std::string();
  }

  test::Network net_;
  std::string chain_id_;
};

// The hex values (16 to 64 characters: ids, pseudonyms, keys, hashes) that
// a transaction's JSON carries, its signer included.
void CollectHex(const json& j, std::set<std::string>* out) {
  static const std::regex kHex("^[0-9a-f]{16,64}$");
  if (j.is_string() && std::regex_match(j.get<std::string>(), kHex)) out->insert(j.get<std::string>());
  if (j.is_array() || j.is_object())
    for (const auto& v : j) CollectHex(v, out);
}

TEST_F(UnlinkablePatientsTest, NoValueOnChainJoinsAPatientsFootprintsAtTwoCustodians) {
  const std::vector<std::string> orgs = {"org1", "org2"};
  ASSERT_EQ(net_.info()["nodes"][1].value("org", ""), "org2") << net_.info().dump();

  // The patient's and the parent's seeds, and their keys for each custodian.
  const std::string seed_id = Trim(Run(0, "keygen --out " + Path("seed.key")).out);
  const std::string rep_seed_id = Trim(Run(0, "keygen --out " + Path("rep-seed.key")).out);
  std::vector<std::string> pid(2), rep(2), pfile(2);
  for (int i = 0; i < 2; ++i) {
    pfile[i] = Path("patient-" + orgs[i] + ".key");
    pid[i] = Trim(Run(i, "keygen --derive --from " + Path("seed.key") + " --org " + orgs[i] + " --out " + pfile[i]).out);
    rep[i] = Trim(Run(i, "keygen --derive --from " + Path("rep-seed.key") + " --org " + orgs[i] + " --out " +
                             Path("rep-" + orgs[i] + ".key"))
                      .out);
    // The same derivation as the library's, from the seed and chain id only.
    auto expect = crypto::DeriveCustodianKey(Key(Path("seed.key")), chain_id_, orgs[i]);
    ASSERT_TRUE(expect.ok());
    EXPECT_EQ(pid[i], expect->id());
  }
  ASSERT_NE(pid[0], pid[1]);
  ASSERT_NE(pid[0], seed_id);

  // Each custodian registers its own key of the patient and of the parent;
  // the patient appoints the parent with each key; each stores a Patient and
  // an Observation for its key.
  for (int i = 0; i < 2; ++i) {
    const std::string admin = " --key " + net_.AdminKeyFile(i);
    Run(i, "identity register" + admin + " --pubkey " + pid[i] + " --role patient");
    Run(i, "identity register" + admin + " --pubkey " + rep[i] + " --role representative");
    Commit(i, Key(pfile[i]), model::tx::kRepresentativeAppoint,
           {{"patient", pid[i]}, {"representative", rep[i]}, {"kind", "parent"}});
    const std::string p = "p" + std::to_string(i + 1), o = "o" + std::to_string(i + 1);
    std::string pj = WriteFile(p + ".json", R"({"resourceType":"Patient","id":")" + p + R"(","gender":"female"})");
    std::string oj = WriteFile(o + ".json", R"({"resourceType":"Observation","id":")" + o +
                                                R"(","status":"final","code":{"text":"glucose"},"subject":{"reference":"Patient/)" +
                                                p + R"("},"valueQuantity":{"value":5.4,"unit":"mmol/L"}})");
    for (const auto& f : {pj, oj}) Run(i, "record put" + admin + " --patient " + pid[i] + " " + f);
  }

  // The rule: org2 cannot bind the patient's org1 key (conflict, exit 5).
  std::string stray = WriteFile("stray.json", R"({"resourceType":"Patient","id":"stray"})");
  CmdResult refused = Run(1, "record put --key " + net_.AdminKeyFile(1) + " --patient " + pid[0] + " " + stray, 5);
  EXPECT_TRUE(refused.out.empty()) << refused.out;

  // One grant command at both custodians; the parent grants at org2 for the
  // patient with its org2 key.
  const std::string seed = " --seed " + Path("seed.key");
  json grant = RunJson(0, "consent grant" + seed + " --custodians org1,org2 --to org:org1 --types all --purpose treatment");
  ASSERT_EQ(grant["grants"].size(), 2u) << grant.dump();
  const std::string group = grant.value("group", "");
  std::vector<std::string> consent(2);
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(grant["grants"][i].value("custodian", ""), orgs[i]);
    EXPECT_EQ(grant["grants"][i].value("status", ""), "committed") << grant.dump();
    EXPECT_EQ(grant["grants"][i].value("patient", ""), pid[i]);
    consent[i] = grant["grants"][i].value("consent_id", "");
  }
  json rep_grant = RunJson(1, "consent grant --seed " + Path("rep-seed.key") + " --custodians org2 --patient " + pid[1] +
                                  " --to org:org2 --types Observation --purpose treatment");
  EXPECT_EQ(rep_grant["grants"][0].value("status", ""), "committed") << rep_grant.dump();

  // The patient reads its own records at each custodian's node.
  for (int i = 0; i < 2; ++i)
    Run(i, "record get" + seed + " --custodian " + orgs[i] + " --purpose treatment Observation/o" + std::to_string(i + 1));

  // One audit from both custodians, asked at org1's node: org2's node is
  // found in the peer directory; each event is tagged with its custodian.
  json audit;
  ASSERT_TRUE(WaitUntil([&] {
    CmdResult r = Medledger("audit --url " + net_.Url(0) + seed + " --custodians org1,org2");
    audit = json::parse(r.out, nullptr, false);
    if (r.rc != 0 || audit.is_discarded()) return false;
    std::set<std::string> tagged;
    for (const auto& e : audit.value("entry", json::array()))
      for (const auto& t : e["resource"]["meta"].value("tag", json::array()))
        if (t.value("system", "") == "urn:medledger:org") tagged.insert(t.value("code", ""));
    return tagged.count("org1") && tagged.count("org2");
  })) << audit.dump();

  // An erasure at each custodian, both asked at org1's node.
  for (int i = 0; i < 2; ++i) {
    json receipt = RunJson(0, "erase" + seed + " --custodian " + orgs[i] + " Observation/o" + std::to_string(i + 1));
    EXPECT_EQ(receipt.value("custodian", ""), orgs[i]) << receipt.dump();
  }

  // Revoking the group revokes both grants; again, both are reported
  // already revoked; no grant of the group is active at either custodian.
  json rev = RunJson(1, "consent revoke" + seed + " --custodians org1,org2 --group " + group);
  ASSERT_EQ(rev["revocations"].size(), 2u) << rev.dump();
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(rev["revocations"][i].value("outcome", ""), "revoked") << rev.dump();
    EXPECT_EQ(rev["revocations"][i].value("consent_id", ""), consent[i]);
  }
  json again = RunJson(0, "consent revoke" + seed + " --custodians org1,org2 --group " + group);
  for (const auto& r : again["revocations"]) EXPECT_EQ(r.value("outcome", ""), "already-revoked") << again.dump();
  json list = RunJson(0, "consent list" + seed + " --custodians org1,org2");
  size_t seen = 0;
  for (const auto& e : list.value("entry", json::array())) {
    const json& c = e["resource"];
    if (c.value("id", "") != consent[0] && c.value("id", "") != consent[1]) continue;
    ++seen;
    EXPECT_NE(c.value("status", ""), "active") << c.dump();
  }
  EXPECT_EQ(seen, 2u) << list.dump();

  // From the blocks alone. Footprint of a custodian: the transactions signed
  // by its admin, its node, the patient's key for it or the parent's.
  ASSERT_TRUE(WaitUntil([&] { return net_.Height(1) >= net_.Height(0) && net_.Height(0) >= net_.Height(1); }));
  const uint64_t height = net_.Height(0);
  std::vector<std::set<std::string>> signers(2), footprint(2);
  for (int i = 0; i < 2; ++i)
    signers[i] = {Key(net_.AdminKeyFile(i)).id(), Key(net_.NodeKeyFile(i)).id(), pid[i], rep[i]};
  auto seed_key = Key(Path("seed.key")).public_key(), rep_seed_key = Key(Path("rep-seed.key")).public_key();
  const std::vector<std::string> patient_side = {"identity.", "record.", "consent.", "access.", "disclosure.",
                                                 "erasure.", "representative.", "patient."};
  for (uint64_t h = 1; h <= height; ++h) {
    std::string raw = BlockBytes(h);
    for (const auto& k : {seed_key, rep_seed_key})
      EXPECT_EQ(raw.find(std::string(k.begin(), k.end())), std::string::npos) << "a seed's public key in block " << h;
    auto block = model::DecodeBlock(Bytes(raw.begin(), raw.end()));
    ASSERT_TRUE(block.ok()) << block.status().ToString();
    for (const auto& tx : block->txs) {
      json j = model::TxToJson(tx);
      std::string text = j.dump();
      EXPECT_EQ(text.find(seed_id), std::string::npos) << text;
      EXPECT_EQ(text.find(rep_seed_id), std::string::npos) << text;
      const std::string type = j["type"].is_string() ? j["type"].get<std::string>() : "";
      bool counted = std::any_of(patient_side.begin(), patient_side.end(),
                                 [&](const std::string& p) { return type.rfind(p, 0) == 0; });
      if (!counted) continue;  // node.state_root and governance: no patient data
      int who = signers[0].count(j["signer"]) ? 0 : signers[1].count(j["signer"]) ? 1 : -1;
      ASSERT_NE(who, -1) << "a signer of neither custodian: " << text;
      CollectHex(j, &footprint[who]);
    }
  }
  for (int i = 0; i < 2; ++i) {
    // Keys, pseudonyms, record, consent, event and request ids, hashes.
    EXPECT_GE(footprint[i].size(), 10u) << orgs[i] << ": " << json(footprint[i]).dump();
    EXPECT_TRUE(footprint[i].count(pid[i])) << orgs[i];
    EXPECT_TRUE(footprint[i].count(rep[i])) << orgs[i];
    EXPECT_TRUE(footprint[i].count(consent[i])) << orgs[i];
  }
  std::vector<std::string> shared;
  std::set_intersection(footprint[0].begin(), footprint[0].end(), footprint[1].begin(), footprint[1].end(),
                        std::back_inserter(shared));
  EXPECT_TRUE(shared.empty()) << "in both footprints: " << json(shared).dump();
}

}  // namespace
}  // namespace medledger
