// The life of a pack (docs/SUPPLY.md, "Rules"): commissioning, packing,
// shipping a case, receiving, unpacking, dispensing; what a case move costs;
// receiving before shipping; error declarations.
#include <set>

#include "supply/events.h"
#include "supply/schema.h"
#include "supply/test_util.h"
#include "supply/verify.h"

namespace medledger::supply::test {
namespace {

using Lifecycle = SupplyTest;

// Every key whose value differs between two snapshots of state.
std::map<std::string, Bytes> Snapshot(const state::StateReader& st) {
  std::map<std::string, Bytes> out;
  st.Scan("", [&](std::string_view k, const Bytes& v) {
    out.emplace(std::string(k), v);
    return true;
  });
  return out;
}
std::set<std::string> Changed(const std::map<std::string, Bytes>& a, const std::map<std::string, Bytes>& b) {
  std::set<std::string> out;
  for (const auto& [k, v] : b)
    if (auto it = a.find(k); it == a.end() || it->second != v) out.insert(k);
  for (const auto& [k, v] : a)
    if (!b.count(k)) out.insert(k);
  return out;
}

TEST_F(Lifecycle, CommissionAggregateShipReceiveDisaggregateDispense) {
  std::vector<std::string> packs = {Sgtin(gtin, "S1"), Sgtin(gtin, "S2"), Sgtin(gtin, "S3")};
  std::string box = Sscc(kMfrPrefix, "1");
  // Commission and pack in one document, ship in a second.
  auto out = Capture(
      mfr, json::array({ev.Commission(packs, mfr_gln, "LOT1", "2030-12-31"), ev.Aggregate(box, packs, mfr_gln)}));
  ASSERT_EQ(out.size(), 2u);
  for (const auto& o : out) EXPECT_EQ(o.outcome, "ok") << o.reason;
  auto v = Verify(c.state, gtin, "S1", "LOT1", "2030-12-31", "2025-01-01");
  EXPECT_EQ(v.status, "verified");
  EXPECT_TRUE(v.identifier_match);
  EXPECT_EQ(v.manufacturer_org, "mfr");
  EXPECT_NE(std::find(v.flags.begin(), v.flags.end(), "aggregated"), v.flags.end());

  EXPECT_EQ(One(mfr, ev.Ship({box}, mfr_gln, dist_gln)).outcome, "ok");
  v = Verify(c.state, gtin, "S2", "LOT1", "2030-12-31", "2025-01-01");
  EXPECT_EQ(v.status, "verified");  // in_transit is saleable
  EXPECT_EQ(v.disposition, "in_transit");
  EXPECT_EQ(One(dist, ev.Receive({box}, dist_gln)).outcome, "ok");
  EXPECT_EQ(One(dist, ev.Aggregate(box, {}, dist_gln, "DELETE")).outcome, "ok");
  // After unpacking, each pack carries the case's custody itself.
  auto s1 = LoadObject(c.state, SgtinOid(gtin, "S1"));
  ASSERT_TRUE(s1);
  EXPECT_FALSE(s1->parent);
  EXPECT_EQ(s1->gln, dist_gln);
  EXPECT_EQ(s1->org, "dist");

  EXPECT_EQ(One(dist, ev.Ship({packs[0]}, dist_gln, pharm_gln)).outcome, "ok");
  EXPECT_EQ(One(pharm, ev.Receive({packs[0]}, pharm_gln)).outcome, "ok");
  auto d = One(pharm, ev.Dispense({packs[0]}, pharm_gln));
  EXPECT_EQ(d.outcome, "ok") << d.reason;
  v = Verify(c.state, gtin, "S1", "LOT1", "2030-12-31", "2025-01-01");
  EXPECT_EQ(v.status, "dispensed");
  EXPECT_TRUE(v.identifier_match);
  EXPECT_EQ(v.evidence.back(), d.hash);

  // The trace holds the pack's own events and its case's while it was inside.
  auto t = TracePack(c.state, gtin, "S1");
  ASSERT_TRUE(t);
  std::vector<std::string> steps;
  for (const auto& e : t->events) steps.push_back(e.biz_step + (e.via.empty() ? "" : "@case"));
  EXPECT_EQ(steps, (std::vector<std::string>{"commissioning", "packing", "shipping@case", "receiving@case", "unpacking",
                                             "shipping", "receiving", "dispensing"}));
  EXPECT_EQ(t->parties, (std::vector<std::string>{"dist", "mfr", "pharm"}));
  EXPECT_TRUE(MayViewCustody(*t, "pharm", model::kRoleDispenser));
  EXPECT_TRUE(MayViewCustody(*t, "fda", model::kRoleRegulator));
  EXPECT_FALSE(MayViewCustody(*t, "pharm2", model::kRoleDispenser));
  // S3 never left the distributor: its trace stops at unpacking.
  EXPECT_EQ(TracePack(c.state, gtin, "S3")->events.size(), 5u);
  auto lot = TraceLot(c.state, gtin, "LOT1");
  EXPECT_EQ(lot.epcs.size(), 3u);
  EXPECT_EQ(lot.events.size(), 8u);
}

// A case of 100 packs moves with a constant number of state writes: the
// packs are never rewritten, yet each reads its custody through the case.
TEST_F(Lifecycle, MovingACaseOfAHundredPacksWritesAConstantNumberOfKeys) {
  std::vector<std::string> packs;
  for (int i = 0; i < 100; ++i) packs.push_back(Sgtin(gtin, "P" + std::to_string(i)));
  std::string box = Sscc(kMfrPrefix, "7");
  Capture(mfr, json::array({ev.Commission(packs, mfr_gln, "LOT1", "2030-12-31"), ev.Aggregate(box, packs, mfr_gln)}));
  auto before = Snapshot(c.state);
  EXPECT_EQ(One(mfr, ev.Ship({box}, mfr_gln, dist_gln)).outcome, "ok");
  auto after = Snapshot(c.state);
  auto changed = Changed(before, after);
  for (const auto& k : changed) EXPECT_TRUE(!k.starts_with("sup/obj/") || k == ObjectKey(OidOf(box))) << k;
  EXPECT_LE(changed.size(), 12u);  // the event, its sequence key and 6 indexes, the count, the capture, the case

  before = after;
  EXPECT_EQ(One(dist, ev.Receive({box}, dist_gln)).outcome, "ok");
  EXPECT_LE(Changed(before, Snapshot(c.state)).size(), 16u);
  auto s = LoadObject(c.state, SgtinOid(gtin, "P42"));
  EXPECT_EQ(s->gln, mfr_gln) << "the pack itself was not rewritten";
  StateObjects src(c.state);
  EXPECT_EQ(Resolve(src, *s).gln, dist_gln) << "but reads its custody through the case";
  // The distributor holds it now, so it ships a pack on without suspicion.
  EXPECT_EQ(One(dist, ev.Ship({packs[42]}, dist_gln, pharm_gln)).outcome, "ok");
}

// Rules run in ledger order. A receiving that arrives before its shipping
// moves custody and marks the pack suspect; the shipping from the former
// custodian to that receiver, when it arrives, settles it.
TEST_F(Lifecycle, ReceivingBeforeItsShippingIsSuspectUntilTheShippingArrives) {
  std::string p = Sgtin(gtin, "E1");
  Capture(mfr, json::array({ev.Commission({p}, mfr_gln, "LOT1", "2030-12-31")}));
  auto r = One(dist, ev.Receive({p}, dist_gln));
  EXPECT_EQ(r.outcome, "suspect");
  EXPECT_EQ(r.reason, kReceivedUnshipped);
  EXPECT_EQ(Verify(c.state, gtin, "E1", "LOT1", "2030-12-31", "2025-01-01").status, "suspect");
  auto s = One(mfr, ev.Ship({p}, mfr_gln, dist_gln));
  EXPECT_EQ(s.outcome, "ok");
  EXPECT_EQ(s.reason, kReconciled);
  EXPECT_EQ(Verify(c.state, gtin, "E1", "LOT1", "2030-12-31", "2025-01-01").status, "verified");
  EXPECT_EQ(LoadObject(c.state, SgtinOid(gtin, "E1"))->org, "dist");

  // Without a shipping it stays suspect; a shipping to someone else does
  // not settle it.
  std::string q = Sgtin(gtin, "E2");
  Capture(mfr, json::array({ev.Commission({q}, mfr_gln, "LOT1", "2030-12-31")}));
  EXPECT_EQ(One(pharm, ev.Receive({q}, pharm_gln)).outcome, "suspect");
  EXPECT_EQ(One(mfr, ev.Ship({q}, mfr_gln, dist_gln)).outcome, "suspect");  // mfr no longer holds it
  EXPECT_EQ(Verify(c.state, gtin, "E2", "LOT1", "2030-12-31", "2025-01-01").status, "suspect");
}

// An error declaration (same hash as the event it corrects) takes the event
// back: the packs it named are recomputed without it.
TEST_F(Lifecycle, AnErrorDeclarationReversesTheEventItCorrects) {
  std::string p = Sgtin(gtin, "X1");
  Capture(mfr, json::array({ev.Commission({p}, mfr_gln, "LOT1", "2030-12-31")}));
  json wrong = ev.Decommission({p}, mfr_gln);
  auto d = One(mfr, wrong);
  EXPECT_EQ(Verify(c.state, gtin, "X1", "LOT1", "2030-12-31", "2025-01-01").status, "decommissioned");

  // Another organisation cannot take it back.
  json decl = wrong;
  decl["errorDeclaration"] = {{"declarationTime", "2024-03-02T00:00:00.000Z"}, {"reason", "incorrect_data"}};
  auto other = One(dist, decl);
  EXPECT_EQ(other.outcome, "ok");
  EXPECT_EQ(other.hash, d.hash);
  EXPECT_NE(other.reason.find("another organisation"), std::string::npos);
  EXPECT_EQ(Verify(c.state, gtin, "X1", "LOT1", "2030-12-31", "2025-01-01").status, "decommissioned");

  auto back = One(mfr, decl);
  EXPECT_EQ(back.outcome, "ok");
  EXPECT_NE(back.reason.find("reversed"), std::string::npos);
  EXPECT_EQ(Verify(c.state, gtin, "X1", "LOT1", "2030-12-31", "2025-01-01").status, "verified");
  auto stored = GetEvent(c.state, HashHex(d.hash));
  ASSERT_TRUE(stored && stored->retracted);
  EXPECT_EQ(stored->retracted->reason, "incorrect_data");
  // Declared twice: a duplicate.
  EXPECT_EQ(One(mfr, decl).outcome, "duplicate");

  // Taking back a packing takes the packs out of the case.
  std::string box = Sscc(kMfrPrefix, "9");
  json pack = ev.Aggregate(box, {p}, mfr_gln);
  One(mfr, pack);
  EXPECT_TRUE(LoadObject(c.state, SgtinOid(gtin, "X1"))->parent);
  pack["errorDeclaration"] = {{"declarationTime", "2024-03-02T00:00:00.000Z"}};
  EXPECT_EQ(One(mfr, pack).outcome, "ok");
  EXPECT_FALSE(LoadObject(c.state, SgtinOid(gtin, "X1"))->parent);
}

}  // namespace
}  // namespace medledger::supply::test
