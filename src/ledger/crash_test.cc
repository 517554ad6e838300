// Power-loss tests: the store runs on a FaultInjectionFs, the process
// "crashes" (the Store is destroyed without flushing memtables) and every
// byte not yet fsynced is dropped before reopening.
#include <gtest/gtest.h>

#include <optional>
#include <set>

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

// Staged writes (ledger/staging.h) reach their column families by SST
// ingestion: the table is written as SST files under ingest/, hard-linked
// into the store, recorded in the MANIFEST, and only then are the journal
// records that held the entries deleted. A power cut at any step of that
// (or while the next blocks commit beside it) must leave every acknowledged
// block whole: its entries ingested, or still in the journal and staged
// again at open. The cut is swept over each mutating call from the first one
// under ingest/: the first ingestion (about 35 calls, the commits beside it
// included) and the start of the second. Each crashed store is cut again
// while its reopening ingests the journal. (Deleting the journal records
// before the ingestion instead of after it fails this test.)
TEST(CrashStagedTest, PowerLossDuringStagedIngestionKeepsEveryAcknowledgedBlock) {
  const uint32_t txs = 4;  // 4 index entries + 4 staged state keys per block
  const size_t block_size = 300;
  const uint64_t blocks = 12;
  auto options = [](const std::shared_ptr<FaultInjectionFs>& fs) {
    StoreOptions o;
    o.point_state_prefixes = {"k/"};  // MakeCommit's state keys
    o.stage_entries = 10;             // an ingestion every other block
    o.testing = std::make_shared<StoreTestHooks>();
    o.testing->file_system = fs;
    return o;
  };
  // Opens, checks that blocks 0..held-1 are whole (and nothing above), and
  // returns held; `acked` blocks at least must be there.
  auto check = [&](const std::string& db, const std::shared_ptr<FaultInjectionFs>& fs, uint64_t acked,
                   const std::string& what) {
    auto store = Store::Open(db, options(fs));
    EXPECT_TRUE(store.ok()) << what << ": " << store.status().ToString();
    if (!store.ok()) return uint64_t(0);
    auto meta = (*store)->Meta();
    const uint64_t held = meta->initialized ? meta->height + 1 : 0;
    EXPECT_GE(held, acked) << what << ": an acknowledged block was lost";
    for (uint64_t h = 0; h < blocks; ++h) {
      auto block = (*store)->GetBlock(h);
      EXPECT_EQ(block.ok(), h < held) << what << ", block " << h;
      if (block.ok()) EXPECT_EQ(*block, MakeCommit(h, txs, block_size).block) << what << ", block " << h;
      for (uint32_t i = 0; i < txs; ++i) {
        auto loc = (*store)->FindTx(FakeHash(2, h, i));
        auto v = (*store)->GetState(testing::StateKey(h, i));
        EXPECT_TRUE(loc.ok() && v.ok()) << what;
        if (!loc.ok() || !v.ok()) return held;
        if (h < held) {
          EXPECT_EQ(*loc, std::optional<TxLocation>(TxLocation{h, i})) << what << ", block " << h << " tx " << i;
          EXPECT_EQ(*v, std::optional<Bytes>(testing::StateValue(h, i))) << what << ", block " << h << " key " << i;
        } else {
          EXPECT_FALSE(loc->has_value()) << what << ", block " << h << " tx " << i;
          EXPECT_FALSE(v->has_value()) << what << ", block " << h << " key " << i;
        }
      }
    }
    return held;
  };

  int cuts_in_ingest_dir = 0, cuts_in_store_dir = 0;
  for (uint64_t k = 0; k < 48; ++k) {
    ScratchDir d;
    auto fs = std::make_shared<FaultInjectionFs>(rocksdb::FileSystem::Default(), /*skip_target_syncs=*/true);
    uint64_t acked = 0;
    {
      auto store = Store::Open(d.db(), options(fs));
      ASSERT_TRUE(store.ok()) << store.status().ToString();
      fs->RecordOps(true);
      const size_t ops_before = fs->ops().size();
      fs->PowerOffAfter(k, "/ingest/");
      for (uint64_t h = 0; h < blocks; ++h) {
        if (!(*store)->Commit(MakeCommit(h, txs, block_size)).ok()) break;
        acked = h + 1;
      }
      // Waits for (or runs) the last ingestion; fails once the power is off.
      (void)(*store)->FlushStaged();
      ASSERT_TRUE(fs->powered_off()) << "no cut after " << k << " calls";
      // Where the cut fell: just after the last call recorded.
      auto ops = fs->ops();
      const std::string last = ops.size() > ops_before ? ops.back() : "";
      if (last.find("/ingest/") != std::string::npos) ++cuts_in_ingest_dir;
      if (last.ends_with(".sst") && last.find("/ingest/") == std::string::npos) ++cuts_in_store_dir;
    }  // the store is destroyed without flushing, powered off
    ASSERT_TRUE(fs->DropUnsyncedData().ok());
    // A second cut, while the reopened store ingests what the journal holds.
    {
      fs->PowerOffAfter(k % 7, "/ingest/");
      auto again = Store::Open(d.db(), options(fs));
      (void)again;  // may fail: the power went off inside Open
    }
    ASSERT_TRUE(fs->DropUnsyncedData().ok());
    const std::string what = "cut after " + std::to_string(k) + " calls";
    const uint64_t held = check(d.db(), fs, acked, what);
    if (::testing::Test::HasFailure()) {
      ADD_FAILURE() << what << ": " << acked << " blocks acknowledged, " << held << " held";
      break;
    }
  }
  // The sweep cut inside the staging directory (SST files being written)
  // and after the linked SST files reached the store directory.
  EXPECT_GT(cuts_in_ingest_dir, 0);
  EXPECT_GT(cuts_in_store_dir, 0);
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

// The instant of the cut, hard links and forgotten syncs (the parts the
// in-process node test and the staged-ingestion test rely on).
TEST(FaultInjectionFsTest, PowerOffRefusesChangesLinksNeedTheirDirectoryAndForgottenSyncsAreLost) {
  ScratchDir d;
  auto fs = std::make_shared<FaultInjectionFs>(rocksdb::FileSystem::Default());
  rocksdb::IOOptions io;
  std::unique_ptr<rocksdb::FSDirectory> dir;
  ASSERT_TRUE(fs->NewDirectory(d.path(), io, &dir, nullptr).ok());
  std::unique_ptr<rocksdb::FSWritableFile> f, forgot;
  ASSERT_TRUE(fs->NewWritableFile(d.path() + "/f", rocksdb::FileOptions(), &f, nullptr).ok());
  ASSERT_TRUE(f->Append("durable", io, nullptr).ok());
  ASSERT_TRUE(f->Sync(io, nullptr).ok());
  fs->ForgetSyncs(d.path() + "/forgot", "");
  ASSERT_TRUE(fs->NewWritableFile(d.path() + "/forgot", rocksdb::FileOptions(), &forgot, nullptr).ok());
  ASSERT_TRUE(forgot->Append("never synced", io, nullptr).ok());
  ASSERT_TRUE(forgot->Sync(io, nullptr).ok());  // succeeds, makes nothing durable
  ASSERT_TRUE(dir->Fsync(io, nullptr).ok());
  ASSERT_TRUE(fs->LinkFile(d.path() + "/f", d.path() + "/unsynced-link", io, nullptr).ok());

  fs->PowerOff();
  EXPECT_TRUE(fs->powered_off());
  EXPECT_TRUE(f->Append("late", io, nullptr).IsIOError());
  EXPECT_TRUE(f->Sync(io, nullptr).IsIOError());
  EXPECT_TRUE(dir->Fsync(io, nullptr).IsIOError());  // the link stays undurable
  EXPECT_TRUE(fs->DeleteFile(d.path() + "/f", io, nullptr).IsIOError());
  EXPECT_TRUE(fs->RenameFile(d.path() + "/f", d.path() + "/g", io, nullptr).IsIOError());
  std::unique_ptr<rocksdb::FSWritableFile> after;
  EXPECT_TRUE(fs->NewWritableFile(d.path() + "/f", rocksdb::FileOptions(), &after, nullptr).IsIOError());

  ASSERT_TRUE(fs->DropUnsyncedData().ok());
  EXPECT_FALSE(fs->powered_off());
  std::string content;
  ASSERT_TRUE(rocksdb::ReadFileToString(fs.get(), d.path() + "/f", &content).ok());
  EXPECT_EQ(content, "durable");
  ASSERT_TRUE(rocksdb::ReadFileToString(fs.get(), d.path() + "/forgot", &content).ok());
  EXPECT_EQ(content, "");
  EXPECT_TRUE(fs->FileExists(d.path() + "/unsynced-link", io, nullptr).IsNotFound());

  // A link whose directory is synced stays; the power is on again.
  ASSERT_TRUE(fs->LinkFile(d.path() + "/f", d.path() + "/link", io, nullptr).ok());
  ASSERT_TRUE(dir->Fsync(io, nullptr).ok());
  ASSERT_TRUE(fs->DropUnsyncedData().ok());
  ASSERT_TRUE(rocksdb::ReadFileToString(fs.get(), d.path() + "/link", &content).ok());
  EXPECT_EQ(content, "durable");
}

// PowerOffAfter counts from the first call on a path holding the trigger.
TEST(FaultInjectionFsTest, PowerOffAfterCountsFromTheTrigger) {
  ScratchDir d;
  auto fs = std::make_shared<FaultInjectionFs>(rocksdb::FileSystem::Default());
  rocksdb::IOOptions io;
  std::unique_ptr<rocksdb::FSWritableFile> a, b;
  fs->PowerOffAfter(2, "/b");
  ASSERT_TRUE(fs->NewWritableFile(d.path() + "/a", rocksdb::FileOptions(), &a, nullptr).ok());
  ASSERT_TRUE(a->Append("x", io, nullptr).ok());  // not counted: no trigger yet
  ASSERT_TRUE(fs->NewWritableFile(d.path() + "/b", rocksdb::FileOptions(), &b, nullptr).ok());  // 1
  ASSERT_TRUE(a->Append("y", io, nullptr).ok());                                                 // 2
  EXPECT_FALSE(fs->powered_off());
  EXPECT_TRUE(b->Append("z", io, nullptr).IsIOError());
  EXPECT_TRUE(fs->powered_off());
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
