// product.case and product.recall / recall_class (docs/SUPPLY.md).
#include "supply/test_util.h"
#include "supply/verify.h"

namespace medledger::supply::test {
namespace {

class CaseTest : public SupplyTest {
 protected:
  void SetUp() override {
    SupplyTest::SetUp();
    Capture(mfr, json::array({ev.Commission({p1}, mfr_gln, "LOT1", "2030-12-31")}));
  }
  model::Verdict Step(const crypto::KeyPair& k, const std::string& step, json extra = json::object()) {
    json p = {{"gtin", gtin}, {"serial", "Q1"}, {"step", step}};
    p.update(extra);
    return c.Do(k, tx::kProductCase, p);
  }
  std::string Status() { return Verify(c.state, gtin, "Q1", "LOT1", "2030-12-31", "2025-01-01").status; }
  const std::string p1 = Sgtin(gtin, "Q1");
};

TEST_F(CaseTest, QuarantineInvestigateIllegitimateAndOnlyARegulatorCloses) {
  EXPECT_EQ(Step(pharm, "quarantine").reason, Reject::kRoleNotPermitted) << "not the custodian";
  ASSERT_TRUE(Step(mfr, "quarantine", {{"note_code", "pharmacist-report"}}).ok());
  EXPECT_EQ(Status(), "suspect");
  EXPECT_EQ(Step(mfr, "close").reason, Reject::kConflict) << "nothing to close";
  ASSERT_TRUE(Step(mfr, "investigate").ok());
  EXPECT_EQ(Step(mfr, "illegitimate").reason, Reject::kInvalidPayload) << "needs the FDA 3911 reference";
  EXPECT_EQ(Step(mfr, "clear", {{"fda3911_ref", "3911-1"}}).reason, Reject::kInvalidPayload);
  ASSERT_TRUE(Step(mfr, "illegitimate", {{"fda3911_ref", "FDA3911-2024-0001"}}).ok());
  EXPECT_EQ(Status(), "illegitimate");
  EXPECT_EQ(Step(mfr, "clear").reason, Reject::kConflict);
  EXPECT_EQ(Step(mfr, "close").reason, Reject::kRoleNotPermitted);
  ASSERT_TRUE(Step(fda, "close", {{"fda3911_ref", "FDA3911-2024-0001"}}).ok());
  auto v = Verify(c.state, gtin, "Q1", "LOT1", "2030-12-31", "2025-01-01");
  EXPECT_EQ(v.status, "verified");
  EXPECT_NE(std::find(v.flags.begin(), v.flags.end(), "illegitimate_closed"), v.flags.end());
  auto cs = GetCase(c.state, gtin, "Q1");
  ASSERT_TRUE(cs);
  ASSERT_EQ(cs->history.size(), 4u);
  EXPECT_EQ(cs->history[2].fda3911_ref, "FDA3911-2024-0001");
  EXPECT_EQ(cs->history[3].as, "regulator");
  EXPECT_EQ(cs->history[0].note_code, "pharmacist-report");
  EXPECT_EQ(Step(mfr, "quarantine", {{"serial", "NOPE"}}).reason, Reject::kNotFound);
  EXPECT_EQ(Step(mfr, "destroy").reason, Reject::kInvalidPayload);
}

// Clearing resolves the marks recorded so far; a later violation counts again.
TEST_F(CaseTest, TheCustodianClearsASuspectPack) {
  ASSERT_EQ(One(mfr, ev.Ship({p1}, mfr_gln, dist_gln)).outcome, "ok");
  ASSERT_EQ(One(pharm, ev.Receive({p1}, pharm_gln)).outcome, "suspect");
  EXPECT_EQ(Status(), "suspect");
  ASSERT_TRUE(Step(pharm, "quarantine").ok()) << "pharm holds it now";
  ASSERT_TRUE(Step(pharm, "investigate").ok());
  ASSERT_TRUE(Step(pharm, "clear").ok());
  EXPECT_EQ(Status(), "verified");
  ASSERT_EQ(One(pharm, ev.Dispense({p1}, pharm_gln)).outcome, "ok");
  ASSERT_EQ(One(pharm2, ev.Dispense({p1}, pharm2_gln)).outcome, "suspect");
  EXPECT_EQ(Status(), "suspect");
}

TEST_F(CaseTest, RecallsByThePrefixHolderClassifiedByARegulator) {
  json r = {{"gtin", gtin}, {"lot", "LOT1"}};
  EXPECT_EQ(c.Do(mfr2, tx::kProductRecall, r).reason, Reject::kRoleNotPermitted) << "not its GTIN";
  EXPECT_EQ(c.Do(mfr, tx::kProductRecall, {{"gtin", Gtin("0999999", "1")}, {"lot", "L"}}).reason,
            Reject::kRoleNotPermitted);
  EXPECT_EQ(c.Do(mfr, tx::kProductRecall, {{"gtin", "123"}, {"lot", "L"}}).reason, Reject::kInvalidPayload);
  EXPECT_EQ(c.Do(fda, tx::kProductRecallClass, {{"gtin", gtin}, {"lot", "LOT1"}, {"class", "I"}}).reason,
            Reject::kNotFound);
  ASSERT_TRUE(c.Do(mfr, tx::kProductRecall, r).ok());
  EXPECT_EQ(c.Do(mfr, tx::kProductRecall, r).reason, Reject::kConflict);
  EXPECT_EQ(c.Do(mfr, tx::kProductRecallClass, {{"gtin", gtin}, {"lot", "LOT1"}, {"class", "I"}}).reason,
            Reject::kRoleNotPermitted);
  EXPECT_EQ(c.Do(fda, tx::kProductRecallClass, {{"gtin", gtin}, {"lot", "LOT1"}, {"class", "IV"}}).reason,
            Reject::kInvalidPayload);
  ASSERT_TRUE(c.Do(fda, tx::kProductRecallClass, {{"gtin", gtin}, {"lot", "LOT1"}, {"class", "II"}}).ok());
  EXPECT_EQ(c.Do(fda, tx::kProductRecallClass, {{"gtin", gtin}, {"lot", "LOT1"}, {"class", "II"}}).reason,
            Reject::kConflict);
  ASSERT_TRUE(c.Do(fda, tx::kProductRecallClass, {{"gtin", gtin}, {"lot", "LOT1"}, {"class", "I"}}).ok());
  auto rc = GetRecall(c.state, gtin, "LOT1");
  ASSERT_TRUE(rc);
  EXPECT_EQ(rc->recall_class, "I");
  EXPECT_EQ(rc->class_history, std::vector<std::string>{"II"});
  EXPECT_EQ(rc->org, "mfr");
  EXPECT_EQ(ListRecalls(c.state, gtin).size(), 1u);
  EXPECT_EQ(Status(), "recalled");
  EXPECT_EQ(Verify(c.state, gtin, "Q1", "LOT1", "2030-12-31", "2025-01-01").recall->recall_class, "I");
  // A lot with a '/' is one key, not two.
  ASSERT_TRUE(c.Do(mfr, tx::kProductRecall, {{"gtin", gtin}, {"lot", "A/B"}}).ok());
  EXPECT_TRUE(GetRecall(c.state, gtin, "A/B"));
  EXPECT_FALSE(GetRecall(c.state, gtin, "A"));
}

}  // namespace
}  // namespace medledger::supply::test
