#include "records/consent.h"

#include "testing/test_chain.h"

namespace medledger::records {
namespace {

using namespace testing;

class ConsentTest : public ::testing::Test {
 protected:
  void SetUp() override {
    c.Register(pat, {"patient"});
    c.Register(pat2, {"patient"});
    c.Register(minor, {"patient"}, "hosp-b");
    c.Register(parent, {"representative"}, "hosp-b");
    c.Register(doc, {"practitioner"});
  }
  json Grant(const std::string& id) {
    return {{"consent_id", Id(id)}, {"patient_org", "hosp-a"}, {"grantee", doc.id()}, {"types", {"Observation"}},
            {"purposes", {"TREAT", "HPAYMT"}}, {"labels", {"hiv"}}, {"not_before_ms", 10}, {"until_ms", 20}};
  }
  TestChain c;
  crypto::KeyPair pat = Key("pat"), pat2 = Key("pat2"), minor = Key("minor"), parent = Key("parent"),
                  doc = Key("doc");
};

TEST_F(ConsentTest, GrantIsStoredAndListed) {
  ASSERT_TRUE(c.Do(pat, tx::kConsentGrant, Grant("c1")).ok());
  json g2 = Grant("c2");
  g2["grantee"] = "org:hosp-b";
  g2["patient_org"] = "*";
  g2["types"] = {"*"};
  g2.erase("not_before_ms");
  g2.erase("until_ms");
  g2["patient"] = pat.id();
  ASSERT_TRUE(c.Do(pat, tx::kConsentGrant, g2).ok());
  auto list = ListConsents(c.state, pat.public_key());
  ASSERT_EQ(list.size(), 2u);
  auto one = GetConsent(c.state, Id("c1"));
  ASSERT_TRUE(one);
  EXPECT_EQ(one->patient, pat.id());
  EXPECT_EQ(one->granted_by, pat.id());
  EXPECT_EQ(one->grantee, doc.id());
  EXPECT_EQ(one->purposes, (std::vector<std::string>{"HPAYMT", "TREAT"}));
  EXPECT_EQ(one->labels, std::vector<std::string>{"hiv"});
  EXPECT_EQ(one->not_before_ms, 10);
  EXPECT_EQ(one->until_ms, 20);
  EXPECT_FALSE(one->InPeriod(9));
  EXPECT_TRUE(one->InPeriod(10));
  EXPECT_FALSE(one->InPeriod(20));
  EXPECT_TRUE(GetConsent(c.state, Id("c2"))->InPeriod(0));
  EXPECT_TRUE(ListConsents(c.state, pat2.public_key()).empty());

  ASSERT_TRUE(c.Do(pat, tx::kConsentRevoke, {{"consent_id", Id("c1")}}).ok());
  one = GetConsent(c.state, Id("c1"));
  EXPECT_TRUE(one->revoked);
  EXPECT_EQ(one->revoked_by, pat.id());
  EXPECT_EQ(ListConsents(c.state, pat.public_key()).size(), 2u);
}

TEST_F(ConsentTest, GrantRejections) {
  ASSERT_TRUE(c.Do(pat, tx::kConsentGrant, Grant("c1")).ok());
  auto expect = [&](const crypto::KeyPair& k, const json& p, Reject r) {
    auto v = c.Do(k, tx::kConsentGrant, p);
    EXPECT_EQ(v.reason, r) << p.dump() << " -> " << v.detail;
  };
  expect(pat, Grant("c1"), Reject::kConflict);  // id reused
  expect(doc, Grant("c3"), Reject::kRoleNotPermitted);  // a practitioner cannot grant
  json p = Grant("c3");
  p["patient"] = pat2.id();
  expect(pat, p, Reject::kRoleNotPermitted);  // a patient cannot grant for another
  p["patient"] = doc.id();
  expect(pat, p, Reject::kNotFound);  // not a patient identity
  auto with = [&](const char* field, json value) {
    json q = Grant("c3");
    if (value.is_null()) q.erase(field); else q[field] = std::move(value);
    return q;
  };
  expect(pat, with("purposes", {"ETREAT"}), Reject::kInvalidPayload);
  expect(pat, with("purposes", {"TREAT", "ETREAT"}), Reject::kInvalidPayload);
  expect(pat, with("purposes", json::array()), Reject::kInvalidPayload);
  expect(pat, with("purposes", {"FUN"}), Reject::kInvalidPayload);
  expect(pat, with("purposes", nullptr), Reject::kInvalidPayload);
  expect(pat, with("types", {"*", "Observation"}), Reject::kInvalidPayload);
  expect(pat, with("types", {"observation"}), Reject::kInvalidPayload);
  expect(pat, with("types", json::array()), Reject::kInvalidPayload);
  expect(pat, with("labels", {"politics"}), Reject::kInvalidPayload);
  expect(pat, with("until_ms", 10), Reject::kInvalidPayload);  // not after not_before_ms
  expect(pat, with("until_ms", "20"), Reject::kInvalidPayload);
  expect(pat, with("grantee", "someone"), Reject::kInvalidPayload);
  expect(pat, with("grantee", "org:nowhere"), Reject::kNotFound);
  expect(pat, with("patient_org", "nowhere"), Reject::kNotFound);
  expect(pat, with("consent_id", "c3"), Reject::kInvalidPayload);
}

TEST_F(ConsentTest, RevokeRejections) {
  ASSERT_TRUE(c.Do(pat, tx::kConsentGrant, Grant("c1")).ok());
  EXPECT_EQ(c.Do(pat, tx::kConsentRevoke, {{"consent_id", Id("nope")}}).reason, Reject::kNotFound);
  EXPECT_EQ(c.Do(pat2, tx::kConsentRevoke, {{"consent_id", Id("c1")}}).reason, Reject::kRoleNotPermitted);
  EXPECT_EQ(c.Do(doc, tx::kConsentRevoke, {{"consent_id", Id("c1")}}).reason, Reject::kRoleNotPermitted);
  EXPECT_EQ(c.Do(pat, tx::kConsentRevoke, {{"consent_id", 1}}).reason, Reject::kInvalidPayload);
  ASSERT_TRUE(c.Do(pat, tx::kConsentRevoke, {{"consent_id", Id("c1")}}).ok());
  EXPECT_EQ(c.Do(pat, tx::kConsentRevoke, {{"consent_id", Id("c1")}}).reason, Reject::kConflict);
}

TEST_F(ConsentTest, RepresentativeActsForThePatientUntilExpiry) {
  int64_t until = int64_t(c.now_ms) + 20000;  // twenty blocks from now
  // The minor was registered by hosp-b: its admin appoints the parent.
  json appoint = {{"patient", minor.id()}, {"representative", parent.id()}, {"kind", "parent"}, {"until_ms", until}};
  EXPECT_EQ(c.Do(c.admin_a, tx::kRepresentativeAppoint, appoint).reason, Reject::kRoleNotPermitted);
  EXPECT_EQ(c.Do(doc, tx::kRepresentativeAppoint, appoint).reason, Reject::kRoleNotPermitted);
  EXPECT_EQ(c.Do(pat, tx::kRepresentativeAppoint, appoint).reason, Reject::kRoleNotPermitted);
  ASSERT_TRUE(c.Do(c.admin_b, tx::kRepresentativeAppoint, appoint).ok());
  auto reps = GetRepresentatives(c.state, minor.public_key());
  ASSERT_EQ(reps.size(), 1u);
  EXPECT_EQ(reps[0].representative, parent.id());
  EXPECT_EQ(reps[0].kind, "parent");
  EXPECT_EQ(reps[0].appointed_by, c.admin_b.id());
  EXPECT_TRUE(reps[0].ActiveAt(until - 1));
  EXPECT_FALSE(reps[0].ActiveAt(until));

  // The parent grants and revokes for the minor.
  json g = Grant("cm");
  g["patient"] = minor.id();
  ASSERT_TRUE(c.Do(parent, tx::kConsentGrant, g).ok());
  EXPECT_EQ(GetConsent(c.state, Id("cm"))->patient, minor.id());
  EXPECT_EQ(GetConsent(c.state, Id("cm"))->granted_by, parent.id());
  // ... but only for the minor.
  json other = Grant("cx");
  other["patient"] = pat.id();
  EXPECT_EQ(c.Do(parent, tx::kConsentGrant, other).reason, Reject::kRoleNotPermitted);
  // Without 'patient' the representative would be granting for itself, which is no patient.
  EXPECT_EQ(c.Do(parent, tx::kConsentGrant, Grant("cy")).reason, Reject::kNotFound);
  ASSERT_TRUE(c.Do(parent, tx::kConsentRevoke, {{"consent_id", Id("cm")}}).ok());

  // After expiry the parent can no longer act.
  while (int64_t(c.now_ms) < until) c.Run({});
  json late = Grant("cz");
  late["patient"] = minor.id();
  EXPECT_EQ(c.Do(parent, tx::kConsentGrant, late).reason, Reject::kRoleNotPermitted);
  // The minor (or the registering admin) can end or renew appointments.
  ASSERT_TRUE(c.Do(minor, tx::kRepresentativeAppoint,
                   {{"patient", minor.id()}, {"representative", parent.id()}, {"kind", "guardian"}})
                  .ok());
  EXPECT_TRUE(c.Do(parent, tx::kConsentGrant, late).ok());
}

TEST_F(ConsentTest, AppointRejections) {
  auto stranger = Key("stranger");
  auto expect = [&](const crypto::KeyPair& k, const json& p, Reject r) {
    auto v = c.Do(k, tx::kRepresentativeAppoint, p);
    EXPECT_EQ(v.reason, r) << p.dump() << " -> " << v.detail;
  };
  expect(pat, {{"patient", pat.id()}, {"representative", stranger.id()}, {"kind", "parent"}}, Reject::kNotFound);
  expect(pat, {{"patient", pat.id()}, {"representative", doc.id()}, {"kind", "parent"}}, Reject::kConflict);
  expect(pat, {{"patient", pat.id()}, {"representative", parent.id()}, {"kind", "uncle"}}, Reject::kInvalidPayload);
  expect(pat, {{"patient", pat.id()}, {"representative", pat.id()}, {"kind", "parent"}}, Reject::kInvalidPayload);
  expect(c.admin_a, {{"patient", doc.id()}, {"representative", parent.id()}, {"kind", "parent"}}, Reject::kNotFound);
  // An admin of the patient's registering org may appoint.
  EXPECT_TRUE(c.Do(c.admin_a, tx::kRepresentativeAppoint,
                   {{"patient", pat.id()}, {"representative", parent.id()}, {"kind", "personal-representative"}})
                  .ok());
  // A representative cannot appoint further representatives.
  auto parent2 = Key("parent2");
  c.Register(parent2, {"representative"}, "hosp-b");
  expect(parent, {{"patient", pat.id()}, {"representative", parent2.id()}, {"kind", "parent"}}, Reject::kRoleNotPermitted);
}

}  // namespace
}  // namespace medledger::records
