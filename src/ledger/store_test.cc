#include "ledger/store.h"

#include <gtest/gtest.h>
#include <rocksdb/db.h>

#include <atomic>
#include <fstream>
#include <map>
#include <thread>

#include "ledger/staging.h"
#include "ledger/test_util.h"

namespace medledger::ledger {
namespace {

using testing::MakeCommit;
using testing::ScratchDir;

StoreOptions NoCreate() {
  StoreOptions o;
  o.create_if_missing = false;
  return o;
}
StoreOptions NoSync() {
  StoreOptions o;
  o.sync = false;
  return o;
}

std::unique_ptr<Store> MustOpen(const std::string& dir, StoreOptions opts = {}) {
  auto s = Store::Open(dir, std::move(opts));
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return s.ok() ? std::move(s).value() : nullptr;
}

TEST(StoreTest, EmptyStoreHasUninitializedMeta) {
  ScratchDir d;
  auto store = MustOpen(d.db());
  auto meta = store->Meta();
  ASSERT_TRUE(meta.ok());
  EXPECT_EQ(*meta, ChainMeta{});
  EXPECT_EQ(store->GetBlock(0).status().code(), StatusCode::kNotFound);
}

TEST(StoreTest, CommitThenReadEverything) {
  ScratchDir d;
  auto store = MustOpen(d.db());
  for (uint64_t h = 0; h < 3; ++h) ASSERT_TRUE(store->Commit(MakeCommit(h)).ok());

  auto meta = store->Meta();
  ASSERT_TRUE(meta.ok());
  EXPECT_EQ(*meta, MakeCommit(2).meta);

  for (uint64_t h = 0; h < 3; ++h) {
    auto block = store->GetBlock(h);
    ASSERT_TRUE(block.ok());
    EXPECT_EQ(*block, MakeCommit(h).block);
    for (uint32_t i = 0; i < 3; ++i) {
      auto loc = store->FindTx(testing::FakeHash(2, h, i));
      ASSERT_TRUE(loc.ok());
      ASSERT_TRUE(loc->has_value());
      EXPECT_EQ(**loc, (TxLocation{h, i}));
      auto v = store->GetState(testing::StateKey(h, i));
      ASSERT_TRUE(v.ok());
      ASSERT_TRUE(v->has_value());
      EXPECT_EQ(**v, testing::StateValue(h, i));
    }
  }
  auto missing = store->GetBlock(3);
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  auto unknown_tx = store->FindTx(testing::FakeHash(9, 9));
  ASSERT_TRUE(unknown_tx.ok());
  EXPECT_FALSE(unknown_tx->has_value());
  auto unknown_key = store->GetState("no/such/key");
  ASSERT_TRUE(unknown_key.ok());
  EXPECT_FALSE(unknown_key->has_value());
}

TEST(StoreTest, ForEachTxVisitsTheWholeIndexInIdOrder) {
  ScratchDir d;
  auto store = MustOpen(d.db());
  for (uint64_t h = 0; h < 3; ++h) ASSERT_TRUE(store->Commit(MakeCommit(h)).ok());
  std::map<Hash32, TxLocation> want;
  for (uint64_t h = 0; h < 3; ++h)
    for (const auto& [id, loc] : MakeCommit(h).txs) want[id] = loc;
  std::vector<std::pair<Hash32, TxLocation>> got;
  ASSERT_TRUE(store->ForEachTx([&](const Hash32& id, const TxLocation& loc) {
    got.emplace_back(id, loc);
    return true;
  }).ok());
  std::vector<std::pair<Hash32, TxLocation>> want_in_order(want.begin(), want.end());
  EXPECT_EQ(got, want_in_order);
  size_t seen = 0;
  ASSERT_TRUE(store->ForEachTx([&](const Hash32&, const TxLocation&) { return ++seen < 2; }).ok());
  EXPECT_EQ(seen, 2u);
}

TEST(StoreTest, EmptyBlockAndBinaryKeys) {
  ScratchDir d;
  auto store = MustOpen(d.db());
  BlockCommit c = MakeCommit(0, 0, 0);
  std::string binary_key("a\0b\xff", 4);
  c.state_writes.push_back({binary_key, Bytes{}});
  ASSERT_TRUE(store->Commit(c).ok());
  auto block = store->GetBlock(0);
  ASSERT_TRUE(block.ok());
  EXPECT_TRUE(block->empty());
  auto v = store->GetState(binary_key);
  ASSERT_TRUE(v.ok());
  ASSERT_TRUE(v->has_value());
  EXPECT_TRUE((*v)->empty());
  EXPECT_FALSE(store->GetState(std::string("a\0b", 3))->has_value());
}

TEST(StoreTest, CommitMustExtendTheChain) {
  ScratchDir d;
  auto store = MustOpen(d.db());
  EXPECT_EQ(store->Commit(MakeCommit(1)).code(), StatusCode::kFailedPrecondition);
  ASSERT_TRUE(store->Commit(MakeCommit(0)).ok());
  EXPECT_EQ(store->Commit(MakeCommit(0)).code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(store->Commit(MakeCommit(2)).code(), StatusCode::kFailedPrecondition);
  ASSERT_TRUE(store->Commit(MakeCommit(1)).ok());
  // Nothing of the rejected commits was written.
  EXPECT_EQ(store->GetBlock(2).status().code(), StatusCode::kNotFound);
  EXPECT_FALSE(store->FindTx(testing::FakeHash(2, 2, 0))->has_value());
  EXPECT_EQ(store->Meta()->height, 1u);
}

TEST(StoreTest, CommitRejectsInconsistentRequests) {
  ScratchDir d;
  auto store = MustOpen(d.db());
  BlockCommit c = MakeCommit(0);
  c.meta.height = 1;
  EXPECT_EQ(store->Commit(c).code(), StatusCode::kInvalidArgument);
  c = MakeCommit(0);
  c.meta.initialized = false;
  EXPECT_EQ(store->Commit(c).code(), StatusCode::kInvalidArgument);
  c = MakeCommit(0);
  c.meta.last_block_hash[5] ^= 1;
  EXPECT_EQ(store->Commit(c).code(), StatusCode::kInvalidArgument);
  c = MakeCommit(0);
  c.txs[1].second.height = 7;
  EXPECT_EQ(store->Commit(c).code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(store->Meta()->initialized);
}

TEST(StoreTest, NulloptDeletesStateKey) {
  ScratchDir d;
  auto store = MustOpen(d.db());
  ASSERT_TRUE(store->Commit(MakeCommit(0)).ok());
  BlockCommit c = MakeCommit(1, 0);
  c.state_writes.push_back({testing::StateKey(0, 1), std::nullopt});
  c.state_writes.push_back({"never/existed", std::nullopt});
  // Writes apply in order: put then delete in one block leaves nothing.
  c.state_writes.push_back({"put/then/delete", ToBytes("x")});
  c.state_writes.push_back({"put/then/delete", std::nullopt});
  ASSERT_TRUE(store->Commit(c).ok());
  EXPECT_FALSE(store->GetState(testing::StateKey(0, 1))->has_value());
  EXPECT_TRUE(store->GetState(testing::StateKey(0, 0))->has_value());
  EXPECT_FALSE(store->GetState("put/then/delete")->has_value());
  EXPECT_FALSE(store->GetState("never/existed")->has_value());
}

TEST(StoreTest, ScanStateVisitsPrefixInOrder) {
  ScratchDir d;
  auto store = MustOpen(d.db());
  BlockCommit c = MakeCommit(0, 0);
  for (const char* k : {"consent/p1/b", "consent/p1/a", "consent/p2/a", "consent/p1", "consent/p0/z",
                        "consent/p1/c", "other"}) {
    c.state_writes.push_back({k, ToBytes(std::string("v:") + k)});
  }
  c.state_writes.push_back({std::string("consent/p1/\xff\xff", 13), ToBytes("ff")});
  c.state_writes.push_back({"consent/p1/c", std::nullopt});
  ASSERT_TRUE(store->Commit(c).ok());

  std::vector<std::string> seen;
  ASSERT_TRUE(store
                  ->ScanState("consent/p1/",
                              [&](std::string_view k, std::string_view v) {
                                if (v != "ff") {
                                  EXPECT_EQ(v, "v:" + std::string(k));
                                }
                                seen.emplace_back(k);
                                return true;
                              })
                  .ok());
  EXPECT_EQ(seen, (std::vector<std::string>{"consent/p1/a", "consent/p1/b",
                                            std::string("consent/p1/\xff\xff", 13)}));

  // Early stop.
  seen.clear();
  ASSERT_TRUE(store->ScanState("consent/", [&](std::string_view k, std::string_view) {
                     seen.emplace_back(k);
                     return seen.size() < 2;
                   }).ok());
  EXPECT_EQ(seen, (std::vector<std::string>{"consent/p0/z", "consent/p1"}));

  // Empty prefix: everything; no match: nothing.
  int all = 0;
  ASSERT_TRUE(store->ScanState("", [&](std::string_view, std::string_view) { return ++all, true; }).ok());
  EXPECT_EQ(all, 7);
  int none = 0;
  ASSERT_TRUE(
      store->ScanState("zzz", [&](std::string_view, std::string_view) { return ++none, true; }).ok());
  EXPECT_EQ(none, 0);
  // A prefix of 0xff bytes has no upper bound; the scan must still stop.
  int ff = 0;
  ASSERT_TRUE(store->ScanState("\xff", [&](std::string_view, std::string_view) { return ++ff, true; })
                  .ok());
  EXPECT_EQ(ff, 0);
}

TEST(StoreTest, ForEachBlockInHeightOrder) {
  ScratchDir d;
  auto store = MustOpen(d.db());
  // Heights past 255 and 65535 check that keys sort numerically.
  const uint64_t n = 300;
  for (uint64_t h = 0; h < n; ++h) ASSERT_TRUE(store->Commit(MakeCommit(h, 1, 16)).ok());
  std::vector<uint64_t> heights;
  ASSERT_TRUE(store->ForEachBlock(0, [&](uint64_t h, std::span<const uint8_t> b) {
                     EXPECT_EQ(Bytes(b.begin(), b.end()), MakeCommit(h, 1, 16).block);
                     heights.push_back(h);
                     return true;
                   }).ok());
  ASSERT_EQ(heights.size(), n);
  for (uint64_t i = 0; i < n; ++i) EXPECT_EQ(heights[i], i);

  heights.clear();
  ASSERT_TRUE(store->ForEachBlock(250, [&](uint64_t h, std::span<const uint8_t>) {
                     heights.push_back(h);
                     return h < 255;
                   }).ok());
  EXPECT_EQ(heights, (std::vector<uint64_t>{250, 251, 252, 253, 254, 255}));

  heights.clear();
  ASSERT_TRUE(store->ForEachBlock(n, [&](uint64_t h, std::span<const uint8_t>) {
                     heights.push_back(h);
                     return true;
                   }).ok());
  EXPECT_TRUE(heights.empty());
}

TEST(StoreTest, MetaKeysRoundTripAndReservedKeysAreRefused) {
  ScratchDir d;
  {
    auto store = MustOpen(d.db());
    ASSERT_TRUE(store->PutMeta("genesis", ToBytes("genesis-bytes")).ok());
    ASSERT_TRUE(store->PutMeta("node/config", Bytes{1, 2, 3}).ok());
    ASSERT_TRUE(store->PutMeta("node/config", Bytes{4}).ok());
    EXPECT_EQ(store->PutMeta("", Bytes{1}).code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(store->PutMeta(std::string("\0chain", 6), Bytes{1}).code(),
              StatusCode::kInvalidArgument);
    EXPECT_EQ(store->GetMeta(std::string("\0schema", 7)).status().code(),
              StatusCode::kInvalidArgument);
    auto missing = store->GetMeta("absent");
    ASSERT_TRUE(missing.ok());
    EXPECT_FALSE(missing->has_value());
  }
  auto store = MustOpen(d.db());
  EXPECT_EQ(store->GetMeta("genesis")->value(), ToBytes("genesis-bytes"));
  EXPECT_EQ(store->GetMeta("node/config")->value(), Bytes{4});
  // Chain meta is untouched by misc metadata.
  EXPECT_FALSE(store->Meta()->initialized);
}

TEST(StoreTest, ReopenKeepsEverything) {
  ScratchDir d;
  {
    auto store = MustOpen(d.db());
    for (uint64_t h = 0; h < 20; ++h) ASSERT_TRUE(store->Commit(MakeCommit(h)).ok());
  }
  {
    auto store = MustOpen(d.db(), NoCreate());
    EXPECT_EQ(*store->Meta(), MakeCommit(19).meta);
    ASSERT_TRUE(store->Commit(MakeCommit(20)).ok());
  }
  auto store = MustOpen(d.db());
  EXPECT_EQ(*store->Meta(), MakeCommit(20).meta);
  for (uint64_t h = 0; h <= 20; ++h) {
    EXPECT_EQ(*store->GetBlock(h), MakeCommit(h).block);
    EXPECT_EQ(store->FindTx(testing::FakeHash(2, h, 2))->value(), (TxLocation{h, 2}));
  }
}

TEST(StoreTest, CompactAllKeepsLiveDataAndDropsDeleted) {
  ScratchDir d;
  auto store = MustOpen(d.db());
  for (uint64_t h = 0; h < 50; ++h) ASSERT_TRUE(store->Commit(MakeCommit(h, 3, 2000)).ok());
  BlockCommit c = MakeCommit(50, 0);
  for (uint64_t h = 0; h < 50; ++h) c.state_writes.push_back({testing::StateKey(h, 0), std::nullopt});
  ASSERT_TRUE(store->Commit(c).ok());
  ASSERT_TRUE(store->CompactAll().ok());
  ASSERT_TRUE(store->CompactAll().ok());  // idempotent
  EXPECT_EQ(*store->Meta(), c.meta);
  for (uint64_t h = 0; h < 50; ++h) {
    EXPECT_EQ(*store->GetBlock(h), MakeCommit(h, 3, 2000).block);
    EXPECT_FALSE(store->GetState(testing::StateKey(h, 0))->has_value());
    EXPECT_TRUE(store->GetState(testing::StateKey(h, 1))->has_value());
  }
  // The deleted values are gone from the files, not only hidden.
  std::string needle = "v" + std::to_string(7 * 1000 + 0);
  for (const auto& e : std::filesystem::directory_iterator(d.db())) {
    if (e.path().extension() != ".sst" && e.path().extension() != ".log") continue;
    std::ifstream in(e.path(), std::ios::binary);
    std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_EQ(content.find(testing::StateKey(7, 0) + needle), std::string::npos) << e.path();
  }
}

TEST(StoreTest, OpenMissingDirWithoutCreateIsNotFound) {
  ScratchDir d;
  auto s = Store::Open(d.path() + "/absent", NoCreate());
  EXPECT_EQ(s.status().code(), StatusCode::kNotFound);
  EXPECT_FALSE(std::filesystem::exists(d.path() + "/absent"));
  // An existing but empty directory is not a store either.
  auto e = Store::Open(d.path(), NoCreate());
  EXPECT_EQ(e.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(Store::Open("", {}).status().code(), StatusCode::kInvalidArgument);
}

TEST(StoreTest, OpenCorruptStoreIsDataLoss) {
  ScratchDir d;
  {
    auto store = MustOpen(d.db());
    ASSERT_TRUE(store->Commit(MakeCommit(0)).ok());
  }
  // CURRENT names a manifest that does not exist.
  {
    std::ofstream out(d.db() + "/CURRENT", std::ios::trunc);
    out << "MANIFEST-999999\n";
  }
  auto s = Store::Open(d.db(), {});
  ASSERT_FALSE(s.ok());
  EXPECT_TRUE(s.status().code() == StatusCode::kDataLoss ||
              s.status().code() == StatusCode::kUnavailable)
      << s.status().ToString();
  // Garbage in CURRENT.
  {
    std::ofstream out(d.db() + "/CURRENT", std::ios::trunc);
    out << "garbage without newline";
  }
  s = Store::Open(d.db(), {});
  EXPECT_EQ(s.status().code(), StatusCode::kDataLoss) << s.status().ToString();
  EXPECT_NE(s.status().message().find("ledger:"), std::string::npos);
}

TEST(StoreTest, OpenCorruptManifestIsDataLoss) {
  ScratchDir d;
  {
    auto store = MustOpen(d.db());
    ASSERT_TRUE(store->Commit(MakeCommit(0)).ok());
  }
  for (const auto& e : std::filesystem::directory_iterator(d.db())) {
    if (e.path().filename().string().rfind("MANIFEST-", 0) != 0) continue;
    std::fstream f(e.path(), std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(0);
    f << std::string(64, '\x5a');
  }
  auto s = Store::Open(d.db(), {});
  EXPECT_EQ(s.status().code(), StatusCode::kDataLoss) << s.status().ToString();
}

TEST(StoreTest, OpenForeignRocksDbIsRefused) {
  ScratchDir d;
  {
    rocksdb::Options o;
    o.create_if_missing = true;
    rocksdb::DB* raw = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(o, d.db(), &raw).ok());
    std::unique_ptr<rocksdb::DB> db(raw);
    rocksdb::ColumnFamilyHandle* h = nullptr;
    ASSERT_TRUE(db->CreateColumnFamily(rocksdb::ColumnFamilyOptions(), "foreign", &h).ok());
    ASSERT_TRUE(db->DestroyColumnFamilyHandle(h).ok());
  }
  auto s = Store::Open(d.db(), {});
  EXPECT_EQ(s.status().code(), StatusCode::kFailedPrecondition) << s.status().ToString();
}

TEST(StoreTest, SecondOpenOfSameDirIsUnavailable) {
  ScratchDir d;
  auto first = MustOpen(d.db());
  auto second = Store::Open(d.db(), {});
  EXPECT_EQ(second.status().code(), StatusCode::kUnavailable) << second.status().ToString();
}

TEST(StoreTest, OpenOnAFileFails) {
  ScratchDir d;
  std::ofstream(d.path() + "/file") << "x";
  auto s = Store::Open(d.path() + "/file", {});
  EXPECT_FALSE(s.ok());
}

TEST(StoreTest, ConcurrentReadersSeeWholeCommits) {
  ScratchDir d;
  auto store = MustOpen(d.db(), NoSync());
  ASSERT_TRUE(store->Commit(MakeCommit(0)).ok());
  std::atomic<bool> done{false};
  std::atomic<int> failures{0};
  auto reader = [&] {
    while (!done.load()) {
      auto meta = store->Meta();
      if (!meta.ok()) { ++failures; continue; }
      const uint64_t h = meta->height;
      // Everything at or below the observed meta height must be readable.
      auto block = store->GetBlock(h);
      auto tx = store->FindTx(testing::FakeHash(2, h, 2));
      auto v = store->GetState(testing::StateKey(h, 2));
      if (!block.ok() || *block != MakeCommit(h).block || !tx.ok() || !tx->has_value() ||
          !v.ok() || !v->has_value()) {
        ++failures;
      }
    }
  };
  std::thread r1(reader), r2(reader);
  for (uint64_t h = 1; h < 300; ++h) ASSERT_TRUE(store->Commit(MakeCommit(h)).ok());
  done = true;
  r1.join();
  r2.join();
  EXPECT_EQ(failures.load(), 0);
}

TEST(StoreTest, RacingCommittersAcceptExactlyOnePerHeight) {
  ScratchDir d;
  auto store = MustOpen(d.db(), NoSync());
  std::atomic<int> accepted{0};
  auto committer = [&] {
    for (uint64_t h = 0; h < 100; ++h) {
      // Retry until the height is taken by one of the two threads.
      while (store->Meta()->initialized == false || store->Meta()->height < h) {
        if (store->Commit(MakeCommit(h)).ok()) ++accepted;
      }
    }
  };
  std::thread a(committer), b(committer);
  a.join();
  b.join();
  EXPECT_EQ(accepted.load(), 100);
  EXPECT_EQ(store->Meta()->height, 99u);
}

}  // namespace
}  // namespace medledger::ledger

namespace medledger::ledger {
namespace {

// Every read path agrees with a plain model whether the entries are staged,
// being ingested, ingested, or replayed from the journal after a reopen.
void CheckAgainstModel(Store& store, uint64_t blocks, const std::map<std::string, std::string>& model) {
  for (uint64_t h = 0; h < blocks; ++h)
    for (uint32_t i = 0; i < 3; ++i)
      EXPECT_EQ(store.FindTx(testing::FakeHash(2, h, i))->value(), (TxLocation{h, i})) << h << "/" << i;
  for (const auto& [k, v] : model) EXPECT_EQ(store.GetState(k)->value(), ToBytes(v)) << k;
  EXPECT_FALSE(store.GetState(testing::StateKey(5, 0))->has_value());  // deleted
  std::map<std::string, std::string> seen;
  ASSERT_TRUE(store.ScanState("k/1", [&](std::string_view k, std::string_view v) {
    EXPECT_TRUE(seen.empty() || seen.rbegin()->first < k);
    seen.emplace(k, v);
    return true;
  }).ok());
  std::map<std::string, std::string> want;
  for (const auto& [k, v] : model)
    if (k.rfind("k/1", 0) == 0) want.emplace(k, v);
  EXPECT_EQ(seen, want);
  uint64_t n = 0;
  Hash32 prev{};
  ASSERT_TRUE(store.ForEachTx([&](const Hash32& id, const TxLocation&) {
    EXPECT_TRUE(n == 0 || prev < id);
    prev = id;
    n++;
    return true;
  }).ok());
  EXPECT_EQ(n, blocks * 3);
}

TEST(StoreTest, StagedEntriesReadTheSameBeforeAndAfterIngestion) {
  ScratchDir d;
  StoreOptions o;
  o.point_state_prefixes = {"k/"};
  o.stage_entries = 10;  // ingest every other block, in the background
  std::map<std::string, std::string> model;
  const uint64_t blocks = 40;
  {
    auto store = MustOpen(d.db(), o);
    for (uint64_t h = 0; h < blocks; ++h) {
      BlockCommit c = MakeCommit(h);
      if (h == 30) c.state_writes.push_back({testing::StateKey(5, 0), std::nullopt});
      for (const auto& [k, v] : c.state_writes)
        if (v) model[k] = std::string(v->begin(), v->end());
      ASSERT_TRUE(store->Commit(c).ok());
    }
    model.erase(testing::StateKey(5, 0));
    CheckAgainstModel(*store, blocks, model);
    ASSERT_TRUE(store->Commit(MakeCommit(blocks)).ok());  // left in the journal
  }
  for (uint32_t i = 0; i < 3; ++i) model[testing::StateKey(blocks, i)] = "v" + std::to_string(blocks * 1000 + i);
  {
    // Reopened without staging: the journal is ingested at open.
    auto store = MustOpen(d.db(), NoCreate());
    CheckAgainstModel(*store, blocks + 1, model);
    ASSERT_TRUE(store->FlushStaged().ok());
    CheckAgainstModel(*store, blocks + 1, model);
  }
}

TEST(StoreTest, ClearedStagedTableForgetsEverythingAndFillsAgain) {
  StagedWrites w;
  for (uint32_t i = 0; i < 10000; ++i) w.AddTx(testing::FakeHash(1, 3, i), TxLocation{3, i});
  w.AddState("k/a", Bytes{1});
  w.AddState("k/b", std::nullopt);
  w.CoverHeight(3);
  w.Clear();
  EXPECT_TRUE(w.empty());
  EXPECT_EQ(w.FindTx(testing::FakeHash(1, 3, 0)), nullptr);
  std::optional<std::string_view> v;
  EXPECT_FALSE(w.FindState("k/a", &v));
  EXPECT_FALSE(w.FindState("k/b", &v));
  EXPECT_TRUE(w.SortedTxs().empty());
  w.AddTx(testing::FakeHash(1, 4, 0), TxLocation{4, 0});
  w.AddState("k/c", Bytes{2});
  w.CoverHeight(4);
  EXPECT_EQ(w.entries(), 2u);
  EXPECT_EQ(w.first_height(), 4u);
  EXPECT_EQ(*w.FindTx(testing::FakeHash(1, 4, 0)), (TxLocation{4, 0}));
  ASSERT_TRUE(w.FindState("k/c", &v));
  EXPECT_EQ(*v, std::string_view("\x02", 1));
}

TEST(StoreTest, MalformedJournalRecordIsDataLoss) {
  StagedWrites w;
  EXPECT_EQ(ApplyJournal(7, "garbage", &w).code(), StatusCode::kDataLoss);
  Bytes ok = EncodeJournal({{testing::FakeHash(2, 7, 0), TxLocation{7, 0}}}, {});
  EXPECT_TRUE(ApplyJournal(7, AsStringView(ok), &w).ok());
  EXPECT_EQ(*w.FindTx(testing::FakeHash(2, 7, 0)), (TxLocation{7, 0}));
  ok.push_back(0);
  EXPECT_EQ(ApplyJournal(8, AsStringView(ok), &w).code(), StatusCode::kDataLoss);
}

}  // namespace
}  // namespace medledger::ledger
