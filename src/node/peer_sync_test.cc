// Peer catch-up (peer_sync.h): a segment is accepted only if it links by
// hash from the checkpoint down to the node's head; a peer that withholds,
// reorders or alters a block is named with the height, and the next peer
// finishes the job.
#include "node/peer_sync.h"

#include <gtest/gtest.h>

#include <map>

namespace medledger::node {
namespace {

crypto::KeyPair Proposer() {
  std::array<uint8_t, 32> seed;
  seed.fill(7);
  return crypto::KeyPair::FromSeed(seed);
}

// Blocks 1..n on a head block 0 whose hash is `head`; each holds no
// transaction but is sealed and signed like any block.
std::vector<model::Block> MakeChain(const Hash32& head, uint64_t n) {
  std::vector<model::Block> out;
  Hash32 prev = head;
  for (uint64_t h = 1; h <= n; ++h) {
    model::Block b;
    b.header.height = h;
    b.header.prev_hash = prev;
    b.header.timestamp_ms = 1000 + h;
    b.header.state_root.fill(uint8_t(h));
    b.Seal();
    b.Sign(Proposer());
    prev = b.header.Hash();
    out.push_back(std::move(b));
  }
  return out;
}

// A peer serving a fixed map of heights to bytes; a missing height is
// withheld (kNotFound, as a peer's 404).
class FakePeers : public PeerBlockSource {
 public:
  struct Peer {
    PeerRef ref;
    std::map<uint64_t, Bytes> blocks;
    bool down = false;
  };
  std::vector<Peer> peers;
  std::vector<std::string> asked;  // "<peer>:<height>"

  Peer& Add(const std::string& id, const std::vector<model::Block>& chain) {
    Peer p;
    p.ref = {id, "http://" + id};
    for (const auto& b : chain) p.blocks[b.header.height] = b.Encode();
    peers.push_back(std::move(p));
    return peers.back();
  }
  Result<std::vector<PeerRef>> Peers() override {
    std::vector<PeerRef> out;
    for (const auto& p : peers) out.push_back(p.ref);
    return out;
  }
  Result<Bytes> FetchBlock(const PeerRef& ref, uint64_t height) override {
    asked.push_back(ref.node_id + ":" + std::to_string(height));
    for (const auto& p : peers) {
      if (p.ref.node_id != ref.node_id) continue;
      if (p.down) return Unavailable("connection refused");
      auto it = p.blocks.find(height);
      if (it == p.blocks.end()) return NotFound("no block");
      return it->second;
    }
    return Unavailable("unknown peer");
  }
};

class PeerSyncTest : public ::testing::Test {
 protected:
  void SetUp() override {
    head_.fill(0xaa);
    chain_ = MakeChain(head_, 10);
  }
  // Head at block 0 (hash head_), checkpoint at `height`.
  SegmentTarget Target(uint64_t height) const {
    return {0, head_, height, chain_[height - 1].header.Hash()};
  }
  std::vector<model::Block> Upto(uint64_t h) const { return {chain_.begin(), chain_.begin() + h}; }
  Hash32 head_;
  std::vector<model::Block> chain_;
};

TEST_F(PeerSyncTest, HonestSegmentChecksOut) {
  EXPECT_TRUE(CheckSegment(Target(10), chain_).ok());
  EXPECT_TRUE(CheckSegment(Target(4), Upto(4)).ok());
  // From a head in the middle.
  SegmentTarget mid{3, chain_[2].header.Hash(), 10, chain_[9].header.Hash()};
  EXPECT_TRUE(CheckSegment(mid, {chain_.begin() + 3, chain_.end()}).ok());
}

TEST_F(PeerSyncTest, WithheldBlockIsCaught) {
  auto seg = chain_;
  seg.erase(seg.begin() + 4);  // block 5
  Status st = CheckSegment(Target(10), seg);
  EXPECT_EQ(st.code(), StatusCode::kDataLoss);
  EXPECT_NE(st.message().find("block 5"), std::string::npos) << st.message();
  // Dropping the last one (the checkpoint's own block) is caught as well.
  EXPECT_FALSE(CheckSegment(Target(10), Upto(9)).ok());
}

TEST_F(PeerSyncTest, ReorderedBlocksAreCaught) {
  auto seg = chain_;
  std::swap(seg[3], seg[4]);
  Status st = CheckSegment(Target(10), seg);
  EXPECT_EQ(st.code(), StatusCode::kDataLoss);
  EXPECT_NE(st.message().find("block 5"), std::string::npos) << st.message();
}

TEST_F(PeerSyncTest, TamperedBlockIsCaught) {
  // A re-signed block with another state root: a different hash, so the
  // block above no longer links to it.
  auto seg = chain_;
  seg[5].header.state_root[0] ^= 1;
  seg[5].Sign(Proposer());
  Status st = CheckSegment(Target(10), seg);
  EXPECT_EQ(st.code(), StatusCode::kDataLoss);
  EXPECT_NE(st.message().find("block 6"), std::string::npos) << st.message();
  // Same header, altered body (a transaction's verdict dropped): the header
  // still links but no longer matches its body.
  seg = chain_;
  seg[5].results.push_back(model::Verdict::Accept());
  st = CheckSegment(Target(10), seg);
  EXPECT_EQ(st.code(), StatusCode::kDataLoss);
  EXPECT_NE(st.message().find("body does not match"), std::string::npos) << st.message();
  // A segment from another history does not reach this node's head.
  Hash32 other;
  other.fill(0xbb);
  auto foreign = MakeChain(other, 10);
  EXPECT_FALSE(CheckSegment({0, head_, 10, foreign[9].header.Hash()}, foreign).ok());
}

TEST_F(PeerSyncTest, FetchesFromOneHonestPeer) {
  FakePeers src;
  src.Add("honest", chain_);
  std::vector<std::string> errors;
  auto seg = FetchSegment(src, Target(10), &errors);
  ASSERT_TRUE(seg.ok()) << seg.status().ToString();
  EXPECT_TRUE(errors.empty());
  EXPECT_TRUE(CheckSegment(Target(10), *seg).ok());
  EXPECT_EQ(src.asked.front(), "honest:10");  // top down
}

TEST_F(PeerSyncTest, WithholdingPeerIsNamedAndTheNextOneFinishes) {
  FakePeers src;
  src.Add("liar", chain_).blocks.erase(4);
  src.Add("honest", chain_);
  std::vector<std::string> errors;
  auto seg = FetchSegment(src, Target(10), &errors);
  ASSERT_TRUE(seg.ok()) << seg.status().ToString();
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_NE(errors[0].find("peer liar"), std::string::npos) << errors[0];
  EXPECT_NE(errors[0].find("block 4"), std::string::npos) << errors[0];
  EXPECT_NE(errors[0].find("withheld"), std::string::npos) << errors[0];
  EXPECT_TRUE(CheckSegment(Target(10), *seg).ok());
  // Blocks 10..5 came from the liar (they checked out); the rest from honest.
  EXPECT_EQ(src.asked.back(), "honest:1");
}

TEST_F(PeerSyncTest, SkippingPeerIsCaught) {
  // The liar serves block 5 where 4 should be (and so on down): it tries to
  // make the node skip a block (say, a consent revocation).
  FakePeers src;
  auto& liar = src.Add("liar", chain_);
  liar.blocks[4] = chain_[4].Encode();
  src.Add("honest", chain_);
  std::vector<std::string> errors;
  auto seg = FetchSegment(src, Target(10), &errors);
  ASSERT_TRUE(seg.ok());
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_NE(errors[0].find("block 4"), std::string::npos) << errors[0];
  EXPECT_NE(errors[0].find("reordered"), std::string::npos) << errors[0];
}

TEST_F(PeerSyncTest, TamperingPeerIsCaught) {
  FakePeers src;
  auto tampered = chain_;
  tampered[6].header.state_root[3] ^= 0x10;
  tampered[6].Sign(Proposer());
  src.Add("liar", tampered);
  src.Add("honest", chain_);
  std::vector<std::string> errors;
  auto seg = FetchSegment(src, Target(10), &errors);
  ASSERT_TRUE(seg.ok());
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_NE(errors[0].find("peer liar"), std::string::npos);
  EXPECT_NE(errors[0].find("block 7"), std::string::npos) << errors[0];
  EXPECT_NE(errors[0].find("altered"), std::string::npos) << errors[0];
  EXPECT_TRUE(CheckSegment(Target(10), *seg).ok());
}

TEST_F(PeerSyncTest, NoHonestPeerIsUnavailableNamingEveryPeer) {
  FakePeers src;
  src.Add("liar", chain_).blocks.erase(8);
  src.Add("down", chain_).down = true;
  std::vector<std::string> errors;
  auto seg = FetchSegment(src, Target(10), &errors);
  ASSERT_FALSE(seg.ok());
  EXPECT_EQ(seg.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(seg.status().message().find("peer liar"), std::string::npos) << seg.status().message();
  EXPECT_NE(seg.status().message().find("peer down"), std::string::npos) << seg.status().message();
  EXPECT_EQ(errors.size(), 2u);
  FakePeers none;
  EXPECT_EQ(FetchSegment(none, Target(10)).status().code(), StatusCode::kUnavailable);
}

TEST_F(PeerSyncTest, CheckpointedChainThatMissesTheHeadIsDataLoss) {
  // Every peer agrees on a chain that does not pass through this node's
  // head: no peer can fix that, so it is not retried.
  Hash32 mine;
  mine.fill(0x01);
  FakePeers src;
  src.Add("a", chain_);
  auto seg = FetchSegment(src, {0, mine, 10, chain_[9].header.Hash()});
  EXPECT_EQ(seg.status().code(), StatusCode::kDataLoss);
}

}  // namespace
}  // namespace medledger::node
