// Rule violations are recorded, not rejected (docs/SUPPLY.md, "Rules"):
// each scenario's capture is accepted, its outcome is `suspect` with the
// reason, and the pack verifies as suspect. Duplicates change nothing.
#include "supply/test_util.h"
#include "supply/verify.h"

namespace medledger::supply::test {
namespace {

class Suspect : public SupplyTest {
 protected:
  void SetUp() override {
    SupplyTest::SetUp();
    Capture(mfr, json::array({ev.Commission({p1, p2}, mfr_gln, "LOT1", "2030-12-31")}));
  }
  std::string Status(const std::string& serial) {
    return Verify(c.state, gtin, serial, "LOT1", "2030-12-31", "2025-01-01").status;
  }
  // Ships p from the manufacturer to the pharmacy, received there.
  void ToPharmacy(const std::string& p) {
    ASSERT_EQ(One(mfr, ev.Ship({p}, mfr_gln, pharm_gln)).outcome, "ok");
    ASSERT_EQ(One(pharm, ev.Receive({p}, pharm_gln)).outcome, "ok");
  }
  const std::string p1 = Sgtin(gtin, "A1"), p2 = Sgtin(gtin, "A2");
};

TEST_F(Suspect, ANeverCommissionedSerialIsSuspectWhenItsPrefixIsRegistered) {
  auto o = One(pharm, ev.Dispense({Sgtin(gtin, "FAKE")}, pharm_gln));
  EXPECT_EQ(o.outcome, "suspect");
  EXPECT_NE(o.reason.find(kNeverCommissioned), std::string::npos);
  auto v = Verify(c.state, gtin, "FAKE", "LOT1", "2030-12-31", "2025-01-01");
  EXPECT_EQ(v.status, "suspect");
  EXPECT_FALSE(v.identifier_match);
  EXPECT_EQ(v.evidence, std::vector<std::string>({o.hash}));
  // Nobody holds this GTIN's prefix: the same event is recorded ok.
  std::string other = Gtin("0999999", "1");
  o = One(pharm, ev.Dispense({Sgtin(other, "Z")}, pharm_gln));
  EXPECT_EQ(o.outcome, "ok");
  EXPECT_EQ(o.reason, kPrefixNotRegistered);
  EXPECT_EQ(Verify(c.state, other, "Z", "L", "2030-12-31", "2025-01-01").status, "unknown");
  // A serial no event names is unknown.
  EXPECT_EQ(Status("NOPE"), "unknown");
}

TEST_F(Suspect, OneSerialDispensedAtTwoPharmacies) {
  ToPharmacy(p1);
  EXPECT_EQ(One(pharm, ev.Dispense({p1}, pharm_gln)).outcome, "ok");
  auto o = One(pharm2, ev.Dispense({p1}, pharm2_gln));
  EXPECT_EQ(o.outcome, "suspect");
  EXPECT_NE(o.reason.find(kDispensedTwice), std::string::npos);
  EXPECT_NE(o.reason.find(kDispensedByOther), std::string::npos);
  EXPECT_EQ(Status("A1"), "suspect");
}

TEST_F(Suspect, AResentDispensingIsADuplicateNotASecondDispensing) {
  ToPharmacy(p1);
  json d = ev.Dispense({p1}, pharm_gln);
  EXPECT_EQ(One(pharm, d).outcome, "ok");
  auto again = One(pharm, d);
  EXPECT_EQ(again.outcome, "duplicate");
  EXPECT_EQ(Status("A1"), "dispensed");
  // The same event twice in one document: the second is the duplicate.
  ToPharmacy(p2);
  json d2 = ev.Dispense({p2}, pharm_gln);
  auto out = Capture(pharm, json::array({d2, d2}));
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].outcome, "ok");
  EXPECT_EQ(out[1].outcome, "duplicate");
  // A different eventID does not change the hash.
  d2["eventID"] = "urn:uuid:3b1f2f7e-8d1c-4c3a-9d6e-0a1b2c3d4e5f";
  EXPECT_EQ(One(pharm, d2).outcome, "duplicate");
  EXPECT_EQ(Status("A2"), "dispensed");
}

TEST_F(Suspect, AShipmentReceivedByTheWrongParty) {
  EXPECT_EQ(One(mfr, ev.Ship({p1}, mfr_gln, dist_gln)).outcome, "ok");
  auto o = One(pharm, ev.Receive({p1}, pharm_gln));
  EXPECT_EQ(o.outcome, "suspect");
  EXPECT_EQ(o.reason, kWrongReceiver);
  EXPECT_EQ(Status("A1"), "suspect");
}

TEST_F(Suspect, ALotOrExpiryThatDoesNotMatch) {
  // At verification: the pack is genuine, the scanned identifier is not.
  auto v = Verify(c.state, gtin, "A1", "LOT2", "2030-12-31", "2025-01-01");
  EXPECT_EQ(v.status, "mismatch");
  EXPECT_FALSE(v.identifier_match);
  EXPECT_NE(std::find(v.flags.begin(), v.flags.end(), "lot_mismatch"), v.flags.end());
  EXPECT_EQ(Verify(c.state, gtin, "A1", "LOT1", "2031-01-31", "2025-01-01").status, "mismatch");
  // On chain: a second commissioning with another lot and expiry.
  auto o = One(mfr, ev.Commission({p2}, mfr_gln, "LOT9", "2029-01-01"));
  EXPECT_EQ(o.outcome, "suspect");
  EXPECT_EQ(o.reason, std::string(kCommissionedTwice) + "; " + kLotDiffers + "; " + kExpiryDiffers);
  EXPECT_EQ(Status("A2"), "suspect");
}

TEST_F(Suspect, DispensingShippingOrDecommissioningByANonCustodian) {
  auto o = One(pharm, ev.Dispense({p1}, pharm_gln));
  EXPECT_EQ(o.outcome, "suspect");
  EXPECT_EQ(o.reason, kDispensedByOther);
  o = One(dist, ev.Ship({p2}, dist_gln, pharm_gln));
  EXPECT_EQ(o.reason, kShippedByOther);
  std::string p3 = Sgtin(gtin, "A3");
  Capture(mfr, json::array({ev.Commission({p3}, mfr_gln, "LOT1", "2030-12-31")}));
  o = One(pharm, ev.Decommission({p3}, pharm_gln));
  EXPECT_EQ(o.reason, kDecommissionedByOther);
  for (const char* s : {"A1", "A2", "A3"}) EXPECT_EQ(Status(s), "suspect") << s;
}

TEST_F(Suspect, StolenCommissioningAnotherHoldersGtinAndEventsAtAnotherOrganisationsLocation) {
  EXPECT_EQ(One(mfr, ev.Observe({p1}, mfr_gln, "", "stolen")).reason, kStolen);
  // mfr2 commissions a GTIN under mfr's prefix, at its own site.
  std::string mfr2_gln = Gln(kMfr2Prefix, "1");
  auto o = One(mfr2, ev.Commission({Sgtin(gtin, "C1")}, mfr2_gln, "LOT1", "2030-12-31"));
  EXPECT_EQ(o.reason, kOtherHoldersGtin);
  EXPECT_EQ(Status("C1"), "suspect");
  // The pharmacy records an event at the manufacturer's GLN.
  o = One(pharm, ev.Observe({p2}, mfr_gln, "inspecting", ""));
  EXPECT_EQ(o.reason, kForeignLocation);
  EXPECT_EQ(Status("A1"), "suspect");
  EXPECT_EQ(Status("A2"), "suspect");
}

// Suspicion of a case reaches the packs inside it, and leaves with them.
TEST_F(Suspect, SuspicionOfACaseReachesThePacksInside) {
  std::string box = Sscc(kMfrPrefix, "3");
  One(mfr, ev.Aggregate(box, {p1, p2}, mfr_gln));
  One(mfr, ev.Ship({box}, mfr_gln, dist_gln));
  auto o = One(pharm, ev.Receive({box}, pharm_gln));  // the wrong receiver
  EXPECT_EQ(o.reason, kWrongReceiver);
  EXPECT_EQ(Status("A1"), "suspect");
  One(pharm, ev.Aggregate(box, {p1}, pharm_gln, "DELETE"));
  auto v = Verify(c.state, gtin, "A1", "LOT1", "2030-12-31", "2025-01-01");
  EXPECT_EQ(v.status, "suspect");
  ASSERT_EQ(v.suspect.size(), 1u);
  EXPECT_EQ(v.suspect[0].reason, kWrongReceiver);
}

TEST_F(Suspect, NonSaleableIsNotSuspect) {
  // Recalled: every pack of the lot, inside a case or not, at query time.
  std::string box = Sscc(kMfrPrefix, "4");
  One(mfr, ev.Aggregate(box, {p2}, mfr_gln));
  ASSERT_TRUE(c.Do(mfr, tx::kProductRecall, {{"gtin", gtin}, {"lot", "LOT1"}, {"reason", "contamination"}}).ok());
  EXPECT_EQ(Status("A1"), "recalled");
  EXPECT_EQ(Status("A2"), "recalled");
  // Dispensing after a recall is recorded, not suspect: the pack answers recalled.
  ToPharmacy(p1);
  EXPECT_EQ(One(pharm, ev.Dispense({p1}, pharm_gln)).outcome, "ok");
  auto v = Verify(c.state, gtin, "A1", "LOT1", "2030-12-31", "2025-01-01");
  EXPECT_EQ(v.status, "recalled");
  EXPECT_NE(std::find(v.flags.begin(), v.flags.end(), "dispensed"), v.flags.end());
  ASSERT_TRUE(v.recall);
  EXPECT_EQ(v.recall->reason, "contamination");

  // Expired: decided by the caller's date.
  std::string p3 = Sgtin(gtin, "A3");
  Capture(mfr, json::array({ev.Commission({p3}, mfr_gln, "LOT3", "2025-06-30")}));
  EXPECT_EQ(Verify(c.state, gtin, "A3", "LOT3", "2025-06-30", "2025-06-30").status, "verified");
  EXPECT_EQ(Verify(c.state, gtin, "A3", "LOT3", "2025-06-30", "2025-07-01").status, "expired");
  // Decommissioned by its custodian: not suspect either.
  One(mfr, ev.Decommission({p3}, mfr_gln));
  EXPECT_EQ(Verify(c.state, gtin, "A3", "LOT3", "2025-06-30", "2025-01-01").status, "decommissioned");
}

}  // namespace
}  // namespace medledger::supply::test
