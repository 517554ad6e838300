#include "state/governance.h"

#include <gtest/gtest.h>

#include "crypto/sha256.h"
#include "model/tx_json.h"
#include "model/tx_types.h"
#include "state/executor.h"
#include "state/genesis.h"
#include "state/identity.h"

namespace medledger::state {
namespace {

using model::Reject;
using nlohmann::json;
namespace tx = model::tx;

crypto::KeyPair Key(uint8_t fill) {
  std::array<uint8_t, 32> seed;
  seed.fill(fill);
  return crypto::KeyPair::FromSeed(seed);
}

// Three member hospitals h1..h3 (admin keys 1..3, node keys 11..13),
// threshold 2; with_pharmacy adds "ph", a non-voting organisation whose
// admin (key 4) holds org_admin but not member.
json ConsortiumGenesis(bool with_pharmacy = false) {
  json orgs = json::array();
  for (int i = 1; i <= 3; ++i)
    orgs.push_back({{"id", "h" + std::to_string(i)},
                    {"name", "Hospital " + std::to_string(i)},
                    {"admin", Key(uint8_t(i)).id()},
                    {"nodes", {Key(uint8_t(10 + i)).id()}}});
  if (with_pharmacy)
    orgs.push_back({{"id", "ph"}, {"name", "Pharmacy"}, {"admin", Key(4).id()}, {"admin_roles", {"org_admin"}}});
  return {{"chain_id", "gov-chain"},
          {"timestamp_ms", 1000},
          {"governance_threshold", 2},
          {"block", {{"max_expiry_window", 1000}}},
          {"organisations", orgs}};
}

class GovChain {
 public:
  explicit GovChain(bool with_pharmacy = false) : exec(Executor::Core()), replay(1000) {
    exec->AddModule(std::make_unique<GovernanceModule>());
    auto g = BuildGenesis(ConsortiumGenesis(with_pharmacy));
    EXPECT_TRUE(g.ok()) << g.status().ToString();
    state.Apply(g->writes);
    root = g->block.header.state_root;
  }

  model::Transaction Tx(const crypto::KeyPair& k, uint16_t type, const json& payload) {
    auto t = model::MakeTransaction("gov-chain", k, type, payload, nonce++, height + 100);
    EXPECT_TRUE(t.ok());
    return *t;
  }

  std::vector<model::Verdict> Run(const std::vector<model::Transaction>& txs) {
    height++;
    std::vector<Hash32> ids;
    std::vector<uint8_t> sig_ok;
    for (const auto& t : txs) {
      ids.push_back(t.Id());
      sig_ok.push_back(t.VerifySignature());
    }
    auto out = exec->Execute(state, root, height, 1000 + height, txs, ids, sig_ok, replay);
    state.Apply(out.writes);
    root = out.state_root;
    replay.AddBlock(height, ids);
    return out.verdicts;
  }
  model::Verdict RunOne(const model::Transaction& t) { return Run({t})[0]; }

  model::Verdict ProposeAdd(const crypto::KeyPair& by, const std::string& pid, const std::string& org_id,
                            const crypto::KeyPair& admin, const std::vector<crypto::KeyPair>& nodes) {
    json n = json::array();
    for (const auto& k : nodes) n.push_back(k.id());
    return RunOne(Tx(by, tx::kGovPropose,
                     {{"proposal_id", pid},
                      {"action", "add_member"},
                      {"org", {{"id", org_id}, {"name", "New " + org_id}, {"admin", admin.id()}, {"nodes", n}}}}));
  }
  model::Verdict ProposeRemove(const crypto::KeyPair& by, const std::string& pid, const std::string& org_id) {
    return RunOne(Tx(by, tx::kGovPropose, {{"proposal_id", pid}, {"action", "remove_member"}, {"org_id", org_id}}));
  }
  model::Verdict Approve(const crypto::KeyPair& by, const std::string& pid) {
    return RunOne(Tx(by, tx::kGovApprove, {{"proposal_id", pid}}));
  }
  model::Verdict Anchor(const crypto::KeyPair& by, int i) {
    return RunOne(Tx(by, tx::kAnchorPut, {{"hash", ToHex(crypto::Sha256("gov-doc" + std::to_string(i)))}}));
  }
  bool OrgActive(const std::string& id) {
    auto o = LoadOrg(state, id);
    return o && o->active;
  }

  std::unique_ptr<Executor> exec;
  ReplayGuard replay;
  MemState state;
  Hash32 root{};
  uint64_t height = 0;
  uint64_t nonce = 1;
};

// A rejection for `reason` whose detail contains `detail`. Several rules
// share one code (conflict above all), so the code alone would let a test
// pass when the transaction was refused by another rule than the one meant.
::testing::AssertionResult Rejected(const model::Verdict& v, Reject reason, std::string_view detail) {
  if (v.reason == reason && v.detail.find(detail) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "verdict " << model::RejectName(v.reason) << " \"" << v.detail
                                       << "\", expected " << model::RejectName(reason) << " with \"" << detail
                                       << "\"";
}
constexpr std::string_view kOrgInactive = "signer's organisation is not an active member";
constexpr std::string_view kAlreadyExecuted = "proposal was already executed at height ";

const std::string kP1 = "00000000000000000000000000000001";
const std::string kP2 = "00000000000000000000000000000002";
const std::string kP3 = "00000000000000000000000000000003";

TEST(Governance, AddExecutesExactlyAtTheSecondDistinctOrganisation) {
  GovChain c;
  auto h1 = Key(1), h2 = Key(2), new_admin = Key(30), new_node = Key(31);
  ASSERT_TRUE(c.ProposeAdd(h1, kP1, "h4", new_admin, {new_node}).ok());
  EXPECT_FALSE(LoadOrg(c.state, "h4"));
  EXPECT_FALSE(LoadIdentity(c.state, new_admin.public_key()));
  auto p = LoadProposal(c.state, kP1);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->approvals, std::vector<std::string>{"h1"});
  EXPECT_EQ(p->StatusAt(c.height), "open");

  // The same organisation again, by proposing key or otherwise: no count.
  EXPECT_TRUE(Rejected(c.Approve(h1, kP1), Reject::kConflict, "organisation 'h1' has already approved"));
  EXPECT_FALSE(LoadOrg(c.state, "h4"));

  ASSERT_TRUE(c.Approve(h2, kP1).ok());
  ASSERT_TRUE(c.OrgActive("h4"));
  EXPECT_EQ(LoadOrg(c.state, "h4")->since, c.height);
  auto admin = LoadIdentity(c.state, new_admin.public_key());
  ASSERT_TRUE(admin);
  EXPECT_EQ(admin->org, "h4");
  EXPECT_EQ(admin->roles, uint32_t(model::kRoleMember | model::kRoleOrgAdmin));
  auto node = LoadIdentity(c.state, new_node.public_key());
  ASSERT_TRUE(node);
  EXPECT_EQ(node->roles, uint32_t(model::kRoleNode));
  p = LoadProposal(c.state, kP1);
  EXPECT_TRUE(p->executed);
  EXPECT_EQ(p->executed_at, c.height);
  EXPECT_EQ(p->StatusAt(c.height), "executed");

  // Executed: a third approval is refused.
  EXPECT_TRUE(Rejected(c.Approve(Key(3), kP1), Reject::kConflict, kAlreadyExecuted));
}

TEST(Governance, SecondKeyOfTheSameOrganisationDoesNotCount) {
  GovChain c;
  auto h1 = Key(1), h1_second_admin = Key(20);
  // h1's admin holds member, so it may give a second key member+org_admin.
  ASSERT_TRUE(c.RunOne(c.Tx(h1, tx::kIdentityRegister,
                            {{"pubkey", h1_second_admin.id()}, {"roles", {"member", "org_admin"}}}))
                  .ok());
  ASSERT_TRUE(c.ProposeAdd(h1, kP1, "h4", Key(30), {}).ok());
  EXPECT_TRUE(Rejected(c.Approve(h1_second_admin, kP1), Reject::kConflict, "organisation 'h1' has already approved"));
  EXPECT_FALSE(LoadOrg(c.state, "h4"));
  EXPECT_EQ(LoadProposal(c.state, kP1)->approvals.size(), 1u);
}

TEST(Governance, AddedOrganisationAdminCanRegisterIdentitiesAndVote) {
  GovChain c;
  auto h1 = Key(1), h2 = Key(2), new_admin = Key(30), doctor = Key(32);
  ASSERT_TRUE(c.ProposeAdd(h1, kP1, "h4", new_admin, {Key(31)}).ok());
  ASSERT_TRUE(c.Approve(h2, kP1).ok());
  auto v = c.RunOne(c.Tx(new_admin, tx::kIdentityRegister, {{"pubkey", doctor.id()}, {"roles", {"practitioner"}}}));
  ASSERT_TRUE(v.ok()) << v.detail;
  EXPECT_EQ(LoadIdentity(c.state, doctor.public_key())->org, "h4");
  EXPECT_TRUE(c.Anchor(doctor, 1).ok());
  // The new member votes: its approval is one of the two.
  ASSERT_TRUE(c.ProposeAdd(new_admin, kP2, "h5", Key(40), {}).ok());
  ASSERT_TRUE(c.Approve(Key(3), kP2).ok());
  EXPECT_TRUE(c.OrgActive("h5"));
}

TEST(Governance, NonMemberAdminsCannotProposeOrApprove) {
  GovChain c(/*with_pharmacy=*/true);
  auto pharmacy = Key(4), h1 = Key(1), h1_plain_admin = Key(21);
  const std::string_view may_propose = "only an admin of a member organisation (roles member and org_admin) may propose";
  const std::string_view may_approve = "only an admin of a member organisation (roles member and org_admin) may approve";
  EXPECT_TRUE(Rejected(c.ProposeAdd(pharmacy, kP1, "h4", Key(30), {}), Reject::kRoleNotPermitted, may_propose));
  // An org_admin key without member inside a member organisation.
  ASSERT_TRUE(c.RunOne(c.Tx(h1, tx::kIdentityRegister, {{"pubkey", h1_plain_admin.id()}, {"roles", {"org_admin"}}})).ok());
  EXPECT_TRUE(Rejected(c.ProposeAdd(h1_plain_admin, kP1, "h4", Key(30), {}), Reject::kRoleNotPermitted, may_propose));
  // A practitioner lacks org_admin: refused by the executor's role table.
  auto doc = Key(22);
  ASSERT_TRUE(c.RunOne(c.Tx(h1, tx::kIdentityRegister, {{"pubkey", doc.id()}, {"roles", {"practitioner"}}})).ok());
  EXPECT_TRUE(Rejected(c.ProposeAdd(doc, kP1, "h4", Key(30), {}), Reject::kRoleNotPermitted,
                       "governance.propose needs one of the roles"));
  // Unknown signer.
  EXPECT_TRUE(Rejected(c.ProposeAdd(Key(99), kP1, "h4", Key(30), {}), Reject::kUnknownSigner,
                       "signer is not a registered identity"));

  ASSERT_TRUE(c.ProposeAdd(h1, kP1, "h4", Key(30), {}).ok());
  EXPECT_TRUE(Rejected(c.Approve(pharmacy, kP1), Reject::kRoleNotPermitted, may_approve));
  EXPECT_TRUE(Rejected(c.Approve(h1_plain_admin, kP1), Reject::kRoleNotPermitted, may_approve));
  EXPECT_FALSE(LoadOrg(c.state, "h4"));
}

TEST(Governance, RemovedOrganisationIsRefusedFromThenOnButItsPastStands) {
  GovChain c;
  auto h1 = Key(1), h2 = Key(2), h3 = Key(3), h3_node = Key(13), h3_doc = Key(23);
  ASSERT_TRUE(c.RunOne(c.Tx(h3, tx::kIdentityRegister, {{"pubkey", h3_doc.id()}, {"roles", {"practitioner"}}})).ok());
  ASSERT_TRUE(c.Anchor(h3_doc, 1).ok());
  ASSERT_TRUE(c.ProposeRemove(h1, kP1, "h3").ok());
  // h3 still active until the threshold: its keys still work, and it may even
  // approve its own removal.
  ASSERT_TRUE(c.Anchor(h3_doc, 2).ok());
  EXPECT_TRUE(c.OrgActive("h3"));

  // In one block: h3's transaction before the removal stands, after it fails.
  auto before = c.Tx(h3_doc, tx::kAnchorPut, {{"hash", ToHex(crypto::Sha256("gov-doc3"))}});
  auto approve = c.Tx(h2, tx::kGovApprove, {{"proposal_id", kP1}});
  auto after = c.Tx(h3_doc, tx::kAnchorPut, {{"hash", ToHex(crypto::Sha256("gov-doc4"))}});
  auto v = c.Run({before, approve, after});
  EXPECT_TRUE(v[0].ok());
  EXPECT_TRUE(v[1].ok()) << v[1].detail;
  EXPECT_TRUE(Rejected(v[2], Reject::kRevokedKey, kOrgInactive));
  EXPECT_FALSE(c.OrgActive("h3"));

  EXPECT_TRUE(Rejected(c.Anchor(h3, 5), Reject::kRevokedKey, kOrgInactive));
  EXPECT_TRUE(Rejected(c.Anchor(h3_node, 6), Reject::kRevokedKey, kOrgInactive));
  EXPECT_TRUE(Rejected(c.ProposeAdd(h3, kP2, "h9", Key(30), {}), Reject::kRevokedKey, kOrgInactive));
  // The earlier transactions' effects stay in state.
  for (int i : {1, 2, 3}) EXPECT_TRUE(c.state.Get("anchor/" + ToHex(crypto::Sha256("gov-doc" + std::to_string(i)))));
  // Re-adding under the old id, or reusing its keys, is refused.
  EXPECT_TRUE(Rejected(c.ProposeAdd(h1, kP2, "h3", Key(30), {}), Reject::kConflict, "organisation 'h3' already exists"));
  EXPECT_TRUE(Rejected(c.ProposeAdd(h1, kP2, "h9", h3_node, {}), Reject::kConflict,
                       "key " + h3_node.id() + " is already registered"));
  // Removing again: conflict.
  EXPECT_TRUE(Rejected(c.ProposeRemove(h1, kP2, "h3"), Reject::kConflict, "organisation 'h3' was already removed"));
}

TEST(Governance, RemovalNeverLeavesFewerMembersThanTheThreshold) {
  GovChain c;
  auto h1 = Key(1), h2 = Key(2);
  ASSERT_TRUE(c.ProposeRemove(h1, kP1, "h3").ok());
  ASSERT_TRUE(c.Approve(h2, kP1).ok());
  ASSERT_FALSE(c.OrgActive("h3"));
  // Two remain, threshold 2: removing either would leave one.
  const std::string_view leaves_one = " would leave 1 active organisations, fewer than the governance threshold of 2";
  EXPECT_TRUE(Rejected(c.ProposeRemove(h1, kP2, "h2"), Reject::kConflict, "removing 'h2'" + std::string(leaves_one)));
  EXPECT_TRUE(Rejected(c.ProposeRemove(h1, kP2, "h1"), Reject::kConflict, "removing 'h1'" + std::string(leaves_one)));
  EXPECT_TRUE(Rejected(c.ProposeRemove(h1, kP2, "nope"), Reject::kNotFound, "organisation 'nope' does not exist"));
}

TEST(Governance, ExecutionRechecksTheRulesAgainstCurrentState) {
  GovChain c;
  auto h1 = Key(1), h2 = Key(2), h3 = Key(3);
  // Two removals proposed while three members are active; only the first
  // can execute.
  ASSERT_TRUE(c.ProposeRemove(h1, kP1, "h3").ok());
  ASSERT_TRUE(c.ProposeRemove(h1, kP2, "h2").ok());
  ASSERT_TRUE(c.Approve(h2, kP1).ok());
  // h3 is removed now: its key is refused.
  EXPECT_TRUE(Rejected(c.Approve(h3, kP2), Reject::kRevokedKey, kOrgInactive));
  // h2's approval would reach the threshold, but only h1 would remain.
  EXPECT_TRUE(Rejected(c.Approve(h2, kP2), Reject::kConflict,
                       "proposal cannot execute: removing 'h2' would leave 1 active organisations"));
  EXPECT_TRUE(c.OrgActive("h2"));
  // Two adds of the same key: the second cannot execute once the first did.
  auto shared = Key(30);
  ASSERT_TRUE(c.ProposeAdd(h1, kP3, "h4", shared, {}).ok());
  const std::string p4 = "00000000000000000000000000000004";
  ASSERT_TRUE(c.ProposeAdd(h1, p4, "h5", Key(31), {shared}).ok());
  ASSERT_TRUE(c.Approve(h2, kP3).ok());
  EXPECT_TRUE(Rejected(c.Approve(h2, p4), Reject::kConflict,
                       "proposal cannot execute: key " + shared.id() + " is already registered"));
  EXPECT_FALSE(LoadOrg(c.state, "h5"));
  EXPECT_EQ(LoadProposal(c.state, p4)->approvals.size(), 1u);  // the rejected approval left nothing
}

TEST(Governance, ApprovalsOfRemovedOrganisationsStopCounting) {
  GovChain c;
  auto h1 = Key(1), h2 = Key(2), h3 = Key(3);
  ASSERT_TRUE(c.ProposeAdd(h3, kP1, "h4", Key(30), {}).ok());  // h3 approves by proposing
  ASSERT_TRUE(c.ProposeRemove(h1, kP2, "h3").ok());
  ASSERT_TRUE(c.Approve(h2, kP2).ok());
  ASSERT_FALSE(c.OrgActive("h3"));
  // h3's approval no longer counts: h2 alone is one of two.
  ASSERT_TRUE(c.Approve(h2, kP1).ok());
  EXPECT_FALSE(LoadOrg(c.state, "h4"));
  ASSERT_TRUE(c.Approve(h1, kP1).ok());
  EXPECT_TRUE(c.OrgActive("h4"));
}

TEST(Governance, ExpiredProposalsCannotBeApproved) {
  GovChain c;
  auto h1 = Key(1), h2 = Key(2);
  ASSERT_TRUE(c.RunOne(c.Tx(h1, tx::kGovPropose,
                            {{"proposal_id", kP1},
                             {"action", "remove_member"},
                             {"org_id", "h3"},
                             {"expires_height", int64_t(c.height + 2)}}))
                  .ok());
  ASSERT_TRUE(c.Anchor(h1, 1).ok());
  ASSERT_TRUE(c.Anchor(h1, 2).ok());
  EXPECT_EQ(LoadProposal(c.state, kP1)->StatusAt(c.height + 1), "expired");
  EXPECT_TRUE(Rejected(c.Approve(h2, kP1), Reject::kConflict, "proposal expired at height "));
  EXPECT_TRUE(c.OrgActive("h3"));
}

TEST(Governance, EveryBadPayloadHasItsVerdict) {
  GovChain c;
  auto h1 = Key(1), h2 = Key(2);
  auto propose = [&](json p) { return c.RunOne(c.Tx(h1, tx::kGovPropose, p)); };
  json org = {{"id", "h4"}, {"name", "H4"}, {"admin", Key(30).id()}, {"nodes", json::array()}};
  auto bad = [&](json p, const char* what, std::string_view detail) {
    EXPECT_TRUE(Rejected(propose(p), Reject::kInvalidPayload, detail)) << what;
  };
  const std::string_view id_rule = "'proposal_id' must be 16..64 lower-case hex characters";
  bad({{"action", "add_member"}, {"org", org}}, "no proposal id", "payload field 'proposal_id' must be a string");
  bad({{"proposal_id", "abc"}, {"action", "add_member"}, {"org", org}}, "short id", id_rule);
  bad({{"proposal_id", "ABCDEF0123456789"}, {"action", "add_member"}, {"org", org}}, "upper-case id", id_rule);
  bad({{"proposal_id", "zzzzzzzzzzzzzzzz"}, {"action", "add_member"}, {"org", org}}, "non-hex id", id_rule);
  bad({{"proposal_id", std::string(66, 'a')}, {"action", "add_member"}, {"org", org}}, "long id",
      "payload field 'proposal_id' is empty or too long");
  bad({{"proposal_id", kP1}, {"action", "promote"}, {"org", org}}, "unknown action",
      "'action' must be add_member or remove_member");
  bad({{"proposal_id", kP1}, {"action", "add_member"}}, "no org", "add_member needs an 'org' object");
  bad({{"proposal_id", kP1}, {"action", "remove_member"}}, "no org_id", "payload field 'org_id' must be a string");
  auto with = [&](const char* field, json value) {
    json o = org;
    o[field] = value;
    return json{{"proposal_id", kP1}, {"action", "add_member"}, {"org", o}};
  };
  bad(with("id", "a/b"), "org id with a slash", "'org.id' must be 1..64 characters of A-Z a-z 0-9 - _ .");
  bad(with("id", ""), "empty org id", "payload field 'id' is empty or too long");
  bad(with("admin", "nothex"), "bad admin key", "payload field 'admin' is not a public id");
  bad(with("nodes", "x"), "nodes not an array", "'org.nodes' must be an array of public ids");
  bad(with("nodes", json::array({123})), "node not a string", "'org.nodes' must be an array of public ids");
  bad(with("nodes", json::array({Key(30).id()})), "admin listed as node", "a key is listed twice in 'org'");
  bad(with("nodes", json::array({Key(31).id(), Key(31).id()})), "node twice", "a key is listed twice in 'org'");
  bad({{"proposal_id", kP1}, {"action", "remove_member"}, {"org_id", "h3"}, {"expires_height", int64_t(c.height + 5000)}},
      "expiry too far", "'expires_height' must be between the current height and 1000 blocks ahead");
  bad({{"proposal_id", kP1}, {"action", "remove_member"}, {"org_id", "h3"}, {"expires_height", "soon"}},
      "expiry not an integer", "payload field 'expires_height' must be an integer");
  EXPECT_TRUE(Rejected(c.RunOne(c.Tx(h2, tx::kGovApprove, {{"proposal_id", "nope"}})), Reject::kInvalidPayload, id_rule));

  // State conflicts and missing things.
  EXPECT_TRUE(Rejected(propose(with("id", "h1")), Reject::kConflict, "organisation 'h1' already exists"));
  EXPECT_TRUE(Rejected(propose(with("admin", Key(2).id())), Reject::kConflict,
                       "key " + Key(2).id() + " is already registered"));
  EXPECT_TRUE(Rejected(propose(with("nodes", json::array({Key(12).id()}))), Reject::kConflict,
                       "key " + Key(12).id() + " is already registered"));
  EXPECT_TRUE(Rejected(c.Approve(h2, kP1), Reject::kNotFound, "no proposal " + kP1));
  ASSERT_TRUE(propose(with("nodes", json::array({Key(31).id()}))).ok());
  EXPECT_TRUE(Rejected(c.ProposeRemove(h2, kP1, "h3"), Reject::kConflict, "proposal id is already used"));
  EXPECT_EQ(c.state.Get(std::string(kProposalPrefix) + kP1).has_value(), true);
}

TEST(Governance, ThresholdOneExecutesInTheProposingTransaction) {
  // The development chain: one organisation, threshold 1.
  auto admin = Key(1), node = Key(2);
  auto g = BuildGenesis(DevGenesisDoc("gov-chain", admin.public_key(), node.public_key(), 1000));
  ASSERT_TRUE(g.ok());
  MemState st;
  st.Apply(g->writes);
  auto exec = Executor::Core();
  exec->AddModule(std::make_unique<GovernanceModule>());
  auto t = model::MakeTransaction("gov-chain", admin, tx::kGovPropose,
                                  {{"proposal_id", kP1},
                                   {"action", "add_member"},
                                   {"org", {{"id", "lab"}, {"name", "Lab"}, {"admin", Key(30).id()}}}},
                                  1, 100);
  ReplayGuard replay(1000);
  // The only organisation can never be removed.
  auto solo = model::MakeTransaction("gov-chain", admin, tx::kGovPropose,
                                     {{"proposal_id", kP3}, {"action", "remove_member"}, {"org_id", "dev"}}, 9, 100);
  EXPECT_TRUE(Rejected(exec->Check(st, 1, 2000, *solo, solo->Id(), replay), Reject::kConflict,
                       "removing 'dev' would leave 0 active organisations"));
  auto out = exec->Execute(st, g->block.header.state_root, 1, 2000, {*t}, {t->Id()}, {1}, replay);
  ASSERT_TRUE(out.verdicts[0].ok()) << out.verdicts[0].detail;
  st.Apply(out.writes);
  EXPECT_TRUE(LoadOrg(st, "lab"));
  auto r = model::MakeTransaction("gov-chain", admin, tx::kGovPropose,
                                  {{"proposal_id", kP2}, {"action", "remove_member"}, {"org_id", "dev"}}, 2, 100);
  auto out2 = exec->Execute(st, out.state_root, 2, 3000, {*r}, {r->Id()}, {1}, replay);
  // Two active organisations, threshold 1: removing "dev" leaves one, allowed;
  // removing the last one afterwards is not.
  ASSERT_TRUE(out2.verdicts[0].ok()) << out2.verdicts[0].detail;
  st.Apply(out2.writes);
  auto lab_admin = Key(30);
  auto r2 = model::MakeTransaction("gov-chain", lab_admin, tx::kGovPropose,
                                   {{"proposal_id", kP3}, {"action", "remove_member"}, {"org_id", "lab"}}, 3, 100);
  auto out3 = exec->Execute(st, out2.state_root, 3, 4000, {*r2}, {r2->Id()}, {1}, replay);
  EXPECT_TRUE(Rejected(out3.verdicts[0], Reject::kConflict, "removing 'lab' would leave 0 active organisations"));
}

TEST(Governance, ListsProposalsAndOrganisations) {
  GovChain c;
  ASSERT_TRUE(c.ProposeAdd(Key(1), kP2, "h4", Key(30), {}).ok());
  ASSERT_TRUE(c.ProposeRemove(Key(2), kP1, "h3").ok());
  ASSERT_TRUE(c.Approve(Key(3), kP1).ok());
  auto ps = ListProposals(c.state);
  ASSERT_EQ(ps.size(), 2u);
  EXPECT_EQ(ps[0].id, kP1);
  EXPECT_EQ(ps[0].action, "remove_member");
  EXPECT_TRUE(ps[0].executed);
  EXPECT_EQ(ps[0].approvals, (std::vector<std::string>{"h2", "h3"}));
  EXPECT_EQ(ps[1].org.at("name"), "New h4");
  EXPECT_EQ(ps[1].proposer, Key(1).id());
  auto orgs = ListOrgs(c.state);
  ASSERT_EQ(orgs.size(), 3u);
  EXPECT_EQ(orgs[0].id, "h1");
  EXPECT_TRUE(orgs[0].active);
  EXPECT_EQ(orgs[2].id, "h3");
  EXPECT_FALSE(orgs[2].active);
  auto round = ProposalInfo::FromJson(ps[1].ToJson());
  ASSERT_TRUE(round);
  EXPECT_EQ(round->ToJson(), ps[1].ToJson());
}

// Determinism guard: a fixed governance scenario must always reach the same
// state root. If this changes, consensus changed: every node must upgrade
// together, and existing chains no longer replay.
TEST(Governance, DeterminismGuard) {
  GovChain c;
  ASSERT_TRUE(c.ProposeAdd(Key(1), kP1, "h4", Key(30), {Key(31)}).ok());
  ASSERT_TRUE(c.Approve(Key(2), kP1).ok());
  ASSERT_TRUE(c.ProposeRemove(Key(30), kP2, "h3").ok());
  ASSERT_TRUE(c.Approve(Key(3), kP2).ok());
  EXPECT_TRUE(Rejected(c.Approve(Key(3), kP2), Reject::kRevokedKey, kOrgInactive));
  EXPECT_TRUE(Rejected(c.Approve(Key(1), kP2), Reject::kConflict, kAlreadyExecuted));
  EXPECT_EQ(ToHex(c.root), "707f2255a5ee30b8b28d602884264c88b043e483203d01ba364e34eaf81e6022");
}

}  // namespace
}  // namespace medledger::state
