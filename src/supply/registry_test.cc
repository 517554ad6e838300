// gs1.register_prefix and the governance grant it needs on a chain of
// several organisations (docs/SUPPLY.md, "gs1.register_prefix").
#include "supply/registry.h"

#include "state/governance.h"
#include "supply/test_util.h"

namespace medledger::supply::test {
namespace {

class Registry : public ::testing::Test {
 protected:
  Registry() : c(SupplyChainOptions()) {}
  model::Verdict Register(const crypto::KeyPair& k, const std::string& prefix) {
    return c.Do(k, tx::kGs1RegisterPrefix, {{"prefix", prefix}});
  }
  model::Verdict Grant(const std::string& id, const std::string& org, const std::string& prefix) {
    return c.Do(Key(1), tx::kGovPropose,
                {{"proposal_id", Id(id)}, {"action", "gs1_prefix"}, {"org_id", org}, {"prefix", prefix}});
  }
  TestChain c;
  crypto::KeyPair mfr = Key(std::string("mfr")), mfr2 = Key(std::string("mfr2")), dist = Key(std::string("dist"));
};

TEST_F(Registry, SeveralOrganisationsNeedAGovernanceGrantToTheSignersOrganisation) {
  auto v = Register(mfr, kMfrPrefix);
  EXPECT_EQ(v.reason, Reject::kRoleNotPermitted);
  EXPECT_NE(v.detail.find("governance grant"), std::string::npos) << v.detail;
  ASSERT_TRUE(Grant("g1", "mfr2", kMfrPrefix).ok());
  EXPECT_EQ(Register(mfr, kMfrPrefix).reason, Reject::kRoleNotPermitted) << "the grant is mfr2's";
  ASSERT_TRUE(Register(mfr2, kMfrPrefix).ok());
  auto p = GetPrefix(c.state, kMfrPrefix);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->org, "mfr2");
  EXPECT_EQ(p->registered_by, mfr2.id());
  EXPECT_EQ(p->proposal_id, Id("g1"));
  auto proposal = state::LoadProposal(c.state, Id("g1"));
  ASSERT_TRUE(proposal);
  EXPECT_TRUE(proposal->executed);
  EXPECT_EQ(proposal->prefix, kMfrPrefix);
  EXPECT_EQ(HolderOfGtin(c.state, Gtin(kMfrPrefix, "12345"))->org, "mfr2");
  EXPECT_EQ(HolderOfNumber(c.state, Gln(kMfrPrefix, "1"))->org, "mfr2");
  EXPECT_FALSE(HolderOfGtin(c.state, Gtin(kDistPrefix, "1")));
  // Only a manufacturer registers (the role table).
  ASSERT_TRUE(Grant("g2", "dist", kDistPrefix).ok());
  EXPECT_EQ(Register(dist, kDistPrefix).reason, Reject::kRoleNotPermitted);
}

TEST_F(Registry, APrefixThatOverlapsARegisteredOneIsRefused) {
  ASSERT_TRUE(Grant("g1", "mfr", kMfrPrefix).ok());
  ASSERT_TRUE(Register(mfr, kMfrPrefix).ok());
  for (const std::string& p : {kMfrPrefix, kMfrPrefix + "2", kMfrPrefix.substr(0, 6)}) {
    Grant("g-" + p, "mfr2", p);  // refused for the same prefix: it is approved already
    auto v = Register(mfr2, p);
    EXPECT_EQ(v.reason, Reject::kConflict) << p;
    EXPECT_NE(v.detail.find("overlaps the registered prefix"), std::string::npos) << v.detail;
  }
  EXPECT_EQ(ListPrefixes(c.state).size(), 1u);
}

TEST_F(Registry, MalformedPrefixesAndGrants) {
  for (const std::string& p :
       {std::string("12345"), std::string("1234567890123"), std::string("06141a1"), std::string("")}) {
    EXPECT_EQ(Register(mfr, p).reason, Reject::kInvalidPayload) << p;
    EXPECT_EQ(Grant("bad-" + p, "mfr", p).reason, Reject::kInvalidPayload) << p;
  }
  EXPECT_EQ(Grant("g1", "nobody", kMfrPrefix).reason, Reject::kNotFound);
  ASSERT_TRUE(Grant("g2", "mfr", kMfrPrefix).ok());
  EXPECT_EQ(Grant("g3", "mfr2", kMfrPrefix).reason, Reject::kConflict) << "approved once";
}

// On a one-organisation (development) chain the admin, which holds every
// role there, registers alone.
TEST(RegistryDev, TheAdminOfAOneOrganisationChainRegistersAlone) {
  auto o = TestChain::Dev();
  o.supply = true;
  TestChain c(o);
  auto v = c.Do(c.admin_a, tx::kGs1RegisterPrefix, {{"prefix", kMfrPrefix}});
  ASSERT_TRUE(v.ok()) << v.detail;
  EXPECT_EQ(GetPrefix(c.state, kMfrPrefix)->org, "dev");
  EXPECT_EQ(GetPrefix(c.state, kMfrPrefix)->proposal_id, "");
}

}  // namespace
}  // namespace medledger::supply::test
