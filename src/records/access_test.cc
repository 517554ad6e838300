#include "records/access.h"

#include "records/reasons.h"
#include "testing/test_chain.h"

namespace medledger::records {
namespace {

using namespace testing;

class AccessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    c.Register(pat, {"patient"});
    c.Register(pat2, {"patient"});
    c.Register(pat_b, {"patient"}, "hosp-b");
    c.Register(rep, {"representative"});
    c.Register(doc_a, {"practitioner"});
    c.Register(doc_b, {"practitioner"}, "hosp-b");
    c.Register(regulator, {"regulator"});
    json a = AnchorPayload("r1", "p1", 1);
    a["patient_key"] = pat.id();
    ASSERT_TRUE(c.Do(c.node_a, tx::kRecordAnchor, a).ok());
    ASSERT_TRUE(c.Do(c.node_a, tx::kRecordAnchor, AnchorPayload("r1", "p1", 2)).ok());
    a = AnchorPayload("r2", "p2", 1);
    a["patient_key"] = pat2.id();
    ASSERT_TRUE(c.Do(c.node_a, tx::kRecordAnchor, a).ok());
    // pat's key at hosp-b: one key per custodian.
    a = AnchorPayload("r9", "p9", 1);
    a["patient_key"] = pat_b.id();
    ASSERT_TRUE(c.Do(c.node_b, tx::kRecordAnchor, a).ok());
    ASSERT_TRUE(c.Do(pat, tx::kConsentGrant,
                     {{"consent_id", Id("c1")}, {"patient_org", "*"}, {"grantee", "org:hosp-b"}, {"types", {"*"}},
                      {"purposes", {"TREAT"}}})
                    .ok());
    ASSERT_TRUE(c.Do(pat2, tx::kConsentGrant,
                     {{"consent_id", Id("c2")}, {"patient_org", "*"}, {"grantee", "org:hosp-b"}, {"types", {"*"}},
                      {"purposes", {"TREAT"}}})
                    .ok());
    ASSERT_TRUE(c.Do(pat_b, tx::kConsentGrant,
                     {{"consent_id", Id("c3")}, {"patient_org", "*"}, {"grantee", "org:hosp-b"}, {"types", {"*"}},
                      {"purposes", {"TREAT"}}})
                    .ok());
  }
  // A granted event by consent c1; `changes` overrides fields, null removes one.
  json Granted(const std::string& ev, const crypto::KeyPair& who, json changes = json::object()) {
    json p = {{"event_id", Id(ev)}, {"accessor", who.id()}, {"record_id", Id("r1")}, {"version", 2},
              {"purpose", "TREAT"}, {"outcome", "granted"}, {"basis", "consent"}, {"consent_id", Id("c1")},
              {"at_ms", int64_t(c.now_ms)}};
    for (auto& [k, v] : changes.items()) {
      if (v.is_null()) p.erase(k); else p[k] = v;
    }
    return p;
  }
  json Denied(const std::string& ev, const crypto::KeyPair& who) {
    return {{"event_id", Id(ev)}, {"accessor", who.id()}, {"record_id", Id("r1")}, {"version", 1},
            {"purpose", "HPAYMT"}, {"outcome", "denied"}, {"denial_reason", "purpose-not-permitted"},
            {"at_ms", int64_t(c.now_ms)}};
  }
  TestChain c;
  crypto::KeyPair pat = Key("pat"), pat2 = Key("pat2"), pat_b = Key("pat-b"), rep = Key("rep"), doc_a = Key("doc-a"), doc_b = Key("doc-b"),
                  regulator = Key("regulator");
};

TEST_F(AccessTest, EventsAreListedPerPatientInOrderAndAccessorsPerRecord) {
  ASSERT_TRUE(c.Do(c.node_a, tx::kAccessEvent, Granted("e1", doc_b)).ok());
  ASSERT_TRUE(c.Do(c.admin_a, tx::kAccessEvent, Denied("e2", doc_a)).ok());
  // Two in one block keep their order in the block.
  auto v = c.Run({c.Tx(c.node_a, tx::kAccessEvent,
                       Granted("e3", doc_a, {{"purpose", "ETREAT"}, {"basis", "break-glass"}, {"consent_id", nullptr},
                                             {"break_glass_reason", "patient-unconscious"}})),
                  c.Tx(c.node_a, tx::kAccessEvent, Granted("e4", pat, {{"basis", "patient"}, {"consent_id", nullptr}}))});
  ASSERT_TRUE(v[0].ok()) << v[0].detail;
  ASSERT_TRUE(v[1].ok()) << v[1].detail;
  json at_b = Granted("e5", doc_b);
  at_b["record_id"] = Id("r9");
  at_b["version"] = 1;
  at_b["consent_id"] = Id("c3");
  ASSERT_TRUE(c.Do(c.node_b, tx::kAccessEvent, at_b).ok());

  auto events = ListAccessEvents(c.state, "hosp-a", Id("p1"));
  ASSERT_EQ(events.size(), 4u);
  EXPECT_EQ(events[0].event_id, Id("e1"));
  EXPECT_EQ(events[3].event_id, Id("e4"));
  for (size_t i = 0; i < events.size(); ++i) EXPECT_EQ(events[i].seq, i + 1);
  EXPECT_TRUE(events[0].granted);
  EXPECT_EQ(events[0].basis, "consent");
  EXPECT_EQ(events[0].consent_id, Id("c1"));
  EXPECT_EQ(events[0].accessor_org, "hosp-b");
  EXPECT_EQ(events[0].resource_type, "Observation");
  EXPECT_FALSE(events[1].granted);
  EXPECT_EQ(events[1].denial_reason, "purpose-not-permitted");
  EXPECT_TRUE(events[2].break_glass);
  EXPECT_EQ(events[2].break_glass_reason, "patient-unconscious");
  EXPECT_FALSE(events[3].break_glass);
  EXPECT_EQ(events[2].height, events[3].height);

  // Per key: pat's key lists its hosp-a events only; its hosp-b key, e5.
  auto all = ListAccessEvents(c.state, pat.public_key());
  ASSERT_EQ(all.size(), 4u);
  auto at_b_events = ListAccessEvents(c.state, pat_b.public_key());
  ASSERT_EQ(at_b_events.size(), 1u);
  EXPECT_EQ(at_b_events[0].event_id, Id("e5"));
  EXPECT_EQ(at_b_events[0].org, "hosp-b");
  EXPECT_TRUE(ListAccessEvents(c.state, pat2.public_key()).empty());

  auto one = GetAccessEvent(c.state, Id("e3"));
  ASSERT_TRUE(one);
  EXPECT_EQ(one->org, "hosp-a");
  EXPECT_EQ(one->pseudonym, Id("p1"));
  EXPECT_EQ(one->seq, 3u);
  EXPECT_EQ(one->tx.size(), 64u);
  EXPECT_FALSE(GetAccessEvent(c.state, Id("none")));

  // Only granted accessors are recipients of the record (Art. 19).
  auto acc = ListRecordAccessors(c.state, Id("r1"));
  ASSERT_EQ(acc.size(), 3u);
  std::vector<std::string> ids;
  for (const auto& a : acc) ids.push_back(a.accessor);
  EXPECT_TRUE(std::is_sorted(ids.begin(), ids.end()));
  for (const auto& a : acc) {
    EXPECT_EQ(a.count, 1);
    EXPECT_EQ(a.org, a.accessor == doc_b.id() ? "hosp-b" : "hosp-a");
  }
}

TEST_F(AccessTest, AccessEventRejections) {
  ASSERT_TRUE(c.Do(c.node_a, tx::kAccessEvent, Granted("e1", doc_b)).ok());
  auto expect = [&](const crypto::KeyPair& k, const json& p, Reject r) {
    auto v = c.Do(k, tx::kAccessEvent, p);
    EXPECT_EQ(v.reason, r) << p.dump() << " -> " << v.detail;
  };
  expect(c.node_a, Granted("e1", doc_b), Reject::kConflict);  // event id reused
  expect(c.node_b, Granted("e2", doc_b), Reject::kRoleNotPermitted);  // not the custodian
  expect(doc_a, Granted("e2", doc_b), Reject::kRoleNotPermitted);  // practitioners do not sign events
  expect(c.node_a, Granted("e2", doc_b, {{"version", 3}}), Reject::kNotFound);
  expect(c.node_a, Granted("e2", doc_b, {{"record_id", Id("zz")}}), Reject::kNotFound);
  expect(c.node_a, Granted("e2", doc_b, {{"consent_id", Id("nope")}}), Reject::kNotFound);
  expect(c.node_a, Granted("e2", doc_b, {{"consent_id", Id("c2")}}), Reject::kConflict);  // another patient's consent
  expect(c.node_a, Granted("e2", doc_b, {{"basis", "patient"}, {"consent_id", nullptr}}), Reject::kConflict);
  expect(c.node_a, Granted("e2", rep, {{"basis", "representative"}, {"consent_id", nullptr}}), Reject::kConflict);
  // Shape.
  expect(c.node_a, Granted("e2", doc_b, {{"outcome", "maybe"}}), Reject::kInvalidPayload);
  expect(c.node_a, Granted("e2", doc_b, {{"purpose", "FUN"}}), Reject::kInvalidPayload);
  expect(c.node_a, Granted("e2", doc_b, {{"basis", nullptr}, {"consent_id", nullptr}}), Reject::kInvalidPayload);
  expect(c.node_a, Granted("e2", doc_b, {{"consent_id", nullptr}}), Reject::kInvalidPayload);
  expect(c.node_a, Granted("e2", doc_b, {{"basis", "patient"}}), Reject::kInvalidPayload);  // consent_id without consent
  expect(c.node_a, Granted("e2", doc_a, {{"basis", "break-glass"}, {"consent_id", nullptr}, {"break_glass_reason", "other"}}),
         Reject::kInvalidPayload);  // break-glass needs ETREAT
  expect(c.node_a, Granted("e2", doc_a, {{"basis", "break-glass"}, {"consent_id", nullptr}, {"purpose", "ETREAT"}}),
         Reject::kInvalidPayload);  // ... and a reason
  expect(c.node_a, Granted("e2", doc_b, {{"purpose", "ETREAT"}}), Reject::kInvalidPayload);  // ETREAT is break-glass
  expect(c.node_a, Granted("e2", doc_b, {{"denial_reason", "no-consent"}}), Reject::kInvalidPayload);
  expect(c.node_a, Granted("e2", doc_b, {{"at_ms", int64_t(c.now_ms) + kMaxClockSkewMs + 1}}), Reject::kInvalidPayload);
  expect(c.node_a, Granted("e2", doc_b, {{"at_ms", -1}}), Reject::kInvalidPayload);
  json d = Denied("e2", doc_a);
  d.erase("denial_reason");
  expect(c.node_a, d, Reject::kInvalidPayload);
  d = Denied("e2", doc_a);
  d["basis"] = "consent";
  expect(c.node_a, d, Reject::kInvalidPayload);
  d = Denied("e2", doc_a);
  d["denial_reason"] = "caf\xc3\xa9";
  expect(c.node_a, d, Reject::kInvalidPayload);
  d["denial_reason"] = std::string(65, 'x');
  expect(c.node_a, d, Reject::kInvalidPayload);
  EXPECT_EQ(ListAccessEvents(c.state, "hosp-a", Id("p1")).size(), 1u);
}

TEST_F(AccessTest, RepresentativeAccessIsRecordable) {
  ASSERT_TRUE(c.Do(pat, tx::kRepresentativeAppoint, {{"patient", pat.id()}, {"representative", rep.id()}, {"kind", "guardian"}}).ok());
  EXPECT_TRUE(c.Do(c.node_a, tx::kAccessEvent, Granted("e7", rep, {{"basis", "representative"}, {"consent_id", nullptr}})).ok());
}

// Regression: reasons were free text, so a code-shaped break-glass reason
// holding a name and a birth date went on chain, which cannot forget it. Only
// vocabulary codes go on chain (records/reasons.h).
TEST_F(AccessTest, ReasonsAreCodesOfTheVocabularyOnly) {
  auto break_glass = [&](const std::string& ev, const std::string& reason) {
    return c.Do(c.node_a, tx::kAccessEvent,
                Granted(ev, doc_a, {{"purpose", "ETREAT"}, {"basis", "break-glass"}, {"consent_id", nullptr},
                                    {"break_glass_reason", reason}}));
  };
  auto denied = [&](const std::string& ev, const std::string& reason) {
    json d = Denied(ev, doc_a);
    d["denial_reason"] = reason;
    return c.Do(c.admin_a, tx::kAccessEvent, d);
  };
  // Given: a patient name and birth date, shaped like a code.
  const std::string phi = "Ned.Hintz-born-1993-12-08";
  // Then: refused as either reason, and so is free text.
  EXPECT_EQ(break_glass("b1", phi).reason, Reject::kInvalidPayload);
  EXPECT_EQ(denied("d1", phi).reason, Reject::kInvalidPayload);
  EXPECT_EQ(break_glass("b1", "patient arrived unconscious, no ID").reason, Reject::kInvalidPayload);
  EXPECT_EQ(denied("d1", "no consent covers this purpose of use").reason, Reject::kInvalidPayload);
  // A code of the other list does not count.
  EXPECT_EQ(break_glass("b1", "no-consent").reason, Reject::kInvalidPayload);
  EXPECT_EQ(denied("d1", "patient-unconscious").reason, Reject::kInvalidPayload);
  EXPECT_TRUE(ListAccessEvents(c.state, "hosp-a", Id("p1")).empty());

  // Every code of the vocabularies is accepted.
  int n = 0;
  for (auto code : kBreakGlassReasons) {
    auto v = break_glass("b" + std::to_string(n++), std::string(code));
    EXPECT_TRUE(v.ok()) << code << ": " << v.detail;
  }
  for (auto code : kDenialReasons) {
    auto v = denied("d" + std::to_string(n++), std::string(code));
    EXPECT_TRUE(v.ok()) << code << ": " << v.detail;
  }
  EXPECT_EQ(ListAccessEvents(c.state, "hosp-a", Id("p1")).size(), size_t(n));

  // What the API puts on chain for a clinician's text.
  EXPECT_EQ(BreakGlassReasonCode("patient-unconscious"), "patient-unconscious");
  EXPECT_EQ(BreakGlassReasonCode(phi), kOtherBreakGlassReason);
  EXPECT_EQ(BreakGlassReasonCode("Patient-Unconscious"), kOtherBreakGlassReason);
}

json Disclosure(const std::string& id, const std::string& purpose, int64_t at, const std::string& recipient = "court") {
  return {{"disclosure_id", Id(id)}, {"patient", Id("p1")}, {"recipient_ref", HashOf(recipient)},
          {"description", "copy-of-record"}, {"purpose", purpose}, {"at_ms", at}, {"record_ids", {Id("r1")}}};
}

TEST_F(AccessTest, DisclosuresAndAccountingWithSuspension) {
  ASSERT_TRUE(c.Do(c.node_a, tx::kDisclosure, Disclosure("d1", "PUBHLTH", 300)).ok());
  ASSERT_TRUE(c.Do(c.admin_a, tx::kDisclosure, Disclosure("d2", "TREAT", 100)).ok());
  ASSERT_TRUE(c.Do(doc_a, tx::kDisclosure, Disclosure("d3", "HOVERSIGHT", 200, "agency")).ok());

  auto all = ListDisclosures(c.state, pat.public_key(), false, 0, 0);
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0].disclosure_id, Id("d2"));  // ordered by time
  EXPECT_EQ(all[2].disclosure_id, Id("d1"));
  EXPECT_EQ(all[0].recipient_ref, HashOf("court"));
  EXPECT_EQ(all[0].record_ids, std::vector<std::string>{Id("r1")});
  EXPECT_EQ(ListDisclosures(c.state, pat.public_key(), false, 150, 0).size(), 2u);
  auto acct = ListDisclosures(c.state, pat.public_key(), true, 0, 0);
  ASSERT_EQ(acct.size(), 2u);  // treatment is left out
  EXPECT_EQ(acct[0].disclosure_id, Id("d3"));

  int64_t until = int64_t(c.now_ms) + 60'000;
  // Suspend the accounting of disclosures to "agency" (164.528(a)(2)).
  json s = {{"suspension_id", Id("s1")}, {"patient", pat.id()}, {"agency", "state-oversight-board"},
            {"until_ms", until}, {"recipient_ref", HashOf("agency")}};
  EXPECT_EQ(c.Do(doc_a, tx::kAccountingSuspend, s).reason, Reject::kRoleNotPermitted);
  ASSERT_TRUE(c.Do(regulator, tx::kAccountingSuspend, s).ok());
  EXPECT_EQ(c.Do(regulator, tx::kAccountingSuspend, s).reason, Reject::kConflict);
  acct = ListDisclosures(c.state, pat.public_key(), true, 0, until - 1);
  ASSERT_EQ(acct.size(), 1u);
  EXPECT_EQ(acct[0].disclosure_id, Id("d1"));
  EXPECT_EQ(ListDisclosures(c.state, pat.public_key(), true, 0, until).size(), 2u);  // suspension over
  EXPECT_EQ(ListDisclosures(c.state, pat.public_key(), false, 0, until - 1).size(), 3u);  // not an accounting

  // A suspension without recipient_ref, addressed by pseudonym, covers all.
  json s2 = {{"suspension_id", Id("s2")}, {"org", "hosp-a"}, {"pseudonym", Id("p1")}, {"agency", "police"},
             {"until_ms", until}};
  ASSERT_TRUE(c.Do(regulator, tx::kAccountingSuspend, s2).ok());
  EXPECT_TRUE(ListDisclosures(c.state, pat.public_key(), true, 0, until - 1).empty());
  EXPECT_EQ(ListSuspensions(c.state, pat.public_key()).size(), 2u);

  auto expect_s = [&](json p, Reject r) {
    auto v = c.Do(regulator, tx::kAccountingSuspend, p);
    EXPECT_EQ(v.reason, r) << p.dump() << " -> " << v.detail;
  };
  json bad = s2;
  bad["suspension_id"] = Id("s3");
  bad["patient"] = pat.id();
  expect_s(bad, Reject::kInvalidPayload);  // both ways of naming the patient
  bad.erase("patient");
  bad["until_ms"] = 5;
  expect_s(bad, Reject::kInvalidPayload);  // already over
  bad["until_ms"] = until;
  bad["pseudonym"] = Id("nobody");
  expect_s(bad, Reject::kNotFound);
  bad.erase("pseudonym");
  bad.erase("org");
  bad["patient"] = doc_a.id();
  expect_s(bad, Reject::kNotFound);

  // Disclosure rejections.
  auto expect_d = [&](const crypto::KeyPair& k, json p, Reject r) {
    auto v = c.Do(k, tx::kDisclosure, p);
    EXPECT_EQ(v.reason, r) << p.dump() << " -> " << v.detail;
  };
  expect_d(c.node_a, Disclosure("d1", "PUBHLTH", 1), Reject::kConflict);
  expect_d(c.node_b, Disclosure("d4", "PUBHLTH", 1), Reject::kNotFound);  // p1 is not bound at hosp-b
  expect_d(pat, Disclosure("d4", "PUBHLTH", 1), Reject::kRoleNotPermitted);
  json d = Disclosure("d4", "PUBHLTH", 1);
  d["record_ids"] = {Id("r2")};
  expect_d(c.node_a, d, Reject::kConflict);  // another patient's record
  d["record_ids"] = {Id("rx")};
  expect_d(c.node_a, d, Reject::kNotFound);
  d = Disclosure("d4", "PUBHLTH", 1);
  d["recipient_ref"] = "County Court, 1 Main Street";  // names go off chain
  expect_d(c.node_a, d, Reject::kInvalidPayload);
  d = Disclosure("d4", "public health", 1);
  expect_d(c.node_a, d, Reject::kInvalidPayload);
  d = Disclosure("d4", "PUBHLTH", int64_t(c.now_ms) + kMaxClockSkewMs + 10'000);
  expect_d(c.node_a, d, Reject::kInvalidPayload);
}

}  // namespace
}  // namespace medledger::records
