#include "records/decision.h"

#include "records/reasons.h"
#include "testing/test_chain.h"

namespace medledger::records {
namespace {

using namespace testing;

enum class Grantee { kRightKey, kSameOrg, kOtherOrg, kOtherPractitioner };
enum class Scope { kMatchingType, kOtherType, kAll };
enum class Purpose { kMatching, kOther, kBreakGlass };
enum class Period { kBefore, kInside, kAfter };
enum class Label { kNone, kSensitiveNotNamed, kSensitiveNamed };

struct Case {
  Grantee grantee;
  Scope scope;
  Purpose purpose;
  Period period;
  Label label;
  bool revoked;
  crypto::KeyPair patient;
  std::string consent_id;
};

constexpr int64_t kFrom = 10'000'000, kUntil = 20'000'000;

// The oracle: the rules of decision.h written out for the matrix's cases.
struct Expected {
  bool allowed;
  bool break_glass;
  bool by_consent;
};
Expected Oracle(const Case& k) {
  if (k.purpose == Purpose::kBreakGlass) return {true, true, false};  // a practitioner with a reason
  bool grantee_ok = k.grantee == Grantee::kRightKey || k.grantee == Grantee::kSameOrg;
  bool scope_ok = k.scope != Scope::kOtherType;
  bool purpose_ok = k.purpose == Purpose::kMatching;
  bool period_ok = k.period == Period::kInside;
  bool label_ok = k.label != Label::kSensitiveNotNamed;
  bool ok = grantee_ok && scope_ok && purpose_ok && period_ok && label_ok && !k.revoked;
  return {ok, false, ok};
}

class DecisionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    c.Register(doc_x, {"practitioner"});
    c.Register(doc_y, {"practitioner"});
    c.Register(clerk, {"auditor"});
    c.Register(pat, {"patient"});
    c.Register(rep, {"representative"});
  }
  AccessRequest Req(const crypto::KeyPair& who, uint32_t roles, const std::string& purpose, int64_t now,
                    std::vector<std::string> labels = {}) {
    AccessRequest r;
    r.accessor = who.public_key();
    r.accessor_org = "hosp-a";
    r.accessor_roles = roles;
    r.custodian_org = "hosp-a";
    r.patient = pat.public_key();
    r.resource_type = "Observation";
    r.labels = std::move(labels);
    r.purpose = purpose;
    r.now_ms = now;
    return r;
  }
  TestChain c;
  crypto::KeyPair doc_x = Key("doc-x"), doc_y = Key("doc-y"), clerk = Key("clerk"), pat = Key("pat"),
                  rep = Key("rep");
};

TEST_F(DecisionTest, ConsentMatrix) {
  std::vector<Case> cases;
  for (int g = 0; g < 4; ++g)
    for (int s = 0; s < 3; ++s)
      for (int p = 0; p < 3; ++p)
        for (int t = 0; t < 3; ++t)
          for (int l = 0; l < 3; ++l)
            for (int r = 0; r < 2; ++r) {
              std::string n = "m" + std::to_string(cases.size());
              cases.push_back({Grantee(g), Scope(s), Purpose(p), Period(t), Label(l), r == 1, Key(n), Id("consent-" + n)});
            }
  ASSERT_EQ(cases.size(), 648u);

  std::vector<model::Transaction> regs, grants, revokes;
  for (const auto& k : cases) {
    regs.push_back(c.Tx(c.admin_a, tx::kIdentityRegister, {{"pubkey", k.patient.id()}, {"roles", {"patient"}}}));
    std::string grantee = k.grantee == Grantee::kRightKey   ? doc_x.id()
                          : k.grantee == Grantee::kSameOrg  ? "org:hosp-a"
                          : k.grantee == Grantee::kOtherOrg ? "org:hosp-b"
                                                            : doc_y.id();
    json types = k.scope == Scope::kMatchingType ? json{"Observation"} : k.scope == Scope::kOtherType ? json{"Condition"} : json{"*"};
    json labels = k.label == Label::kNone ? json::array() : k.label == Label::kSensitiveNotNamed ? json{"hiv"} : json{"substance-use"};
    grants.push_back(c.Tx(k.patient, tx::kConsentGrant,
                          {{"consent_id", k.consent_id}, {"patient_org", "hosp-a"}, {"grantee", grantee}, {"types", types},
                           {"purposes", {"TREAT"}}, {"labels", labels}, {"not_before_ms", kFrom}, {"until_ms", kUntil}}));
    if (k.revoked) revokes.push_back(c.Tx(k.patient, tx::kConsentRevoke, {{"consent_id", k.consent_id}}));
  }
  for (const auto* batch : {&regs, &grants, &revokes})
    for (const auto& v : c.Run(*batch)) ASSERT_TRUE(v.ok()) << v.detail;

  int allowed = 0;
  for (const auto& k : cases) {
    AccessRequest r;
    r.accessor = doc_x.public_key();
    r.accessor_org = "hosp-a";
    r.accessor_roles = model::kRolePractitioner;
    r.custodian_org = "hosp-a";
    r.patient = k.patient.public_key();
    r.resource_type = "Observation";
    if (k.label != Label::kNone) r.labels = {"substance-use"};
    r.purpose = k.purpose == Purpose::kMatching ? "TREAT" : k.purpose == Purpose::kOther ? "HPAYMT" : "ETREAT";
    if (k.purpose == Purpose::kBreakGlass) r.break_glass_reason = "unconscious-on-arrival";
    r.now_ms = k.period == Period::kBefore ? kFrom - 1 : k.period == Period::kInside ? kFrom : kUntil;

    Decision d = Decide(c.state, r);
    Expected e = Oracle(k);
    std::string where = "grantee=" + std::to_string(int(k.grantee)) + " scope=" + std::to_string(int(k.scope)) +
                        " purpose=" + std::to_string(int(k.purpose)) + " period=" + std::to_string(int(k.period)) +
                        " label=" + std::to_string(int(k.label)) + " revoked=" + std::to_string(k.revoked);
    EXPECT_EQ(d.allowed, e.allowed) << where << " reason=" << d.reason;
    EXPECT_EQ(d.break_glass, e.break_glass) << where;
    EXPECT_EQ(d.basis, e.break_glass ? Basis::kBreakGlass : e.by_consent ? Basis::kConsent : Basis::kNone) << where;
    EXPECT_EQ(d.consent_id, e.by_consent ? k.consent_id : "") << where;
    EXPECT_EQ(d.reason.empty(), d.allowed) << where;
    // What goes on chain is a code of the vocabulary, never the sentence.
    EXPECT_EQ(d.code.empty(), d.allowed) << where;
    if (!d.allowed) {
      EXPECT_TRUE(IsDenialReason(d.code)) << where << " code=" << d.code;
    }
    allowed += d.allowed;
    // Same state, same request: same answer.
    Decision again = Decide(c.state, r);
    EXPECT_EQ(again.allowed, d.allowed);
    EXPECT_EQ(again.reason, d.reason);
  }
  // 216 break-glass cases, plus 2 grantees x 2 scopes x 2 label states = 8 by consent.
  EXPECT_EQ(allowed, 216 + 8);
}

TEST_F(DecisionTest, DefaultDenyAndSpecificReasons) {
  auto d = Decide(c.state, Req(doc_x, model::kRolePractitioner, "TREAT", 1));
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.reason, "no consent names this accessor or its organisation");
  EXPECT_EQ(d.code, "no-consent");
  EXPECT_EQ(Decide(c.state, Req(doc_x, model::kRolePractitioner, "TREATX", 1)).reason, "unknown purpose of use");
  EXPECT_EQ(Decide(c.state, Req(doc_x, model::kRolePractitioner, "TREATX", 1)).code, "unknown-purpose");
  EXPECT_EQ(Decide(c.state, Req(doc_x, model::kRolePractitioner, "", 1)).reason, "unknown purpose of use");
  auto stranger = Key("stranger");
  auto bg = Req(stranger, model::kRolePractitioner, "ETREAT", 1);
  bg.break_glass_reason = "cardiac-arrest";
  EXPECT_EQ(Decide(c.state, bg).reason, "accessor is not an active registered identity");
  EXPECT_EQ(Decide(c.state, bg).code, "not-registered");

  // A consent scoped to another custodian's records.
  ASSERT_TRUE(c.Do(pat, tx::kConsentGrant,
                   {{"consent_id", Id("c-b")}, {"patient_org", "hosp-b"}, {"grantee", doc_x.id()}, {"types", {"*"}},
                    {"purposes", {"TREAT"}}})
                  .ok());
  EXPECT_EQ(Decide(c.state, Req(doc_x, model::kRolePractitioner, "TREAT", 1)).reason,
            "no consent covers records of this custodian");
  EXPECT_EQ(Decide(c.state, Req(doc_x, model::kRolePractitioner, "TREAT", 1)).code, "custodian-not-consented");
  ASSERT_TRUE(c.Do(pat, tx::kConsentGrant,
                   {{"consent_id", Id("c-a")}, {"patient_org", "*"}, {"grantee", doc_x.id()}, {"types", {"*"}},
                    {"purposes", {"TREAT"}}, {"labels", {"hiv"}}})
                  .ok());
  d = Decide(c.state, Req(doc_x, model::kRolePractitioner, "TREAT", 1, {"mental-health"}));
  EXPECT_EQ(d.reason, "the record carries a sensitive label that no consent names");
  EXPECT_EQ(d.reason.find("mental"), std::string::npos);  // never names the label
  EXPECT_EQ(d.code, "sensitive-label");
  d = Decide(c.state, Req(doc_x, model::kRolePractitioner, "TREAT", 1, {"hiv"}));
  EXPECT_TRUE(d.allowed);
  EXPECT_EQ(d.consent_id, Id("c-a"));
  // Several labels: each must be named.
  EXPECT_FALSE(Decide(c.state, Req(doc_x, model::kRolePractitioner, "TREAT", 1, {"hiv", "mental-health"})).allowed);
}

TEST_F(DecisionTest, FirstMatchingConsentInIdOrder) {
  for (const char* n : {"zz", "aa", "mm"})
    ASSERT_TRUE(c.Do(pat, tx::kConsentGrant,
                     {{"consent_id", Id(n)}, {"patient_org", "*"}, {"grantee", "org:hosp-a"}, {"types", {"*"}},
                      {"purposes", {"TREAT"}}})
                    .ok());
  std::string lowest = std::min({Id("zz"), Id("aa"), Id("mm")});
  EXPECT_EQ(Decide(c.state, Req(doc_x, model::kRolePractitioner, "TREAT", 1)).consent_id, lowest);
  ASSERT_TRUE(c.Do(pat, tx::kConsentRevoke, {{"consent_id", lowest}}).ok());
  auto d = Decide(c.state, Req(doc_x, model::kRolePractitioner, "TREAT", 1));
  EXPECT_TRUE(d.allowed);
  EXPECT_NE(d.consent_id, lowest);
}

TEST_F(DecisionTest, PatientAndRepresentatives) {
  auto d = Decide(c.state, Req(pat, model::kRolePatient, "HRESCH", 1, {"hiv"}));
  EXPECT_TRUE(d.allowed);
  EXPECT_EQ(d.basis, Basis::kPatient);
  EXPECT_FALSE(Decide(c.state, Req(rep, model::kRoleRepresentative, "TREAT", 1)).allowed);
  ASSERT_TRUE(c.Do(pat, tx::kRepresentativeAppoint,
                   {{"patient", pat.id()}, {"representative", rep.id()}, {"kind", "parent"}, {"until_ms", 5000}})
                  .ok());
  d = Decide(c.state, Req(rep, model::kRoleRepresentative, "TREAT", 4999, {"substance-use"}));
  EXPECT_TRUE(d.allowed);
  EXPECT_EQ(d.basis, Basis::kRepresentative);
  EXPECT_FALSE(d.break_glass);
  d = Decide(c.state, Req(rep, model::kRoleRepresentative, "TREAT", 5000));
  EXPECT_FALSE(d.allowed) << "an expired representative is denied";
}

TEST_F(DecisionTest, BreakGlassNeedsPractitionerAndReasonAndIsFlagged) {
  auto r = Req(doc_x, model::kRolePractitioner, "ETREAT", 1, {"hiv"});
  auto d = Decide(c.state, r);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.reason, "break-glass needs a reason");
  EXPECT_EQ(d.code, "reason-missing");
  r.break_glass_reason = " \t ";
  EXPECT_EQ(Decide(c.state, r).reason, "break-glass needs a reason");
  r.break_glass_reason = "cardiac-arrest";
  d = Decide(c.state, r);
  EXPECT_TRUE(d.allowed);
  EXPECT_TRUE(d.break_glass);
  EXPECT_EQ(d.basis, Basis::kBreakGlass);
  EXPECT_STREQ(BasisName(d.basis), "break-glass");
  EXPECT_TRUE(d.consent_id.empty());

  auto clerk_req = Req(clerk, model::kRoleAuditor | model::kRoleOrgAdmin, "ETREAT", 1);
  clerk_req.break_glass_reason = "cardiac-arrest";
  d = Decide(c.state, clerk_req);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.reason, "break-glass needs the practitioner role");
  EXPECT_EQ(d.code, "role-not-permitted");
  // A consent for TREAT does not turn ETREAT into a consented access.
  ASSERT_TRUE(c.Do(pat, tx::kConsentGrant,
                   {{"consent_id", Id("c")}, {"patient_org", "*"}, {"grantee", clerk.id()}, {"types", {"*"}},
                    {"purposes", {"TREAT"}}})
                  .ok());
  EXPECT_FALSE(Decide(c.state, clerk_req).allowed);
  // A revoked practitioner key cannot break the glass.
  ASSERT_TRUE(c.Do(c.admin_a, tx::kIdentityRevoke, {{"pubkey", doc_x.id()}}).ok());
  EXPECT_EQ(Decide(c.state, r).reason, "accessor is not an active registered identity");
}

}  // namespace
}  // namespace medledger::records
