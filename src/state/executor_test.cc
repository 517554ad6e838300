#include <gtest/gtest.h>

#include <cctype>

#include "crypto/sha256.h"
#include "model/tx_json.h"
#include "model/tx_types.h"
#include "model/value.h"
#include "state/executor.h"
#include "state/genesis.h"
#include "state/identity.h"
#include "testing/test_chain.h"

namespace medledger::state {
namespace {

using model::Reject;
using nlohmann::json;
namespace tx = model::tx;

using medledger::testing::Key;
// The development chain: one organisation "dev" whose admin (admin_a) holds
// every role (testing/test_chain.h).
using medledger::testing::TestChain;

json Anchor(int i) { return {{"hash", ToHex(crypto::Sha256("doc" + std::to_string(i)))}, {"tag", "t"}}; }

TEST(Executor, AcceptsAndAppliesRegistration) {
  TestChain c(TestChain::Dev());
  auto alice = Key(10);
  EXPECT_TRUE(c.RunOne(c.RegisterTx(alice, {"practitioner"})).ok());
  auto rec = LoadIdentity(c.state, alice.public_key());
  ASSERT_TRUE(rec);
  EXPECT_EQ(rec->roles, uint32_t(model::kRolePractitioner));
  EXPECT_EQ(rec->org, "dev");
  EXPECT_TRUE(c.RunOne(c.Tx(alice, tx::kAnchorPut, Anchor(1))).ok());
}

TEST(Executor, AnchorRecordIsTheCanonicalDocument) {
  TestChain c(TestChain::Dev());
  auto alice = Key(10);
  EXPECT_TRUE(c.RunOne(c.RegisterTx(alice, {"practitioner"})).ok());
  auto t = c.Tx(alice, tx::kAnchorPut, Anchor(1));
  ASSERT_TRUE(c.RunOne(t).ok());
  auto stored = c.state.Get("anchor/" + ToHex(crypto::Sha256("doc1")));
  ASSERT_TRUE(stored);
  // The module writes these bytes directly; they must stay those of the
  // json document, which older chains hold and the state root commits to.
  json doc{{"tx", ToHex(t.Id())}, {"height", int64_t(c.height)}, {"signer", alice.id()}, {"tag", "t"}};
  EXPECT_EQ(*stored, EncodeState(doc));
}

// The anchor module's fast path on canonical bytes must give the verdict and
// the writes of its json path for every payload it takes, and decline the rest.
TEST(Executor, AnchorFastPathMatchesJsonPath) {
  AnchorModule m;
  MemState base;
  std::string h = ToHex(crypto::Sha256("x"));
  std::string upper = h;
  for (auto& ch : upper) ch = char(std::toupper(static_cast<unsigned char>(ch)));
  base.Apply(WriteSet{{"anchor/" + ToHex(crypto::Sha256("taken")), model::EncodeValue(json{{"x", 1}}).value()}});
  auto signer_key = Key(30);
  IdentityRecord signer;
  ChainParams params;
  struct Case {
    json payload;
    bool fast;  // the fast path takes it
  };
  std::vector<Case> cases = {
      {{{"hash", h}}, true},
      {{{"hash", h}, {"tag", "t"}}, true},
      {{{"hash", upper}, {"tag", ""}}, true},
      {{{"hash", h}, {"tag", std::string(128, 'a')}}, true},
      {{{"hash", ToHex(crypto::Sha256("taken"))}}, true},  // conflict
      {{{"hash", h}, {"tag", std::string(129, 'a')}}, false},
      {{{"hash", h}, {"tag", nullptr}}, false},
      {{{"hash", h}, {"note", "x"}}, false},
      {{{"hash", h.substr(1)}}, false},
      {{{"hash", "zz" + h.substr(2)}}, false},
      {{{"hash", 5}}, false},
      {{{"tag", "t"}}, false},
      {{{"hash", h}, {"tag", "t"}, {"z", "y"}}, false},
  };
  for (const auto& c : cases) {
    auto tx = model::MakeTransaction("test-chain", signer_key, tx::kAnchorPut, c.payload, 1, 10);
    ASSERT_TRUE(tx.ok());
    Overlay fast_state(&base), slow_state(&base);
    static const json kNone;
    TxContext fast_ctx{5, 1000, *tx, tx->Id(), signer, params, kNone, fast_state};
    auto fast = m.ApplyCanonical(fast_ctx);
    EXPECT_EQ(fast.has_value(), c.fast) << c.payload.dump();
    EXPECT_EQ(fast_state.empty(), !fast || !fast->ok()) << c.payload.dump();
    if (!fast) continue;
    TxContext slow_ctx{5, 1000, *tx, tx->Id(), signer, params, c.payload, slow_state};
    auto slow = m.Apply(slow_ctx);
    EXPECT_EQ(fast->reason, slow.reason) << c.payload.dump();
    EXPECT_EQ(fast->detail, slow.detail) << c.payload.dump();
    EXPECT_EQ(fast_state.TakeWrites(), slow_state.TakeWrites()) << c.payload.dump();
  }
}

TEST(Executor, EveryRejectionPathHasItsCode) {
  TestChain c(TestChain::Dev());
  auto alice = Key(10), stranger = Key(11);
  ASSERT_TRUE(c.RunOne(c.RegisterTx(alice, {"patient"})).ok());

  // unknown type
  auto t = c.Tx(alice, 999, Anchor(1));
  EXPECT_EQ(c.RunOne(t).reason, Reject::kUnknownType);
  // bad signature
  t = c.Tx(alice, tx::kAnchorPut, Anchor(2));
  t.signature[0] ^= 1;
  EXPECT_EQ(c.RunOne(t).reason, Reject::kBadSignature);
  // wrong chain
  auto w = model::MakeTransaction("other-chain", alice, tx::kAnchorPut, Anchor(3), 1, 100);
  EXPECT_EQ(c.RunOne(*w).reason, Reject::kWrongChain);
  // replayed: same tx twice, in a later block and within one block
  t = c.Tx(alice, tx::kAnchorPut, Anchor(4));
  EXPECT_TRUE(c.RunOne(t).ok());
  EXPECT_EQ(c.RunOne(t).reason, Reject::kReplayed);
  auto t2 = c.Tx(alice, tx::kAnchorPut, Anchor(5));
  auto v = c.Run({t2, t2});
  EXPECT_TRUE(v[0].ok());
  EXPECT_EQ(v[1].reason, Reject::kReplayed);
  // expired, and expiry too far ahead
  t = c.Tx(alice, tx::kAnchorPut, Anchor(6), /*expiry=*/1);
  EXPECT_EQ(c.RunOne(t).reason, Reject::kExpired);
  t = c.Tx(alice, tx::kAnchorPut, Anchor(7), /*expiry=*/c.height + 20000);
  EXPECT_EQ(c.RunOne(t).reason, Reject::kExpired);
  // unknown signer
  EXPECT_EQ(c.RunOne(c.Tx(stranger, tx::kAnchorPut, Anchor(8))).reason, Reject::kUnknownSigner);
  // role not permitted: a patient cannot register identities
  EXPECT_EQ(c.RunOne(c.Tx(alice, tx::kIdentityRegister, {{"pubkey", stranger.id()}, {"roles", {"patient"}}})).reason,
            Reject::kRoleNotPermitted);
  // malformed/invalid payload
  EXPECT_EQ(c.RunOne(c.Tx(alice, tx::kAnchorPut, {{"hash", "nothex"}})).reason, Reject::kInvalidPayload);
  t = c.Tx(alice, tx::kAnchorPut, Anchor(9));
  t.payload = {0x09};
  t.Sign(alice);
  EXPECT_EQ(c.RunOne(t).reason, Reject::kMalformed);
  // conflict
  EXPECT_EQ(c.RunOne(c.Tx(alice, tx::kAnchorPut, Anchor(4))).reason, Reject::kConflict);
  // revoked key
  ASSERT_TRUE(c.RunOne(c.Tx(c.admin_a, tx::kIdentityRevoke, {{"pubkey", alice.id()}})).ok());
  EXPECT_EQ(c.RunOne(c.Tx(alice, tx::kAnchorPut, Anchor(10))).reason, Reject::kRevokedKey);
}

TEST(Executor, RejectedTransactionLeavesNoWrites) {
  TestChain c(TestChain::Dev());
  auto alice = Key(10);
  ASSERT_TRUE(c.RunOne(c.RegisterTx(alice, {"patient"})).ok());
  MemState before = c.state;
  // rotate to a key that is already registered: rejected after nothing
  // should have been written.
  auto v = c.RunOne(c.Tx(alice, tx::kIdentityRotate, {{"new_pubkey", c.admin_a.id()}}));
  EXPECT_EQ(v.reason, Reject::kConflict);
  EXPECT_EQ(LoadIdentity(c.state, alice.public_key())->status, KeyStatus::kActive);
}

TEST(Executor, RevocationKeepsEarlierTransactionsValid) {
  TestChain c(TestChain::Dev());
  auto alice = Key(10);
  ASSERT_TRUE(c.RunOne(c.RegisterTx(alice, {"practitioner"})).ok());
  auto early = c.Tx(alice, tx::kAnchorPut, Anchor(1));
  auto revoke = c.Tx(c.admin_a, tx::kIdentityRevoke, {{"pubkey", alice.id()}});
  auto late = c.Tx(alice, tx::kAnchorPut, Anchor(2));
  auto v = c.Run({early, revoke, late});
  EXPECT_TRUE(v[0].ok());
  EXPECT_TRUE(v[1].ok());
  // Within the same block the revocation takes effect from this height.
  EXPECT_EQ(v[2].reason, Reject::kRevokedKey);
  EXPECT_TRUE(c.state.Get("anchor/" + ToHex(crypto::Sha256("doc1"))).has_value());
}

TEST(Executor, RotationMovesRolesToTheNewKey) {
  TestChain c(TestChain::Dev());
  auto alice = Key(10), alice2 = Key(12);
  ASSERT_TRUE(c.RunOne(c.RegisterTx(alice, {"practitioner"})).ok());
  ASSERT_TRUE(c.RunOne(c.Tx(alice, tx::kIdentityRotate, {{"new_pubkey", alice2.id()}})).ok());
  EXPECT_EQ(c.RunOne(c.Tx(alice, tx::kAnchorPut, Anchor(1))).reason, Reject::kRevokedKey);
  EXPECT_TRUE(c.RunOne(c.Tx(alice2, tx::kAnchorPut, Anchor(2))).ok());
  auto rec = LoadIdentity(c.state, alice2.public_key());
  EXPECT_EQ(rec->roles, uint32_t(model::kRolePractitioner));
  EXPECT_EQ(LoadIdentity(c.state, alice.public_key())->successor, alice2.id());
}

TEST(Executor, MemberRoleNeedsGovernance) {
  TestChain c(TestChain::Dev());
  // The dev admin holds every role, including member, so it may grant it;
  // an org admin without member may not.
  auto sub = Key(13), other = Key(14);
  ASSERT_TRUE(c.RunOne(c.RegisterTx(sub, {"org_admin"})).ok());
  EXPECT_EQ(c.RunOne(c.Tx(sub, tx::kIdentityRegister, {{"pubkey", other.id()}, {"roles", {"member"}}, {"org", "dev"}})).reason,
            Reject::kRoleNotPermitted);
  EXPECT_TRUE(c.RunOne(c.Tx(sub, tx::kIdentityRegister, {{"pubkey", other.id()}, {"roles", {"auditor"}}, {"org", "dev"}})).ok());
  EXPECT_EQ(c.RunOne(c.Tx(sub, tx::kIdentityRegister, {{"pubkey", Key(15).id()}, {"roles", {"auditor"}}, {"org", "elsewhere"}})).reason,
            Reject::kRoleNotPermitted);
}

TEST(Executor, CheckMatchesExecutionWithoutWriting) {
  TestChain c(TestChain::Dev());
  auto alice = Key(10);
  auto reg = c.RegisterTx(alice, {"patient"});
  EXPECT_TRUE(c.exec->Check(c.state, c.height + 1, 0, reg, reg.Id(), c.replay).ok());
  EXPECT_FALSE(LoadIdentity(c.state, alice.public_key()));
  ASSERT_TRUE(c.RunOne(reg).ok());
  EXPECT_EQ(c.exec->Check(c.state, c.height + 1, 0, reg, reg.Id(), c.replay).reason, Reject::kReplayed);
}

// Determinism guard: a fixed chain must always reach this state root. If a
// dependency upgrade (JSON library, hashing, encoding) changes it, consensus
// changed: investigate before updating the constant.
TEST(Executor, DeterminismGuard) {
  TestChain c(TestChain::Dev());
  EXPECT_EQ(ToHex(c.root), "f0c0a96f31452b70afe853f39f93bdc1a16be248ec31a73bf3498a375a8330aa");
  auto a = Key(20), b = Key(21), b2 = Key(22);
  c.Run({c.RegisterTx(a, {"practitioner"}), c.RegisterTx(b, {"patient", "auditor"})});
  c.Run({c.Tx(a, tx::kAnchorPut, Anchor(1)), c.Tx(b, tx::kAnchorPut, Anchor(1)),
         c.Tx(b, tx::kIdentityRotate, {{"new_pubkey", b2.id()}})});
  c.Run({c.Tx(c.admin_a, tx::kIdentityRevoke, {{"pubkey", a.id()}}), c.Tx(a, tx::kAnchorPut, Anchor(2))});
  EXPECT_EQ(ToHex(c.root), "0b7fa96a96c1ec570615e9fda3d21c62327bb6bbaacf98cc3bfd8e361529d127");
}

TEST(Overlay, ScanMergesWritesAndDeletesInOrder) {
  MemState base;
  base.Apply({{"a/1", Bytes{1}}, {"a/3", Bytes{3}}, {"a/5", Bytes{5}}, {"b/1", Bytes{9}}});
  Overlay o(&base);
  o.Put("a/2", Bytes{2});
  o.Delete("a/3");
  o.Put("a/6", Bytes{6});
  o.Put("a/5", Bytes{55});
  std::vector<std::string> keys;
  std::vector<int> vals;
  o.Scan("a/", [&](std::string_view k, const Bytes& v) {
    keys.emplace_back(k);
    vals.push_back(v[0]);
    return true;
  });
  EXPECT_EQ(keys, (std::vector<std::string>{"a/1", "a/2", "a/5", "a/6"}));
  EXPECT_EQ(vals, (std::vector<int>{1, 2, 55, 6}));
  int n = 0;
  o.Scan("a/", [&](std::string_view, const Bytes&) { return ++n < 2; });
  EXPECT_EQ(n, 2);
}

TEST(ReplayGuard, ForgetsBlocksOutsideTheWindow) {
  ReplayGuard g(2);
  Hash32 a = crypto::Sha256("a"), b = crypto::Sha256("b");
  g.AddBlock(1, {a});
  g.AddBlock(2, {b});
  g.AddBlock(3, {});
  EXPECT_TRUE(g.Contains(a));
  g.AddBlock(4, {});
  EXPECT_FALSE(g.Contains(a));
  EXPECT_TRUE(g.Contains(b));
}

TEST(Genesis, RejectsBadDocuments) {
  auto k = Key(1);
  EXPECT_FALSE(BuildGenesis(json::array()).ok());
  EXPECT_FALSE(BuildGenesis({{"chain_id", "x"}}).ok());
  json d = DevGenesisDoc("x", k.public_key(), Key(2).public_key(), 0);
  d["governance_threshold"] = 3;
  EXPECT_FALSE(BuildGenesis(d).ok());
  d = DevGenesisDoc("x", k.public_key(), k.public_key(), 0);  // admin == node key
  EXPECT_FALSE(BuildGenesis(d).ok());
  d = DevGenesisDoc("x", k.public_key(), Key(2).public_key(), 0);
  d["organisations"][0]["admin"] = "zz";
  EXPECT_FALSE(BuildGenesis(d).ok());
  d = DevGenesisDoc("x", k.public_key(), Key(2).public_key(), 0);
  auto g1 = BuildGenesis(d), g2 = BuildGenesis(json::parse(d.dump()));
  ASSERT_TRUE(g1.ok() && g2.ok());
  EXPECT_EQ(g1->block.header.Hash(), g2->block.header.Hash());
}

// Signer records carried from block to block give the same verdicts and
// roots as records decoded afresh in every block, across a registration, a
// role change by rotation, a revocation and a deactivated organisation's
// members: each write to identity or organisation state drops the cache.
TEST(Executor, SignerRecordsCarriedAcrossBlocksMatchFreshOnes) {
  TestChain fresh(TestChain::Dev()), carried(TestChain::Dev());
  Executor::SignerCache cache;
  carried.carried = &cache;
  auto alice = Key(10), bob = Key(11), bob2 = Key(12);
  auto both = [&](auto make) {
    auto a = fresh.Run(make(fresh));
    auto b = carried.Run(make(carried));
    EXPECT_EQ(a.size(), b.size());
    for (size_t i = 0; i < a.size() && i < b.size(); ++i)
      EXPECT_EQ(a[i].reason, b[i].reason) << "block " << fresh.height << " tx " << i;
    EXPECT_EQ(fresh.root, carried.root) << "block " << fresh.height;
    return b;
  };
  int n = 0;
  both([&](TestChain& c) { return std::vector{c.RegisterTx(alice, {"patient"}), c.RegisterTx(bob, {"patient"})}; });
  both([&](TestChain& c) { return std::vector{c.Tx(alice, tx::kAnchorPut, Anchor(n)), c.Tx(bob, tx::kAnchorPut, Anchor(n + 1))}; });
  n += 2;
  both([&](TestChain& c) { return std::vector{c.Tx(alice, tx::kAnchorPut, Anchor(n))}; });
  n += 1;
  // Revoked in one block, refused in the next.
  both([&](TestChain& c) { return std::vector{c.Tx(c.admin_a, tx::kIdentityRevoke, {{"pubkey", alice.id()}})}; });
  auto after_revoke = both([&](TestChain& c) { return std::vector{c.Tx(alice, tx::kAnchorPut, Anchor(n)), c.Tx(bob, tx::kAnchorPut, Anchor(n + 1))}; });
  ASSERT_EQ(after_revoke.size(), 2u);
  EXPECT_EQ(after_revoke[0].reason, Reject::kRevokedKey);
  EXPECT_TRUE(after_revoke[1].ok());
  n += 2;
  // Rotated within a block: the old key is refused after the rotation.
  both([&](TestChain& c) {
    return std::vector{c.Tx(bob, tx::kAnchorPut, Anchor(n)),
                       c.Tx(bob, tx::kIdentityRotate, {{"new_pubkey", bob2.id()}}),
                       c.Tx(bob, tx::kAnchorPut, Anchor(n + 1))};
  });
  n += 2;
  both([&](TestChain& c) { return std::vector{c.Tx(bob, tx::kAnchorPut, Anchor(n)), c.Tx(bob2, tx::kAnchorPut, Anchor(n + 1))}; });
}

}  // namespace
}  // namespace medledger::state
