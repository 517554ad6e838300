#include "records/erasure.h"

#include "records/access.h"
#include "records/records.h"
#include "testing/test_chain.h"

namespace medledger::records {
namespace {

using namespace testing;

class ErasureTest : public ::testing::Test {
 protected:
  void SetUp() override {
    c.Register(pat, {"patient"});
    c.Register(pat2, {"patient"});
    c.Register(rep, {"representative"});
    c.Register(doc_a, {"practitioner"});
    c.Register(doc_b, {"practitioner"}, "hosp-b");
    json a = AnchorPayload("r1", "p1", 1);
    a["patient_key"] = pat.id();
    ASSERT_TRUE(c.Do(c.node_a, tx::kRecordAnchor, a).ok());
    ASSERT_TRUE(c.Do(c.node_a, tx::kRecordAnchor, AnchorPayload("r1", "p1", 2)).ok());
    a = AnchorPayload("r2", "p2", 1);
    a["patient_key"] = pat2.id();
    ASSERT_TRUE(c.Do(c.node_a, tx::kRecordAnchor, a).ok());
    ASSERT_TRUE(c.Do(pat, tx::kConsentGrant,
                     {{"consent_id", Id("c1")}, {"patient_org", "*"}, {"grantee", "org:hosp-b"}, {"types", {"*"}},
                      {"purposes", {"TREAT"}}})
                    .ok());
    ASSERT_TRUE(c.Do(c.node_a, tx::kAccessEvent,
                     {{"event_id", Id("e1")}, {"accessor", doc_b.id()}, {"record_id", Id("r1")}, {"version", 2},
                      {"purpose", "TREAT"}, {"outcome", "granted"}, {"basis", "consent"}, {"consent_id", Id("c1")},
                      {"at_ms", 1}})
                    .ok());
    ASSERT_TRUE(c.Do(c.node_a, tx::kAccessEvent,
                     {{"event_id", Id("e2")}, {"accessor", doc_a.id()}, {"record_id", Id("r1")}, {"version", 2},
                      {"purpose", "TREAT"}, {"outcome", "denied"}, {"denial_reason", "no-consent"}, {"at_ms", 2}})
                    .ok());
  }
  json Request(const std::string& id, const std::string& record = "r1") {
    return {{"request_id", Id(id)}, {"record_id", Id(record)}};
  }
  TestChain c;
  crypto::KeyPair pat = Key("pat"), pat2 = Key("pat2"), rep = Key("rep"), doc_a = Key("doc-a"), doc_b = Key("doc-b");
};

TEST_F(ErasureTest, RefusedUnderLegalHoldThenErased) {
  ASSERT_TRUE(c.Do(pat, tx::kErasureRequest, Request("q1")).ok());
  auto pending = ListPendingErasures(c.state, "hosp-a");
  ASSERT_EQ(pending.size(), 1u);
  EXPECT_EQ(pending[0].record_id, Id("r1"));
  EXPECT_EQ(pending[0].patient, pat.id());
  EXPECT_EQ(pending[0].status, "pending");
  EXPECT_TRUE(ListPendingErasures(c.state, "hosp-b").empty());

  ASSERT_TRUE(c.Do(c.admin_a, tx::kErasureDecision, {{"request_id", Id("q1")}, {"decision", "refused"}, {"legal_hold", true}}).ok());
  auto q1 = GetErasureRequest(c.state, Id("q1"));
  ASSERT_TRUE(q1);
  EXPECT_EQ(q1->status, "refused");
  EXPECT_EQ(q1->reason, "legal-hold");
  EXPECT_TRUE(q1->legal_hold);
  EXPECT_FALSE(IsErased(c.state, Id("r1")));
  EXPECT_TRUE(ListPendingErasures(c.state, "hosp-a").empty());
  // The record lives on and takes new versions.
  ASSERT_TRUE(c.Do(c.node_a, tx::kRecordAnchor, AnchorPayload("r1", "p1", 3)).ok());

  // Refused for a retention duty, with its own reason code.
  ASSERT_TRUE(c.Do(pat, tx::kErasureRequest, Request("q2")).ok());
  ASSERT_TRUE(c.Do(c.node_a, tx::kErasureDecision, {{"request_id", Id("q2")}, {"decision", "refused"}, {"reason", "retention-10y"}}).ok());
  EXPECT_EQ(GetErasureRequest(c.state, Id("q2"))->reason, "retention-10y");
  EXPECT_FALSE(GetErasureRequest(c.state, Id("q2"))->legal_hold);

  // Erased.
  ASSERT_TRUE(c.Do(pat, tx::kErasureRequest, Request("q3")).ok());
  ASSERT_TRUE(c.Do(c.node_a, tx::kErasureDecision, {{"request_id", Id("q3")}, {"decision", "erased"}}).ok());
  EXPECT_TRUE(IsErased(c.state, Id("r1")));
  EXPECT_FALSE(IsErased(c.state, Id("r2")));
  auto e = GetErased(c.state, Id("r1"));
  ASSERT_TRUE(e);
  EXPECT_EQ(e->org, "hosp-a");
  EXPECT_EQ(e->request_id, Id("q3"));
  EXPECT_EQ(e->versions, 3);
  EXPECT_EQ(e->recipients, std::vector<std::string>{"hosp-b"});  // granted accessors only (Art. 19)
  EXPECT_EQ(e->tx.size(), 64u);
  auto list = ListErased(c.state);
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0].record_id, Id("r1"));
  EXPECT_TRUE(GetAnchor(c.state, Id("r1"), 1)->erased);

  // No new versions, no new requests; the access history stays.
  EXPECT_EQ(c.Do(c.node_a, tx::kRecordAnchor, AnchorPayload("r1", "p1", 4)).reason, Reject::kConflict);
  EXPECT_EQ(c.Do(c.node_a, tx::kRecordAnchorBatch, {{"anchors", {AnchorPayload("r1", "p1", 4)}}}).reason, Reject::kConflict);
  EXPECT_EQ(c.Do(pat, tx::kErasureRequest, Request("q4")).reason, Reject::kConflict);
  EXPECT_EQ(ListAccessEvents(c.state, "hosp-a", Id("p1")).size(), 2u);
  // A read after erasure (answered Gone) can still be logged.
  EXPECT_TRUE(c.Do(c.node_a, tx::kAccessEvent,
                   {{"event_id", Id("e3")}, {"accessor", doc_b.id()}, {"record_id", Id("r1")}, {"version", 3},
                    {"purpose", "TREAT"}, {"outcome", "denied"}, {"denial_reason", "no-consent"}, {"at_ms", 3}})
                  .ok());
}

TEST_F(ErasureTest, RepresentativeMayRequestWhileActive) {
  int64_t until = int64_t(c.now_ms) + 3000;
  ASSERT_TRUE(c.Do(pat, tx::kRepresentativeAppoint,
                   {{"patient", pat.id()}, {"representative", rep.id()}, {"kind", "personal-representative"}, {"until_ms", until}})
                  .ok());
  json r = Request("q1");
  r["patient"] = pat.id();
  ASSERT_TRUE(c.Do(rep, tx::kErasureRequest, r).ok());
  EXPECT_EQ(GetErasureRequest(c.state, Id("q1"))->requested_by, rep.id());
  ASSERT_TRUE(c.Do(c.node_a, tx::kErasureDecision, {{"request_id", Id("q1")}, {"decision", "refused"}, {"reason", "retention"}}).ok());
  while (int64_t(c.now_ms) < until) c.Run({});
  r["request_id"] = Id("q2");
  EXPECT_EQ(c.Do(rep, tx::kErasureRequest, r).reason, Reject::kRoleNotPermitted);
}

TEST_F(ErasureTest, Rejections) {
  auto req = [&](const crypto::KeyPair& k, json p, Reject r) {
    auto v = c.Do(k, tx::kErasureRequest, p);
    EXPECT_EQ(v.reason, r) << p.dump() << " -> " << v.detail;
  };
  req(pat, Request("q1", "zz"), Reject::kNotFound);
  req(pat2, Request("q1"), Reject::kRoleNotPermitted);  // not pat2's record
  req(doc_a, Request("q1"), Reject::kRoleNotPermitted);  // role
  json for_other = Request("q1");
  for_other["patient"] = pat.id();
  req(pat2, for_other, Reject::kRoleNotPermitted);  // pat2 does not represent pat
  req(pat, {{"request_id", "q1"}, {"record_id", Id("r1")}}, Reject::kInvalidPayload);
  ASSERT_TRUE(c.Do(pat, tx::kErasureRequest, Request("q1")).ok());
  req(pat, Request("q2"), Reject::kConflict);  // one pending per record
  req(pat2, Request("q1", "r2"), Reject::kConflict);  // id reused

  auto dec = [&](const crypto::KeyPair& k, json p, Reject r) {
    auto v = c.Do(k, tx::kErasureDecision, p);
    EXPECT_EQ(v.reason, r) << p.dump() << " -> " << v.detail;
  };
  dec(c.node_a, {{"request_id", Id("nope")}, {"decision", "erased"}}, Reject::kNotFound);
  dec(c.node_b, {{"request_id", Id("q1")}, {"decision", "erased"}}, Reject::kRoleNotPermitted);
  dec(c.admin_b, {{"request_id", Id("q1")}, {"decision", "erased"}}, Reject::kRoleNotPermitted);
  dec(doc_a, {{"request_id", Id("q1")}, {"decision", "erased"}}, Reject::kRoleNotPermitted);
  dec(pat, {{"request_id", Id("q1")}, {"decision", "erased"}}, Reject::kRoleNotPermitted);
  dec(c.node_a, {{"request_id", Id("q1")}, {"decision", "deleted"}}, Reject::kInvalidPayload);
  dec(c.node_a, {{"request_id", Id("q1")}, {"decision", "erased"}, {"legal_hold", true}}, Reject::kInvalidPayload);
  dec(c.node_a, {{"request_id", Id("q1")}, {"decision", "refused"}}, Reject::kInvalidPayload);
  dec(c.node_a, {{"request_id", Id("q1")}, {"decision", "refused"}, {"reason", "because I said so"}}, Reject::kInvalidPayload);
  dec(c.node_a, {{"request_id", Id("q1")}, {"decision", "refused"}, {"legal_hold", "yes"}}, Reject::kInvalidPayload);
  EXPECT_EQ(GetErasureRequest(c.state, Id("q1"))->status, "pending");
  ASSERT_TRUE(c.Do(c.node_a, tx::kErasureDecision, {{"request_id", Id("q1")}, {"decision", "erased"}}).ok());
  dec(c.node_a, {{"request_id", Id("q1")}, {"decision", "erased"}}, Reject::kConflict);
}

}  // namespace
}  // namespace medledger::records
