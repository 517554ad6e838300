// A removed organisation's node is refused as a block proposer: by
// Chain::ApplyBlock (every other node, and so the etcd orderer), by the
// offline audit, and by its own chain when it tries to build a block.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "contracts/sandbox.h"
#include "crypto/sha256.h"
#include "model/tx_json.h"
#include "model/tx_types.h"
#include "node/audit.h"
#include "node/chain.h"
#include "state/governance.h"

namespace medledger::node {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;
namespace tx = model::tx;

crypto::KeyPair Key(uint8_t fill) {
  std::array<uint8_t, 32> seed;
  seed.fill(fill);
  return crypto::KeyPair::FromSeed(seed);
}

// h1..h3: admin keys 1..3, node keys 11..13; threshold 2.
json Genesis() {
  json orgs = json::array();
  for (int i = 1; i <= 3; ++i)
    orgs.push_back({{"id", "h" + std::to_string(i)},
                    {"name", "Hospital " + std::to_string(i)},
                    {"admin", Key(uint8_t(i)).id()},
                    {"nodes", json::array({Key(uint8_t(10 + i)).id()})}});
  return {{"chain_id", "gov-node"}, {"timestamp_ms", 1000}, {"governance_threshold", 2}, {"organisations", orgs}};
}

class ChainDir {
 public:
  ChainDir() {
    static int n = 0;
    path = (fs::temp_directory_path() / ("ml-gov-" + std::to_string(::getpid()) + "-" + std::to_string(n++))).string();
    fs::remove_all(path);
  }
  ~ChainDir() { fs::remove_all(path); }
  std::string path;
};

class GovernanceChainTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(Chain::Init(dir_.path, Genesis()).ok());
    ChainOptions co;
    co.sync = false;
    co.verify_threads = 1;
    auto c = Chain::Open(dir_.path, co);
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    chain_ = std::move(*c);
  }

  model::Transaction Tx(const crypto::KeyPair& k, uint16_t type, const json& payload) {
    auto t = model::MakeTransaction("gov-node", k, type, payload, nonce_++, chain_->Meta().height + 100);
    EXPECT_TRUE(t.ok());
    return *t;
  }

  // One block of `txs` proposed by `proposer`, built and committed.
  model::Block Produce(const crypto::KeyPair& proposer, std::vector<model::Transaction> txs) {
    std::vector<Hash32> ids;
    for (const auto& t : txs) ids.push_back(t.Id());
    auto b = chain_->ProduceBlock(txs, ids, proposer, 2000 + chain_->Meta().height);
    EXPECT_TRUE(b.ok()) << b.status().ToString();
    return *b;
  }

  // A valid next block, built by h1's node, then re-signed by `proposer`.
  model::Block SignedBy(const crypto::KeyPair& proposer) {
    auto t = Tx(Key(1), tx::kAnchorPut, {{"hash", ToHex(crypto::Sha256("doc" + std::to_string(nonce_)))}});
    auto b = chain_->BuildBlock({t}, {t.Id()}, Key(11), 5000 + chain_->Meta().height);
    EXPECT_TRUE(b.ok()) << b.status().ToString();
    b->Sign(proposer);
    return *b;
  }

  void RemoveH3() {
    const std::string pid = "00000000000000000000000000000003";
    auto b = Produce(Key(11), {Tx(Key(1), tx::kGovPropose, {{"proposal_id", pid}, {"action", "remove_member"}, {"org_id", "h3"}}),
                               Tx(Key(2), tx::kGovApprove, {{"proposal_id", pid}})});
    ASSERT_TRUE(b.results[0].ok()) << b.results[0].detail;
    ASSERT_TRUE(b.results[1].ok()) << b.results[1].detail;
    ASSERT_FALSE(state::LoadOrg(chain_->state(), "h3")->active);
  }

  ChainDir dir_;
  std::unique_ptr<Chain> chain_;
  uint64_t nonce_ = 1;
};

TEST_F(GovernanceChainTest, RemovedOrganisationsNodeCannotProposeBlocks) {
  // Before: h3's node is a valid proposer.
  ASSERT_TRUE(chain_->ApplyBlock(SignedBy(Key(13))).ok());
  RemoveH3();
  auto height = chain_->Meta().height;
  Status st = chain_->ApplyBlock(SignedBy(Key(13)));
  EXPECT_EQ(st.code(), StatusCode::kDataLoss);
  EXPECT_NE(st.message().find("not an active member"), std::string::npos) << st.message();
  EXPECT_EQ(chain_->Meta().height, height);  // nothing written
  // Its own chain refuses to build a block with its key.
  auto t = Tx(Key(1), tx::kAnchorPut, {{"hash", ToHex(crypto::Sha256("x"))}});
  auto b = chain_->BuildBlock({t}, {t.Id()}, Key(13), 9000);
  EXPECT_EQ(b.status().code(), StatusCode::kFailedPrecondition);
  // The other members' nodes carry on.
  EXPECT_TRUE(chain_->ApplyBlock(SignedBy(Key(12))).ok());
}

TEST_F(GovernanceChainTest, AuditRefusesABlockByARemovedOrganisationsNode) {
  RemoveH3();
  // Write an (otherwise valid, empty) block signed by h3's node straight into
  // the store, as a node without the ApplyBlock check would have.
  auto b = chain_->BuildBlock({}, {}, Key(11), 9000);
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  b->Sign(Key(13));
  auto m = chain_->Meta();
  ledger::BlockCommit c;
  c.height = b->header.height;
  c.block = b->Encode();
  c.block_hash = b->header.Hash();
  c.meta = m;
  c.meta.height = c.height;
  c.meta.last_block_hash = c.block_hash;
  c.meta.state_root = b->header.state_root;
  ASSERT_TRUE(chain_->store().Commit(c).ok());
  chain_.reset();
  AuditOptions one_thread;
  one_thread.threads = 1;
  auto r = AuditChain(dir_.path, one_thread);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_FALSE(r->ok);
  EXPECT_EQ(r->bad_block, c.height);
  EXPECT_NE(r->problem.find("not an active member"), std::string::npos) << r->problem;
}


// The orderer hands a node back the block it built when it wins the height;
// Chain commits that one from the build's results. The same header with a
// different transaction signature (tx ids leave signatures out) must still
// go through full validation and be refused.
TEST_F(GovernanceChainTest, OwnBuiltBlockCommitsButAForgedTwinIsRefused) {
  auto t1 = Tx(Key(1), tx::kAnchorPut, {{"hash", ToHex(crypto::Sha256("own-1"))}});
  auto t2 = Tx(Key(2), tx::kAnchorPut, {{"hash", ToHex(crypto::Sha256("own-2"))}});
  auto b = chain_->BuildBlock({t1, t2}, {t1.Id(), t2.Id()}, Key(11), 7000);
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  auto height = chain_->Meta().height;
  model::Block forged = *b;
  forged.txs[1].signature[5] ^= 0x01;
  ASSERT_EQ(forged.header.Hash(), b->header.Hash());
  Status st = chain_->ApplyBlock(forged);
  EXPECT_EQ(st.code(), StatusCode::kDataLoss);
  EXPECT_NE(st.message().find("verdict differs"), std::string::npos) << st.message();
  EXPECT_EQ(chain_->Meta().height, height);
  ASSERT_TRUE(chain_->ApplyBlock(*b).ok());
  EXPECT_EQ(chain_->Meta().height, height + 1);
  EXPECT_EQ(chain_->Meta().state_root, b->header.state_root);
  EXPECT_TRUE(chain_->state().Get("anchor/" + ToHex(crypto::Sha256("own-1"))).has_value());
}

// Admission keeps decoded signer records between checks; a committed
// revocation must be seen by the very next check.
TEST_F(GovernanceChainTest, AdmissionSeesARevocationAsSoonAsItCommits) {
  auto before = Tx(Key(2), tx::kAnchorPut, {{"hash", ToHex(crypto::Sha256("adm-1"))}});
  EXPECT_TRUE(chain_->Check(before, before.Id())->ok());
  auto again = Tx(Key(2), tx::kAnchorPut, {{"hash", ToHex(crypto::Sha256("adm-2"))}});
  EXPECT_TRUE(chain_->Check(again, again.Id())->ok());  // served from the cache
  auto b = Produce(Key(11), {Tx(Key(2), tx::kIdentityRevoke, {{"pubkey", Key(2).id()}})});
  ASSERT_TRUE(b.results[0].ok()) << b.results[0].detail;
  auto after = Tx(Key(2), tx::kAnchorPut, {{"hash", ToHex(crypto::Sha256("adm-3"))}});
  auto v = *chain_->Check(after, after.Id());
  EXPECT_EQ(v.reason, model::Reject::kRevokedKey) << v.detail;
  EXPECT_EQ(v.detail, "signer key was revoked");
}

// A chain records the Lua release its contracts run on; a binary that
// embeds another one refuses to open it (gas counts could differ).
TEST(ChainLuaReleaseTest, AnotherLuaReleaseIsRefused) {
  for (int release : {contracts::LuaRelease(), 50403}) {
    ChainDir dir;
    json g = Genesis();
    g["contracts"] = {{"lua_release", release}};
    ASSERT_TRUE(Chain::Init(dir.path, g).ok());
    ChainOptions co;
    co.sync = false;
    auto c = Chain::Open(dir.path, co);
    if (release == contracts::LuaRelease()) {
      ASSERT_TRUE(c.ok()) << c.status().ToString();
      EXPECT_EQ((*c)->params().lua_release, uint32_t(release));
    } else {
      ASSERT_FALSE(c.ok());
      EXPECT_EQ(c.status().code(), StatusCode::kFailedPrecondition);
      EXPECT_NE(c.status().message().find("Lua release 50403"), std::string::npos) << c.status().message();
    }
  }
}

}  // namespace
}  // namespace medledger::node
