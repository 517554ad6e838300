// Tamper evidence: build a chain with a real node, stop it, change stored
// bytes directly in its RocksDB (schema: docs/STORAGE.md), and check that
// `medledger verify` exits non-zero naming the right block and what is wrong.
// Each test first checks that the untouched chain verifies clean, so the
// failure is caused by the one change the test makes.
#include <gtest/gtest.h>
#include <rocksdb/db.h>

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>

#include "common/bytes.h"
#include "crypto/aead.h"
#include "crypto/ed25519.h"
#include "crypto/keyfile.h"
#include "http/client.h"
#include "model/block.h"
#include "model/transaction.h"
#include "model/tx_json.h"
#include "model/tx_types.h"
#include "tests/support/test_node.h"

namespace medledger::test {
namespace {

using nlohmann::json;

constexpr std::string_view kTag = "tag-for-tamper-test";

std::string HeightKey(uint64_t h) {
  std::string k(8, '\0');
  for (int i = 7; i >= 0; --i, h >>= 8) k[i] = char(h & 0xff);
  return k;
}

// The node's RocksDB opened directly, every column family, writes synced.
class RawDb {
 public:
  explicit RawDb(const std::string& path) {
    std::vector<std::string> names;
    rocksdb::Status s = rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), path, &names);
    if (!s.ok()) {
      error_ = "list column families of " + path + ": " + s.ToString();
      return;
    }
    std::vector<rocksdb::ColumnFamilyDescriptor> descs;
    for (const auto& n : names) descs.emplace_back(n, rocksdb::ColumnFamilyOptions());
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    s = rocksdb::DB::Open(rocksdb::DBOptions(), path, descs, &handles, &db_);
    if (!s.ok()) {
      error_ = "open " + path + ": " + s.ToString();
      return;
    }
    for (size_t i = 0; i < names.size(); ++i) cfs_[names[i]] = handles[i];
  }
  ~RawDb() {
    for (auto& [name, h] : cfs_) db_->DestroyColumnFamilyHandle(h);
    if (db_) {
      db_->Close();
      delete db_;
    }
  }
  const std::string& error() const { return error_; }
  bool Has(const std::string& cf) const { return cfs_.count(cf) > 0; }

  std::optional<std::string> Get(const std::string& cf, const std::string& key) {
    std::string v;
    rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), cfs_.at(cf), key, &v);
    if (s.IsNotFound()) return std::nullopt;
    EXPECT_TRUE(s.ok()) << s.ToString();
    return v;
  }
  void Put(const std::string& cf, const std::string& key, const std::string& value) {
    rocksdb::WriteOptions wo;
    wo.sync = true;
    rocksdb::Status s = db_->Put(wo, cfs_.at(cf), key, value);
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
  void Delete(const std::string& cf, const std::string& key) {
    rocksdb::WriteOptions wo;
    wo.sync = true;
    rocksdb::Status s = db_->Delete(wo, cfs_.at(cf), key);
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
  // Every key/value of a column family, in key order.
  std::vector<std::pair<std::string, std::string>> Scan(const std::string& cf) {
    std::vector<std::pair<std::string, std::string>> out;
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), cfs_.at(cf)));
    for (it->SeekToFirst(); it->Valid(); it->Next()) out.emplace_back(it->key().ToString(), it->value().ToString());
    EXPECT_TRUE(it->status().ok()) << it->status().ToString();
    return out;
  }

 private:
  rocksdb::DB* db_ = nullptr;
  std::map<std::string, rocksdb::ColumnFamilyHandle*> cfs_;
  std::string error_;
};

Bytes ToBytes(const std::string& s) { return Bytes(s.begin(), s.end()); }
std::string ToStr(const Bytes& b) { return std::string(b.begin(), b.end()); }

class TamperTest : public ::testing::Test {
 protected:
  static constexpr uint64_t kBlocks = 6;
  static constexpr uint64_t kTarget = 3;

  // A chain of kBlocks blocks with transactions, each submitted after the
  // previous one committed, so block h holds the h-th batch; then the node
  // is stopped and the chain checked clean.
  void SetUp() override {
    crypto::InitCrypto();
    auto n = TestNode::Start();
    ASSERT_TRUE(n.ok()) << n.status().ToString();
    node_ = std::move(*n);
    auto admin = crypto::ReadKeyFile(node_->admin_key());
    ASSERT_TRUE(admin.ok());
    http::Client c(node_->url(), std::chrono::seconds(60));
    uint64_t nonce = 1;
    for (uint64_t round = 0; round < kBlocks; ++round) {
      Bytes body;
      ByteWriter w(&body);
      for (int i = 0; i < 3; ++i) {
        auto tx = model::MakeTransaction("medledger-dev", *admin, model::tx::kAnchorPut,
                                         {{"hash", ToHex(crypto::RandomArray<32>())}, {"tag", std::string(kTag)}},
                                         nonce++, 1000);
        ASSERT_TRUE(tx.ok());
        w.Var(tx->Encode());
      }
      auto r = c.Post("/v1/txs?wait=1", ToStr(body), "application/octet-stream");
      ASSERT_TRUE(r.ok()) << r.status().ToString();
      ASSERT_EQ(json::parse(r->body).value("committed", 0), 3) << r->body;
    }
    auto st = c.Get("/v1/status");
    ASSERT_TRUE(st.ok());
    height_ = json::parse(st->body).value("height", uint64_t(0));
    ASSERT_GE(height_, kBlocks) << st->body;
    ASSERT_TRUE(node_->Stop().ok()) << node_->LogTail();

    CommandResult clean = Verify();
    ASSERT_EQ(clean.exit_code, 0) << "untouched chain: " << clean.Describe();
    ASSERT_EQ(json::parse(clean.out).value("ok", false), true) << clean.out;

    db_ = std::make_unique<RawDb>(node_->data_dir() + "/ledger");
    ASSERT_TRUE(db_->error().empty()) << db_->error();
    ASSERT_TRUE(db_->Has("blocks") && db_->Has("state") && db_->Has("txindex") && db_->Has("meta"));
    auto b = db_->Get("blocks", HeightKey(kTarget));
    ASSERT_TRUE(b.has_value()) << "no block " << kTarget;
    target_bytes_ = *b;
    auto blk = model::DecodeBlock(ToBytes(target_bytes_));
    ASSERT_TRUE(blk.ok()) << blk.status().ToString();
    ASSERT_EQ(blk->header.height, kTarget);
    ASSERT_GE(blk->txs.size(), 1u) << "block " << kTarget << " holds no transaction";
    target_ = *blk;
  }

  CommandResult Verify() { return RunCli({"verify", "--data-dir", node_->data_dir()}, {}, std::chrono::minutes(5)); }

  // Closes the database, runs verify, and expects it to name `block` and
  // `what` (a fragment of the problem) on stderr and in its JSON report.
  void ExpectVerifyFails(uint64_t block, const std::string& what) {
    db_.reset();
    CommandResult r = Verify();
    EXPECT_EQ(r.exit_code, 6) << r.Describe();  // integrity (cli/exit_codes.h)
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << "one line on stderr: " << r.err;
    std::string names = "at block " + std::to_string(block) + ":";
    EXPECT_NE(r.err.find(names), std::string::npos) << "expected '" << names << "' in stderr: " << r.err;
    EXPECT_NE(r.err.find(what), std::string::npos) << "expected '" << what << "' in stderr: " << r.err;
    json report = json::parse(r.out, nullptr, false);
    ASSERT_FALSE(report.is_discarded()) << r.Describe();
    EXPECT_EQ(report.value("ok", true), false) << r.out;
    EXPECT_EQ(report.value("bad_block", uint64_t(0)), block) << r.out;
  }

  void PutTarget(const std::string& bytes) { db_->Put("blocks", HeightKey(kTarget), bytes); }

  // Offsets in the encoded block (model/block.h).
  static constexpr size_t kStateRootOffset = 4 + 1 + 8 + 32 + 32 + 32;
  static constexpr size_t kHeaderBytes = 4 + 1 + 8 + 32 * 4 + 8 + 32 + 4;

  std::unique_ptr<TestNode> node_;
  std::unique_ptr<RawDb> db_;
  uint64_t height_ = 0;
  std::string target_bytes_;
  model::Block target_;
};

TEST_F(TamperTest, OneByteOfATransactionPayload) {
  size_t at = target_bytes_.find(kTag);
  ASSERT_NE(at, std::string::npos);
  std::string bytes = target_bytes_;
  bytes[at + 4] ^= 0x20;  // 'f' -> 'F': still a valid payload, another transaction id
  PutTarget(bytes);
  auto still = model::DecodeBlock(ToBytes(bytes));
  ASSERT_TRUE(still.ok()) << "the tampered block still decodes, so the audit must catch it by its hashes";
  ExpectVerifyFails(kTarget, "Merkle root");

  // Putting the byte back makes the chain clean again: that byte was all.
  db_ = std::make_unique<RawDb>(node_->data_dir() + "/ledger");
  PutTarget(target_bytes_);
  db_.reset();
  CommandResult r = Verify();
  EXPECT_EQ(r.exit_code, 0) << r.Describe();
}

TEST_F(TamperTest, OneByteOfTheHeaderStateRoot) {
  ASSERT_EQ(target_bytes_.substr(kStateRootOffset, 32), ToStr(Bytes(target_.header.state_root.begin(), target_.header.state_root.end())))
      << "block layout differs from model/block.h";
  std::string bytes = target_bytes_;
  bytes[kStateRootOffset + 7] ^= 0x01;
  PutTarget(bytes);
  ExpectVerifyFails(kTarget, "proposer signature");
}

TEST_F(TamperTest, StateRootReSignedWithTheNodeKey) {
  // Even the holder of the node key cannot rewrite a state root: the replay
  // of the block's transactions gives another one.
  auto node_key = crypto::ReadKeyFile(node_->node_key());
  ASSERT_TRUE(node_key.ok());
  model::Block b = target_;
  b.header.state_root[0] ^= 0x80;
  b.Sign(*node_key);
  ASSERT_TRUE(crypto::Verify(b.header.proposer, b.header.SigningBytes(), b.header.proposer_sig));
  PutTarget(ToStr(b.Encode()));
  ExpectVerifyFails(kTarget, "state root does not match");
}

TEST_F(TamperTest, OneByteOfATransactionSignature) {
  const auto& sig = target_.txs[0].signature;
  size_t at = target_bytes_.find(std::string(sig.begin(), sig.end()));
  ASSERT_NE(at, std::string::npos);
  std::string bytes = target_bytes_;
  bytes[at + 20] ^= 0x04;
  PutTarget(bytes);
  ExpectVerifyFails(kTarget, "bad_signature");
}

TEST_F(TamperTest, OneByteOfTheProposerSignature) {
  ASSERT_EQ(target_bytes_.substr(kHeaderBytes, 64),
            std::string(target_.header.proposer_sig.begin(), target_.header.proposer_sig.end()));
  std::string bytes = target_bytes_;
  bytes[kHeaderBytes + 30] ^= 0x10;
  PutTarget(bytes);
  ExpectVerifyFails(kTarget, "proposer signature");
}

TEST_F(TamperTest, ABlockDeleted) {
  db_->Delete("blocks", HeightKey(kTarget));
  ExpectVerifyFails(kTarget, "missing");
}

TEST_F(TamperTest, TheNewestBlockDeleted) {
  db_->Delete("blocks", HeightKey(height_));
  ExpectVerifyFails(height_, "height");
}

TEST_F(TamperTest, ATruncatedBlock) {
  PutTarget(target_bytes_.substr(0, target_bytes_.size() - 1));
  ExpectVerifyFails(kTarget, "does not decode");
}

TEST_F(TamperTest, ABlockSwappedForAnotherHeight) {
  auto other = db_->Get("blocks", HeightKey(kTarget + 1));
  ASSERT_TRUE(other.has_value());
  PutTarget(*other);
  ExpectVerifyFails(kTarget, "says it is " + std::to_string(kTarget + 1));
}

TEST_F(TamperTest, OneByteOfAStateValue) {
  auto state = db_->Scan("state");
  ASSERT_FALSE(state.empty());
  // An anchor record, which the replay of the chain recreates exactly.
  auto it = std::find_if(state.begin(), state.end(), [](const auto& kv) { return kv.first.rfind("anchor/", 0) == 0; });
  ASSERT_NE(it, state.end()) << "no anchor/ key in state";
  std::string value = it->second;
  ASSERT_FALSE(value.empty());
  value[value.size() / 2] ^= 0x01;
  db_->Put("state", it->first, value);
  ExpectVerifyFails(height_, "state value differs");
}

TEST_F(TamperTest, ATransactionIndexEntryRemovedMovedOrInvented) {
  Hash32 id = target_.txs[0].Id();
  std::string key(id.begin(), id.end());
  auto loc = db_->Get("txindex", key);
  ASSERT_TRUE(loc.has_value());
  db_->Delete("txindex", key);
  ExpectVerifyFails(kTarget, "transaction index");

  // Pointing at another position (the location is u64 height | u32 index).
  db_ = std::make_unique<RawDb>(node_->data_dir() + "/ledger");
  std::string moved = *loc;
  moved.back() ^= 0x01;
  db_->Put("txindex", key, moved);
  ExpectVerifyFails(kTarget, "transaction index");

  // Restored, plus an entry for a transaction that no block holds.
  db_ = std::make_unique<RawDb>(node_->data_dir() + "/ledger");
  db_->Put("txindex", key, *loc);
  db_->Put("txindex", std::string(32, '\x01'), *loc);
  ExpectVerifyFails(kTarget, "transaction index");
}

TEST_F(TamperTest, AStateKeyAddedOrRemoved) {
  db_->Put("state", "anchor/" + std::string(64, '0'), "forged");
  ExpectVerifyFails(height_, "stored state");

  db_ = std::make_unique<RawDb>(node_->data_dir() + "/ledger");
  db_->Delete("state", "anchor/" + std::string(64, '0'));
  auto state = db_->Scan("state");
  auto it = std::find_if(state.begin(), state.end(), [](const auto& kv) { return kv.first.rfind("anchor/", 0) == 0; });
  ASSERT_NE(it, state.end());
  db_->Delete("state", it->first);
  ExpectVerifyFails(height_, "stored state");
}

}  // namespace
}  // namespace medledger::test
