// Regression: a legal hold kept in one node's file did not bind the other
// nodes of the organisation. On chain, it binds every node.
#include "records/legal_hold.h"

#include "records/erasure.h"
#include "records/reasons.h"
#include "testing/test_chain.h"

namespace medledger::records {
namespace {

using namespace testing;

class LegalHoldTest : public ::testing::Test {
 protected:
  void SetUp() override {
    c.Register(pat, {"patient"});
    c.Register(doc_a, {"practitioner"});
    c.Register(second_node_a, {"node"});  // another node of the custodian
    json a = AnchorPayload("r1", "p1", 1);
    a["patient_key"] = pat.id();
    ASSERT_TRUE(c.Do(c.node_a, tx::kRecordAnchor, a).ok());
    ASSERT_TRUE(c.Do(c.node_a, tx::kRecordAnchor, AnchorPayload("r2", "p1", 1)).ok());
  }
  static json Hold(const std::string& record, const std::string& reason = "litigation") {
    return {{"record_id", Id(record)}, {"hold", true}, {"reason", reason}};
  }
  static json Release(const std::string& record) { return {{"record_id", Id(record)}, {"hold", false}}; }
  model::Verdict DecideErasure(const crypto::KeyPair& k, const std::string& request, json decision) {
    decision["request_id"] = Id(request);
    return c.Do(k, tx::kErasureDecision, decision);
  }
  TestChain c;
  crypto::KeyPair pat = Key("pat"), doc_a = Key("doc-a"), second_node_a = Key("node-a2");
};

TEST_F(LegalHoldTest, SetAndReleasedByTheCustodiansAdmin) {
  ASSERT_TRUE(c.Do(c.admin_a, tx::kRecordLegalHold, Hold("r1", "court-order")).ok());
  auto h = GetLegalHold(c.state, Id("r1"));
  ASSERT_TRUE(h);
  EXPECT_EQ(h->org, "hosp-a");
  EXPECT_EQ(h->reason, "court-order");
  EXPECT_EQ(h->set_by, c.admin_a.id());
  EXPECT_EQ(h->height, c.height);
  EXPECT_EQ(h->tx.size(), 64u);
  EXPECT_FALSE(GetLegalHold(c.state, Id("r2")));
  ASSERT_EQ(ListLegalHolds(c.state, "hosp-a").size(), 1u);
  EXPECT_EQ(ListLegalHolds(c.state, "hosp-a")[0].record_id, Id("r1"));
  EXPECT_TRUE(ListLegalHolds(c.state, "hosp-b").empty());

  ASSERT_TRUE(c.Do(c.admin_a, tx::kRecordLegalHold, Release("r1")).ok());
  EXPECT_FALSE(GetLegalHold(c.state, Id("r1")));
  EXPECT_TRUE(ListLegalHolds(c.state, "hosp-a").empty());
  // A record can be held again after a release.
  EXPECT_TRUE(c.Do(c.admin_a, tx::kRecordLegalHold, Hold("r1")).ok());
}

TEST_F(LegalHoldTest, Rejections) {
  auto expect = [&](const crypto::KeyPair& k, const json& p, Reject r) {
    auto v = c.Do(k, tx::kRecordLegalHold, p);
    EXPECT_EQ(v.reason, r) << p.dump() << " -> " << v.detail;
  };
  // Only an org admin, and only of the record's custodian.
  expect(doc_a, Hold("r1"), Reject::kRoleNotPermitted);
  expect(c.node_a, Hold("r1"), Reject::kRoleNotPermitted);
  expect(pat, Hold("r1"), Reject::kRoleNotPermitted);
  expect(c.admin_b, Hold("r1"), Reject::kRoleNotPermitted);
  expect(c.admin_a, Hold("nope"), Reject::kNotFound);
  // The reason is a code of the vocabulary: never who is suing whom.
  expect(c.admin_a, Hold("r1", "Ned.Hintz-born-1993-12-08"), Reject::kInvalidPayload);
  expect(c.admin_a, Hold("r1", "Hintz v. Hospital A"), Reject::kInvalidPayload);
  json p = Hold("r1");
  p.erase("reason");
  expect(c.admin_a, p, Reject::kInvalidPayload);
  p = Hold("r1");
  p.erase("hold");
  expect(c.admin_a, p, Reject::kInvalidPayload);
  p = Release("r1");
  p["reason"] = "litigation";
  expect(c.admin_a, p, Reject::kInvalidPayload);
  expect(c.admin_a, Release("r1"), Reject::kNotFound);  // not held
  EXPECT_FALSE(GetLegalHold(c.state, Id("r1")));

  ASSERT_TRUE(c.Do(c.admin_a, tx::kRecordLegalHold, Hold("r1")).ok());
  expect(c.admin_a, Hold("r1", "audit"), Reject::kConflict);  // already held
  expect(c.admin_b, Release("r1"), Reject::kRoleNotPermitted);
  expect(doc_a, Release("r1"), Reject::kRoleNotPermitted);
  EXPECT_EQ(GetLegalHold(c.state, Id("r1"))->reason, "litigation");
}

TEST_F(LegalHoldTest, ErasureDecidedByAnyNodeIsRejectedWhileHeld) {
  // Given: a hold set by the custodian's admin, and the patient's request.
  ASSERT_TRUE(c.Do(c.admin_a, tx::kRecordLegalHold, Hold("r1")).ok());
  ASSERT_TRUE(c.Do(pat, tx::kErasureRequest, {{"request_id", Id("q1")}, {"record_id", Id("r1")}}).ok());
  // When: any node or admin of the custodian decides "erased".
  // Then: rejected, whichever node it comes through.
  for (const auto* k : {&c.node_a, &second_node_a, &c.admin_a}) {
    auto v = DecideErasure(*k, "q1", {{"decision", "erased"}});
    EXPECT_EQ(v.reason, Reject::kConflict) << v.detail;
  }
  EXPECT_FALSE(IsErased(c.state, Id("r1")));
  EXPECT_EQ(GetErasureRequest(c.state, Id("q1"))->status, "pending");
  // Refusing under the hold is valid.
  ASSERT_TRUE(DecideErasure(second_node_a, "q1", {{"decision", "refused"}, {"legal_hold", true}}).ok());
  EXPECT_EQ(GetErasureRequest(c.state, Id("q1"))->reason, "legal-hold");
  // The hold covers only its record.
  ASSERT_TRUE(c.Do(pat, tx::kErasureRequest, {{"request_id", Id("q2")}, {"record_id", Id("r2")}}).ok());
  ASSERT_TRUE(DecideErasure(c.node_a, "q2", {{"decision", "erased"}}).ok());

  // Released: the next request is erased; an erased record takes no hold.
  ASSERT_TRUE(c.Do(c.admin_a, tx::kRecordLegalHold, Release("r1")).ok());
  ASSERT_TRUE(c.Do(pat, tx::kErasureRequest, {{"request_id", Id("q3")}, {"record_id", Id("r1")}}).ok());
  ASSERT_TRUE(DecideErasure(second_node_a, "q3", {{"decision", "erased"}}).ok());
  EXPECT_TRUE(IsErased(c.state, Id("r1")));
  EXPECT_EQ(c.Do(c.admin_a, tx::kRecordLegalHold, Hold("r1")).reason, Reject::kConflict);
}

TEST_F(LegalHoldTest, HoldAndReleaseInOneBlockApplyInOrder) {
  auto v = c.Run({c.Tx(c.admin_a, tx::kRecordLegalHold, Hold("r1")),
                  c.Tx(c.admin_a, tx::kRecordLegalHold, Release("r1")),
                  c.Tx(c.admin_a, tx::kRecordLegalHold, Hold("r1", "regulatory"))});
  for (const auto& x : v) EXPECT_TRUE(x.ok()) << x.detail;
  EXPECT_EQ(GetLegalHold(c.state, Id("r1"))->reason, "regulatory");
}

}  // namespace
}  // namespace medledger::records
