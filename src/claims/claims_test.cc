// The claims module (claims/module.h) as a story: an insurer (at hosp-b)
// registers a member's coverage, the provider (hosp-a) submits claims, and
// every path of docs/CLAIMS.md is taken: covered, not covered, inactive
// coverage, limits, co-pay, prior authorisation, encounter, duplicates and a
// legitimate repeat, resending, corrections, voids, payments, restrictions,
// and a policy that fails.
#include "claims/module.h"

#include <gtest/gtest.h>

#include "claims/schema.h"
#include "records/decision.h"
#include "records/schema.h"
#include "testing/test_chain.h"

namespace medledger::claims {
namespace {

using nlohmann::json;
using testing::Id;
using testing::Key;
using testing::TestChain;
namespace tx = model::tx;
using model::Reject;

// A small policy with every kind of rule; the shipped examples are in
// policies/ (tested in src/contracts/policies_test.cc).
constexpr const char* kPolicy = R"(
local allowed = {["99213"] = 10000, ["70553"] = 90000, ["80053"] = 3000}
local needs_pa = {["70553"] = true}
local LIMIT = 20000
local function active(c, cov)
  return c.service_day >= 0 and c.service_day < cov.period_days and
         (cov.cancelled_from_day == json.null or c.service_day < cov.cancelled_from_day)
end
function adjudicate(req)
  local c, cov = req.claim, req.coverage
  if cov.plan ~= "gold" then return {error = "unknown-plan", message = "no plan " .. cov.plan} end
  local items = json.array({})
  local used = state.get("used/" .. cov.id) or 0
  local granted = 0
  for _, it in ipairs(c.items) do
    local d = {sequence = it.sequence, adjudication = {submitted = it.charge, benefit = 0}, reasons = json.array({})}
    local cap = allowed[it.code]
    if not active(c, cov) or not cap then
      d.reasons[1] = "ar001"
    elseif c.use == "preauthorization" then
      d.adjudication.eligible = math.min(it.charge, cap * it.units)
      state.put("pa/" .. string.sub(c.id, 1, 16), cov.id .. "/" .. it.code)
    elseif needs_pa[it.code] and not (c.pre_auth[1] and state.get("pa/" .. string.sub(c.pre_auth[1], 4)) == cov.id .. "/" .. it.code) then
      d.reasons[1] = "https://medledger.example/fhir/CodeSystem/policy-reason|prior-auth-required"
    elseif not c.encounter then
      d.reasons[1] = "https://medledger.example/fhir/CodeSystem/policy-reason|no-encounter"
    else
      local eligible = math.min(it.charge, cap * it.units)
      local copay = math.min(eligible, 1500)
      local pay = math.min(eligible - copay, LIMIT - used - granted)
      if pay < eligible - copay then d.reasons[1] = "ar002" end
      d.adjudication = {submitted = it.charge, eligible = eligible, copay = copay, benefit = pay}
      granted = granted + pay
    end
    items[#items + 1] = d
  end
  state.put("used/" .. cov.id, used + granted)
  local out = {items = items, disposition = "adjudicated"}
  if c.use == "preauthorization" then out.pre_auth_ref = "PA-" .. string.sub(c.id, 1, 16) end
  return out
end
function release(req)
  local back = 0
  for _, d in ipairs(req.result.items) do back = back + d.adjudication.benefit end
  local key = "used/" .. req.coverage.id
  state.put(key, (state.get(key) or 0) - back)
end
function broken(req) error("boom") end
)";

class ClaimsTest : public ::testing::Test {
 protected:
  ClaimsTest() : chain(Options()) {
    chain.Register(insurer, {"insurer"}, "hosp-b");
    chain.Register(patient, {"patient"}, "hosp-a");
    EXPECT_TRUE(chain.Do(chain.admin_a, tx::kContractDeploy,
                         {{"proposal_id", Id("policy")}, {"name", "gold-policy"}, {"source", kPolicy}})
                    .ok());
    json first = testing::AnchorPayload("enc1", "p1", 1, "Encounter");
    first["patient_key"] = patient.id();
    EXPECT_TRUE(chain.Do(chain.admin_a, tx::kRecordAnchor, first).ok());
    EXPECT_TRUE(RegisterCoverage("cov1", 365).ok());
  }

  static TestChain::Options Options() {
    auto o = TestChain::Hospitals();
    o.governance = true;
    o.contracts = true;
    o.claims = true;
    return o;
  }

  model::Verdict RegisterCoverage(const std::string& id, int64_t days, const std::string& plan = "gold",
                                  const std::string& pseudonym = "p1") {
    return chain.Do(insurer, tx::kClaimCoverage,
                    {{"coverage_id", Id(id)}, {"patient", Id(pseudonym)}, {"provider", "hosp-a"}, {"plan", plan},
                     {"policy", "gold-policy"}, {"period_days", days}});
  }

  static json Item(int64_t seq, const std::string& code, int64_t charge, const std::string& service = "",
                   json modifiers = json::array(), int64_t units = 1) {
    return {{"sequence", seq},
            {"system", "http://www.ama-assn.org/go/cpt"},
            {"code", code},
            {"modifiers", modifiers},
            {"units", units},
            {"charge", charge},
            {"dup", testing::HashOf("dup:" + (service.empty() ? code : service))}};
  }

  // Anchors the Claim record `name` and returns a claims.submit payload for it.
  json Claim(const std::string& name, json items, int64_t day = 10) {
    EXPECT_TRUE(chain.Do(chain.admin_a, tx::kRecordAnchor, testing::AnchorPayload(name, "p1", 1, "Claim")).ok());
    return {{"claim_key", testing::HashOf("key:" + name)},
            {"content", testing::HashOf("content:" + name)},
            {"record", {{"id", Id(name)}, {"version", 1}}},
            {"coverage", Id("cov1")},
            {"patient", Id("p1")},
            {"use", "claim"},
            {"service_day", day},
            {"currency", "USD"},
            {"encounter", {{"id", Id("enc1")}, {"version", 1}}},
            {"items", items}};
  }

  // Submits and returns the claim's record (nullopt when rejected).
  std::optional<ClaimRecord> Submit(const json& payload, model::Verdict* verdict = nullptr) {
    auto t = chain.Tx(chain.node_a, tx::kClaimSubmit, payload);
    auto v = chain.RunOne(t);
    if (verdict) *verdict = v;
    if (!v.ok()) return std::nullopt;
    return LoadClaim(chain.state, ToHex(t.Id()));
  }

  static int64_t Amount(const ItemDecision& d, const std::string& cat) {
    for (const auto& [c, a] : d.adjudication)
      if (c == cat) return a;
    return -1;
  }

  TestChain chain;
  crypto::KeyPair insurer = Key("insurer"), patient = Key("pat");
};

TEST_F(ClaimsTest, ACoveredServiceIsPaidLessTheCopay) {
  auto c = Submit(Claim("c1", {Item(1, "99213", 12000)}));
  ASSERT_TRUE(c);
  EXPECT_EQ(c->outcome, "complete");
  EXPECT_EQ(c->insurer, "hosp-b");
  ASSERT_EQ(c->items.size(), 1u);
  EXPECT_EQ(Amount(c->items[0], "submitted"), 12000);
  EXPECT_EQ(Amount(c->items[0], "eligible"), 10000);
  EXPECT_EQ(Amount(c->items[0], "copay"), 1500);
  EXPECT_EQ(Amount(c->items[0], "benefit"), 8500);
  EXPECT_TRUE(c->items[0].reasons.empty());
  EXPECT_GT(c->gas_used, 0u);
}

TEST_F(ClaimsTest, DenialsCarryTheirReasons) {
  // Not covered.
  auto c = Submit(Claim("c1", {Item(1, "12345", 5000)}));
  ASSERT_TRUE(c);
  EXPECT_EQ(c->outcome, "complete");
  EXPECT_EQ(Amount(c->items[0], "benefit"), 0);
  EXPECT_EQ(c->items[0].reasons, std::vector<std::string>{"ar001"});
  // Coverage that exists but is not active on the service day: complete,
  // with a denial (not an error).
  auto late = Submit(Claim("c2", {Item(1, "99213", 5000, "late")}, 400));
  ASSERT_TRUE(late);
  EXPECT_EQ(late->outcome, "complete");
  EXPECT_EQ(late->items[0].reasons, std::vector<std::string>{"ar001"});
  // Cancelled from day 5: a service on day 10 is not covered.
  ASSERT_TRUE(chain.Do(insurer, tx::kClaimCoverageCancel, {{"coverage_id", Id("cov1")}, {"from_day", 5}}).ok());
  auto cancelled = Submit(Claim("c3", {Item(1, "99213", 5000, "after-cancel")}));
  ASSERT_TRUE(cancelled);
  EXPECT_EQ(cancelled->items[0].reasons, std::vector<std::string>{"ar001"});
}

TEST_F(ClaimsTest, ThePlanLimitPaysPartlyThenNothing) {
  auto a = Submit(Claim("c1", {Item(1, "99213", 10000, "s1"), Item(2, "99213", 10000, "s2")}));
  ASSERT_TRUE(a);
  EXPECT_EQ(Amount(a->items[0], "benefit"), 8500);
  EXPECT_EQ(Amount(a->items[1], "benefit"), 8500);
  auto b = Submit(Claim("c2", {Item(1, "99213", 10000, "s3")}));
  ASSERT_TRUE(b);
  EXPECT_EQ(Amount(b->items[0], "benefit"), 3000);  // 20,000 - 17,000
  EXPECT_EQ(b->items[0].reasons, std::vector<std::string>{"ar002"});
  auto c = Submit(Claim("c3", {Item(1, "99213", 10000, "s4")}));
  ASSERT_TRUE(c);
  EXPECT_EQ(Amount(c->items[0], "benefit"), 0);
  EXPECT_EQ(c->items[0].reasons, std::vector<std::string>{"ar002"});
}

TEST_F(ClaimsTest, PriorAuthorisationIsGrantedThenHonoured) {
  auto without = Submit(Claim("c1", {Item(1, "70553", 80000, "mri1")}));
  ASSERT_TRUE(without);
  EXPECT_EQ(without->items[0].reasons[0], "https://medledger.example/fhir/CodeSystem/policy-reason|prior-auth-required");

  json pa = Claim("pa1", {Item(1, "70553", 80000, "mri-pa")});
  pa["use"] = "preauthorization";
  auto granted = Submit(pa);
  ASSERT_TRUE(granted);
  ASSERT_FALSE(granted->pre_auth_ref.empty());
  EXPECT_TRUE(granted->dups.empty());  // a pre-authorisation holds no services

  json with = Claim("c2", {Item(1, "70553", 80000, "mri2")});
  with["pre_auth"] = {granted->pre_auth_ref};
  auto paid = Submit(with);
  ASSERT_TRUE(paid);
  EXPECT_EQ(Amount(paid->items[0], "benefit"), 20000 - 0);  // eligible 80,000 - copay, capped by the limit
  EXPECT_EQ(paid->items[0].reasons, std::vector<std::string>{"ar002"});
}

TEST_F(ClaimsTest, AClaimWithoutAMatchingAnchoredEncounterIsDenied) {
  json c = Claim("c1", {Item(1, "99213", 5000)});
  c["encounter"] = {{"id", Id("enc1")}, {"version", 2}};  // never anchored
  auto r = Submit(c);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->items[0].reasons[0], "https://medledger.example/fhir/CodeSystem/policy-reason|no-encounter");
}

TEST_F(ClaimsTest, DuplicatesAreDeniedButALegitimateRepeatIsNot) {
  auto first = Submit(Claim("c1", {Item(1, "80053", 3000, "lab")}));
  ASSERT_TRUE(first);
  EXPECT_EQ(Amount(first->items[0], "benefit"), 1500);
  // The same service, patient, provider and date: denied as a duplicate.
  auto dup = Submit(Claim("c2", {Item(1, "80053", 3000, "lab")}));
  ASSERT_TRUE(dup);
  EXPECT_EQ(dup->outcome, "complete");
  EXPECT_EQ(Amount(dup->items[0], "benefit"), 0);
  EXPECT_EQ(dup->items[0].reasons, std::vector<std::string>{"https://x12.org/codes/claim-adjustment-reason-codes|18"});
  EXPECT_EQ(dup->items[0].duplicate_of, first->tx);
  // A repeat clinical laboratory test (modifier 91) is legitimate.
  auto repeat = Submit(Claim("c3", {Item(1, "80053", 3000, "lab", {"91"})}));
  ASSERT_TRUE(repeat);
  EXPECT_EQ(Amount(repeat->items[0], "benefit"), 1500);
  EXPECT_TRUE(repeat->items[0].reasons.empty());
  // So is the same service billed with other units.
  auto units = Submit(Claim("c4", {Item(1, "80053", 6000, "lab", json::array(), 2)}));
  ASSERT_TRUE(units);
  EXPECT_TRUE(units->items[0].duplicate_of.empty());
  // Two identical lines in one claim: the second is the duplicate.
  auto twice = Submit(Claim("c5", {Item(1, "99213", 5000, "visit"), Item(2, "99213", 5000, "visit")}));
  ASSERT_TRUE(twice);
  EXPECT_TRUE(twice->items[0].duplicate_of.empty());
  EXPECT_EQ(twice->items[1].duplicate_of, twice->tx);
}

TEST_F(ClaimsTest, ReusingABusinessIdentifierNeedsACorrection) {
  json c = Claim("c1", {Item(1, "99213", 12000)});
  auto first = Submit(c);
  ASSERT_TRUE(first);
  // The same identifier again (the provider's node answers a resend off
  // chain with the first ClaimResponse; on chain it is refused).
  json again = Claim("c1b", {Item(1, "99213", 12000, "other")});
  again["claim_key"] = c["claim_key"];
  model::Verdict v;
  EXPECT_FALSE(Submit(again, &v));
  EXPECT_EQ(v.reason, Reject::kConflict);
  EXPECT_NE(v.detail.find("related (prior)"), std::string::npos);

  // A correction (related: prior) replaces the original: its limits and its
  // services are given back first, so the corrected line is no duplicate.
  json fix = Claim("c1c", {Item(1, "99213", 11000)});
  fix["claim_key"] = c["claim_key"];
  fix["related_prior"] = first->tx;
  auto corrected = Submit(fix);
  ASSERT_TRUE(corrected);
  EXPECT_TRUE(corrected->items[0].duplicate_of.empty());
  EXPECT_EQ(Amount(corrected->items[0], "benefit"), 8500);
  auto old = LoadClaim(chain.state, first->tx);
  EXPECT_EQ(old->status, "replaced");
  EXPECT_EQ(old->replaced_by, corrected->tx);
  EXPECT_EQ(corrected->replaces, first->tx);
  // A replaced claim cannot be corrected twice.
  json twice = Claim("c1d", {Item(1, "99213", 10000)});
  twice["claim_key"] = c["claim_key"];
  twice["related_prior"] = first->tx;
  EXPECT_FALSE(Submit(twice, &v));
  EXPECT_EQ(v.reason, Reject::kConflict);
}

TEST_F(ClaimsTest, AVoidGivesTheLimitBack) {
  auto a = Submit(Claim("c1", {Item(1, "99213", 10000, "s1"), Item(2, "99213", 10000, "s2")}));
  ASSERT_TRUE(a);
  EXPECT_EQ(chain.Do(chain.admin_b, tx::kClaimVoid, {{"claim", a->tx}, {"task", Id("t0")}}).reason,
            Reject::kRoleNotPermitted);  // not the provider
  ASSERT_TRUE(chain.Do(chain.node_a, tx::kClaimVoid, {{"claim", a->tx}, {"task", Id("t1")}}).ok());
  EXPECT_EQ(LoadClaim(chain.state, a->tx)->status, "voided");
  EXPECT_EQ(chain.Do(chain.node_a, tx::kClaimVoid, {{"claim", a->tx}, {"task", Id("t2")}}).reason, Reject::kConflict);
  // The whole limit is available again, and the services are no duplicates.
  auto b = Submit(Claim("c2", {Item(1, "99213", 10000, "s1"), Item(2, "99213", 10000, "s2")}));
  ASSERT_TRUE(b);
  EXPECT_EQ(Amount(b->items[0], "benefit"), 8500);
  EXPECT_EQ(Amount(b->items[1], "benefit"), 8500);
}

TEST_F(ClaimsTest, PaymentsAreRecordedUpToTheBenefit) {
  auto a = Submit(Claim("c1", {Item(1, "99213", 12000)}));
  ASSERT_TRUE(a);
  auto pay = [&](const std::string& id, int64_t amount, const crypto::KeyPair& k) {
    return chain.Do(k, tx::kClaimPayment, {{"payment_id", Id(id)}, {"claim", a->tx}, {"amount", amount}, {"currency", "USD"}});
  };
  EXPECT_EQ(pay("x", 100, chain.admin_a).reason, Reject::kRoleNotPermitted);  // the provider is no insurer
  ASSERT_TRUE(pay("p1", 8000, insurer).ok());
  EXPECT_EQ(pay("p2", 501, insurer).reason, Reject::kConflict);  // beyond the benefit of 8,500
  ASSERT_TRUE(pay("p3", 500, insurer).ok());
  EXPECT_EQ(pay("p3", 1, insurer).reason, Reject::kConflict);  // payment id used
  EXPECT_EQ(LoadClaim(chain.state, a->tx)->paid, 8500);
  // A paid claim is not voided.
  EXPECT_EQ(chain.Do(chain.node_a, tx::kClaimVoid, {{"claim", a->tx}, {"task", Id("t1")}}).reason, Reject::kConflict);
}

TEST_F(ClaimsTest, ClaimsThatCannotBeAdjudicatedAreErrors) {
  json none = Claim("c1", {Item(1, "99213", 5000)});
  none.erase("coverage");
  auto a = Submit(none);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->outcome, "error");
  EXPECT_EQ(a->errors[0].code, "no-coverage");

  ASSERT_TRUE(RegisterCoverage("cov2", 365, "gold", "someone-else").ok());
  json other = Claim("c2", {Item(1, "99213", 5000)});
  other["coverage"] = Id("cov2");
  auto b = Submit(other);
  EXPECT_EQ(b->errors[0].code, "unknown-member");

  ASSERT_TRUE(RegisterCoverage("cov3", 365, "platinum").ok());
  json plan = Claim("c3", {Item(1, "99213", 5000)});
  plan["coverage"] = Id("cov3");
  auto c = Submit(plan);
  EXPECT_EQ(c->outcome, "error");
  EXPECT_EQ(c->errors[0].code, "unknown-plan");
  // An error holds no services and no business key: the provider may send
  // the claim again once the coverage is fixed.
  EXPECT_FALSE(ClaimByBusinessKey(chain.state, plan["claim_key"].get<std::string>()));
}

TEST_F(ClaimsTest, AFailingPolicyIsAnErrorAndLeavesNoWrites) {
  const char* bad = R"(function adjudicate(req) state.put("x", 1); error("policy bug") end)";
  ASSERT_TRUE(chain.Do(chain.admin_a, tx::kContractDeploy, {{"proposal_id", Id("bad")}, {"name", "bad-policy"}, {"source", bad}}).ok());
  ASSERT_TRUE(chain.Do(insurer, tx::kClaimCoverage,
                       {{"coverage_id", Id("cov9")}, {"patient", Id("p1")}, {"provider", "hosp-a"}, {"plan", "gold"},
                        {"policy", "bad-policy"}, {"period_days", 365}})
                  .ok());
  json c = Claim("c1", {Item(1, "99213", 5000)});
  c["coverage"] = Id("cov9");
  auto r = Submit(c);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->outcome, "error");
  EXPECT_EQ(r->errors[0].code, "policy-failed");
  EXPECT_NE(r->errors[0].message.find("policy bug"), std::string::npos);
  EXPECT_FALSE(chain.state.Get("ctr/kv/bad-policy/x"));
}

TEST_F(ClaimsTest, ARestrictedRecordIsNotClaimedAndNotReadForPayment) {
  auto paid = Submit(Claim("c1", {Item(1, "99213", 12000)}));
  ASSERT_TRUE(paid);
  // The plan may read the claimed Encounter for payment, without consent.
  records::AccessRequest ar;
  ar.accessor = insurer.public_key();
  ar.accessor_org = "hosp-b";
  ar.accessor_roles = model::kRoleInsurer;
  ar.custodian_org = "hosp-a";
  ar.patient = patient.public_key();
  ar.resource_type = "Encounter";
  ar.record_id = Id("enc1");
  ar.purpose = "HPAYMT";
  ar.now_ms = int64_t(chain.now_ms);
  auto d = records::Decide(chain.state, ar);
  EXPECT_TRUE(d.allowed);
  EXPECT_EQ(d.basis, records::Basis::kPayment);
  // Not for another purpose, and not a substance-use record (42 CFR Part 2).
  ar.purpose = "HOPERAT";
  EXPECT_FALSE(records::Decide(chain.state, ar).allowed);
  ar.purpose = "HPAYMT";
  ar.labels = {"substance-use"};
  EXPECT_FALSE(records::Decide(chain.state, ar).allowed);
  ar.labels.clear();

  // Only the patient restricts; then the reads stop and a claim naming the
  // record is an error.
  json rx = {{"restriction_id", Id("rx1")}, {"provider", "hosp-a"}, {"pseudonym", Id("p1")}, {"record", Id("enc1")}, {"insurer", "*"}};
  EXPECT_EQ(chain.Do(chain.admin_a, tx::kClaimRestrict, rx).reason, Reject::kRoleNotPermitted);
  ASSERT_TRUE(chain.Do(patient, tx::kClaimRestrict, rx).ok());
  EXPECT_FALSE(records::Decide(chain.state, ar).allowed);
  auto r = Submit(Claim("c2", {Item(1, "99213", 12000, "again")}));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->outcome, "error");
  EXPECT_EQ(r->errors[0].code, "restricted");
}

TEST_F(ClaimsTest, CoverageRules) {
  EXPECT_EQ(RegisterCoverage("cov1", 365).reason, Reject::kConflict);  // id used
  EXPECT_EQ(RegisterCoverage("covx", 0).reason, Reject::kInvalidPayload);
  EXPECT_EQ(chain.Do(chain.admin_a, tx::kClaimCoverage,
                     {{"coverage_id", Id("covy")}, {"patient", Id("p1")}, {"provider", "hosp-a"}, {"plan", "gold"},
                      {"policy", "gold-policy"}, {"period_days", 30}})
                .reason,
            Reject::kRoleNotPermitted);  // not an insurer
  EXPECT_EQ(chain.Do(insurer, tx::kClaimCoverage,
                     {{"coverage_id", Id("covz")}, {"patient", Id("p1")}, {"provider", "hosp-a"}, {"plan", "gold"},
                      {"policy", "no-such-policy"}, {"period_days", 30}})
                .reason,
            Reject::kNotFound);
  EXPECT_EQ(chain.Do(insurer, tx::kClaimCoverageCancel, {{"coverage_id", Id("cov1")}, {"from_day", 400}}).reason,
            Reject::kInvalidPayload);
}

}  // namespace
}  // namespace medledger::claims
