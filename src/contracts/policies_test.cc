// The example claim policies in policies/ (docs/POLICIES.md), run as the
// claims module runs them: through the sandbox, with the contract's own
// state in memory. Every path of both policies, and that a release gives
// back exactly what adjudicate took.
#include <gtest/gtest.h>

#include <cinttypes>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include "contracts/sandbox.h"

namespace medledger::contracts {
namespace {

using json = nlohmann::json;

const char* kCpt = "http://www.ama-assn.org/go/cpt";
const std::string kPolicyReason = "https://medledger.example/fhir/CodeSystem/policy-reason|";
const std::string kInactive = kPolicyReason + "coverage-inactive";
const std::string kPriorAuth = kPolicyReason + "prior-auth-required";
const std::string kEncounter = kPolicyReason + "encounter-required";
const std::string kCov = std::string(32, 'c');
const std::string kOtherCov = std::string(32, 'd');

Contract Load(const std::string& file) {
  std::ifstream in(std::string(MEDLEDGER_SOURCE_DIR) + "/policies/" + file);
  std::stringstream ss;
  ss << in.rdbuf();
  auto c = Contract::Compile(ss.str(), file);
  EXPECT_TRUE(c.ok()) << file << ": " << c.status().ToString();
  return std::move(*c);
}

// A claim id shaped like a transaction id (64 hex), distinct in its first 16
// characters, from which the managed policy derives its pre-auth reference.
std::string ClaimId(uint64_t n) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016" PRIx64, static_cast<uint64_t>((n + 1) * 0x9E3779B97F4A7C15ull));
  return std::string(buf) + buf + buf + buf;
}

json Item(int seq, const std::string& code, int64_t charge, int64_t units = 1,
          const std::string& system = kCpt) {
  return {{"sequence", seq}, {"system", system}, {"code", code}, {"modifiers", json::array()},
          {"units", units}, {"charge", charge}};
}

struct Req {
  uint64_t n = 0;
  std::string plan = "gold";
  std::string use = "claim";
  std::string coverage = kCov;
  int64_t day = 10;
  int64_t period = 365;
  json cancelled = nullptr;
  bool encounter = true;
  json pre_auth = json::array();
  json items = json::array();

  json ToJson() const {
    return {{"claim",
             {{"id", ClaimId(n)}, {"use", use}, {"provider", std::string(64, 'b')},
              {"patient", std::string(32, 'e')}, {"service_day", day}, {"currency", "USD"},
              {"encounter", encounter}, {"pre_auth", pre_auth}, {"items", items}}},
            {"coverage",
             {{"id", coverage}, {"plan", plan}, {"period_days", period},
              {"cancelled_from_day", cancelled}}},
            {"insurer", std::string(64, 'f')}};
  }
};

// What the claims module relies on (docs/CLAIMS.md): one decision per item,
// in order; non-negative integer amounts; a zero benefit with a reason is a
// denial.
void CheckShape(const json& req, const json& result) {
  if (result.contains("error")) return;
  const json& items = req["claim"]["items"];
  ASSERT_TRUE(result["items"].is_array()) << result;
  ASSERT_EQ(result["items"].size(), items.size()) << result;
  for (size_t i = 0; i < items.size(); ++i) {
    const json& d = result["items"][i];
    EXPECT_EQ(d["sequence"], items[i]["sequence"]);
    EXPECT_EQ(d["adjudication"]["submitted"], items[i]["charge"]);
    ASSERT_TRUE(d["adjudication"].contains("benefit")) << d;
    for (const auto& [k, v] : d["adjudication"].items()) {
      EXPECT_TRUE(v.is_number_integer() && v.get<int64_t>() >= 0) << k << " in " << d;
    }
    EXPECT_TRUE(d["reasons"].is_array()) << d;
  }
}

class PolicyTest : public ::testing::Test {
 protected:
  json Run(const Contract& c, const char* fn, const json& args, StateAccess* st) {
    CallEnv env;
    env.height = 12;
    env.timestamp_ms = 1700000000000;
    env.caller = std::string(64, 'a');
    auto r = Call(c, fn, args, env, st, Limits{});
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    if (!r.ok()) return nullptr;
    EXPECT_TRUE(r->ok()) << FailureKindName(r->failure->kind) << ": " << r->failure->message;
    last_gas_ = r->gas_used;
    return r->result;
  }
  json Adjudicate(const Contract& c, const Req& req, StateAccess* st) {
    json args = req.ToJson();
    json result = Run(c, "adjudicate", args, st);
    CheckShape(args, result);
    return result;
  }
  void Release(const Contract& c, const Req& req, const json& result, StateAccess* st) {
    json args = req.ToJson();
    args["result"] = result;
    Run(c, "release", args, st);
  }
  static int64_t Benefit(const json& result, size_t i) {
    return result["items"][i]["adjudication"]["benefit"].get<int64_t>();
  }
  static json Reasons(const json& result, size_t i) { return result["items"][i]["reasons"]; }
  static int64_t Counter(const MemoryState& st, const std::string& key) {
    auto it = st.values().find(key);
    return it == st.values().end() ? 0 : std::get<int64_t>(it->second);
  }

  Contract simple_ = Load("simple.lua");
  Contract managed_ = Load("managed.lua");
  uint64_t last_gas_ = 0;
};

// ---- simple.lua ----

TEST_F(PolicyTest, SimplePaysTheAllowedAmountOrTheLowerCharge) {
  Req req;
  req.plan = "basic";
  req.items = {Item(1, "99213", 15000), Item(2, "80053", 1000), Item(3, "71046", 10000, 2)};
  // No state: the simple plan must not need any.
  json r = Adjudicate(simple_, req, nullptr);
  EXPECT_EQ(r["disposition"], "Claim settled as per contract.");
  EXPECT_EQ(r["items"][0]["adjudication"], json({{"submitted", 15000}, {"eligible", 11000}, {"benefit", 11000}}));
  EXPECT_EQ(Benefit(r, 1), 1000);
  EXPECT_EQ(Benefit(r, 2), 8000);  // 2 x 4000
  for (int i = 0; i < 3; ++i) EXPECT_EQ(Reasons(r, i), json::array());
  std::printf("simple.lua: 3-item claim, gas %" PRIu64 "\n", last_gas_);
  EXPECT_LT(last_gas_, kDefaultGas / 100);
}

TEST_F(PolicyTest, SimpleDeniesWhatIsNotCovered) {
  Req req;
  req.plan = "basic";
  req.items = {Item(1, "99999", 5000), Item(2, "99213", 5000, 1, "http://example.org/other"),
               Item(3, "99212", 5000)};
  json r = Adjudicate(simple_, req, nullptr);
  EXPECT_EQ(Benefit(r, 0), 0);
  EXPECT_EQ(Reasons(r, 0), json({"ar001"}));
  EXPECT_EQ(Reasons(r, 1), json({"ar001"}));  // a covered code, but not a CPT code
  EXPECT_EQ(Benefit(r, 2), 5000);
}

TEST_F(PolicyTest, SimpleDeniesEverythingOutsideTheCoverage) {
  for (auto [day, cancelled] : {std::pair<int64_t, json>{-1, nullptr}, {365, nullptr}, {400, nullptr},
                                {200, 200}, {250, 200}}) {
    Req req;
    req.plan = "basic";
    req.day = day;
    req.cancelled = cancelled;
    req.items = {Item(1, "99213", 9000), Item(2, "80053", 1000)};
    json r = Adjudicate(simple_, req, nullptr);
    EXPECT_EQ(r["disposition"], "Coverage not active on the day of service.") << day;
    for (int i = 0; i < 2; ++i) {
      EXPECT_EQ(Benefit(r, i), 0);
      EXPECT_EQ(Reasons(r, i), json({kInactive})) << day;
    }
  }
  // The first and last days, and the day before a cancellation, are covered.
  for (auto [day, cancelled] : {std::pair<int64_t, json>{0, nullptr}, {364, nullptr}, {199, 200}}) {
    Req req;
    req.plan = "basic";
    req.day = day;
    req.cancelled = cancelled;
    req.items = {Item(1, "99213", 9000)};
    EXPECT_EQ(Benefit(Adjudicate(simple_, req, nullptr), 0), 9000) << day;
  }
}

TEST_F(PolicyTest, SimpleUnknownPlanAndUnreadableClaims) {
  Req req;
  req.plan = "platinum";
  req.items = {Item(1, "99213", 9000)};
  json r = Adjudicate(simple_, req, nullptr);
  EXPECT_EQ(r["error"], "unknown-plan");
  EXPECT_EQ(r["message"], "plan 'platinum' is not offered");

  req.plan = "basic";
  json args = req.ToJson();
  args["claim"]["currency"] = "EUR";
  EXPECT_EQ(Run(simple_, "adjudicate", args, nullptr)["error"], "not-adjudicable");
  args = req.ToJson();
  args["claim"]["items"][0]["units"] = 0;
  EXPECT_EQ(Run(simple_, "adjudicate", args, nullptr)["error"], "not-adjudicable");
  args = req.ToJson();
  args["claim"]["items"][0]["charge"] = "9000";
  EXPECT_EQ(Run(simple_, "adjudicate", args, nullptr)["error"], "not-adjudicable");
  // Absurd units cannot overflow the allowed amount times units.
  req.items = {Item(1, "99213", 9000, INT64_MAX)};
  EXPECT_EQ(Benefit(Adjudicate(simple_, req, nullptr), 0), 9000);
}

TEST_F(PolicyTest, SimpleReleaseDoesNothing) {
  Req req;
  req.plan = "basic";
  req.items = {Item(1, "99213", 9000)};
  json r = Adjudicate(simple_, req, nullptr);
  MemoryState st;
  Release(simple_, req, r, &st);
  EXPECT_TRUE(st.values().empty());
}

// ---- managed.lua ----

TEST_F(PolicyTest, ManagedOfficeVisitPaysLessTheCopayAndSkipsTheDeductible) {
  MemoryState st;
  Req req;
  req.items = {Item(1, "99214", 20000)};
  json r = Adjudicate(managed_, req, &st);
  EXPECT_EQ(r["disposition"], "Claim settled as per contract.");
  EXPECT_EQ(r["items"][0]["adjudication"],
            json({{"submitted", 20000}, {"eligible", 16000}, {"copay", 2000}, {"deductible", 0},
                  {"benefit", 14000}}));
  EXPECT_EQ(Reasons(r, 0), json::array());
  EXPECT_EQ(Counter(st, "paid/" + kCov), 14000);
  EXPECT_EQ(Counter(st, "ded/" + kCov), 0);
  // A charge below the co-pay: the member pays it all.
  req.n = 1;
  req.items = {Item(1, "99212", 1500)};
  r = Adjudicate(managed_, req, &st);
  EXPECT_EQ(r["items"][0]["adjudication"]["copay"], 1500);
  EXPECT_EQ(Benefit(r, 0), 0);
  EXPECT_EQ(Reasons(r, 0), json::array());
}

TEST_F(PolicyTest, ManagedDeductibleAccumulatesAcrossClaims) {
  MemoryState st;
  // Gold: a $1,000 deductible. 97110 is allowed 5,500 a unit.
  int64_t expected_ded[] = {44000, 44000, 12000, 0};
  int64_t expected_benefit[] = {0, 0, 32000, 1500};
  for (uint64_t n = 0; n < 4; ++n) {
    Req req;
    req.n = n;
    req.items = {n < 3 ? Item(1, "97110", 50000, 8) : Item(1, "80053", 1500)};
    json r = Adjudicate(managed_, req, &st);
    EXPECT_EQ(r["items"][0]["adjudication"]["deductible"], expected_ded[n]) << n;
    EXPECT_EQ(Benefit(r, 0), expected_benefit[n]) << n;
    EXPECT_EQ(Reasons(r, 0), json::array()) << n;
  }
  EXPECT_EQ(Counter(st, "ded/" + kCov), 100000);
  EXPECT_EQ(Counter(st, "paid/" + kCov), 33500);
  // Another coverage has its own deductible.
  Req other;
  other.n = 9;
  other.coverage = kOtherCov;
  other.items = {Item(1, "80053", 1500)};
  EXPECT_EQ(Benefit(Adjudicate(managed_, other, &st), 0), 0);
}

TEST_F(PolicyTest, ManagedPlanLimitPaysUpToTheLimitThenNothing) {
  MemoryState st;
  // Gold pays at most $200,000 a year; this coverage has $50 left.
  ASSERT_TRUE(st.Put("paid/" + kCov, int64_t{20000000 - 5000}).ok());
  Req req;
  req.items = {Item(1, "99215", 30000), Item(2, "99213", 11000)};
  json r = Adjudicate(managed_, req, &st);
  EXPECT_EQ(Benefit(r, 0), 5000);  // 21,500 - 2,000 co-pay, capped at 5,000
  EXPECT_EQ(Reasons(r, 0), json({"ar002"}));
  EXPECT_EQ(Benefit(r, 1), 0);
  EXPECT_EQ(Reasons(r, 1), json({"ar002"}));
  EXPECT_EQ(Counter(st, "paid/" + kCov), 20000000);
  req.n = 1;
  req.items = {Item(1, "80053", 1500)};
  r = Adjudicate(managed_, req, &st);
  EXPECT_EQ(Benefit(r, 0), 0);
  EXPECT_EQ(Reasons(r, 0), json({"ar002"}));
}

TEST_F(PolicyTest, ManagedVisitLimit) {
  MemoryState st;
  Req req;
  req.plan = "silver";  // 12 physiotherapy visits a year
  req.items = {Item(1, "97110", 9000, 2)};
  json first;
  for (uint64_t n = 0; n < 12; ++n) {
    req.n = n;
    json r = Adjudicate(managed_, req, &st);
    if (n == 0) first = r;
    // Within the $3,000 deductible: no benefit yet, but not a denial.
    EXPECT_EQ(r["items"][0]["adjudication"]["deductible"], 9000) << n;
    EXPECT_EQ(Reasons(r, 0), json::array()) << n;
  }
  EXPECT_EQ(Counter(st, "visits/" + kCov + "/97110"), 12);
  req.n = 12;
  json r = Adjudicate(managed_, req, &st);
  EXPECT_EQ(Benefit(r, 0), 0);
  EXPECT_EQ(Reasons(r, 0), json({"ar002"}));
  EXPECT_EQ(Counter(st, "visits/" + kCov + "/97110"), 12);
  // Voiding a visit gives it back: the 13th, resubmitted, is then paid.
  req.n = 0;
  Release(managed_, req, first, &st);
  EXPECT_EQ(Counter(st, "visits/" + kCov + "/97110"), 11);
  req.n = 13;
  r = Adjudicate(managed_, req, &st);
  EXPECT_EQ(Reasons(r, 0), json::array());
  EXPECT_EQ(Counter(st, "visits/" + kCov + "/97110"), 12);
}

TEST_F(PolicyTest, ManagedPriorAuthorisationGrantedThenHonouredOnce) {
  MemoryState st;
  Req pa;
  pa.n = 100;
  pa.use = "preauthorization";
  pa.encounter = false;  // before the service: no encounter yet
  pa.items = {Item(1, "70553", 150000), Item(2, "99213", 11000)};
  json r = Adjudicate(managed_, pa, &st);
  std::string ref = "PA-" + ClaimId(100).substr(0, 16);
  EXPECT_EQ(r["pre_auth_ref"], ref);
  EXPECT_EQ(r["disposition"], "Prior authorisation granted.");
  EXPECT_EQ(Benefit(r, 0), 130000 - 100000);  // an estimate: the deductible applies first
  EXPECT_EQ(st.values().at("pa/" + ref + "/70553"), StateValue(kCov));
  EXPECT_EQ(Counter(st, "ded/" + kCov), 0);  // estimates accumulate nothing
  EXPECT_EQ(st.values().size(), 2u);         // the grant and its record

  Req claim;
  claim.n = 101;
  claim.pre_auth = {"PA-0123", ref};
  claim.items = {Item(1, "70553", 150000)};
  r = Adjudicate(managed_, claim, &st);
  EXPECT_EQ(Benefit(r, 0), 30000);
  EXPECT_EQ(Reasons(r, 0), json::array());
  EXPECT_EQ(st.values().count("pa/" + ref + "/70553"), 0u);
  // The reference authorised one MRI: a second claim with it is denied.
  claim.n = 102;
  r = Adjudicate(managed_, claim, &st);
  EXPECT_EQ(Benefit(r, 0), 0);
  EXPECT_EQ(Reasons(r, 0), json({kPriorAuth}));
}

TEST_F(PolicyTest, ManagedPriorAuthorisationMissingOrForAnotherCoverage) {
  MemoryState st;
  Req pa;
  pa.n = 100;
  pa.use = "preauthorization";
  pa.coverage = kOtherCov;
  pa.items = {Item(1, "70553", 150000)};
  std::string ref = Adjudicate(managed_, pa, &st)["pre_auth_ref"].get<std::string>();

  Req claim;
  claim.n = 101;
  claim.items = {Item(1, "70553", 150000), Item(2, "99213", 11000)};
  for (json refs : {json::array(), json({ref}), json({"PA-zz", std::string(300, 'A'), "nonsense"})}) {
    claim.pre_auth = refs;
    json r = Adjudicate(managed_, claim, &st);
    EXPECT_EQ(Benefit(r, 0), 0);
    EXPECT_EQ(Reasons(r, 0), json({kPriorAuth})) << refs;
    EXPECT_EQ(Benefit(r, 1), 9000) << refs;  // the visit is paid regardless
    Release(managed_, claim, r, &st);
  }
  EXPECT_EQ(st.values().count("pa/" + ref + "/70553"), 1u);  // still unused
}

TEST_F(PolicyTest, ManagedClaimWithoutEncounterIsDenied) {
  MemoryState st;
  Req req;
  req.encounter = false;
  req.items = {Item(1, "99213", 11000), Item(2, "80053", 1500)};
  json r = Adjudicate(managed_, req, &st);
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(Benefit(r, i), 0);
    EXPECT_EQ(Reasons(r, i), json({kEncounter}));
  }
  EXPECT_TRUE(st.values().empty());
}

TEST_F(PolicyTest, ManagedInactiveCoverageUnknownPlanAndNotCovered) {
  MemoryState st;
  for (auto [day, cancelled] : {std::pair<int64_t, json>{-1, nullptr}, {365, nullptr}, {300, 120}}) {
    Req req;
    req.day = day;
    req.cancelled = cancelled;
    req.items = {Item(1, "99213", 11000)};
    json r = Adjudicate(managed_, req, &st);
    EXPECT_EQ(Benefit(r, 0), 0);
    EXPECT_EQ(Reasons(r, 0), json({kInactive})) << day;
  }
  EXPECT_TRUE(st.values().empty());

  Req req;
  req.plan = "basic";  // simple.lua's plan, not this one's
  req.items = {Item(1, "99213", 11000)};
  EXPECT_EQ(Adjudicate(managed_, req, &st)["error"], "unknown-plan");
  req.plan = "silver";
  req.items = {Item(1, "99999", 11000), Item(2, "99213", 11000)};
  json r = Adjudicate(managed_, req, &st);
  EXPECT_EQ(Reasons(r, 0), json({"ar001"}));
  EXPECT_EQ(Benefit(r, 1), 9500 - 4000);
  // The same claim id twice is refused: the record for release is per claim.
  EXPECT_EQ(Adjudicate(managed_, req, &st)["error"], "not-adjudicable");
}

TEST_F(PolicyTest, ManagedPredeterminationAccumulatesNothing) {
  MemoryState st;
  Req req;
  req.use = "predetermination";
  req.items = {Item(1, "80053", 1500), Item(2, "70553", 150000)};
  json r = Adjudicate(managed_, req, &st);
  EXPECT_EQ(r["disposition"], "Estimate only: nothing has been paid or accumulated.");
  EXPECT_EQ(r["items"][0]["adjudication"]["deductible"], 1500);
  EXPECT_EQ(r["items"][1]["adjudication"]["deductible"], 100000 - 1500);
  EXPECT_FALSE(r.contains("pre_auth_ref"));
  EXPECT_TRUE(st.values().empty());
}

// A realistic history, then a claim that touches every counter: release
// must leave state exactly as it was before the claim.
TEST_F(PolicyTest, ManagedReleaseRestoresStateExactly) {
  MemoryState st;
  Req pa;
  pa.n = 1;
  pa.use = "preauthorization";
  pa.items = {Item(1, "70553", 150000)};
  std::string ref = Adjudicate(managed_, pa, &st)["pre_auth_ref"].get<std::string>();
  Req earlier;
  earlier.n = 2;
  earlier.items = {Item(1, "97110", 11000, 2), Item(2, "80053", 1500)};
  Adjudicate(managed_, earlier, &st);
  ASSERT_TRUE(st.Put("paid/" + kCov, int64_t{20000000 - 40000}).ok());
  auto before = st.values();

  Req claim;
  claim.n = 3;
  claim.pre_auth = {ref};
  claim.items = {Item(1, "99214", 16000), Item(2, "97110", 11000, 2), Item(3, "70553", 150000)};
  json r = Adjudicate(managed_, claim, &st);
  std::printf("managed.lua: 3-item claim (copay, visit limit, deductible, pre-auth, plan limit), gas %" PRIu64
              "\n", last_gas_);
  EXPECT_LT(last_gas_, kDefaultGas / 100);
  EXPECT_EQ(Reasons(r, 2), json({"ar002"}));  // the MRI reaches the limit
  EXPECT_EQ(Counter(st, "paid/" + kCov), 20000000);
  EXPECT_NE(st.values(), before);

  Release(managed_, claim, r, &st);
  EXPECT_EQ(st.values(), before);
  Release(managed_, claim, r, &st);  // a second release changes nothing
  EXPECT_EQ(st.values(), before);
  std::printf("managed.lua: release, gas %" PRIu64 "\n", last_gas_);

  // Releasing the preauthorization withdraws its grant; releasing the
  // claims that accumulated leaves only the primed counter.
  Release(managed_, pa, nullptr, &st);
  EXPECT_EQ(st.values().count("pa/" + ref + "/70553"), 0u);
  Release(managed_, earlier, nullptr, &st);
  EXPECT_EQ(st.values().size(), 1u);
  EXPECT_EQ(Counter(st, "paid/" + kCov), 20000000 - 40000);
}

TEST_F(PolicyTest, ManagedReleaseOfACorruptedCounterFails) {
  // A counter that would go negative means the policy lost track: the
  // release fails, so the void or correction is rejected rather than
  // recorded with wrong limits.
  MemoryState st;
  Req req;
  req.items = {Item(1, "99214", 16000)};
  json r = Adjudicate(managed_, req, &st);
  ASSERT_TRUE(st.Put("paid/" + kCov, int64_t{1}).ok());
  json args = req.ToJson();
  args["result"] = r;
  auto call = Call(managed_, "release", args, CallEnv{}, &st, Limits{});
  ASSERT_TRUE(call.ok());
  ASSERT_FALSE(call->ok());
  EXPECT_EQ(call->failure->kind, FailureKind::kRuntimeError);
}

}  // namespace
}  // namespace medledger::contracts
