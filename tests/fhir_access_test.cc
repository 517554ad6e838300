// Signed FHIR reads against a real node: consent decisions (allowed,
// denied for each reason, revoked, out of period, wrong purpose, sensitive
// label), break-glass, the access log as validated R4 AuditEvents (our
// validator, and HL7's R4 JSON Schema for every kind of event), who may
// read it, Consent search, erasure under legal hold and carried out (410
// after, receipt signature verified), a tampered vault ciphertext, and
// unsigned / stale / replayed signatures.
#include <gtest/gtest.h>
#include <rocksdb/db.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "api/http_signature.h"
#include "common/bytes.h"
#include "crypto/aead.h"
#include "crypto/ed25519.h"
#include "crypto/keyfile.h"
#include "crypto/sha256.h"
#include "custodian/fhir_index.h"
#include "fhir/json.h"
#include "fhir/validate.h"
#include "http/client.h"
#include "model/transaction.h"
#include "model/tx_json.h"
#include "model/tx_types.h"
#include "tests/support/etcd_cluster.h"
#include "tests/support/shell.h"
#include "tests/support/test_node.h"

namespace medledger::test {
namespace {

using nlohmann::json;

int64_t NowS() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}
int64_t NowMs() { return NowS() * 1000; }

std::string NewHex() { return ToHex(crypto::RandomArray<16>()); }

class FhirAccessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    crypto::InitCrypto();
    StartNode();
  }
  // Starts a node on a new chain (replacing the current one) and connects.
  void StartNode(TestNodeOptions options = {}) {
    node_.reset();
    auto n = TestNode::Start(std::move(options));
    ASSERT_TRUE(n.ok()) << n.status().ToString();
    node_ = std::move(*n);
    client_ = std::make_unique<http::Client>(node_->url(), std::chrono::seconds(60));
    auto admin = crypto::ReadKeyFile(node_->admin_key());
    ASSERT_TRUE(admin.ok());
    admin_.emplace(*admin);
    auto s = client_->Get("/v1/status");
    ASSERT_TRUE(s.ok());
    chain_id_ = json::parse(s->body).value("chain_id", "");
  }

  uint64_t Height() {
    auto s = client_->Get("/v1/status");
    return s.ok() ? json::parse(s->body).value("height", uint64_t(0)) : 0;
  }

  // Submits and waits; returns the GET /v1/tx answer (committed or not).
  json Submit(const crypto::KeyPair& k, uint16_t type, const json& payload) {
    uint64_t nonce;
    crypto::RandomBytes(reinterpret_cast<uint8_t*>(&nonce), sizeof nonce);
    auto tx = model::MakeTransaction(chain_id_, k, type, payload, nonce, Height() + 1000);
    EXPECT_TRUE(tx.ok());
    auto r = client_->Post("/v1/tx?wait_ms=30000", model::TxToJson(*tx).dump());
    EXPECT_TRUE(r.ok());
    return r.ok() ? json::parse(r->body, nullptr, false) : json();
  }
  void Commit(const crypto::KeyPair& k, uint16_t type, const json& payload) {
    json r = Submit(k, type, payload);
    ASSERT_EQ(r.value("status", ""), "committed") << r.dump();
  }

  crypto::KeyPair Register(std::vector<std::string> roles) {
    auto k = crypto::KeyPair::Generate();
    Commit(*admin_, model::tx::kIdentityRegister, {{"pubkey", k.id()}, {"roles", roles}});
    return k;
  }

  // This node's public id: writes and erasures name it (X-Medledger-Node).
  std::string NodeId() {
    auto s = client_->Get("/v1/status");
    return s.ok() ? json::parse(s->body).value("node_id", "") : "";
  }

  // A write through the FHIR write API: RFC 9421 signed by the org admin,
  // naming the patient and the node, both covered by the signature.
  http::ClientResponse Put(const std::string& type, const std::string& id, const std::string& body,
                           const crypto::KeyPair& patient) {
    std::string target = "/fhir/" + type + "/" + id;
    http::HeaderList h = {{api::kPatientHeader, patient.id()},
                          {std::string(api::kNodeHeader), NodeId()},
                          {"Content-Type", "application/fhir+json"}};
    auto r = client_->Request("PUT", target, body, api::SignRequest(*admin_, "PUT", target, body, std::move(h)));
    EXPECT_TRUE(r.ok());
    EXPECT_LT(r->status, 300) << r->body;
    return *r;
  }

  http::ClientResponse Signed(const crypto::KeyPair& k, const std::string& method, const std::string& target,
                              http::HeaderList h = {}, const std::string& body = {}) {
    if (method != "GET") h.emplace_back(std::string(api::kNodeHeader), NodeId());
    auto headers = api::SignRequest(k, method, target, body, std::move(h));
    auto r = client_->Request(method, target, body, headers);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : http::ClientResponse{};
  }
  http::ClientResponse Read(const crypto::KeyPair& k, const std::string& ref, const std::string& purpose,
                            const std::string& reason = {}) {
    http::HeaderList h = {{std::string(api::kPurposeHeader), purpose}};
    if (!reason.empty()) h.emplace_back(std::string(api::kBreakGlassHeader), reason);
    return Signed(k, "GET", "/fhir/" + ref, h);
  }

  // The patient's access log once it holds at least `n` events, all
  // committed (they commit within the next blocks; until then they are
  // tagged pending). Bounded like test::WaitUntil: 120 s, which a passing
  // run never comes near.
  json Audit(const crypto::KeyPair& k, const crypto::KeyPair& patient, size_t n, const std::string& extra = {}) {
    json b;
    for (int i = 0; i < 1200; ++i) {
      auto r = Signed(k, "GET", "/fhir/AuditEvent?patient=" + patient.id() + extra);
      b = json::parse(r.body, nullptr, false);
      if (r.status != 200 || (b.value("total", size_t(0)) >= n && Pending(b) == 0)) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return b;
  }
  // Events of an AuditEvent Bundle tagged pending: answered, not yet in a block.
  static size_t Pending(const json& bundle) {
    size_t n = 0;
    for (const auto& e : bundle.value("entry", json::array()))
      for (const auto& t : e["resource"].value("meta", json::object()).value("tag", json::array()))
        if (t.value("system", "") == "urn:medledger:audit-status" && t.value("code", "") == "pending") n++;
    return n;
  }

  void LoadPatient() {
    patient_.emplace(Register({"patient"}));
    doctor_.emplace(Register({"practitioner"}));
    Put("Patient", "p1", R"({"resourceType":"Patient","id":"p1","gender":"female","birthDate":"1970-01-01"})", *patient_);
    obs_body_ = R"({"resourceType":"Observation","id":"o1","status":"final","code":{"text":"glucose"},)"
                R"("subject":{"reference":"Patient/p1"},"valueQuantity":{"value":5.40,"unit":"mmol/L"}})";
    Put("Observation", "o1", obs_body_, *patient_);
    Put("Observation", "hiv1",
        R"({"resourceType":"Observation","id":"hiv1","meta":{"security":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"HIV"}]},)"
        R"("status":"final","code":{"text":"hiv test"},"subject":{"reference":"Patient/p1"}})",
        *patient_);
    // What a refusal must not carry: the records' content and their ids
    // (vault record id, anchored hash, anchoring transaction).
    record_data_ = {"glucose", "5.40", "mmol/L", "hiv test", "HIV", "female", "1970-01-01"};
    for (const std::string ref : {"Patient/p1", "Observation/o1", "Observation/hiv1"}) {
      auto look = Signed(*patient_, "GET", "/v1/records?reference=" + ref);
      ASSERT_EQ(look.status, 200) << look.body;
      json l = json::parse(look.body);
      const std::string rid = l.value("record_id", "");
      auto anchor = Signed(*patient_, "GET", "/v1/records/" + rid + "/" + std::to_string(l.value("latest", 0)));
      ASSERT_EQ(anchor.status, 200) << anchor.body;
      json a = json::parse(anchor.body);
      for (const std::string& v : {rid, a.value("hash", ""), a.value("tx", "")}) {
        ASSERT_FALSE(v.empty()) << ref << ": " << anchor.body;
        record_data_.push_back(v);
      }
    }
  }

  // The first piece of record data found in `text`, or "". What the
  // request itself named (`asked`, its target) is not counted.
  std::string RecordDataIn(const std::string& text, const std::string& asked = "") const {
    for (const auto& d : record_data_)
      if (text.find(d) != std::string::npos && asked.find(d) == std::string::npos) return d;
    return "";
  }
  // An anchor read (/v1/records...) refused with 403: a JSON error and no
  // record data beyond what `target` named.
  ::testing::AssertionResult AnchorDeniedWithoutRecordData(const http::ClientResponse& r,
                                                           const std::string& target) const {
    if (r.status != 403) return ::testing::AssertionFailure() << "HTTP " << r.status << ": " << r.body;
    json j = json::parse(r.body, nullptr, false);
    if (!j.is_object() || j.size() != 1 || !j.contains("error"))
      return ::testing::AssertionFailure() << "not a JSON error: " << r.body;
    if (std::string d = RecordDataIn(r.body, target); !d.empty())
      return ::testing::AssertionFailure() << "the body carries record data \"" << d << "\": " << r.body;
    return ::testing::AssertionSuccess();
  }
  // A read refused with 403 and nothing of any record: the body is an
  // OperationOutcome holding issues only, with no record content or id in
  // it, and none of the headers that describe a record version.
  ::testing::AssertionResult DeniedWithoutRecordData(const http::ClientResponse& r) const {
    if (r.status != 403) return ::testing::AssertionFailure() << "HTTP " << r.status << ": " << r.body;
    json j = json::parse(r.body, nullptr, false);
    if (!j.is_object() || j.value("resourceType", "") != "OperationOutcome" || !j.contains("issue"))
      return ::testing::AssertionFailure() << "not an OperationOutcome: " << r.body;
    for (const auto& [k, v] : j.items())
      if (k != "resourceType" && k != "issue") return ::testing::AssertionFailure() << "extra element " << k << ": " << r.body;
    if (std::string d = RecordDataIn(r.body); !d.empty())
      return ::testing::AssertionFailure() << "the body carries record data \"" << d << "\": " << r.body;
    for (const char* h : {"ETag", "X-Medledger-Anchor", "X-Medledger-Record-Id", "X-Medledger-Version"})
      if (r.Header(h)) return ::testing::AssertionFailure() << "header " << h << " on a refusal";
    return ::testing::AssertionSuccess();
  }

  std::string Grant(const std::string& grantee, json types, json purposes, json extra = json::object()) {
    std::string id = NewHex();
    json p = {{"consent_id", id}, {"patient_org", "*"}, {"grantee", grantee}, {"types", types}, {"purposes", purposes}};
    p.update(extra);
    Commit(*patient_, model::tx::kConsentGrant, p);
    return id;
  }

  std::unique_ptr<TestNode> node_;
  std::unique_ptr<http::Client> client_;
  std::optional<crypto::KeyPair> admin_, patient_, doctor_;
  std::string chain_id_;
  std::string obs_body_;
  std::vector<std::string> record_data_;  // set by LoadPatient
};

std::string Diagnostics(const http::ClientResponse& r) {
  json j = json::parse(r.body, nullptr, false);
  if (j.is_discarded() || !j.contains("issue")) return "";
  return j["issue"][0].value("diagnostics", "");
}

TEST_F(FhirAccessTest, ConsentDecidesReadsAndEveryAccessIsAudited) {
  LoadPatient();
  auto other = Register({"practitioner"});
  auto auditor = Register({"auditor"});
  int accesses = 0;

  // Default deny.
  auto r = Read(*doctor_, "Observation/o1", "treatment");
  accesses++;
  EXPECT_TRUE(DeniedWithoutRecordData(r));

  // Consented read: the exact stored bytes, hashing to the anchor.
  std::string c1 = Grant(doctor_->id(), {"Observation"}, {"TREAT"});
  r = Read(*doctor_, "Observation/o1", "treatment");
  accesses++;
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Header("Content-Type").value_or(""), "application/fhir+json");
  EXPECT_EQ(ToHex(crypto::Sha256(r.body)), r.Header("X-Medledger-Anchor").value_or(""));
  EXPECT_NE(r.body.find("5.40"), std::string::npos);  // decimal precision kept
  EXPECT_TRUE(r.Header("X-Medledger-Record-Id").has_value());
  EXPECT_EQ(r.Header("ETag").value_or(""), "W/\"1\"");
  auto hist = Read(*doctor_, "Observation/o1/_history/1", "TREAT");
  accesses++;
  EXPECT_EQ(hist.status, 200);
  EXPECT_EQ(hist.body, r.body);

  // Wrong purpose, type not granted, sensitive label not named.
  EXPECT_TRUE(DeniedWithoutRecordData(Read(*doctor_, "Observation/o1", "research")));
  EXPECT_TRUE(DeniedWithoutRecordData(Read(*doctor_, "Patient/p1", "treatment")));
  auto hiv = Read(*doctor_, "Observation/hiv1", "treatment");
  EXPECT_TRUE(DeniedWithoutRecordData(hiv));
  EXPECT_EQ(Diagnostics(hiv).find("hiv"), std::string::npos);  // the label is not named
  accesses += 3;
  Grant(doctor_->id(), {"Observation"}, {"HOPERAT"}, {{"labels", {"hiv"}}});
  EXPECT_EQ(Read(*doctor_, "Observation/hiv1", "operations").status, 200);
  accesses++;

  // Outside the period: not yet, and expired.
  Grant(other.id(), {"*"}, {"TREAT"}, {{"not_before_ms", NowMs() + 3600000}});
  Grant(other.id(), {"*"}, {"HPAYMT"}, {{"not_before_ms", NowMs() - 7200000}, {"until_ms", NowMs() - 3600000}});
  EXPECT_TRUE(DeniedWithoutRecordData(Read(other, "Observation/o1", "treatment")));
  EXPECT_TRUE(DeniedWithoutRecordData(Read(other, "Observation/o1", "payment")));
  // Both are "consent-not-in-force" for the same key and record: the second
  // is answered 403 alike but not put on chain again within the window
  // (api/denial_limiter.h), so that a key cannot flood the chain with denials.
  accesses += 1;

  // Revocation.
  Commit(*patient_, model::tx::kConsentRevoke, {{"consent_id", c1}});
  EXPECT_TRUE(DeniedWithoutRecordData(Read(*doctor_, "Observation/o1", "treatment")));
  accesses++;

  // Break-glass: a practitioner with a reason gets in, flagged; without a
  // reason, or without the practitioner role, not. A reason shaped like a
  // code but holding a name and a birth date is free text too.
  auto bg = Read(other, "Observation/o1", "ETREAT", "patient-unconscious");
  EXPECT_EQ(bg.status, 200) << bg.body;
  EXPECT_EQ(bg.Header("X-Medledger-Break-Glass").value_or(""), "true");
  const std::string phi_reason = "Ned.Hintz-born-1993-12-08";
  auto bg_free = Read(other, "Observation/o1", "emergency", phi_reason);
  EXPECT_EQ(bg_free.status, 200) << bg_free.body;
  EXPECT_TRUE(DeniedWithoutRecordData(Read(other, "Observation/o1", "ETREAT")));
  EXPECT_TRUE(DeniedWithoutRecordData(Read(auditor, "Observation/o1", "ETREAT", "curious")));
  accesses += 4;

  // The patient reads its own record.
  EXPECT_EQ(Read(*patient_, "Patient/p1", "treatment").status, 200);
  accesses++;

  // Every access, granted or denied, is an R4 AuditEvent.
  json bundle = Audit(*patient_, *patient_, accesses);
  ASSERT_EQ(bundle.value("resourceType", ""), "Bundle") << bundle.dump();
  ASSERT_EQ(bundle.value("total", 0), accesses) << bundle.dump(1);
  int denied = 0, break_glass = 0;
  for (const auto& e : bundle["entry"]) {
    const json& ev = e["resource"];
    auto v = fhir::Parse(ev.dump());
    ASSERT_TRUE(v.ok());
    EXPECT_TRUE(fhir::ValidateResource(*v).ok()) << fhir::ValidateResource(*v).message() << ev.dump();
    EXPECT_EQ(ev["source"]["observer"]["identifier"]["value"], ev["source"]["site"]);
    EXPECT_EQ(ev["entity"][1]["what"]["identifier"]["system"], "urn:medledger:tx");
    if (ev["outcome"] == "4") denied++;
    if (ev.contains("meta")) {
      break_glass++;
      EXPECT_EQ(ev["meta"]["security"][0]["code"], "BTG");
      EXPECT_EQ(ev["agent"][0]["purposeOfUse"][0]["coding"][0]["code"], "ETREAT");
    }
    // No clinician free text on chain: the reason on chain is a code of the
    // vocabulary, and the free text shows only as the off-chain note the
    // custodian keeps.
    for (const auto& d : ev["entity"][0]["detail"]) {
      if (d["type"] == "break-glass-reason") {
        EXPECT_TRUE(d["valueString"] == "patient-unconscious" || d["valueString"] == "other") << d.dump();
      }
      if (d["type"] == "break-glass-note") {
        EXPECT_EQ(d["valueString"], phi_reason);
      }
    }
  }
  EXPECT_EQ(denied, 8);
  EXPECT_EQ(break_glass, 2);
  // The patient still sees the text: the custodian's note, from its vault.
  EXPECT_NE(bundle.dump().find(phi_reason), std::string::npos);

  // Who may read the log: the patient and an auditor, not the doctor.
  EXPECT_EQ(Audit(auditor, *patient_, 0).value("resourceType", ""), "Bundle");
  EXPECT_TRUE(DeniedWithoutRecordData(Signed(*doctor_, "GET", "/fhir/AuditEvent?patient=" + patient_->id())));

  // Consent search: FHIR R4 Consent resources, the revoked one inactive.
  auto cs = Signed(*patient_, "GET", "/fhir/Consent?patient=" + patient_->id());
  ASSERT_EQ(cs.status, 200) << cs.body;
  json cb = json::parse(cs.body);
  EXPECT_EQ(cb.value("total", 0), 4);
  for (const auto& e : cb["entry"]) {
    auto v = fhir::Parse(e["resource"].dump());
    EXPECT_TRUE(fhir::ValidateResource(*v).ok());
    if (e["resource"]["id"] == c1) {
      EXPECT_EQ(e["resource"]["status"], "inactive");
    }
  }
}

// Beyond our own validator: every kind of AuditEvent the node serves (a
// granted read, a denied one, a break-glass read, a disclosure, in the access
// log and in the accounting of disclosures) validates against HL7's FHIR R4
// JSON Schema (tests/data/fhir/schema), checked by python3-jsonschema.
// The access log shows every access the node answered, committed or not:
// a patient who asks right after a break-glass read sees it, tagged pending
// (a regression: the audit showed 3 AuditEvents of 4). Blocks are ordered by
// etcd here, and etcd's NOSPACE alarm, raised through its maintenance API,
// makes it refuse every block while it still serves reads, so the event
// stays out of a block for as long as the test needs. Disarmed, the event
// commits and loses its tag.
TEST_F(FhirAccessTest, TheAuditIncludesAccessesNotYetInABlock) {
  EtcdClusterOptions eo;
  eo.members = 1;
  auto etcd = EtcdCluster::Start(eo);
  ASSERT_TRUE(etcd.ok()) << etcd.status().ToString();
  TestNodeOptions no;
  no.node_args = {"--orderer", "etcd://" + (*etcd)->endpoint(0)};
  StartNode(no);
  LoadPatient();
  auto other = Register({"practitioner"});
  Grant(doctor_->id(), {"Observation"}, {"TREAT"});
  EXPECT_EQ(Read(*doctor_, "Observation/o1", "treatment").status, 200);
  EXPECT_EQ(Read(*doctor_, "Patient/p1", "treatment").status, 403);
  EXPECT_EQ(Read(*patient_, "Patient/p1", "treatment").status, 200);
  json committed = Audit(*patient_, *patient_, 3);
  ASSERT_EQ(committed.value("total", 0), 3) << committed.dump(1);

  http::Client etcd_http("http://" + (*etcd)->endpoint(0), std::chrono::seconds(10));
  auto alarm = [&](const std::string& action) {
    auto st = etcd_http.Post("/v3/maintenance/status", "{}");
    ASSERT_TRUE(st.ok());
    std::string member = json::parse(st->body)["header"].value("member_id", "");
    auto r = etcd_http.Post("/v3/maintenance/alarm",
                            json({{"action", action}, {"memberID", member}, {"alarm", "NOSPACE"}}).dump());
    ASSERT_TRUE(r.ok());
    ASSERT_EQ(r->status, 200) << r->body;
  };
  alarm("ACTIVATE");
  const uint64_t height = Height();
  auto bg = Read(other, "Observation/o1", "ETREAT", "unconscious-in-ER");
  ASSERT_EQ(bg.status, 200) << bg.body;
  const std::string event_id = bg.Header("X-Medledger-Access-Event").value_or("");
  ASSERT_FALSE(event_id.empty());
  auto r = Signed(*patient_, "GET", "/fhir/AuditEvent?patient=" + patient_->id());
  ASSERT_EQ(r.status, 200) << r.body;
  json log = json::parse(r.body);
  EXPECT_EQ(Height(), height);  // no block came in between
  ASSERT_EQ(log.value("total", 0), 4) << log.dump(1);
  EXPECT_EQ(Pending(log), 1u) << log.dump(1);
  bool seen = false;
  for (const auto& e : log["entry"]) {
    const json& ev = e["resource"];
    auto v = fhir::Parse(ev.dump());
    ASSERT_TRUE(v.ok());
    EXPECT_TRUE(fhir::ValidateResource(*v).ok()) << fhir::ValidateResource(*v).message() << ev.dump();
    if (ev["id"] != event_id) continue;
    seen = true;
    EXPECT_EQ(Pending(json{{"entry", json::array({e})}}), 1u) << ev.dump(1);
    EXPECT_EQ(ev["meta"]["security"][0]["code"], "BTG");
    EXPECT_EQ(ev["entity"].size(), 1u) << "no access.event transaction yet: " << ev.dump(1);
  }
  EXPECT_TRUE(seen) << log.dump(1);

  alarm("DEACTIVATE");
  json after = Audit(*patient_, *patient_, 4);
  ASSERT_EQ(after.value("total", 0), 4) << after.dump(1);
  EXPECT_EQ(Pending(after), 0u);
  seen = false;
  for (const auto& e : after["entry"])
    if (e["resource"]["id"] == event_id) {
      seen = true;
      EXPECT_EQ(e["resource"]["entity"][1]["what"]["identifier"]["system"], "urn:medledger:tx");
    }
  EXPECT_TRUE(seen) << after.dump(1);
}

TEST_F(FhirAccessTest, AuditEventsValidateAgainstTheHl7R4JsonSchema) {
  const std::string src = std::getenv("MEDLEDGER_SOURCE_DIR") ? std::getenv("MEDLEDGER_SOURCE_DIR") : MEDLEDGER_SOURCE_DIR;
  const std::string schema = src + "/tests/data/fhir/schema/fhir-r4-auditevent.schema.json";
  const std::string checker = src + "/tests/fhir_schema/check_auditevents.py";
  auto check = [&](const std::vector<std::string>& files) {
    std::vector<std::string> argv = {"/usr/bin/python3", checker, schema};
    argv.insert(argv.end(), files.begin(), files.end());
    return RunCommand(argv);
  };

  LoadPatient();
  auto other = Register({"practitioner"});
  EXPECT_TRUE(DeniedWithoutRecordData(Read(*doctor_, "Observation/o1", "treatment")));
  Grant(doctor_->id(), {"Observation"}, {"TREAT"});
  EXPECT_EQ(Read(*doctor_, "Observation/o1", "treatment").status, 200);
  EXPECT_EQ(Read(other, "Observation/o1", "ETREAT", "unconscious-in-ER").status, 200);
  json disclosure = {{"patient", "p1"},
                     {"recipient_name", "County Health Department"},
                     {"recipient_address", "1 Main Street"},
                     {"description", "notifiable-disease-report"},
                     {"purpose", "PUBHLTH"},
                     {"records", {"Observation/o1"}}};
  auto d = Signed(*doctor_, "POST", "/v1/disclosures", {{"Content-Type", "application/json"}}, disclosure.dump());
  ASSERT_EQ(d.status, 201) << d.body;

  json log = Audit(*patient_, *patient_, 4);
  ASSERT_EQ(log.value("total", 0), 4) << log.dump(1);
  json accounting = Audit(*patient_, *patient_, 1, "&_accounting=true");
  ASSERT_EQ(accounting.value("total", 0), 1) << accounting.dump(1);
  bool granted = false, denied = false, break_glass = false, disclosed = false;
  for (const auto& e : log["entry"]) {
    const json& ev = e["resource"];
    if (ev["type"]["code"] == "110106") disclosed = true;
    else if (ev.contains("meta")) break_glass = true;
    else if (ev["outcome"] == "4") denied = true;
    else if (ev["outcome"] == "0") granted = true;
  }
  EXPECT_TRUE(granted && denied && break_glass && disclosed) << log.dump(1);

  const std::string log_file = node_->dir() + "/auditevent-search.json";
  const std::string accounting_file = node_->dir() + "/auditevent-accounting.json";
  std::ofstream(log_file) << log.dump();
  std::ofstream(accounting_file) << accounting.dump();
  CommandResult ok = check({log_file, accounting_file});
  EXPECT_EQ(ok.exit_code, 0) << ok.out << ok.Describe();
  EXPECT_NE(ok.out.find("5 AuditEvent(s) checked against the FHIR R4 JSON Schema, 0 invalid"), std::string::npos)
      << ok.out << ok.Describe();

  // The check has teeth: the same log with one event broken the way a
  // careless change would break it (an outcome code R4 does not have, a
  // misspelt element) is refused, naming both.
  json broken = log;
  broken["entry"][0]["resource"]["outcome"] = "2";
  broken["entry"][0]["resource"]["purposeOfUse"] = broken["entry"][0]["resource"]["purposeOfEvent"];
  const std::string broken_file = node_->dir() + "/auditevent-broken.json";
  std::ofstream(broken_file) << broken.dump();
  CommandResult bad = check({broken_file});
  EXPECT_EQ(bad.exit_code, 1) << bad.out << bad.Describe();
  EXPECT_NE(bad.out.find("outcome: '2' is not one of"), std::string::npos) << bad.out;
  EXPECT_NE(bad.out.find("'purposeOfUse' was unexpected"), std::string::npos) << bad.out;
}

TEST_F(FhirAccessTest, SignaturesUnsignedStaleReplayedRejected) {
  LoadPatient();
  auto unsigned_r = client_->Get("/fhir/Observation/o1", {{"X-Purpose-Of-Use", "treatment"}});
  ASSERT_TRUE(unsigned_r.ok());
  EXPECT_EQ(unsigned_r->status, 401);
  auto stale_h = api::SignRequest(*patient_, "GET", "/fhir/Observation/o1", "", {{"X-Purpose-Of-Use", "treatment"}},
                                  NowS() - 3600);
  EXPECT_EQ(client_->Get("/fhir/Observation/o1", stale_h)->status, 401);
  auto h = api::SignRequest(*patient_, "GET", "/fhir/Observation/o1", "", {{"X-Purpose-Of-Use", "treatment"}});
  EXPECT_EQ(client_->Get("/fhir/Observation/o1", h)->status, 200);
  auto replay = client_->Get("/fhir/Observation/o1", h);
  EXPECT_EQ(replay->status, 401);
  EXPECT_NE(replay->body.find("replayed"), std::string::npos);
  // Purpose not covered by the signature.
  auto nh = api::SignRequest(*patient_, "GET", "/fhir/Observation/o1", "", {});
  nh.emplace_back("X-Purpose-Of-Use", "treatment");
  EXPECT_EQ(client_->Get("/fhir/Observation/o1", nh)->status, 401);
}

// Regression: a hold kept in one node's file did not bind the organisation's
// other nodes. Now it is a record.legal_hold transaction, signed by the
// custodian's org admin, and the chain itself refuses an erasure while it
// is set, whichever node decides.
TEST_F(FhirAccessTest, ErasureRefusedUnderLegalHoldThenCarriedOut) {
  LoadPatient();
  std::string key_file = node_->dir() + "/patient.key";
  ASSERT_TRUE(crypto::WriteKeyFile(key_file, *patient_).ok());
  // Given: a hold set by the custodian's admin, with its own key (the CLI
  // signs a record.legal_hold and submits it to /v1/tx).
  auto hold = RunCli({"legal-hold", "--url", node_->url(), "--key", node_->admin_key(), "--reason", "litigation",
                      "Observation/o1"});
  ASSERT_EQ(hold.exit_code, 0) << hold.Describe();
  EXPECT_EQ(json::parse(hold.out).value("status", ""), "committed") << hold.out;
  auto list = Signed(*admin_, "GET", "/v1/admin/legal-hold");
  ASSERT_EQ(list.status, 200) << list.body;
  json holds = json::parse(list.body);
  ASSERT_EQ(holds.size(), 1u) << list.body;
  const std::string rid = holds.begin().key();
  EXPECT_EQ(holds[rid].value("reason", ""), "litigation");
  EXPECT_EQ(holds[rid].value("reference", ""), "Observation/o1");
  EXPECT_EQ(holds[rid].value("set_by", ""), admin_->id());
  // When: an erasure is decided without this node's check (as another node
  // of the organisation would decide it), the chain rejects it.
  const std::string request_id = NewHex();
  Commit(*patient_, model::tx::kErasureRequest, {{"request_id", request_id}, {"record_id", rid}});
  json erased = Submit(*admin_, model::tx::kErasureDecision, {{"request_id", request_id}, {"decision", "erased"}});
  EXPECT_EQ(erased.value("status", ""), "rejected") << erased.dump();
  EXPECT_NE(erased.dump().find("legal hold"), std::string::npos) << erased.dump();
  EXPECT_EQ(Read(*patient_, "Observation/o1", "treatment").status, 200);
  // Refusing under the hold is valid; so is the node's own refusal.
  Commit(*admin_, model::tx::kErasureDecision, {{"request_id", request_id}, {"decision", "refused"}, {"legal_hold", true}});
  auto refused = RunCli({"erase", "--url", node_->url(), "--key", key_file, "Observation/o1"});
  EXPECT_EQ(refused.exit_code, 5) << refused.Describe();
  EXPECT_NE(refused.err.find("legal-hold"), std::string::npos) << refused.err;
  EXPECT_EQ(Read(*patient_, "Observation/o1", "treatment").status, 200);
  // Then: released, the next request is erased, with a receipt signed by
  // the node key.
  hold = RunCli({"legal-hold", "--url", node_->url(), "--key", node_->admin_key(), "--release", "Observation/o1"});
  ASSERT_EQ(hold.exit_code, 0) << hold.Describe();
  list = Signed(*admin_, "GET", "/v1/admin/legal-hold");
  ASSERT_EQ(list.status, 200) << list.body;
  EXPECT_EQ(json::parse(list.body), json::object());
  auto done = RunCli({"erase", "--url", node_->url(), "--key", key_file, "Observation/o1"});
  ASSERT_EQ(done.exit_code, 0) << done.Describe();
  EXPECT_NE(done.err.find("receipt signature verifies"), std::string::npos);
  json receipt = json::parse(done.out);
  EXPECT_EQ(receipt["reference"], "Observation/o1");
  EXPECT_EQ(receipt["versions_destroyed"], json::array({1}));
  auto node_key = crypto::ReadKeyFile(node_->node_key());
  ASSERT_TRUE(node_key.ok());
  EXPECT_EQ(receipt["node_key"], node_key->id());
  json unsigned_part = receipt;
  unsigned_part.erase("signature");
  std::string bytes = "medledger-erasure-receipt-v1\n" + unsigned_part.dump();
  auto sig = FromHexFixed<64>(receipt["signature"].get<std::string>());
  ASSERT_TRUE(sig.ok());
  EXPECT_TRUE(crypto::Verify(node_key->public_key(), reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), *sig));
  // Reads answer 410 Gone with an OperationOutcome; the CLI exits 4.
  auto gone = Read(*patient_, "Observation/o1", "treatment");
  EXPECT_EQ(gone.status, 410);
  EXPECT_EQ(json::parse(gone.body).value("resourceType", ""), "OperationOutcome");
  auto cli = RunCli({"record", "get", "--url", node_->url(), "--key", key_file, "--purpose", "treatment", "Observation/o1"});
  EXPECT_EQ(cli.exit_code, 4) << cli.Describe();
  // Erased state survives a restart (re-applied before serving).
  ASSERT_TRUE(node_->Stop().ok());
  ASSERT_TRUE(node_->Restart().ok());
  client_ = std::make_unique<http::Client>(node_->url(), std::chrono::seconds(60));
  EXPECT_EQ(Read(*patient_, "Observation/o1", "treatment").status, 410);
}

// An erasure request on chain that nobody decided. Here it is submitted
// straight to /v1/tx; a node stopped between request and decision leaves
// the same state. The record stays readable and takes no second request,
// so the patient could never ask again. The next start decides it.
TEST_F(FhirAccessTest, AnUndecidedErasureRequestIsDecidedAtTheNextStart) {
  LoadPatient();
  auto look = Signed(*patient_, "GET", "/v1/records?reference=Observation/o1");
  ASSERT_EQ(look.status, 200) << look.body;
  const std::string rid = json::parse(look.body).value("record_id", "");
  ASSERT_EQ(rid.size(), 32u) << look.body;
  Commit(*patient_, model::tx::kErasureRequest, {{"request_id", NewHex()}, {"record_id", rid}});
  EXPECT_EQ(Read(*patient_, "Observation/o1", "treatment").status, 200);
  json again = Submit(*patient_, model::tx::kErasureRequest, {{"request_id", NewHex()}, {"record_id", rid}});
  EXPECT_EQ(again.value("status", ""), "rejected") << again.dump();
  EXPECT_NE(again.value("error", json::object()).value("message", "").find("is pending"), std::string::npos)
      << again.dump();

  ASSERT_TRUE(node_->Stop().ok());
  ASSERT_TRUE(node_->Restart().ok());
  client_ = std::make_unique<http::Client>(node_->url(), std::chrono::seconds(60));
  int status = 0;
  EXPECT_TRUE(WaitUntil([&] { return (status = Read(*patient_, "Observation/o1", "treatment").status) == 410; }))
      << "last status " << status;
  // Decided, so the record's erasure is on chain and survives a restart too.
  ASSERT_TRUE(node_->Stop().ok());
  ASSERT_TRUE(node_->Restart().ok());
  client_ = std::make_unique<http::Client>(node_->url(), std::chrono::seconds(60));
  EXPECT_EQ(Read(*patient_, "Observation/o1", "treatment").status, 410);
}

TEST_F(FhirAccessTest, CliRecordGetChecksTheAnchor) {
  LoadPatient();
  std::string doc_file = node_->dir() + "/doctor.key";
  ASSERT_TRUE(crypto::WriteKeyFile(doc_file, *doctor_).ok());
  auto denied = RunCli({"record", "get", "--url", node_->url(), "--key", doc_file, "--purpose", "treatment", "Observation/o1"});
  EXPECT_EQ(denied.exit_code, 3) << denied.Describe();
  EXPECT_NE(denied.err.find("denied"), std::string::npos);
  EXPECT_EQ(denied.out, "");  // nothing of the record
  EXPECT_EQ(RecordDataIn(denied.err), "") << denied.err;
  Grant(doctor_->id(), {"*"}, {"TREAT"});
  auto ok = RunCli({"record", "get", "--url", node_->url(), "--key", doc_file, "--purpose", "treatment", "Observation/o1"});
  ASSERT_EQ(ok.exit_code, 0) << ok.Describe();
  auto direct = Read(*patient_, "Observation/o1", "treatment");
  EXPECT_EQ(ok.out, direct.body + "\n");  // the stored bytes (meta set by the server)
  EXPECT_NE(ok.err.find("matches the on-chain anchor"), std::string::npos);
}

// Anchors need a member identity; a patient reads only those of their own
// records (what `record get` and `erase` check against).
TEST_F(FhirAccessTest, AnchorsAreReadByMembersAndByTheirOwnPatientOnly) {
  LoadPatient();
  auto other = Register({"patient"});
  auto look = Signed(*doctor_, "GET", "/v1/records?reference=Observation/o1");
  ASSERT_EQ(look.status, 200) << look.body;
  json j = json::parse(look.body);
  std::string target = "/v1/records/" + j["record_id"].get<std::string>() + "/" + std::to_string(j["latest"].get<int>());
  EXPECT_EQ(Signed(*doctor_, "GET", target).status, 200);
  EXPECT_EQ(Signed(*patient_, "GET", target).status, 200);
  EXPECT_EQ(Signed(*patient_, "GET", "/v1/records?reference=Observation/o1").status, 200);
  EXPECT_TRUE(AnchorDeniedWithoutRecordData(Signed(other, "GET", target), target));
  EXPECT_TRUE(AnchorDeniedWithoutRecordData(Signed(other, "GET", "/v1/records?reference=Observation/o1"),
                                            "/v1/records?reference=Observation/o1"));
  auto unsigned_read = client_->Request("GET", target, "", {});
  ASSERT_TRUE(unsigned_read.ok());
  EXPECT_EQ(unsigned_read->status, 401);
}

TEST_F(FhirAccessTest, TamperedCiphertextIsDetectedAndNothingReturned) {
  LoadPatient();
  auto first = Read(*patient_, "Observation/o1", "treatment");
  ASSERT_EQ(first.status, 200);
  std::string rid = first.Header("X-Medledger-Record-Id").value_or("");
  ASSERT_FALSE(rid.empty());
  ASSERT_TRUE(node_->Stop().ok());
  {
    rocksdb::DB* db = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(rocksdb::Options(), node_->data_dir() + "/vault", &db).ok());
    std::string key = "C" + rid + std::string(1, '\0') + std::string("\0\0\0\1", 4);
    std::string v;
    ASSERT_TRUE(db->Get(rocksdb::ReadOptions(), key, &v).ok());
    v[v.size() - 20] ^= 0x01;
    rocksdb::WriteOptions wo;
    wo.sync = true;
    ASSERT_TRUE(db->Put(wo, key, v).ok());
    delete db;
  }
  ASSERT_TRUE(node_->Restart().ok());
  client_ = std::make_unique<http::Client>(node_->url(), std::chrono::seconds(60));
  auto r = Read(*patient_, "Observation/o1", "treatment");
  EXPECT_EQ(r.status, 500);
  EXPECT_NE(Diagnostics(r).find("integrity check failed"), std::string::npos) << r.body;
  EXPECT_EQ(r.body.find("glucose"), std::string::npos);
  // The node keeps serving other records.
  EXPECT_EQ(Read(*patient_, "Patient/p1", "treatment").status, 200);
}

}  // namespace
}  // namespace medledger::test
