// The contract module (contracts/module.h): deployment through governance,
// calls run when their block executes, failures as verdicts.
#include "contracts/module.h"

#include <gtest/gtest.h>

#include "state/contract_record.h"
#include "state/governance.h"
#include "testing/test_chain.h"

namespace medledger::contracts {
namespace {

using testing::Id;
using testing::Key;
using testing::TestChain;
using nlohmann::json;
namespace tx = model::tx;
using model::Reject;

constexpr const char* kCounter = R"(
function bump(args)
  local n = (state.get("n") or 0) + (args.by or 1)
  state.put("n", n)
  return {n = n, at = env.height}
end
function spin() while true do end end
function keys(args)
  local out = {}
  for k, v in pairs(args) do out[#out + 1] = k end
  return out
end
)";

TestChain::Options Dev() {
  auto o = TestChain::Dev();
  o.governance = true;
  o.contracts = true;
  return o;
}

// Two member organisations, both needed to deploy.
TestChain::Options TwoOrgs() {
  auto o = TestChain::Hospitals();
  o.genesis["governance_threshold"] = 2;
  o.governance = true;
  o.contracts = true;
  return o;
}

json Deploy(const std::string& pid, const std::string& name, const std::string& source) {
  return {{"proposal_id", Id(pid)}, {"name", name}, {"source", source}};
}

model::Verdict CallFn(TestChain& c, const std::string& name, const std::string& fn, json args = json::object(),
                      std::string* tx_hex = nullptr) {
  auto t = c.Tx(c.admin_a, tx::kContractCall, {{"name", name}, {"fn", fn}, {"args", args}});
  if (tx_hex) *tx_hex = ToHex(t.Id());
  return c.RunOne(t);
}

TEST(ContractModuleTest, ADevelopmentChainDeploysAtOnceAndCallsKeepState) {
  TestChain c(Dev());
  ASSERT_TRUE(c.Do(c.admin_a, tx::kContractDeploy, Deploy("d1", "counter", kCounter)).ok());
  auto rec = state::LoadContract(c.state, "counter");
  ASSERT_TRUE(rec);
  EXPECT_EQ(rec->version, 1u);
  EXPECT_EQ(rec->proposal_id, Id("d1"));

  std::string tx1, tx2;
  ASSERT_TRUE(CallFn(c, "counter", "bump", {{"by", 5}}, &tx1).ok());
  ASSERT_TRUE(CallFn(c, "counter", "bump", json::object(), &tx2).ok());
  auto r1 = LoadCall(c.state, tx1), r2 = LoadCall(c.state, tx2);
  ASSERT_TRUE(r1 && r2);
  EXPECT_EQ(r1->result["n"], 5);
  EXPECT_EQ(r2->result["n"], 6);
  EXPECT_EQ(r2->result["at"], int64_t(c.height));
  EXPECT_GT(r1->gas_used, 0u);
  EXPECT_EQ(r1->fn, "bump");
  EXPECT_EQ(r1->version, 1u);
}

TEST(ContractModuleTest, AFailedCallIsAVerdictAndWritesNothing) {
  TestChain c(Dev());
  ASSERT_TRUE(c.Do(c.admin_a, tx::kContractDeploy, Deploy("d1", "counter", kCounter)).ok());
  ASSERT_TRUE(CallFn(c, "counter", "bump").ok());
  std::string spin_tx;
  auto v = CallFn(c, "counter", "spin", json::object(), &spin_tx);
  EXPECT_EQ(v.reason, Reject::kGasExhausted);
  EXPECT_NE(v.detail.find("(gas " + std::to_string(kDefaultGas) + ")"), std::string::npos) << v.detail;
  EXPECT_FALSE(LoadCall(c.state, spin_tx));
  v = CallFn(c, "counter", "nothing_here");
  EXPECT_EQ(v.reason, Reject::kContractError) << v.detail;
  v = CallFn(c, "nobody", "bump");
  EXPECT_EQ(v.reason, Reject::kNotFound);
  v = CallFn(c, "counter", "bad name");
  EXPECT_EQ(v.reason, Reject::kInvalidPayload);
  // The counter still says 1 + 1.
  std::string t;
  ASSERT_TRUE(CallFn(c, "counter", "bump", json::object(), &t).ok());
  EXPECT_EQ(LoadCall(c.state, t)->result["n"], 2);
}

TEST(ContractModuleTest, SourceMustCompileAndNamesAreUsedOnce) {
  TestChain c(Dev());
  auto v = c.Do(c.admin_a, tx::kContractDeploy, Deploy("d1", "broken", "function f( return 1 end"));
  EXPECT_EQ(v.reason, Reject::kInvalidPayload);
  EXPECT_NE(v.detail.find("does not compile"), std::string::npos) << v.detail;
  EXPECT_FALSE(state::LoadContract(c.state, "broken"));
  ASSERT_TRUE(c.Do(c.admin_a, tx::kContractDeploy, Deploy("d2", "counter", kCounter)).ok());
  EXPECT_EQ(c.Do(c.admin_a, tx::kContractDeploy, Deploy("d3", "counter", kCounter)).reason, Reject::kConflict);
  EXPECT_EQ(c.Do(c.admin_a, tx::kContractDeploy, Deploy("d4", "Bad/Name", kCounter)).reason, Reject::kInvalidPayload);
  // Contracts are proposed only through contract.deploy, which compiles.
  v = c.Do(c.admin_a, tx::kGovPropose, {{"proposal_id", Id("g1")}, {"action", "deploy_contract"}});
  EXPECT_EQ(v.reason, Reject::kInvalidPayload);
}

TEST(ContractModuleTest, AnUpgradeIsTheNextVersionAndCallsUseIt) {
  TestChain c(Dev());
  EXPECT_EQ(c.Do(c.admin_a, tx::kContractUpgrade, Deploy("u0", "counter", kCounter)).reason, Reject::kNotFound);
  ASSERT_TRUE(c.Do(c.admin_a, tx::kContractDeploy, Deploy("d1", "counter", kCounter)).ok());
  ASSERT_TRUE(CallFn(c, "counter", "bump").ok());
  ASSERT_TRUE(c.Do(c.admin_a, tx::kContractUpgrade,
                   Deploy("u1", "counter", "function bump() state.put('n', 100) return 'v2' end"))
                  .ok());
  EXPECT_EQ(state::LoadContract(c.state, "counter")->version, 2u);
  // Every version's source is kept.
  EXPECT_TRUE(state::LoadContractSource(c.state, "counter", 1));
  EXPECT_TRUE(state::LoadContractSource(c.state, "counter", 2));
  std::string t;
  ASSERT_TRUE(CallFn(c, "counter", "bump", json::object(), &t).ok());
  EXPECT_EQ(LoadCall(c.state, t)->result, "v2");
  EXPECT_EQ(LoadCall(c.state, t)->version, 2u);
}

TEST(ContractModuleTest, OneOrganisationAloneCannotDeployOrUpgrade) {
  TestChain c(TwoOrgs());
  ASSERT_TRUE(c.Do(c.admin_a, tx::kContractDeploy, Deploy("d1", "counter", kCounter)).ok());
  EXPECT_FALSE(state::LoadContract(c.state, "counter")) << "one approval of two";
  EXPECT_EQ(CallFn(c, "counter", "bump").reason, Reject::kNotFound);
  // hosp-a approving again does not count twice.
  EXPECT_EQ(c.Do(c.admin_a, tx::kGovApprove, {{"proposal_id", Id("d1")}}).reason, Reject::kConflict);
  ASSERT_TRUE(c.Do(c.admin_b, tx::kGovApprove, {{"proposal_id", Id("d1")}}).ok());
  ASSERT_TRUE(state::LoadContract(c.state, "counter"));
  EXPECT_TRUE(CallFn(c, "counter", "bump").ok());

  ASSERT_TRUE(c.Do(c.admin_b, tx::kContractUpgrade, Deploy("u1", "counter", "function bump() return 2 end")).ok());
  EXPECT_EQ(state::LoadContract(c.state, "counter")->version, 1u);
  ASSERT_TRUE(c.Do(c.admin_a, tx::kGovApprove, {{"proposal_id", Id("u1")}}).ok());
  EXPECT_EQ(state::LoadContract(c.state, "counter")->version, 2u);
  // A member's non-admin key cannot deploy at all.
  auto prac = Key(std::string("prac"));
  c.Register(prac, {"practitioner"});
  EXPECT_EQ(c.Do(prac, tx::kContractDeploy, Deploy("d2", "other", kCounter)).reason, Reject::kRoleNotPermitted);
}

// Two chains that run the same blocks agree on results, gas and state root,
// a contract that iterates a table with pairs included.
TEST(ContractModuleTest, SameBlocksSameResultsGasAndRoot) {
  std::vector<std::pair<json, uint64_t>> seen[2];
  Hash32 roots[2];
  for (int run = 0; run < 2; ++run) {
    TestChain c(Dev());
    ASSERT_TRUE(c.Do(c.admin_a, tx::kContractDeploy, Deploy("d1", "counter", kCounter)).ok());
    for (int i = 0; i < 3; ++i) {
      std::string t;
      json args = {{"zeta", 1}, {"alpha", 2}, {"mid" + std::to_string(i), 3}, {"by", i}};
      ASSERT_TRUE(CallFn(c, "counter", "keys", args, &t).ok());
      auto r = LoadCall(c.state, t);
      seen[run].emplace_back(r->result, r->gas_used);
    }
    roots[run] = c.root;
  }
  EXPECT_EQ(seen[0], seen[1]);
  EXPECT_EQ(roots[0], roots[1]);
  // Ordered iteration: keys come sorted, whatever the string-hash seed.
  EXPECT_EQ(seen[0][0].first, json({"alpha", "by", "mid0", "zeta"}));
}

}  // namespace
}  // namespace medledger::contracts
