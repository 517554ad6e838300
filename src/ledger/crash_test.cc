// Power-loss tests: the store runs on a FaultInjectionFs, the process
// "crashes" (the Store is destroyed without flushing memtables) and every
// byte not yet fsynced is dropped before reopening.
#include <gtest/gtest.h>

#include "ledger/fault_fs.h"
#include "ledger/store.h"
#include "ledger/store_testing.h"
#include "ledger/test_util.h"

namespace medledger::ledger {
namespace {

using testing::FakeHash;
using testing::MakeCommit;
using testing::ScratchDir;

class CrashTest : public ::testing::Test {
 protected:
  std::unique_ptr<Store> Open(bool sync) {
    StoreOptions o;
    o.sync = sync;
    o.testing = std::make_shared<StoreTestHooks>();
    o.testing->file_system = fs_;
    auto s = Store::Open(dir_.db(), o);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return s.ok() ? std::move(s).value() : nullptr;
  }

  // Destroys the store as a crash would, then loses the page cache.
  void Crash(std::unique_ptr<Store>& store, uint64_t keep_unsynced_bytes = 0) {
    store.reset();
    auto s = fs_->DropUnsyncedData(keep_unsynced_bytes);
    ASSERT_TRUE(s.ok()) << s.ToString();
  }

  // Which parts of block h survived: block, each tx index entry, each state
  // write. Returns the count present out of 2 * txs + 1.
  int PartsPresent(Store& store, uint64_t h, uint32_t txs) {
    int n = store.GetBlock(h).ok() ? 1 : 0;
    for (uint32_t i = 0; i < txs; ++i) {
      auto loc = store.FindTx(FakeHash(2, h, i));
      EXPECT_TRUE(loc.ok());
      if (loc.ok() && loc->has_value()) {
        EXPECT_EQ(**loc, (TxLocation{h, i}));
        ++n;
      }
      auto v = store.GetState(testing::StateKey(h, i));
      EXPECT_TRUE(v.ok());
      if (v.ok() && v->has_value()) {
        EXPECT_EQ(**v, testing::StateValue(h, i));
        ++n;
      }
    }
    return n;
  }

  // Checks that the store holds exactly blocks 0..meta.height, each whole,
  // and nothing above; returns the number of blocks held.
  uint64_t CheckPrefix(Store& store, uint64_t max_blocks, uint32_t txs, size_t block_size) {
    auto meta = store.Meta();
    EXPECT_TRUE(meta.ok());
    const uint64_t held = meta->initialized ? meta->height + 1 : 0;
    if (held > 0) {
      EXPECT_EQ(*meta, MakeCommit(held - 1, txs, block_size).meta);
    }
    for (uint64_t h = 0; h < max_blocks; ++h) {
      const int want = h < held ? int(2 * txs + 1) : 0;
      EXPECT_EQ(PartsPresent(store, h, txs), want) << "block " << h << " of " << held;
      if (h < held) {
        EXPECT_EQ(*store.GetBlock(h), MakeCommit(h, txs, block_size).block);
      }
    }
    return held;
  }

  ScratchDir dir_;
  std::shared_ptr<FaultInjectionFs> fs_ =
      std::make_shared<FaultInjectionFs>(rocksdb::FileSystem::Default());
};

// (a) With sync on, every acknowledged commit survives the power cut, over
// several crash/reopen cycles (each reopen starts a new WAL whose directory
// entry must itself be made durable).
TEST_F(CrashTest, SyncedCommitsSurvivePowerLoss) {
  const uint32_t txs = 4;
  const size_t block_size = 1500;
  uint64_t next = 0;
  for (int cycle = 0; cycle < 3; ++cycle) {
    auto store = Open(/*sync=*/true);
    ASSERT_TRUE(store);
    ASSERT_TRUE(store->PutMeta("genesis", ToBytes("g" + std::to_string(cycle))).ok());
    for (int i = 0; i < 25; ++i, ++next) {
      const uint64_t syncs_before = fs_->file_syncs();
      ASSERT_TRUE(store->Commit(MakeCommit(next, txs, block_size)).ok());
      // Acknowledged only after an fsync, and nothing in the write-ahead log
      // is unsynced. (Other files may be: a background job that ingests
      // staged entries or compacts syncs its MANIFEST edit when it finishes.)
      EXPECT_GT(fs_->file_syncs(), syncs_before);
      EXPECT_EQ(fs_->unsynced_bytes(".log"), 0u) << "after block " << next;
    }
    Crash(store);
    store = Open(/*sync=*/true);
    ASSERT_TRUE(store);
    EXPECT_EQ(CheckPrefix(*store, next + 5, txs, block_size), next);
    EXPECT_EQ(store->GetMeta("genesis")->value(), ToBytes("g" + std::to_string(cycle)));
  }
}

// (b) With sync off, the same procedure loses recent commits: the harness
// can see loss, so (a) passing means something. The survivors are still a
// whole-block prefix.
TEST_F(CrashTest, UnsyncedCommitsAreLostOnPowerLoss) {
  const uint32_t txs = 4;
  const size_t block_size = 1500;
  auto store = Open(/*sync=*/false);
  ASSERT_TRUE(store);
  for (uint64_t h = 0; h < 25; ++h) ASSERT_TRUE(store->Commit(MakeCommit(h, txs, block_size)).ok());
  EXPECT_GT(fs_->unsynced_bytes(), 0u);
  // Without the crash the data would be there: close and reopen would keep it.
  Crash(store);
  store = Open(/*sync=*/false);
  ASSERT_TRUE(store);
  const uint64_t held = CheckPrefix(*store, 25, txs, block_size);
  EXPECT_LT(held, 25u) << "power loss with sync off lost nothing: the harness is vacuous";
}

// A plain close without the power cut keeps unsynced commits (the WAL is in
// the page cache): what (b) loses is due to the dropped data, not the close.
TEST_F(CrashTest, ProcessCrashWithoutPowerLossKeepsUnsyncedCommits) {
  auto store = Open(/*sync=*/false);
  ASSERT_TRUE(store);
  for (uint64_t h = 0; h < 25; ++h) ASSERT_TRUE(store->Commit(MakeCommit(h)).ok());
  store.reset();
  store = Open(/*sync=*/false);
  ASSERT_TRUE(store);
  EXPECT_EQ(CheckPrefix(*store, 25, 3, 200), 25u);
}

// (c) A commit is atomic: cutting the unsynced WAL tail at many byte offsets,
// including inside a block's record, leaves each block whole or absent.
TEST_F(CrashTest, TornWriteLeavesWholeBlocksOnly) {
  const uint32_t txs = 6;
  const size_t block_size = 700;
  const uint64_t blocks = 8;
  // Size of the unsynced region, measured once.
  uint64_t unsynced = 0;
  {
    ScratchDir probe_dir;
    auto probe_fs = std::make_shared<FaultInjectionFs>(rocksdb::FileSystem::Default());
    StoreOptions o;
    o.sync = false;
    o.testing = std::make_shared<StoreTestHooks>();
    o.testing->file_system = probe_fs;
    auto store = Store::Open(probe_dir.db(), o);
    ASSERT_TRUE(store.ok());
    for (uint64_t h = 0; h < blocks; ++h) ASSERT_TRUE((*store)->Commit(MakeCommit(h, txs, block_size)).ok());
    unsynced = probe_fs->unsynced_bytes();
  }
  ASSERT_GT(unsynced, blocks * block_size);

  std::vector<uint64_t> cuts;
  // ~30 cuts; an odd step so that they fall at varied offsets within records.
  const uint64_t step = (unsynced / 30) | 1;
  for (uint64_t keep = 0; keep < unsynced; keep += step) cuts.push_back(keep);
  cuts.push_back(unsynced);
  std::set<uint64_t> outcomes;
  for (uint64_t keep : cuts) {
    ScratchDir d;
    auto fs = std::make_shared<FaultInjectionFs>(rocksdb::FileSystem::Default());
    StoreOptions o;
    o.sync = false;
    o.testing = std::make_shared<StoreTestHooks>();
    o.testing->file_system = fs;
    {
      auto store = Store::Open(d.db(), o);
      ASSERT_TRUE(store.ok());
      for (uint64_t h = 0; h < blocks; ++h) ASSERT_TRUE((*store)->Commit(MakeCommit(h, txs, block_size)).ok());
    }
    ASSERT_TRUE(fs->DropUnsyncedData(keep).ok());
    auto store = Store::Open(d.db(), o);
    ASSERT_TRUE(store.ok()) << "keep=" << keep << ": " << store.status().ToString();
    // CheckPrefix also asserts that every block is all-or-nothing.
    outcomes.insert(CheckPrefix(**store, blocks, txs, block_size));
  }
  // The cuts produced partial recoveries, not only all or nothing.
  EXPECT_GT(outcomes.size(), 2u) << ::testing::PrintToString(outcomes);
  EXPECT_TRUE(outcomes.count(0));
  EXPECT_TRUE(outcomes.count(blocks));
}

// The fault file system itself: unsynced tails and undurable files vanish.
TEST(FaultInjectionFsTest, DropsUnsyncedTailsAndUndurableFiles) {
  ScratchDir d;
  auto fs = std::make_shared<FaultInjectionFs>(rocksdb::FileSystem::Default());
  rocksdb::IOOptions io;
  std::unique_ptr<rocksdb::FSDirectory> dir;
  ASSERT_TRUE(fs->NewDirectory(d.path(), io, &dir, nullptr).ok());

  std::unique_ptr<rocksdb::FSWritableFile> durable, fresh;
  ASSERT_TRUE(fs->NewWritableFile(d.path() + "/durable", rocksdb::FileOptions(), &durable, nullptr).ok());
  ASSERT_TRUE(durable->Append("synced-", io, nullptr).ok());
  ASSERT_TRUE(durable->Sync(io, nullptr).ok());
  ASSERT_TRUE(dir->Fsync(io, nullptr).ok());
  ASSERT_TRUE(durable->Append("lost", io, nullptr).ok());
  ASSERT_TRUE(durable->RangeSync(0, 11, io, nullptr).ok());  // not a durability point
  ASSERT_TRUE(durable->Close(io, nullptr).ok());              // nor is close

  ASSERT_TRUE(fs->NewWritableFile(d.path() + "/fresh", rocksdb::FileOptions(), &fresh, nullptr).ok());
  ASSERT_TRUE(fresh->Append("data", io, nullptr).ok());
  ASSERT_TRUE(fresh->Fsync(io, nullptr).ok());  // data synced, directory entry not
  ASSERT_TRUE(fresh->Close(io, nullptr).ok());
  EXPECT_EQ(fs->unsynced_bytes(), 4u);

  ASSERT_TRUE(fs->DropUnsyncedData().ok());
  std::string content;
  ASSERT_TRUE(rocksdb::ReadFileToString(fs.get(), d.path() + "/durable", &content).ok());
  EXPECT_EQ(content, "synced-");
  EXPECT_TRUE(fs->FileExists(d.path() + "/fresh", io, nullptr).IsNotFound());
}

TEST(FaultInjectionFsTest, UndoesRenameNotMadeDurable) {
  ScratchDir d;
  auto fs = std::make_shared<FaultInjectionFs>(rocksdb::FileSystem::Default());
  rocksdb::IOOptions io;
  std::unique_ptr<rocksdb::FSDirectory> dir;
  ASSERT_TRUE(fs->NewDirectory(d.path(), io, &dir, nullptr).ok());
  ASSERT_TRUE(rocksdb::WriteStringToFile(fs.get(), "old", d.path() + "/CURRENT", true).ok());
  ASSERT_TRUE(dir->Fsync(io, nullptr).ok());
  ASSERT_TRUE(rocksdb::WriteStringToFile(fs.get(), "new", d.path() + "/tmp", true).ok());
  ASSERT_TRUE(fs->RenameFile(d.path() + "/tmp", d.path() + "/CURRENT", io, nullptr).ok());

  ASSERT_TRUE(fs->DropUnsyncedData().ok());
  std::string content;
  ASSERT_TRUE(rocksdb::ReadFileToString(fs.get(), d.path() + "/CURRENT", &content).ok());
  EXPECT_EQ(content, "old");
  EXPECT_TRUE(fs->FileExists(d.path() + "/tmp", io, nullptr).IsNotFound());

  // Once the directory is synced, the rename sticks.
  ASSERT_TRUE(rocksdb::WriteStringToFile(fs.get(), "new", d.path() + "/tmp", true).ok());
  ASSERT_TRUE(fs->RenameFile(d.path() + "/tmp", d.path() + "/CURRENT", io, nullptr).ok());
  ASSERT_TRUE(dir->Fsync(io, nullptr).ok());
  ASSERT_TRUE(fs->DropUnsyncedData().ok());
  ASSERT_TRUE(rocksdb::ReadFileToString(fs.get(), d.path() + "/CURRENT", &content).ok());
  EXPECT_EQ(content, "new");
}

}  // namespace
}  // namespace medledger::ledger
