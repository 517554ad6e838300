// The FHIR write path against a real node: Synthea bundles load whole and
// round-trip byte for byte to the vault and the on-chain anchor; decimals
// keep their text; transactions are all-or-nothing; conditional references
// fail cleanly before their targets exist; malformed input gets an
// OperationOutcome 4xx and the node keeps serving; and no PHI from the
// loaded Patients appears anywhere in the data directory (the PHI scan).
#include <gtest/gtest.h>
#include <rocksdb/db.h>
#include <rocksdb/sst_file_reader.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <thread>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "api/http_signature.h"
#include "crypto/aead.h"
#include "crypto/keyfile.h"
#include "crypto/sha256.h"
#include "custodian/fhir_index.h"
#include "fhir/json.h"
#include "http/client.h"
#include "model/transaction.h"
#include "model/tx_json.h"
#include "model/tx_types.h"
#include "tests/support/test_node.h"
#include "vault/vault.h"

namespace medledger::test {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

std::string DataFile(const std::string& name) {
  const char* src = std::getenv("MEDLEDGER_SOURCE_DIR");
  // CTest sets the variable; the compile-time source dir is the fallback.
  return std::string(src ? src : MEDLEDGER_SOURCE_DIR) + "/tests/data/fhir/" + name;
}

std::string Slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::ostringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

const char* kBuster = "Buster_Hoeger_ad2e3fc5-2b5d-4cb9-8d03-9ea0f4ac8423.json";
const char* kClemente = "Clemente_Kreiger_1484a42d-0eaf-4654-9cbf-6b050a5cd73b.json";
const char* kNed = "Ned_Hintz_e4b9259d-0f54-48d1-a35d-b526729a4dfe.json";
const char* kSoila = "Soila394_Christiansen251_fbba2017-3ef4-dfe0-714c-c302cd9b8cca.json";

class FhirWriteTest : public ::testing::Test {
 protected:
  void SetUp() override {
    crypto::InitCrypto();
    auto n = TestNode::Start();
    ASSERT_TRUE(n.ok()) << n.status().ToString();
    node_ = std::move(*n);
    client_ = std::make_unique<http::Client>(node_->url(), std::chrono::seconds(120));
    auto admin = crypto::ReadKeyFile(node_->admin_key());
    ASSERT_TRUE(admin.ok());
    admin_.emplace(*admin);
    auto s = client_->Get("/v1/status");
    ASSERT_TRUE(s.ok());
    chain_id_ = json::parse(s->body).value("chain_id", "");
    // The custodian subject (binds the pseudonym of patient-less resources)
    // is in the development genesis that `init` wrote.
  }

  json Status() { return json::parse(client_->Get("/v1/status")->body); }

  void Register(const std::string& id, std::vector<std::string> roles) {
    uint64_t nonce;
    crypto::RandomBytes(reinterpret_cast<uint8_t*>(&nonce), sizeof nonce);
    auto tx = model::MakeTransaction(chain_id_, *admin_, model::tx::kIdentityRegister,
                                     {{"pubkey", id}, {"roles", roles}, {"label", "t"}}, nonce,
                                     Status().value("height", uint64_t(0)) + 1000);
    ASSERT_TRUE(tx.ok());
    auto r = client_->Post("/v1/tx?wait_ms=30000", model::TxToJson(*tx).dump());
    ASSERT_TRUE(r.ok());
    ASSERT_EQ(json::parse(r->body).value("status", ""), "committed") << r->body;
  }
  std::string NewPatient() {
    auto k = crypto::KeyPair::Generate();
    Register(k.id(), {"patient"});
    return k.id();
  }

  // This node's public id: writes name it (X-Medledger-Node).
  std::string NodeId() {
    if (node_id_.empty()) {
      auto s = client_->Get("/v1/status");
      if (s.ok()) node_id_ = json::parse(s->body).value("node_id", "");
    }
    return node_id_;
  }
  std::string node_id_;

  http::ClientResponse Send(const std::string& method, const std::string& target, const std::string& body,
                            const std::string& patient = "", bool representation = true,
                            const crypto::KeyPair* key = nullptr) {
    http::HeaderList h = {{"Content-Type", "application/fhir+json"}};
    if (representation) h.push_back({"Prefer", "return=representation"});
    if (!patient.empty()) h.push_back({api::kPatientHeader, patient});
    h.push_back({std::string(api::kNodeHeader), NodeId()});
    h = api::SignRequest(key ? *key : *admin_, method, target, body, std::move(h));
    auto r = client_->Request(method, target, body, h);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : http::ClientResponse{};
  }

  static bool IsOutcome(const http::ClientResponse& r) {
    json j = json::parse(r.body, nullptr, false);
    return !j.is_discarded() && j.value("resourceType", "") == "OperationOutcome";
  }

  // (reference, version, stored bytes, anchor hash) of a transaction-response.
  struct Stored {
    std::string type, id;
    uint32_t version;
    std::string bytes, hash, tx;
  };
  static std::vector<Stored> StoredOf(const http::ClientResponse& r) {
    std::vector<Stored> out;
    auto b = fhir::Parse(r.body);
    EXPECT_TRUE(b.ok());
    if (!b.ok()) return out;
    for (const auto& e : b->Get("entry")->array()) {
      const fhir::Value* res = e.Get("resource");
      if (!res) continue;
      Stored s;
      s.type = res->Get("resourceType")->string_value();
      s.id = res->Get("id")->string_value();
      s.version = uint32_t(std::stoul(res->Get("meta")->Get("versionId")->string_value()));
      s.bytes = fhir::Serialize(*res);
      for (const auto& x : e.Get("response")->Get("extension")->array()) {
        if (x.Get("url")->string_value().ends_with("anchor-hash")) s.hash = x.Get("valueString")->string_value();
        if (x.Get("url")->string_value().ends_with("anchor-tx")) s.tx = x.Get("valueString")->string_value();
      }
      out.push_back(std::move(s));
    }
    return out;
  }

  uint64_t Committed() { return Status().value("committed_txs", uint64_t(0)); }

  std::unique_ptr<TestNode> node_;
  std::unique_ptr<http::Client> client_;
  std::optional<crypto::KeyPair> admin_;
  std::string chain_id_;
};

// Opens the stopped node's vault and index.
struct Offline {
  std::unique_ptr<vault::Vault> vault;
  std::shared_ptr<custodian::FhirIndex> index;
  explicit Offline(const std::string& data_dir) {
    auto mk = std::make_unique<vault::FileMasterKeyProvider>(data_dir + "/keys/vault-master.key",
                                                              vault::FileMasterKeyProvider::Options{});
    auto v = vault::Vault::Open(data_dir + "/vault", std::move(mk));
    EXPECT_TRUE(v.ok()) << v.status().ToString();
    if (!v.ok()) return;
    vault = std::move(*v);
    auto i = custodian::FhirIndex::Open(data_dir + "/fhir-index", vault.get());
    EXPECT_TRUE(i.ok()) << i.status().ToString();
    if (i.ok()) index = *i;
  }
};

TEST_F(FhirWriteTest, MetadataIsACapabilityStatement) {
  auto r = client_->Get("/fhir/metadata");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->Header("Content-Type").value_or(""), "application/fhir+json");
  json j = json::parse(r->body);
  EXPECT_EQ(j["resourceType"], "CapabilityStatement");
  EXPECT_EQ(j["fhirVersion"], "4.0.1");
}

TEST_F(FhirWriteTest, SyntheaBundlesRoundTripToVaultAndAnchor) {
  std::vector<Stored> all;
  for (const char* f : {kBuster, kClemente, kNed}) {
    std::string body = Slurp(DataFile(f));
    size_t entries = json::parse(body)["entry"].size();
    auto r = Send("POST", "/fhir", body, NewPatient());
    ASSERT_EQ(r.status, 200) << r.body.substr(0, 500);
    auto st = StoredOf(r);
    ASSERT_EQ(st.size(), entries) << f;
    // urn:uuid references are rewritten to the assigned ids.
    for (const auto& s : st) EXPECT_EQ(s.bytes.find("urn:uuid:"), std::string::npos) << s.type;
    all.insert(all.end(), st.begin(), st.end());
  }
  for (const auto& s : all) EXPECT_EQ(ToHex(crypto::Sha256(s.bytes)), s.hash);
  // The anchors are on chain with those hashes (tx committed).
  std::set<std::string> txs;
  for (const auto& s : all) txs.insert(s.tx);
  for (const auto& tx : txs) {
    const std::string target = "/v1/tx/" + tx;
    auto r = client_->Get(target, api::SignRequest(*admin_, "GET", target, "", {}));
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(json::parse(r->body).value("status", ""), "committed");
  }
  ASSERT_TRUE(node_->Stop().ok());
  Offline off(node_->data_dir());
  ASSERT_TRUE(off.index);
  for (const auto& s : all) {
    auto e = off.index->Lookup(s.type, s.id);
    ASSERT_TRUE(e.ok() && e->has_value()) << s.type << "/" << s.id;
    auto bytes = off.vault->Get({(*e)->record_id, s.version});
    ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
    EXPECT_EQ(*bytes, s.bytes) << s.type << "/" << s.id;
  }
}

// Bundles posted at the same time are committed in groups (one vault batch
// and one index sync per group, anchors in plan order): each one is stored
// whole, under ids no other got, and reads back byte for byte.
TEST_F(FhirWriteTest, ConcurrentBundlesAreEachStoredWholeAndAnchored) {
  const std::vector<const char*> files = {kBuster, kClemente, kNed, kBuster, kClemente, kNed};
  std::vector<std::string> patients, bodies;
  for (const char* f : files) {
    patients.push_back(NewPatient());
    bodies.push_back(Slurp(DataFile(f)));
  }
  std::vector<http::ClientResponse> replies(files.size());
  const std::string node_id = NodeId();
  std::vector<std::thread> ts;
  for (size_t i = 0; i < files.size(); ++i)
    ts.emplace_back([&, i] {
      http::Client c(node_->url(), std::chrono::seconds(120));
      http::HeaderList h = {{"Content-Type", "application/fhir+json"},
                            {"Prefer", "return=representation"},
                            {api::kPatientHeader, patients[i]},
                            {std::string(api::kNodeHeader), node_id}};
      h = api::SignRequest(*admin_, "POST", "/fhir", bodies[i], std::move(h));
      auto r = c.Request("POST", "/fhir", bodies[i], h);
      if (r.ok()) replies[i] = *r;
    });
  for (auto& t : ts) t.join();
  std::vector<Stored> all;
  for (size_t i = 0; i < files.size(); ++i) {
    ASSERT_EQ(replies[i].status, 200) << replies[i].body.substr(0, 300);
    auto st = StoredOf(replies[i]);
    EXPECT_EQ(st.size(), json::parse(bodies[i])["entry"].size()) << i;
    all.insert(all.end(), st.begin(), st.end());
  }
  std::set<std::string> refs;
  for (const auto& s : all) {
    EXPECT_EQ(ToHex(crypto::Sha256(s.bytes)), s.hash);
    refs.insert(s.type + "/" + s.id);
  }
  EXPECT_EQ(refs.size(), all.size());
  ASSERT_TRUE(node_->Stop().ok());
  Offline off(node_->data_dir());
  ASSERT_TRUE(off.index);
  for (const auto& s : all) {
    auto e = off.index->Lookup(s.type, s.id);
    ASSERT_TRUE(e.ok() && e->has_value()) << s.type << "/" << s.id;
    auto bytes = off.vault->Get({(*e)->record_id, s.version});
    ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
    EXPECT_EQ(*bytes, s.bytes) << s.type << "/" << s.id;
  }
}

TEST_F(FhirWriteTest, AnchorHashesMatchTheChain) {
  auto r = Send("POST", "/fhir", Slurp(DataFile(kBuster)), NewPatient());
  ASSERT_EQ(r.status, 200);
  auto st = StoredOf(r);
  ASSERT_FALSE(st.empty());
  // The anchor transaction's payload carries exactly these hashes.
  std::set<std::string> hashes;
  for (const auto& s : st) hashes.insert(s.hash);
  // Blocks and transactions are read with a member's signed request.
  auto signed_get = [&](const std::string& target) {
    return client_->Get(target, api::SignRequest(*admin_, "GET", target, "", {}));
  };
  auto t = signed_get("/v1/tx/" + st[0].tx);
  ASSERT_TRUE(t.ok());
  json tj = json::parse(t->body);
  uint64_t height = tj.value("height", uint64_t(0));
  auto b = signed_get("/v1/blocks/" + std::to_string(height));
  ASSERT_TRUE(b.ok());
  size_t found = 0;
  for (const auto& h : hashes) found += b->body.find(h) != std::string::npos;
  EXPECT_EQ(found, hashes.size());
}

TEST_F(FhirWriteTest, DecimalsKeepTheirText) {
  std::string body = Slurp(DataFile("Observation-decimal.json"));
  auto r = Send("PUT", "/fhir/Observation/decimal", body);
  ASSERT_EQ(r.status, 201) << r.body;
  for (const char* t : {"1.0", "1.00", "1E-22", "1000000000000000000", "1.000000000000000000E-245",
                        "-1.000000000000000000E+245"})
    EXPECT_NE(r.body.find(std::string("\"value\":") + t), std::string::npos) << t;
  EXPECT_EQ(ToHex(crypto::Sha256(r.body)), r.Header("X-Medledger-Anchor-Hash").value_or(""));
  // A second PUT is version 2.
  auto r2 = Send("PUT", "/fhir/Observation/decimal", body);
  ASSERT_EQ(r2.status, 200) << r2.body;
  EXPECT_EQ(r2.Header("ETag").value_or(""), "W/\"2\"");
  EXPECT_NE(r2.Header("Location").value_or("").find("Observation/decimal/_history/2"), std::string::npos);
}

TEST_F(FhirWriteTest, TransactionIsAllOrNothing) {
  std::string patient = NewPatient();
  uint64_t before = Committed();
  json b = json::parse(Slurp(DataFile(kBuster)));
  // One bad entry (wrong element type) at the end.
  b["entry"].back()["resource"]["status"] = 5;
  auto r = Send("POST", "/fhir", b.dump(), patient);
  EXPECT_EQ(r.status, 400);
  EXPECT_TRUE(IsOutcome(r)) << r.body;
  // An unmatched conditional reference fails the whole transaction (404).
  json c = json::parse(Slurp(DataFile(kBuster)));
  for (auto& e : c["entry"])
    if (e["resource"]["resourceType"] == "Observation") {
      e["resource"]["subject"]["reference"] = "Patient?identifier=urn:x|no-such";
      break;
    }
  auto r2 = Send("POST", "/fhir", c.dump(), patient);
  EXPECT_EQ(r2.status, 404) << r2.body.substr(0, 300);
  EXPECT_TRUE(IsOutcome(r2));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_EQ(Committed(), before);  // nothing anchored
  ASSERT_TRUE(node_->Stop().ok());
  Offline off(node_->data_dir());
  ASSERT_TRUE(off.index);
  // Nothing indexed for the patient either (the bundle's Patient got no id mapping).
  // The vault holds only the index key and nothing else.
  rocksdb::DB* db = nullptr;
  off.index.reset();
  off.vault.reset();
  rocksdb::Options o;
  ASSERT_TRUE(rocksdb::DB::OpenForReadOnly(o, node_->data_dir() + "/vault", &db).ok());
  std::unique_ptr<rocksdb::DB> hold(db);
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions()));
  size_t content = 0;
  for (it->SeekToFirst(); it->Valid(); it->Next())
    if (it->key().starts_with("C")) ++content;
  EXPECT_EQ(content, 1u);  // the index key only
}

TEST_F(FhirWriteTest, ConditionalReferencesFailBeforeTargetsExistAndLoadAfter) {
  std::string body = Slurp(DataFile(kSoila));
  std::string patient = NewPatient();
  uint64_t before = Committed();
  auto r = Send("POST", "/fhir", body, patient, false);
  EXPECT_EQ(r.status, 404) << r.body.substr(0, 300);
  EXPECT_TRUE(IsOutcome(r));
  EXPECT_EQ(Committed(), before);
  // Organizations, Locations and Practitioners carrying the identifiers the
  // bundle references conditionally.
  std::set<std::string> conds;
  std::function<void(const json&)> walk = [&](const json& j) {
    if (j.is_object()) {
      for (auto& [k, v] : j.items()) {
        if (k == "reference" && v.is_string() && v.get<std::string>().find('?') != std::string::npos)
          conds.insert(v.get<std::string>());
        walk(v);
      }
    } else if (j.is_array()) {
      for (const auto& v : j) walk(v);
    }
  };
  walk(json::parse(body));
  ASSERT_FALSE(conds.empty());
  json prereq = {{"resourceType", "Bundle"}, {"type", "transaction"}, {"entry", json::array()}};
  for (const auto& c : conds) {
    std::string type = c.substr(0, c.find('?'));
    std::string sv = c.substr(c.find("identifier=") + 11);
    std::string sys = sv.substr(0, sv.find('|')), val = sv.substr(sv.find('|') + 1);
    json res = {{"resourceType", type}, {"identifier", {{{"system", sys}, {"value", val}}}}};
    if (type != "Practitioner") res["name"] = "Synthetic " + type;
    prereq["entry"].push_back({{"resource", res}, {"request", {{"method", "POST"}, {"url", type}}}});
  }
  auto p = Send("POST", "/fhir", prereq.dump(), "", false);
  ASSERT_EQ(p.status, 200) << p.body.substr(0, 500);
  auto r2 = Send("POST", "/fhir", body, patient, true);
  ASSERT_EQ(r2.status, 200) << r2.body.substr(0, 500);
  auto st = StoredOf(r2);
  EXPECT_EQ(st.size(), json::parse(body)["entry"].size());
  for (const auto& s : st) EXPECT_EQ(s.bytes.find("?identifier="), std::string::npos);
}

TEST_F(FhirWriteTest, BatchEntriesAreIndependent) {
  json b = {{"resourceType", "Bundle"}, {"type", "batch"}, {"entry", json::array()}};
  b["entry"].push_back({{"resource", {{"resourceType", "Organization"}, {"name", "A"}}},
                        {"request", {{"method", "POST"}, {"url", "Organization"}}}});
  b["entry"].push_back({{"resource", {{"resourceType", "Organization"}, {"active", "yes"}}},
                        {"request", {{"method", "POST"}, {"url", "Organization"}}}});
  auto r = Send("POST", "/fhir", b.dump(), "", false);
  ASSERT_EQ(r.status, 200) << r.body;
  json j = json::parse(r.body);
  EXPECT_EQ(j["type"], "batch-response");
  EXPECT_EQ(j["entry"][0]["response"]["status"].get<std::string>().substr(0, 3), "201");
  EXPECT_EQ(j["entry"][1]["response"]["status"].get<std::string>().substr(0, 3), "400");
  EXPECT_TRUE(j["entry"][1]["response"].contains("outcome"));
}

TEST_F(FhirWriteTest, WritesNeedAnAuthorisedSignature) {
  std::string body = R"({"resourceType":"Organization","name":"X"})";
  auto r = client_->Request("POST", "/fhir/Organization", body, {{"Content-Type", "application/fhir+json"}});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 401);
  EXPECT_TRUE(IsOutcome(*r));
  // A patient key may not write.
  auto pk = crypto::KeyPair::Generate();
  Register(pk.id(), {"patient"});
  auto r2 = Send("POST", "/fhir/Organization", body, "", false, &pk);
  EXPECT_EQ(r2.status, 403);
  EXPECT_TRUE(IsOutcome(r2));
}

TEST_F(FhirWriteTest, MalformedInputGetsOperationOutcomeAndNodeKeepsServing) {
  std::vector<std::pair<std::string, std::string>> cases = {
      {"wrong type", R"({"resourceType":"Patient","birthDate":5})"},
      {"invalid utf-8", std::string("{\"resourceType\":\"Patient\",\"gender\":\"\xff\xfe\"}")},
      {"unknown type", R"({"resourceType":"Spaceship","name":"x"})"},
      {"not json", "{{{{"},
      {"deep", std::string(10000, '[') + std::string(10000, ']')},
  };
  std::string deep_obj;
  for (int i = 0; i < 10000; ++i) deep_obj += "{\"a\":";
  deep_obj += "1" + std::string(10000, '}');
  cases.push_back({"deep object", deep_obj});
  std::string big = R"({"resourceType":"Patient","gender":")" + std::string(50 << 20, 'a') + "\"}";
  cases.push_back({"50 MB", big});
  for (const auto& [name, body] : cases) {
    auto r = Send("POST", "/fhir/Patient", body, "", false);
    EXPECT_GE(r.status, 400) << name;
    EXPECT_LT(r.status, 500) << name;
    EXPECT_TRUE(IsOutcome(r)) << name << ": " << r.body.substr(0, 200);
    auto m = client_->Get("/fhir/metadata");
    ASSERT_TRUE(m.ok()) << name;
    EXPECT_EQ(m->status, 200) << name;
  }
  // As a Bundle too.
  auto r = Send("POST", "/fhir", R"({"resourceType":"Bundle","type":"transaction","entry":[{"resource":{"resourceType":"Patient","birthDate":true},"request":{"method":"POST","url":"Patient"}}]})", "", false);
  EXPECT_EQ(r.status, 400);
  EXPECT_TRUE(IsOutcome(r));
}

// --- The PHI scan -------------------------------------------------------------

void CollectStrings(const json& j, std::vector<std::string>* out) {
  if (j.is_string()) out->push_back(j.get<std::string>());
  else if (j.is_array() || j.is_object())
    for (const auto& v : j) CollectStrings(v, out);
}

// Names, birth date, addresses, phone numbers and identifier values of the
// bundles' Patients. Very short or purely numeric/hex strings are left out:
// they would match random bytes (hex ids, ciphertext) by chance.
std::set<std::string> PhiOf(const json& bundle) {
  std::vector<std::string> raw;
  for (const auto& e : bundle["entry"]) {
    const json& p = e["resource"];
    if (p.value("resourceType", "") != "Patient") continue;
    for (const char* k : {"name", "address", "telecom"})
      if (p.contains(k)) CollectStrings(p[k], &raw);
    if (p.contains("birthDate")) raw.push_back(p["birthDate"]);
    for (const auto& id : p.value("identifier", json::array())) raw.push_back(id.value("value", ""));
    if (p.contains("extension"))
      for (const auto& x : p["extension"])
        if (x.value("url", "").find("mothersMaidenName") != std::string::npos) raw.push_back(x.value("valueString", ""));
  }
  std::set<std::string> out;
  std::set<std::string> generic = {"official", "home", "phone", "mobile", "Massachusetts", "US"};
  for (const auto& s : raw) {
    if (s.size() < 6 || generic.count(s)) continue;
    bool hexish = std::all_of(s.begin(), s.end(), [](char c) { return isxdigit(uint8_t(c)); });
    if (hexish && s.size() < 12) continue;
    out.insert(s);
  }
  return out;
}

TEST_F(FhirWriteTest, NoPhiInAnyFileOfTheDataDirectory) {
  std::set<std::string> phi;
  for (const char* f : {kBuster, kClemente, kNed}) {
    std::string body = Slurp(DataFile(f));
    auto ph = PhiOf(json::parse(body));
    phi.insert(ph.begin(), ph.end());
    auto r = Send("POST", "/fhir", body, NewPatient(), false);
    ASSERT_EQ(r.status, 200) << r.body.substr(0, 300);
  }
  ASSERT_GT(phi.size(), 20u);
  ASSERT_TRUE(phi.count("999-59-2277"));  // Buster's SSN is among them
  ASSERT_TRUE(node_->Stop().ok());

  std::vector<std::string> hits;
  auto scan = [&](const std::string& where, std::string_view bytes) {
    for (const auto& s : phi)
      if (bytes.find(s) != std::string_view::npos) hits.push_back(where + ": " + s);
  };
  // Raw bytes of every file (the node's whole directory: data, keys, logs).
  size_t files = 0;
  for (const auto& de : fs::recursive_directory_iterator(node_->dir())) {
    if (!de.is_regular_file()) continue;
    ++files;
    scan(de.path().string(), Slurp(de.path().string()));
  }
  EXPECT_GT(files, 10u);
  // Every key and value of every column family of every RocksDB database,
  // read through RocksDB (decompressed).
  size_t dbs = 0, entries = 0;
  for (const auto& de : fs::recursive_directory_iterator(node_->data_dir())) {
    if (!de.is_regular_file() || de.path().filename().string().rfind("CURRENT", 0) != 0) continue;
    std::string dir = de.path().parent_path().string();
    std::vector<std::string> cfs;
    ASSERT_TRUE(rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), dir, &cfs).ok()) << dir;
    std::vector<rocksdb::ColumnFamilyDescriptor> descs;
    for (const auto& c : cfs) descs.emplace_back(c, rocksdb::ColumnFamilyOptions());
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    rocksdb::DB* db = nullptr;
    ASSERT_TRUE(rocksdb::DB::OpenForReadOnly(rocksdb::DBOptions(), dir, descs, &handles, &db).ok()) << dir;
    ++dbs;
    for (auto* h : handles) {
      std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions(), h));
      for (it->SeekToFirst(); it->Valid(); it->Next()) {
        ++entries;
        scan(dir + " key", std::string_view(it->key().data(), it->key().size()));
        scan(dir + " value", std::string_view(it->value().data(), it->value().size()));
      }
      db->DestroyColumnFamilyHandle(h);
    }
    delete db;
  }
  EXPECT_GE(dbs, 3u);  // ledger, vault, fhir-index
  EXPECT_GT(entries, 100u);
  EXPECT_TRUE(hits.empty()) << hits.size() << " hits, first: " << hits[0];

  // The scan would find PHI if it were there: the same scan of one record
  // the vault decrypts (Buster's Patient, found by his SSN) finds a needle.
  Offline off(node_->data_dir());
  ASSERT_TRUE(off.index);
  auto ids = off.index->FindByIdentifier("Patient", "*", "999-59-2277");
  ASSERT_TRUE(ids.ok() && ids->size() == 1u);
  auto entry = off.index->Lookup("Patient", (*ids)[0]);
  ASSERT_TRUE(entry.ok() && entry->has_value());
  auto plain = off.vault->Get({(*entry)->record_id, (*entry)->version});
  ASSERT_TRUE(plain.ok()) << plain.status().ToString();
  const size_t before = hits.size();
  scan("decrypted Patient/" + (*ids)[0], *plain);
  EXPECT_TRUE(std::any_of(hits.begin() + before, hits.end(),
                          [](const std::string& h) { return h.find("999-59-2277") != std::string::npos; }))
      << hits.size() - before << " hits in the decrypted record";
}

// --- Erasure takes the record's identifiers out of the index -----------------

// Every key and value stored in the SST and WAL files of the RocksDB database
// in `dir`, stale versions and files RocksDB no longer uses included: SST
// files through rocksdb::SstFileReader, WAL files (*.log) parsed by their
// record format (RocksDB's db/log_format.h: 32 KiB blocks of fragments, each
// with a 7-byte header, 11 bytes for the recyclable types; a whole record is
// a WriteBatch).
using EntryFn = std::function<void(std::string_view key, std::string_view value)>;

struct EntryCollector : rocksdb::WriteBatch::Handler {
  const EntryFn* fn = nullptr;
  rocksdb::Status PutCF(uint32_t, const rocksdb::Slice& k, const rocksdb::Slice& v) override {
    (*fn)(std::string_view(k.data(), k.size()), std::string_view(v.data(), v.size()));
    return rocksdb::Status::OK();
  }
  rocksdb::Status DeleteCF(uint32_t, const rocksdb::Slice&) override { return rocksdb::Status::OK(); }
  rocksdb::Status SingleDeleteCF(uint32_t, const rocksdb::Slice&) override { return rocksdb::Status::OK(); }
  rocksdb::Status DeleteRangeCF(uint32_t, const rocksdb::Slice&, const rocksdb::Slice&) override {
    return rocksdb::Status::OK();
  }
  rocksdb::Status MergeCF(uint32_t, const rocksdb::Slice& k, const rocksdb::Slice& v) override {
    return PutCF(0, k, v);
  }
};

void ForEachWalEntry(const std::string& data, const EntryFn& fn) {
  constexpr size_t kBlock = 32768;
  auto emit = [&](const std::string& rep) {
    if (rep.size() < 12) return;  // sequence and count
    rocksdb::WriteBatch wb(rep);
    EntryCollector c;
    c.fn = &fn;
    (void)wb.Iterate(&c);
  };
  std::string record;
  bool open = false;
  for (size_t block = 0; block < data.size(); block += kBlock) {
    const size_t end = std::min(block + kBlock, data.size());
    for (size_t pos = block; pos + 7 <= end;) {
      const auto* h = reinterpret_cast<const uint8_t*>(data.data() + pos);
      const size_t len = h[4] | (size_t(h[5]) << 8);
      const uint8_t type = h[6];
      const size_t header = ((type >= 5 && type <= 8) || type == 11) ? 11 : 7;
      if (type == 0 || pos + header + len > end) break;  // padding, or a torn tail
      std::string frag(data.data() + pos + header, len);
      pos += header + len;
      switch (type) {
        case 1: case 5: emit(frag); open = false; break;                          // full
        case 2: case 6: record = frag; open = true; break;                        // first
        case 3: case 7: if (open) record += frag; break;                          // middle
        case 4: case 8: if (open) emit(record + frag); open = false; break;       // last
        default: break;  // metadata records
      }
    }
  }
}

void ForEachStoredEntry(const std::string& dir, const EntryFn& fn) {
  for (const auto& de : fs::directory_iterator(dir)) {
    const std::string path = de.path().string();
    if (de.path().extension() == ".sst") {
      rocksdb::SstFileReader r{rocksdb::Options()};
      ASSERT_TRUE(r.Open(path).ok()) << path;
      std::unique_ptr<rocksdb::Iterator> it(r.NewIterator(rocksdb::ReadOptions()));
      for (it->SeekToFirst(); it->Valid(); it->Next())
        fn(std::string_view(it->key().data(), it->key().size()), std::string_view(it->value().data(), it->value().size()));
    } else if (de.path().extension() == ".log") {
      ForEachWalEntry(Slurp(path), fn);
    }
  }
}

std::unique_ptr<vault::Vault> OpenVault(const std::string& data_dir) {
  auto mk = std::make_unique<vault::FileMasterKeyProvider>(data_dir + "/keys/vault-master.key",
                                                            vault::FileMasterKeyProvider::Options{});
  auto v = vault::Vault::Open(data_dir + "/vault", std::move(mk));
  EXPECT_TRUE(v.ok()) << v.status().ToString();
  return v.ok() ? std::move(*v) : nullptr;
}

// What a forensic scan of a stopped node's data directory finds of
// `needles`, each hit as "where: needle": the raw bytes of every file; every
// key and value of every RocksDB database in it (ForEachStoredEntry); every
// one of those index values that the index key decrypts (docs/RECORDS.md:
// the seal key, with the RocksDB key as associated data); and every vault
// record version named by those keys that the vault decrypts. The directory
// is copied before anything opens it (opening a database rewrites its
// files); the vault is opened on the original, for the keys.
std::vector<std::string> ForensicScan(const std::string& data_dir, const std::vector<std::string>& needles,
                                      size_t* decrypted = nullptr) {
  TempDir copy("medledger-scan", false);
  const std::string root = copy.path() + "/data";
  fs::copy(data_dir, root, fs::copy_options::recursive);
  std::vector<std::string> hits;
  auto scan = [&](const std::string& where, std::string_view bytes) {
    for (const auto& n : needles)
      if (bytes.find(n) != std::string_view::npos) hits.push_back(where + ": " + n);
  };
  std::vector<fs::path> dbs;
  for (const auto& de : fs::recursive_directory_iterator(root)) {
    if (!de.is_regular_file()) continue;
    scan("file " + de.path().string(), Slurp(de.path().string()));
    if (de.path().filename() == "CURRENT") dbs.push_back(de.path().parent_path());
  }
  EXPECT_GE(dbs.size(), 3u);  // ledger, vault, fhir-index

  auto vlt = OpenVault(data_dir);
  if (!vlt) return {"the vault does not open"};
  auto key_hex = vlt->Get({custodian::FhirIndex::kIndexKeyRecord, 1});
  EXPECT_TRUE(key_hex.ok());
  auto master = FromHexFixed<32>(key_hex.ok() ? *key_hex : "");
  EXPECT_TRUE(master.ok());
  if (!master.ok()) return {"no index key"};
  const crypto::AeadKey seal = custodian::HmacSha256(master->data(), master->size(), "medledger/fhir-index/v1/seal");
  size_t opened = 0;
  for (const auto& db : dbs) {
    const bool index = db.filename() == "fhir-index", vault = db.filename() == "vault";
    ForEachStoredEntry(db.string(), [&](std::string_view k, std::string_view v) {
      scan("entry in " + db.string(), k);
      scan("entry in " + db.string(), v);
      if (index) {
        std::string ad = std::string("medledger/fhir-index/v1") + '\0' + std::string(k);
        auto plain = crypto::Open(seal, Bytes(v.begin(), v.end()), ad);
        if (plain.ok()) {
          ++opened;
          scan("decrypted index entry", std::string_view(reinterpret_cast<const char*>(plain->data()), plain->size()));
        }
      }
      // C record_id \0 u32be(version): a version the vault may still open.
      if (vault && k.size() > 6 && k[0] == 'C' && k[k.size() - 5] == '\0') {
        std::string rid(k.substr(1, k.size() - 6));
        const auto* b = reinterpret_cast<const uint8_t*>(k.data() + k.size() - 4);
        uint32_t version = (uint32_t(b[0]) << 24) | (uint32_t(b[1]) << 16) | (uint32_t(b[2]) << 8) | b[3];
        auto plain = vlt->Get({rid, version});
        if (plain.ok()) {
          ++opened;
          scan("decrypted vault record " + rid, *plain);
        }
      }
    });
  }
  if (decrypted) *decrypted = opened;
  return hits;
}

bool AnyHit(const std::vector<std::string>& hits, const std::string& where, const std::string& needle) {
  return std::any_of(hits.begin(), hits.end(), [&](const std::string& h) {
    return h.rfind(where, 0) == 0 && h.size() >= needle.size() && h.compare(h.size() - needle.size(), needle.size(), needle) == 0;
  });
}

// After `erase Patient/X`, X's identifiers left the index: a conditional
// reference by its MRN no longer resolves, Type/id stays as a tombstone
// (reads answer 410), and a forensic scan of the data directory, every
// version of every index entry decrypted, finds none of the record's
// strings, nor the wrapped keys of its versions. The same scan before the
// erasure finds them: it can see what it looks for.
TEST_F(FhirWriteTest, ErasureTakesTheRecordsIdentifiersOutOfTheIndexAndEveryFile) {
  auto patient = crypto::KeyPair::Generate();
  Register(patient.id(), {"patient"});
  const std::string sys = "urn:oid:2.16.840.1.113883.19.5.99", mrn = "MRN-4471-90233";
  std::vector<std::string> needles = {mrn, "Quillfeather", "Ottoline", "1961-07-23", "+1-555-0148-3321", "INS-88412-7"};
  json p = {{"resourceType", "Patient"},
            {"id", "erase-me"},
            {"identifier", {{{"system", sys}, {"value", mrn}}}},
            {"name", {{{"family", "Quillfeather"}, {"given", {"Ottoline"}}}}},
            {"telecom", {{{"system", "phone"}, {"value", "+1-555-0148-3321"}}}},
            {"birthDate", "1961-07-23"}};
  auto put = Send("PUT", "/fhir/Patient/erase-me", p.dump(), patient.id(), false);
  ASSERT_EQ(put.status, 201) << put.body;
  // A second version with one more identifier: older versions of the
  // Patient's index entries now lie in the index's files as well.
  p["identifier"].push_back({{"system", "urn:example:insurance"}, {"value", "INS-88412-7"}});
  put = Send("PUT", "/fhir/Patient/erase-me", p.dump(), patient.id(), false);
  ASSERT_EQ(put.status, 200) << put.body;
  const std::string by_mrn =
      json({{"resourceType", "Bundle"},
            {"type", "transaction"},
            {"entry", {{{"resource", {{"resourceType", "Observation"},
                                      {"status", "final"},
                                      {"code", {{"text", "body weight"}}},
                                      {"subject", {{"reference", "Patient?identifier=" + sys + "|" + mrn}}}}},
                        {"request", {{"method", "POST"}, {"url", "Observation"}}}}}}})
          .dump();
  auto resolved = Send("POST", "/fhir", by_mrn, patient.id());
  ASSERT_EQ(resolved.status, 200) << resolved.body.substr(0, 300);
  EXPECT_NE(resolved.body.find("Patient/erase-me"), std::string::npos) << resolved.body.substr(0, 300);

  ASSERT_TRUE(node_->Stop().ok());
  std::string rid;
  {
    Offline off(node_->data_dir());
    ASSERT_TRUE(off.index);
    auto e = off.index->Lookup("Patient", "erase-me");
    ASSERT_TRUE(e.ok() && e->has_value());
    rid = (*e)->record_id;
  }
  // The wrapped keys of the Patient's versions: whoever holds one (and the
  // patient key) opens that version from any old file.
  std::vector<std::string> wrapped;
  ForEachStoredEntry(node_->data_dir() + "/vault", [&](std::string_view k, std::string_view v) {
    if (k.rfind("K" + rid + std::string(1, '\0'), 0) == 0) wrapped.emplace_back(v.substr(v.size() - 72));
  });
  ASSERT_EQ(wrapped.size(), 2u);
  size_t decrypted = 0;
  auto before = ForensicScan(node_->data_dir(), needles, &decrypted);
  EXPECT_GT(decrypted, 10u);
  EXPECT_TRUE(AnyHit(before, "decrypted index entry", mrn)) << before.size() << " hits";
  EXPECT_TRUE(AnyHit(before, "decrypted index entry", "INS-88412-7"));
  EXPECT_TRUE(AnyHit(before, "decrypted vault record " + rid, "Quillfeather"));
  for (const auto& w : wrapped) {
    bool found = false;
    for (const auto& de : fs::recursive_directory_iterator(node_->data_dir()))
      if (de.is_regular_file() && Slurp(de.path().string()).find(w) != std::string::npos) found = true;
    EXPECT_TRUE(found);
  }

  ASSERT_TRUE(node_->Restart().ok());
  client_ = std::make_unique<http::Client>(node_->url(), std::chrono::seconds(120));
  const std::string key_file = node_->dir() + "/patient.key";
  ASSERT_TRUE(crypto::WriteKeyFile(key_file, patient).ok());
  auto erased = RunCli({"erase", "--url", node_->url(), "--key", key_file, "Patient/erase-me"});
  ASSERT_EQ(erased.exit_code, 0) << erased.Describe();
  auto h = api::SignRequest(patient, "GET", "/fhir/Patient/erase-me", "", {{std::string(api::kPurposeHeader), "treatment"}});
  auto gone = client_->Request("GET", "/fhir/Patient/erase-me", "", h);
  ASSERT_TRUE(gone.ok());
  EXPECT_EQ(gone->status, 410) << gone->body;
  // The MRN no longer resolves.
  auto unresolved = Send("POST", "/fhir", by_mrn, patient.id());
  EXPECT_EQ(unresolved.status, 404) << unresolved.body.substr(0, 300);
  EXPECT_TRUE(IsOutcome(unresolved));

  ASSERT_TRUE(node_->Stop().ok());
  auto after = ForensicScan(node_->data_dir(), needles, &decrypted);
  EXPECT_GT(decrypted, 0u);  // the tombstone, the Observation and the vault's records still decrypt
  EXPECT_TRUE(after.empty()) << after.size() << " hits, first: " << after[0];
  for (const auto& de : fs::recursive_directory_iterator(node_->data_dir())) {
    if (!de.is_regular_file()) continue;
    std::string bytes = Slurp(de.path().string());
    for (const auto& w : wrapped) EXPECT_EQ(bytes.find(w), std::string::npos) << "a wrapped key in " << de.path();
  }
  // The Type/id entry is a tombstone: the record id, no identifiers.
  Offline off(node_->data_dir());
  ASSERT_TRUE(off.index);
  auto tomb = off.index->Lookup("Patient", "erase-me");
  ASSERT_TRUE(tomb.ok() && tomb->has_value());
  EXPECT_EQ((*tomb)->record_id, rid);
  EXPECT_TRUE((*tomb)->erased);
  EXPECT_TRUE((*tomb)->identifiers.empty());
  for (const auto& [system, value] : std::vector<std::pair<std::string, std::string>>{
           {sys, mrn}, {"*", mrn}, {"urn:example:insurance", "INS-88412-7"}, {"*", "INS-88412-7"}}) {
    auto found = off.index->FindByIdentifier("Patient", system, value);
    ASSERT_TRUE(found.ok());
    EXPECT_TRUE(found->empty()) << system << "|" << value;
  }
}

}  // namespace
}  // namespace medledger::test
