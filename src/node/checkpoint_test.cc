// Checkpoint majority verification (checkpoint.h): what counts, what does
// not, and that a missing majority is reported with the count.
#include "node/checkpoint.h"

#include <gtest/gtest.h>

#include "model/tx_types.h"
#include "state/identity_record.h"
#include "state/module.h"

namespace medledger::node {
namespace {

constexpr char kChain[] = "cp-test";

crypto::KeyPair Key(uint8_t fill) {
  std::array<uint8_t, 32> seed;
  seed.fill(fill);
  return crypto::KeyPair::FromSeed(seed);
}

Hash32 Fill(uint8_t b) {
  Hash32 h;
  h.fill(b);
  return h;
}

RootReport Report(const crypto::KeyPair& k, uint64_t height, const Hash32& block, const Hash32& root) {
  RootReport r;
  r.height = height;
  r.block_hash = block;
  r.state_root = root;
  r.time_ms = 1234;
  r.Sign(kChain, k);
  return r;
}

class CheckpointTest : public ::testing::Test {
 protected:
  // Five node keys (fills 1..5) are the electorate; 9 is a stranger.
  std::vector<std::string> Electorate() const {
    std::vector<std::string> ids;
    for (uint8_t i = 1; i <= 5; ++i) ids.push_back(Key(i).id());
    return ids;
  }
  Hash32 block_ = Fill(0xb1), root_ = Fill(0x51);
};

TEST_F(CheckpointTest, StrictMajorityOfTheElectorateMakesACheckpoint) {
  std::vector<RootReport> reps;
  for (uint8_t i = 1; i <= 3; ++i) reps.push_back(Report(Key(i), 100, block_, root_));
  auto c = VerifyCheckpoint(kChain, 100, reps, Electorate());
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->height, 100u);
  EXPECT_EQ(c->block_hash, block_);
  EXPECT_EQ(c->state_root, root_);
  EXPECT_EQ(c->signers.size(), 3u);
  EXPECT_EQ(c->electorate, 5u);
}

TEST_F(CheckpointTest, TooFewSignersIsNotACheckpoint) {
  std::vector<RootReport> reps;
  for (uint8_t i = 1; i <= 2; ++i) reps.push_back(Report(Key(i), 100, block_, root_));
  auto c = VerifyCheckpoint(kChain, 100, reps, Electorate());
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(c.status().message().find("2 of 5"), std::string::npos) << c.status().message();
  EXPECT_NE(c.status().message().find("needs 3"), std::string::npos) << c.status().message();
  // Half is not a majority either.
  std::vector<std::string> all = Electorate();
  std::vector<std::string> four(all.begin(), all.begin() + 4);
  EXPECT_FALSE(VerifyCheckpoint(kChain, 100, reps, four).ok());
}

TEST_F(CheckpointTest, NonMemberSignersDoNotCount) {
  std::vector<RootReport> reps = {Report(Key(1), 100, block_, root_), Report(Key(2), 100, block_, root_),
                                  Report(Key(9), 100, block_, root_)};
  std::vector<std::string> ignored;
  auto c = VerifyCheckpoint(kChain, 100, reps, Electorate(), &ignored);
  ASSERT_FALSE(c.ok());
  ASSERT_EQ(ignored.size(), 1u);
  EXPECT_NE(ignored[0].find("not an active node key"), std::string::npos) << ignored[0];
  // A key removed from the electorate (its org removed, the key revoked)
  // no longer counts either.
  reps[2] = Report(Key(3), 100, block_, root_);
  std::vector<std::string> without3 = {Key(1).id(), Key(2).id(), Key(4).id(), Key(5).id()};
  EXPECT_FALSE(VerifyCheckpoint(kChain, 100, reps, without3).ok());
  EXPECT_TRUE(VerifyCheckpoint(kChain, 100, reps, Electorate()).ok());
}

TEST_F(CheckpointTest, DuplicateSignerCountsOnce) {
  std::vector<RootReport> reps = {Report(Key(1), 100, block_, root_), Report(Key(2), 100, block_, root_)};
  RootReport again = Report(Key(2), 100, block_, root_);
  again.time_ms = 999;  // a second, distinct, valid report by the same key
  again.Sign(kChain, Key(2));
  reps.push_back(again);
  std::vector<std::string> ignored;
  auto c = VerifyCheckpoint(kChain, 100, reps, Electorate(), &ignored);
  ASSERT_FALSE(c.ok());
  ASSERT_EQ(ignored.size(), 1u);
  EXPECT_NE(ignored[0].find("same key"), std::string::npos) << ignored[0];
}

TEST_F(CheckpointTest, WrongHashIsAForgeryOrADifferentVote) {
  // A report whose hash was changed after signing: the signature fails.
  std::vector<RootReport> reps = {Report(Key(1), 100, block_, root_), Report(Key(2), 100, block_, root_)};
  RootReport forged = Report(Key(3), 100, block_, root_);
  forged.block_hash = Fill(0xee);
  reps.push_back(forged);
  std::vector<std::string> ignored;
  EXPECT_FALSE(VerifyCheckpoint(kChain, 100, reps, Electorate(), &ignored).ok());
  ASSERT_EQ(ignored.size(), 1u);
  EXPECT_NE(ignored[0].find("signature"), std::string::npos);
  // Validly signed but for another block: a different vote, which does not
  // add to the first. 2 + 2 of 5: no majority for either block.
  reps.pop_back();
  reps.push_back(Report(Key(3), 100, Fill(0xee), root_));
  reps.push_back(Report(Key(4), 100, Fill(0xee), root_));
  auto c = VerifyCheckpoint(kChain, 100, reps, Electorate());
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("disagree"), std::string::npos) << c.status().message();
  // A different state root for the same block is a different vote too.
  reps = {Report(Key(1), 100, block_, root_), Report(Key(2), 100, block_, root_),
          Report(Key(3), 100, block_, Fill(0x99))};
  EXPECT_FALSE(VerifyCheckpoint(kChain, 100, reps, Electorate()).ok());
  // Signed for another chain or another height: does not count.
  RootReport other = Report(Key(3), 100, block_, root_);
  other.Sign("another-chain", Key(3));
  reps[2] = other;
  EXPECT_FALSE(VerifyCheckpoint(kChain, 100, reps, Electorate()).ok());
  reps[2] = Report(Key(3), 101, block_, root_);
  EXPECT_FALSE(VerifyCheckpoint(kChain, 100, reps, Electorate()).ok());
}

TEST_F(CheckpointTest, EmptyElectorateVerifiesNothing) {
  std::vector<RootReport> reps = {Report(Key(1), 100, block_, root_)};
  EXPECT_FALSE(VerifyCheckpoint(kChain, 100, reps, {}).ok());
}

TEST_F(CheckpointTest, ReportJsonRoundTripsAndKeysParse) {
  RootReport r = Report(Key(1), 42, block_, root_);
  auto back = RootReport::FromJson(r.ToJson());
  ASSERT_TRUE(back.ok());
  EXPECT_TRUE(back->SignatureValid(kChain));
  EXPECT_EQ(back->block_hash, block_);
  EXPECT_FALSE(RootReport::FromJson("{}").ok());
  std::string key = EtcdCheckpointKey(kChain, 42, Key(1).id());
  auto k = ParseCheckpointKey(key, EtcdCheckpointPrefix(kChain));
  ASSERT_TRUE(k.has_value());
  EXPECT_EQ(k->first, 42u);
  EXPECT_EQ(k->second, Key(1).id());
  EXPECT_FALSE(ParseCheckpointKey(EtcdCheckpointPrefix(kChain) + "42/x", EtcdCheckpointPrefix(kChain)));
  // Heights sort as keys do: the height prefix orders checkpoints.
  EXPECT_LT(EtcdCheckpointHeightPrefix(kChain, 99), EtcdCheckpointHeightPrefix(kChain, 100));
}

TEST_F(CheckpointTest, ActiveNodeIdsFollowsKeysAndOrganisations) {
  state::MemState st;
  state::Overlay o(&st);
  auto node = [&](const crypto::KeyPair& k, const std::string& org, state::KeyStatus status, uint32_t roles) {
    state::IdentityRecord rec;
    rec.key = k.public_key();
    rec.org = org;
    rec.roles = roles;
    rec.status = status;
    state::StoreIdentity(o, rec);
  };
  state::OrgRecord a{"a", "A", true, 0}, b{"b", "B", false, 0};
  state::StoreOrg(o, a);
  state::StoreOrg(o, b);
  node(Key(1), "a", state::KeyStatus::kActive, model::kRoleNode);
  node(Key(2), "a", state::KeyStatus::kRevoked, model::kRoleNode);
  node(Key(3), "b", state::KeyStatus::kActive, model::kRoleNode);  // org removed
  node(Key(4), "a", state::KeyStatus::kActive, model::kRolePractitioner);
  st.Apply(o.TakeWrites());
  auto ids = ActiveNodeIds(st);
  ASSERT_EQ(ids.size(), 1u);
  EXPECT_EQ(ids[0], Key(1).id());
}

}  // namespace
}  // namespace medledger::node
