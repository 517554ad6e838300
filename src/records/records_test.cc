#include "records/records.h"

#include "records/schema.h"
#include "testing/test_chain.h"

namespace medledger::records {
namespace {

using namespace testing;

class RecordsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    c.Register(pat, {"patient"});
    c.Register(pat2, {"patient"});
    c.Register(doc_a, {"practitioner"});
    c.Register(doc_b, {"practitioner"}, "hosp-b");
    c.Register(nurse_a, {"auditor"});
  }
  json First(const std::string& record, const std::string& ps, const crypto::KeyPair& patient) {
    json p = AnchorPayload(record, ps, 1);
    p["patient_key"] = patient.id();
    return p;
  }
  TestChain c;
  crypto::KeyPair pat = Key("pat"), pat2 = Key("pat2"), doc_a = Key("doc-a"), doc_b = Key("doc-b"),
                  nurse_a = Key("nurse-a");
};

TEST_F(RecordsTest, FirstAnchorBindsThePseudonymAndVersionsFollow) {
  ASSERT_TRUE(c.Do(c.node_a, tx::kRecordAnchor, First("r1", "p1", pat)).ok());
  ASSERT_TRUE(c.Do(doc_a, tx::kRecordAnchor, AnchorPayload("r1", "p1", 2)).ok());
  ASSERT_TRUE(c.Do(c.admin_a, tx::kRecordAnchor, AnchorPayload("r2", "p1", 1, "Condition", {"hiv"})).ok());

  EXPECT_EQ(LatestVersion(c.state, Id("r1")), 2);
  EXPECT_EQ(LatestVersion(c.state, Id("nope")), std::nullopt);
  auto a = GetAnchor(c.state, Id("r1"), 1);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->org, "hosp-a");
  EXPECT_EQ(a->pseudonym, Id("p1"));
  EXPECT_EQ(a->resource_type, "Observation");
  EXPECT_EQ(a->hash, HashOf(std::string("r1#1")));
  EXPECT_EQ(a->signer, c.node_a.id());
  EXPECT_FALSE(a->erased);
  EXPECT_FALSE(GetAnchor(c.state, Id("r1"), 3));
  EXPECT_FALSE(GetAnchor(c.state, Id("r1"), 0));
  EXPECT_EQ(GetLatestAnchor(c.state, Id("r2"))->labels, std::vector<std::string>{"hiv"});

  auto recs = ListPatientRecords(c.state, "hosp-a", Id("p1"));
  ASSERT_EQ(recs.size(), 2u);
  for (const auto& r : recs) EXPECT_EQ(r.latest, r.record_id == Id("r1") ? 2 : 1);
  EXPECT_TRUE(ListPatientRecords(c.state, "hosp-b", Id("p1")).empty());

  auto ps = PseudonymsOf(c.state, pat.public_key());
  ASSERT_EQ(ps.size(), 1u);
  EXPECT_EQ(ps[0].org, "hosp-a");
  EXPECT_EQ(ps[0].pseudonym, Id("p1"));
  EXPECT_EQ(BoundPatient(c.state, "hosp-a", Id("p1")), pat.public_key());

  // A second pseudonym at the same custodian may share the key.
  ASSERT_TRUE(c.Do(doc_a, tx::kRecordAnchor, First("r3", "p9", pat)).ok());
  EXPECT_EQ(PseudonymsOf(c.state, pat.public_key()).size(), 2u);
  EXPECT_EQ(PseudonymsOf(c.state, pat.public_key(), "hosp-b").size(), 0u);
}

// One key per custodian (docs/RECORDS.md): a key bound at hosp-a is refused
// at hosp-b, by a first anchor, inside a batch, by a re-bind, and a grant
// for hosp-b's records by hosp-a's key is refused; the patient's key derived
// for hosp-b binds there.
TEST_F(RecordsTest, AKeyBoundAtOneCustodianIsRefusedAtAnother) {
  ASSERT_TRUE(c.Do(c.node_a, tx::kRecordAnchor, First("r1", "p1", pat)).ok());
  auto v = c.Do(doc_b, tx::kRecordAnchor, First("r2", "p2", pat));
  EXPECT_EQ(v.reason, Reject::kConflict) << v.detail;
  EXPECT_NE(v.detail.find("another custodian"), std::string::npos) << v.detail;
  EXPECT_EQ(v.detail.find("hosp-a"), std::string::npos) << "the refusal must not say where else: " << v.detail;
  v = c.Do(doc_b, tx::kRecordAnchorBatch, {{"anchors", {First("r2", "p2", pat)}}});
  EXPECT_EQ(v.reason, Reject::kConflict) << v.detail;
  EXPECT_FALSE(BoundPatient(c.state, "hosp-b", Id("p2")));

  // hosp-b's own key for the patient binds; a re-bind at hosp-b to the key
  // bound at hosp-a is refused, as is the reverse.
  ASSERT_TRUE(c.Do(doc_b, tx::kRecordAnchor, First("r2", "p2", pat2)).ok());
  v = c.Do(c.admin_b, tx::kPatientRebind, {{"pseudonym", Id("p2")}, {"new_patient_key", pat.id()}, {"reason", "lost-key"}});
  EXPECT_EQ(v.reason, Reject::kConflict) << v.detail;
  v = c.Do(c.admin_a, tx::kPatientRebind, {{"pseudonym", Id("p1")}, {"new_patient_key", pat2.id()}, {"reason", "lost-key"}});
  EXPECT_EQ(v.reason, Reject::kConflict) << v.detail;
  EXPECT_EQ(BoundPatient(c.state, "hosp-a", Id("p1")), pat.public_key());
  EXPECT_EQ(BoundPatient(c.state, "hosp-b", Id("p2")), pat2.public_key());
  EXPECT_TRUE(BoundElsewhere(c.state, pat.public_key(), "hosp-b"));
  EXPECT_FALSE(BoundElsewhere(c.state, pat.public_key(), "hosp-a"));

  // Grants: for the key's own custodian or "*" (which covers only it), not
  // for another custodian's records.
  json grant = {{"consent_id", Id("c1")}, {"patient_org", "hosp-b"}, {"grantee", "org:hosp-b"},
                {"types", {"*"}}, {"purposes", {"TREAT"}}};
  v = c.Do(pat, tx::kConsentGrant, grant);
  EXPECT_EQ(v.reason, Reject::kConflict) << v.detail;
  grant["patient_org"] = "hosp-a";
  EXPECT_TRUE(c.Do(pat, tx::kConsentGrant, grant).ok());
  grant["consent_id"] = Id("c2");
  grant["patient_org"] = "*";
  EXPECT_TRUE(c.Do(pat, tx::kConsentGrant, grant).ok());
}

TEST_F(RecordsTest, AnchorRejections) {
  ASSERT_TRUE(c.Do(c.node_a, tx::kRecordAnchor, First("r1", "p1", pat)).ok());
  auto expect = [&](const crypto::KeyPair& k, const json& p, Reject r) {
    auto v = c.Do(k, tx::kRecordAnchor, p);
    EXPECT_EQ(v.reason, r) << p.dump() << " -> " << v.detail;
  };
  // Unbound pseudonym without patient_key.
  expect(c.node_a, AnchorPayload("r5", "p5", 1), Reject::kNotFound);
  // patient_key not registered / not a patient.
  {
    json p = AnchorPayload("r5", "p5", 1);
    p["patient_key"] = Key("stranger").id();
    expect(c.node_a, p, Reject::kNotFound);
    p["patient_key"] = doc_a.id();
    expect(c.node_a, p, Reject::kConflict);
  }
  // Bound pseudonym, other patient key.
  {
    json p = AnchorPayload("r1", "p1", 2);
    p["patient_key"] = pat2.id();
    expect(c.node_a, p, Reject::kConflict);
  }
  // Versioning: skip, repeat, and a new record not starting at 1.
  expect(c.node_a, AnchorPayload("r1", "p1", 3), Reject::kConflict);
  expect(c.node_a, AnchorPayload("r1", "p1", 1), Reject::kConflict);
  expect(c.node_a, AnchorPayload("r6", "p1", 2), Reject::kConflict);
  // Same record, other type or other pseudonym.
  expect(c.node_a, AnchorPayload("r1", "p1", 2, "Condition"), Reject::kConflict);
  {
    json p = First("r1", "p2", pat2);
    p["version"] = 2;
    expect(c.node_a, p, Reject::kConflict);
  }
  // Another custodian cannot version it.
  expect(doc_b, AnchorPayload("r1", "p1", 2), Reject::kNotFound);  // p1 is not bound at hosp-b
  {
    json p = AnchorPayload("r1", "p1", 2);
    p["patient_key"] = pat2.id();  // unbound: it would bind p1 at hosp-b
    expect(doc_b, p, Reject::kRoleNotPermitted);
  }
  // Roles: an auditor and a patient cannot anchor.
  expect(nurse_a, AnchorPayload("r1", "p1", 2), Reject::kRoleNotPermitted);
  expect(pat, AnchorPayload("r1", "p1", 2), Reject::kRoleNotPermitted);
  // Payload shape.
  json bad = AnchorPayload("r1", "p1", 2);
  bad["record_id"] = "NOT-HEX";
  expect(c.node_a, bad, Reject::kInvalidPayload);
  bad = AnchorPayload("r1", "p1", 2);
  bad["record_id"] = "abc";  // too short for a random id
  expect(c.node_a, bad, Reject::kInvalidPayload);
  bad = AnchorPayload("r1", "p1", 2);
  bad["hash"] = "00";
  expect(c.node_a, bad, Reject::kInvalidPayload);
  bad = AnchorPayload("r1", "p1", 2);
  bad["version"] = "2";
  expect(c.node_a, bad, Reject::kInvalidPayload);
  bad = AnchorPayload("r1", "p1", 0);
  expect(c.node_a, bad, Reject::kInvalidPayload);
  expect(c.node_a, AnchorPayload("r1", "p1", 2, "observation"), Reject::kInvalidPayload);
  expect(c.node_a, AnchorPayload("r1", "p1", 2, "Observation", {"gossip"}), Reject::kInvalidPayload);
  expect(c.node_a, AnchorPayload("r1", "p1", 2, "Observation", {"hiv", "hiv"}), Reject::kInvalidPayload);
  // Still at version 1 after all of that.
  EXPECT_EQ(LatestVersion(c.state, Id("r1")), 1);
}

TEST_F(RecordsTest, BatchIsAllOrNothing) {
  json good = {{"anchors", json::array({First("b1", "p1", pat), AnchorPayload("b1", "p1", 2),
                                        AnchorPayload("b2", "p1", 1, "Encounter")})}};
  ASSERT_TRUE(c.Do(c.node_a, tx::kRecordAnchorBatch, good).ok());
  EXPECT_EQ(LatestVersion(c.state, Id("b1")), 2);
  EXPECT_EQ(LatestVersion(c.state, Id("b2")), 1);

  // The third entry fails: nothing of the batch is kept, including the
  // binding the first entry made.
  json bad = {{"anchors", json::array({First("b3", "p3", pat2), AnchorPayload("b1", "p1", 3),
                                       AnchorPayload("b1", "p1", 9)})}};
  auto v = c.Do(c.node_a, tx::kRecordAnchorBatch, bad);
  EXPECT_EQ(v.reason, Reject::kConflict);
  EXPECT_EQ(v.detail.rfind("anchors[2]: ", 0), 0u) << v.detail;
  EXPECT_EQ(LatestVersion(c.state, Id("b1")), 2);
  EXPECT_FALSE(LatestVersion(c.state, Id("b3")));
  EXPECT_FALSE(BoundPatient(c.state, "hosp-a", Id("p3")));

  json malformed = {{"anchors", json::array({First("b4", "p4", pat2), json{{"record_id", 7}}})}};
  v = c.Do(c.node_a, tx::kRecordAnchorBatch, malformed);
  EXPECT_EQ(v.reason, Reject::kInvalidPayload);
  EXPECT_EQ(v.detail.rfind("anchors[1]: ", 0), 0u) << v.detail;
  EXPECT_FALSE(LatestVersion(c.state, Id("b4")));
  EXPECT_EQ(c.Do(c.node_a, tx::kRecordAnchorBatch, {{"anchors", json::array()}}).reason, Reject::kInvalidPayload);
  EXPECT_EQ(c.Do(c.node_a, tx::kRecordAnchorBatch, {{"anchors", "x"}}).reason, Reject::kInvalidPayload);
  EXPECT_EQ(c.Do(c.node_a, tx::kRecordAnchorBatch, {{"anchors", json::array({1})}}).reason, Reject::kInvalidPayload);
}

TEST_F(RecordsTest, RebindOnlyByTheBindingCustodiansAdmin) {
  ASSERT_TRUE(c.Do(c.node_a, tx::kRecordAnchor, First("r1", "p1", pat)).ok());
  auto lost_and_found = Key("pat-new");
  c.Register(lost_and_found, {"patient"});
  json p = {{"pseudonym", Id("p1")}, {"new_patient_key", lost_and_found.id()}, {"reason", "lost-key"}};

  // A practitioner of the custodian, a node key, the patient: role check.
  EXPECT_EQ(c.Do(doc_a, tx::kPatientRebind, p).reason, Reject::kRoleNotPermitted);
  EXPECT_EQ(c.Do(c.node_a, tx::kPatientRebind, p).reason, Reject::kRoleNotPermitted);
  EXPECT_EQ(c.Do(pat, tx::kPatientRebind, p).reason, Reject::kRoleNotPermitted);
  // Another organisation's admin, naming the custodian: not permitted.
  json other = p;
  other["org"] = "hosp-a";
  EXPECT_EQ(c.Do(c.admin_b, tx::kPatientRebind, other).reason, Reject::kRoleNotPermitted);
  // ... and at its own org the pseudonym is not bound.
  EXPECT_EQ(c.Do(c.admin_b, tx::kPatientRebind, p).reason, Reject::kNotFound);
  // New key must be a registered patient, and different.
  json q = p;
  q["new_patient_key"] = Key("nobody").id();
  EXPECT_EQ(c.Do(c.admin_a, tx::kPatientRebind, q).reason, Reject::kNotFound);
  q["new_patient_key"] = doc_a.id();
  EXPECT_EQ(c.Do(c.admin_a, tx::kPatientRebind, q).reason, Reject::kConflict);
  q["new_patient_key"] = pat.id();
  EXPECT_EQ(c.Do(c.admin_a, tx::kPatientRebind, q).reason, Reject::kConflict);
  q = p;
  q["reason"] = "free text with spaces";
  EXPECT_EQ(c.Do(c.admin_a, tx::kPatientRebind, q).reason, Reject::kInvalidPayload);

  ASSERT_TRUE(c.Do(c.admin_a, tx::kPatientRebind, p).ok());
  EXPECT_EQ(BoundPatient(c.state, "hosp-a", Id("p1")), lost_and_found.public_key());
  EXPECT_TRUE(PseudonymsOf(c.state, pat.public_key()).empty());
  EXPECT_EQ(PseudonymsOf(c.state, lost_and_found.public_key()).size(), 1u);
  auto doc = LoadDoc(c.state, BindingKey("hosp-a", Id("p1")));
  ASSERT_TRUE(doc);
  ASSERT_EQ((*doc)["history"].size(), 1u);
  EXPECT_EQ((*doc)["history"][0]["patient_key"], pat.id());
  EXPECT_EQ((*doc)["history"][0]["reason"], "lost-key");
  // New versions follow the new binding.
  json next = AnchorPayload("r1", "p1", 2);
  next["patient_key"] = lost_and_found.id();
  EXPECT_TRUE(c.Do(c.node_a, tx::kRecordAnchor, next).ok());
}

// Determinism guard for the record modules: a fixed chain reaches a fixed
// state root. If this changes, the on-chain format or a rule changed.
TEST_F(RecordsTest, DeterminismGuard) {
  ASSERT_TRUE(c.Do(c.node_a, tx::kRecordAnchor, First("r1", "p1", pat)).ok());
  ASSERT_TRUE(c.Do(pat, tx::kConsentGrant,
                   {{"consent_id", Id("c1")}, {"patient_org", "*"}, {"grantee", "org:hosp-b"}, {"types", {"*"}},
                    {"purposes", {"TREAT"}}})
                  .ok());
  ASSERT_TRUE(c.Do(c.node_a, tx::kAccessEvent,
                   {{"event_id", Id("e1")}, {"accessor", doc_b.id()}, {"record_id", Id("r1")}, {"version", 1},
                    {"purpose", "TREAT"}, {"outcome", "granted"}, {"basis", "consent"}, {"consent_id", Id("c1")},
                    {"at_ms", 1000}})
                  .ok());
  // A denial reason from the vocabulary, and a legal hold (hold/) set,
  // released and set again.
  ASSERT_TRUE(c.Do(c.node_a, tx::kAccessEvent,
                   {{"event_id", Id("e2")}, {"accessor", doc_a.id()}, {"record_id", Id("r1")}, {"version", 1},
                    {"purpose", "HPAYMT"}, {"outcome", "denied"}, {"denial_reason", "no-consent"}, {"at_ms", 1000}})
                  .ok());
  ASSERT_TRUE(c.Do(c.node_a, tx::kRecordAnchor, AnchorPayload("r2", "p1", 1)).ok());
  json hold = {{"record_id", Id("r2")}, {"hold", true}, {"reason", "litigation"}};
  ASSERT_TRUE(c.Do(c.admin_a, tx::kRecordLegalHold, hold).ok());
  ASSERT_TRUE(c.Do(c.admin_a, tx::kRecordLegalHold, {{"record_id", Id("r2")}, {"hold", false}}).ok());
  ASSERT_TRUE(c.Do(c.admin_a, tx::kRecordLegalHold, hold).ok());
  ASSERT_TRUE(c.Do(pat, tx::kErasureRequest, {{"request_id", Id("q1")}, {"record_id", Id("r1")}}).ok());
  ASSERT_TRUE(c.Do(c.node_a, tx::kErasureDecision, {{"request_id", Id("q1")}, {"decision", "erased"}}).ok());
  // One key per custodian: hosp-b cannot bind pat's hosp-a key; it binds the
  // patient's own hosp-b key (pat2 stands in for it).
  ASSERT_EQ(c.Do(doc_b, tx::kRecordAnchor, First("r3", "p9", pat)).reason, Reject::kConflict);
  ASSERT_TRUE(c.Do(doc_b, tx::kRecordAnchor, First("r3", "p9", pat2)).ok());
  EXPECT_EQ(ToHex(c.root), "fd68e43c9c394c0ddc37a2343b83630628d5e63a289d9bdbcc01b1464222c66d");
}

}  // namespace
}  // namespace medledger::records
