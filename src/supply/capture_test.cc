// epcis.capture admission (docs/SUPPLY.md, "epcis.capture"): who signed
// which bytes, checked by every node; malformed documents refused whole.
#include "supply/events.h"
#include "supply/rules.h"
#include "supply/schema.h"
#include "supply/test_util.h"

namespace medledger::supply::test {
namespace {

class CaptureTest : public SupplyTest {
 protected:
  std::string Doc() {
    return Document(json::array({ev.Commission({Sgtin(gtin, "C1")}, mfr_gln, "LOT1", "2030-12-31")}));
  }
  model::Verdict Submit(const crypto::KeyPair& signer, const json& payload) {
    return c.Do(signer, tx::kEpcisCapture, payload);
  }
  static bool Has(const model::Verdict& v, Reject r, const std::string& text) {
    return v.reason == r && v.detail.find(text) != std::string::npos;
  }
};

TEST_F(CaptureTest, ThePartysSignatureOverTheDigestIsCheckedByEveryNode) {
  std::string doc = Doc();
  json good = CapturePayload(mfr, Id("k1"), doc);

  json p = good;
  p["document"] = doc + " ";  // bytes that are not the signed ones
  EXPECT_TRUE(Has(Submit(mfr, p), Reject::kInvalidPayload, "content_digest is not the SHA-256 of document"));
  p = good;
  p["signature_base"] = "\"@method\": POST\n\"@signature-params\": ()";
  EXPECT_TRUE(Has(Submit(mfr, p), Reject::kInvalidPayload, "must cover"));
  p = good;
  std::string base = good["signature_base"];
  base.replace(base.find("POST"), 4, "GET");
  p["signature_base"] = base;
  EXPECT_TRUE(Has(Submit(mfr, p), Reject::kInvalidPayload, "must cover"));
  p = good;
  p["signature"] = ToHex(mfr.Sign(ToBytes("something else")));
  EXPECT_TRUE(Has(Submit(mfr, p), Reject::kBadSignature, "does not verify"));
  p = good;
  p["signature"] = "00";
  EXPECT_TRUE(Has(Submit(mfr, p), Reject::kInvalidPayload, "signature"));
  p = good;
  p["error_behaviour"] = "sometimes";
  EXPECT_TRUE(Has(Submit(mfr, p), Reject::kInvalidPayload, "error_behaviour"));
  p = good;
  p["capture_id"] = "XYZ";
  EXPECT_TRUE(Has(Submit(mfr, p), Reject::kInvalidPayload, "capture_id"));
  EXPECT_FALSE(GetCapture(c.state, Id("k1")));

  ASSERT_TRUE(Submit(mfr, good).ok());
  auto rec = GetCapture(c.state, Id("k1"));
  ASSERT_TRUE(rec);
  EXPECT_EQ(rec->party, mfr.id());
  EXPECT_EQ(rec->org, "mfr");
  EXPECT_EQ(rec->signer, mfr.id());
  EXPECT_EQ(rec->error_behaviour, "rollback");
  EXPECT_EQ(rec->content_digest, ContentDigest(doc));
  ASSERT_EQ(rec->events.size(), 1u);
  EXPECT_EQ(rec->events[0].outcome, "ok");
  EXPECT_TRUE(rec->events[0].hash.starts_with("ni:///sha-256;"));
  EXPECT_EQ(rec->events[0].event_id, rec->events[0].hash) << "no eventID: the hash id is its id";
  // A capture id is used once.
  EXPECT_TRUE(Has(Submit(mfr, CapturePayload(mfr, Id("k1"), Doc())), Reject::kConflict, "capture id"));
}

TEST_F(CaptureTest, ThePartyOrANodeOfItsOrganisationSubmits) {
  // mfr's node (Key(2)) submits mfr's signed capture.
  ASSERT_TRUE(Submit(Key(2), CapturePayload(mfr, Id("n1"), Doc())).ok());
  EXPECT_EQ(GetCapture(c.state, Id("n1"))->signer, Key(2).id());
  // dist's node cannot submit mfr's capture; nor can another supply key of
  // the organisation that is not the party.
  EXPECT_TRUE(
      Has(Submit(Key(4), CapturePayload(mfr, Id("n2"), Doc())), Reject::kRoleNotPermitted, "another organisation"));
  c.Register(Key(std::string("mfr-b")), {"manufacturer"}, "mfr");
  EXPECT_TRUE(Has(Submit(Key(std::string("mfr-b")), CapturePayload(mfr, Id("n3"), Doc())), Reject::kRoleNotPermitted,
                  "submitted by its party"));
  // The party must hold a supply role: mfr's admin does not.
  EXPECT_TRUE(
      Has(Submit(Key(2), CapturePayload(Key(1), Id("n4"), Doc())), Reject::kRoleNotPermitted, "no supply-chain role"));
  // ...and be registered, and not revoked.
  EXPECT_TRUE(
      Has(Submit(Key(2), CapturePayload(Key(99), Id("n5"), Doc())), Reject::kNotFound, "not a registered identity"));
  ASSERT_TRUE(c.Do(mfr, tx::kIdentityRevoke, {{"pubkey", mfr.id()}}).ok());
  EXPECT_TRUE(Has(Submit(Key(2), CapturePayload(mfr, Id("n6"), Doc())), Reject::kRevokedKey, "revoked"));
}

TEST_F(CaptureTest, AMalformedDocumentIsRefusedAndNothingOfItApplied) {
  json good = ev.Commission({Sgtin(gtin, "M1")}, mfr_gln, "LOT1", "2030-12-31");
  json bad = ev.Observe({Sgtin(gtin, "M1")}, mfr_gln, "shiping", "");  // unknown bare word
  auto v = Submit(mfr, CapturePayload(mfr, Id("m1"), Document(json::array({good, bad}))));
  EXPECT_EQ(v.reason, Reject::kInvalidPayload);
  EXPECT_NE(v.detail.find("document: epcisBody.eventList[1]"), std::string::npos) << v.detail;
  EXPECT_FALSE(LoadObject(c.state, SgtinOid(gtin, "M1")));
  EXPECT_FALSE(GetCapture(c.state, Id("m1")));
  for (std::string doc : {std::string("{"), std::string("[]"), std::string("{\"type\":\"EPCISDocument\"}")})
    EXPECT_EQ(Submit(mfr, CapturePayload(mfr, Id("m2"), doc)).reason, Reject::kInvalidPayload) << doc;
}

// Admission (Executor::Check) refuses what the block would refuse, but runs
// no rule: a capture that breaks one is admitted, and nothing is written.
TEST_F(CaptureTest, AdmissionChecksWithoutApplyingTheEvents) {
  auto check = [&](const crypto::KeyPair& k, const json& payload) {
    auto t = c.Tx(k, tx::kEpcisCapture, payload);
    return c.exec->Check(c.state, c.height + 1, c.now_ms, t, t.Id(), c.replay);
  };
  // Never commissioned: a suspect outcome in the block, admitted here.
  std::string doc = Document(json::array({ev.Observe({Sgtin(gtin, "A9")}, mfr_gln, "shipping", "in_transit")}));
  auto t = c.Tx(mfr, tx::kEpcisCapture, CapturePayload(mfr, Id("a1"), doc));
  EXPECT_TRUE(c.exec->Check(c.state, c.height + 1, c.now_ms, t, t.Id(), c.replay).ok());
  EXPECT_FALSE(LoadObject(c.state, SgtinOid(gtin, "A9")));
  EXPECT_FALSE(GetCapture(c.state, Id("a1")));
  // The block takes the document admission parsed, and applies it.
  ASSERT_TRUE(c.RunOne(t).ok());
  auto rec = GetCapture(c.state, Id("a1"));
  ASSERT_TRUE(rec);
  ASSERT_EQ(rec->events.size(), 1u);
  EXPECT_EQ(rec->events[0].outcome, "suspect");
  EXPECT_EQ(rec->events[0].reason, kNeverCommissioned);

  json bad = CapturePayload(mfr, Id("a2"), doc);
  bad["signature"] = ToHex(mfr.Sign(ToBytes("something else")));
  EXPECT_EQ(check(mfr, bad).reason, Reject::kBadSignature);
  auto v = check(mfr, CapturePayload(mfr, Id("a3"), "{\"type\":\"EPCISDocument\"}"));
  EXPECT_EQ(v.reason, Reject::kInvalidPayload) << v.detail;
  EXPECT_TRUE(Has(check(Key(2), CapturePayload(Key(1), Id("a4"), doc)), Reject::kRoleNotPermitted, "no supply-chain role"));
  ASSERT_TRUE(Submit(mfr, CapturePayload(mfr, Id("a5"), Doc())).ok());
  EXPECT_TRUE(Has(check(mfr, CapturePayload(mfr, Id("a5"), Doc())), Reject::kConflict, "capture id"));
}

// Decimals travel as text and each event is stored as received, with the
// document's @context, so any node can recompute its hash.
TEST_F(CaptureTest, EventsAreStoredAsReceived) {
  json e = ev.Commission({Sgtin(gtin, "D1")}, mfr_gln, "LOT1", "2030-12-31");
  e["quantityList"] = {{{"epcClass", "https://id.gs1.org/01/" + gtin + "/10/LOT1"}, {"quantity", 2.5}, {"uom", "KGM"}}};
  std::string doc = Document(json::array({e}));
  auto out = Capture(mfr, json::array({e}));
  ASSERT_EQ(out.size(), 1u);
  auto stored = GetEvent(c.state, HashHex(out[0].hash));
  ASSERT_TRUE(stored);
  EXPECT_NE(stored->json.find("\"quantity\":2.5"), std::string::npos) << stored->json;
  EXPECT_EQ(stored->context, "[\"https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld\"]");
  EXPECT_EQ(stored->facts.org, "mfr");
  EXPECT_EQ(stored->facts.party, mfr.id());
  EXPECT_EQ(stored->facts.lot, "LOT1");
  EXPECT_EQ(stored->facts.classes, std::vector<std::string>{"https://id.gs1.org/01/" + gtin + "/10/LOT1"});
  EventQuery q;
  q.match_epc_class = stored->facts.classes;
  auto page = QueryEvents(c.state, q, "", 10);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->events.size(), 1u);
  EXPECT_EQ(page->events[0].facts.hash, HashHex(out[0].hash));
}

}  // namespace
}  // namespace medledger::supply::test
