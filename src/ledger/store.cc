#include "ledger/store.h"

#include <rocksdb/cache.h>
#include <rocksdb/convenience.h>
#include <rocksdb/db.h>
#include <rocksdb/env.h>
#include <rocksdb/file_system.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/options.h>
#include <rocksdb/sst_file_writer.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <condition_variable>
#include <map>
#include <mutex>
#include <shared_mutex>
#include <thread>

#include "ledger/staging.h"
#include "ledger/store_testing.h"
#include "storage/rocksdb_status.h"

namespace medledger::ledger {
namespace {

// Column families, in the order of Impl::cfs. "default" is required by
// RocksDB and kept empty.
enum Cf : size_t { kDefault = 0, kBlocks, kTxIndex, kState, kMeta, kNumCfs };
constexpr const char* kCfNames[kNumCfs] = {"default", "blocks", "txindex", "state", "meta"};

// Reserved meta keys start with 0x00; PutMeta refuses such keys.
const std::string kChainMetaKey("\x00" "chain", 6);
const std::string kSchemaKey("\x00" "schema", 7);
// 2: tx-index entries and point-keyed state may wait in journal records
// (ledger/staging.h). A version-1 store has no journal and opens as is.
constexpr uint32_t kSchemaVersion = 2;
constexpr uint8_t kChainMetaVersion = 1;
constexpr size_t kChainMetaSize = 1 + 8 + 32 + 32 + 8 + 1;
constexpr size_t kTxLocationSize = 8 + 4;

// Converts a RocksDB status at the module edge (storage/rocksdb_status.h).
// Pass `with_detail` while opening.
Status FromRocks(const rocksdb::Status& s, const std::string& what, bool with_detail = false) {
  return storage::FromRocks(s, "ledger", what, with_detail);
}

std::string HeightKey(uint64_t h) {
  std::string k(8, '\0');
  for (int i = 0; i < 8; ++i) k[i] = char(uint8_t(h >> (8 * (7 - i))));
  return k;
}

uint64_t DecodeU64(const char* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | uint8_t(p[i]);
  return v;
}

rocksdb::Slice AsSlice(const Bytes& b) {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}
template <size_t N>
rocksdb::Slice AsSlice(const std::array<uint8_t, N>& a) {
  return {reinterpret_cast<const char*>(a.data()), N};
}
Bytes ToBytes(const rocksdb::Slice& s) {
  return Bytes(reinterpret_cast<const uint8_t*>(s.data()),
               reinterpret_cast<const uint8_t*>(s.data()) + s.size());
}

Bytes EncodeChainMeta(const ChainMeta& m) {
  Bytes out;
  out.reserve(kChainMetaSize);
  ByteWriter w(&out);
  w.U8(kChainMetaVersion);
  w.U64(m.height);
  w.Raw(m.last_block_hash);
  w.Raw(m.state_root);
  w.U64(m.committed_txs);
  w.U8(m.initialized ? 1 : 0);
  return out;
}

Result<ChainMeta> DecodeChainMeta(const rocksdb::Slice& v) {
  ByteReader r(std::string_view(v.data(), v.size()));
  ChainMeta m;
  uint8_t version = r.U8();
  m.height = r.U64();
  m.last_block_hash = r.Fixed<32>();
  m.state_root = r.Fixed<32>();
  m.committed_txs = r.U64();
  uint8_t init = r.U8();
  if (!r.ok() || !r.AtEnd() || version != kChainMetaVersion || init > 1) {
    return DataLoss("ledger: chain meta record is malformed");
  }
  m.initialized = init == 1;
  return m;
}

Bytes EncodeTxLocation(const TxLocation& loc) {
  Bytes out;
  out.reserve(kTxLocationSize);
  ByteWriter w(&out);
  w.U64(loc.height);
  w.U32(loc.index);
  return out;
}

// The smallest string greater than every string with this prefix, or "" if
// there is none (prefix is empty or all 0xff).
std::string PrefixSuccessor(std::string_view prefix) {
  std::string s(prefix);
  while (!s.empty() && uint8_t(s.back()) == 0xff) s.pop_back();
  if (!s.empty()) s.back() = char(uint8_t(s.back()) + 1);
  return s;
}

rocksdb::CompressionType PickBlockCompression() {
  std::vector<rocksdb::CompressionType> supported = rocksdb::GetSupportedCompressions();
  auto has = [&](rocksdb::CompressionType t) {
    return std::find(supported.begin(), supported.end(), t) != supported.end();
  };
  for (auto t : {rocksdb::kZSTD, rocksdb::kLZ4Compression, rocksdb::kSnappyCompression}) {
    if (has(t)) return t;
  }
  return rocksdb::kNoCompression;
}

rocksdb::CompressionType PickFastCompression() {
  std::vector<rocksdb::CompressionType> supported = rocksdb::GetSupportedCompressions();
  for (auto t : {rocksdb::kLZ4Compression, rocksdb::kSnappyCompression}) {
    if (std::find(supported.begin(), supported.end(), t) != supported.end()) return t;
  }
  return rocksdb::kNoCompression;
}

rocksdb::ColumnFamilyOptions CfOptions(Cf cf, const std::shared_ptr<rocksdb::Cache>& cache) {
  rocksdb::ColumnFamilyOptions o;
  o.level_compaction_dynamic_level_bytes = true;
  rocksdb::BlockBasedTableOptions t;
  t.block_cache = cache;
  t.cache_index_and_filter_blocks = true;
  t.pin_l0_filter_and_index_blocks_in_cache = true;
  switch (cf) {
    case kBlocks:
      // Point reads by height and sequential scans; values are whole blocks.
      t.block_size = 64 << 10;
      // Flushes run on the node's own cores while it takes load, so new
      // files get the fast codec; zstd's better ratio is kept for the bottom
      // level, written by compaction once blocks have settled.
      o.compression = PickFastCompression();
      o.bottommost_compression = PickBlockCompression();
      break;
    case kTxIndex:
      // Random 32-byte keys, 12-byte values: incompressible; lookups of
      // absent ids (duplicate checks) are common, so a filter pays off.
      t.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
      o.compression = rocksdb::kNoCompression;
      break;
    case kState:
      t.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
      o.compression = PickFastCompression();
      // Most reads during admission and execution ask for keys that do not
      // exist yet (a new anchor, a new record); a memtable bloom filter
      // answers those without a skiplist search (7% of node CPU before).
      o.memtable_prefix_bloom_size_ratio = 0.05;
      o.memtable_whole_key_filtering = true;
      break;
    default:
      break;
  }
  o.table_factory.reset(rocksdb::NewBlockBasedTableFactory(t));
  return o;
}

}  // namespace

struct Store::Impl {
  std::shared_ptr<StoreTestHooks> testing;  // null in the node
  std::unique_ptr<rocksdb::Env> env;  // set only with a test file system
  std::shared_ptr<rocksdb::FileSystem> fs;
  std::unique_ptr<rocksdb::DB> db;
  std::vector<rocksdb::ColumnFamilyHandle*> cfs;
  rocksdb::WriteOptions commit_write;
  std::mutex commit_mu;  // serializes Commit's read-check-write

  // Staged writes (ledger/staging.h). Lock order: commit_mu, ingest_mu,
  // staged_mu. Commit writes to RocksDB first, then takes staged_mu
  // exclusively just to add the block's staged entries and publish its meta:
  // holding it across the synced write stalled every reader (the admission
  // checks) for an fsync per block. Meta() returns the published meta, so a
  // reader that reads Meta first finds every entry at or below its height.
  ChainMeta meta;  // requires staged_mu
  std::string ingest_dir;
  rocksdb::DBOptions db_opts;
  std::shared_ptr<rocksdb::Cache> cache;
  std::vector<std::string> point_prefixes;
  size_t stage_entries = 0;
  mutable std::shared_mutex staged_mu;
  std::unique_ptr<StagedWrites> active = std::make_unique<StagedWrites>();
  std::unique_ptr<StagedWrites> frozen;  // being ingested; immutable while set
  std::unique_ptr<StagedWrites> spare;   // an empty table, sized, for the next Freeze
  bool active_sized = false;             // requires commit_mu
  std::mutex ingest_mu;                  // one ingestion at a time
  uint64_t ingest_seq = 0;               // requires ingest_mu
  std::mutex signal_mu;
  std::condition_variable signal_cv;
  bool signal = false, stop = false;  // require signal_mu
  std::thread ingester;

  bool IsPointKey(std::string_view key) const {
    for (const auto& p : point_prefixes)
      if (key.substr(0, p.size()) == p) return true;
    return false;
  }
  // Whether a scan of `prefix` can reach staged keys.
  bool ScanReachesStaged(std::string_view prefix) const {
    for (const auto& p : point_prefixes)
      if (prefix.substr(0, p.size()) == p || std::string_view(p).substr(0, prefix.size()) == prefix) return true;
    return false;
  }
  Status WriteSst(Cf cf, const std::string& path,
                  const std::function<rocksdb::Status(rocksdb::SstFileWriter&)>& fill) const;
  // Freezes the active table and starts an empty one; requires staged_mu
  // (exclusive) and no frozen table.
  void Freeze() {
    frozen = std::move(active);
    // The ingester prepares the spare; without one (it has not run yet), a
    // table that grows as needed, since sizing one here would fault in its
    // pages inside the lock.
    active = spare ? std::move(spare) : std::make_unique<StagedWrites>();
  }
  Status IngestFrozen();  // requires ingest_mu
  Status Recover();       // at open, before anything else runs
  void IngesterLoop();

  ~Impl() {
    if (ingester.joinable()) {
      {
        std::lock_guard l(signal_mu);
        stop = true;
      }
      signal_cv.notify_all();
      ingester.join();
    }
    if (db) {
      for (auto* h : cfs) {
        if (h) db->DestroyColumnFamilyHandle(h).PermitUncheckedError();
      }
      db->Close().PermitUncheckedError();
      db.reset();
    }
  }

  Result<std::optional<Bytes>> Get(Cf cf, const rocksdb::Slice& key, const std::string& what) const {
    rocksdb::PinnableSlice v;
    rocksdb::Status s = db->Get(rocksdb::ReadOptions(), cfs[cf], key, &v);
    if (s.IsNotFound()) return std::optional<Bytes>();
    if (!s.ok()) return FromRocks(s, what);
    return std::optional<Bytes>(ToBytes(v));
  }

  Result<ChainMeta> ReadMeta() const {
    rocksdb::PinnableSlice v;
    rocksdb::Status s = db->Get(rocksdb::ReadOptions(), cfs[kMeta], kChainMetaKey, &v);
    if (s.IsNotFound()) return ChainMeta{};
    if (!s.ok()) return FromRocks(s, "reading chain meta");
    return DecodeChainMeta(v);
  }
};

Status Store::Impl::WriteSst(Cf cf, const std::string& path,
                             const std::function<rocksdb::Status(rocksdb::SstFileWriter&)>& fill) const {
  rocksdb::Options o(db_opts, CfOptions(cf, cache));
  rocksdb::SstFileWriter w(rocksdb::EnvOptions(), o, cfs[cf]);
  rocksdb::Status s = w.Open(path);
  if (s.ok()) s = fill(w);
  if (s.ok()) s = w.Finish();  // syncs the file
  return FromRocks(s, std::string("writing staged ") + kCfNames[cf] + " entries to " + path);
}

Status Store::Impl::IngestFrozen() {
  const StagedWrites* f;
  {
    std::shared_lock l(staged_mu);
    f = frozen.get();
  }
  if (!f) return Status::Ok();
  const uint64_t n = ++ingest_seq;
  std::vector<rocksdb::IngestExternalFileArg> args;
  std::vector<std::string> files;
  auto add = [&](Cf cf, const std::string& path) {
    files.push_back(path);
    rocksdb::IngestExternalFileArg a;
    a.column_family = cfs[cf];
    a.external_files = {path};
    a.options.move_files = true;  // a hard link; RocksDB copies where it cannot link
    args.push_back(std::move(a));
  };
  auto cleanup = [&] {
    for (const auto& path : files) fs->DeleteFile(path, rocksdb::IOOptions(), nullptr).PermitUncheckedError();
  };
  Status st = Status::Ok();
  if (auto txs = f->SortedTxs(); !txs.empty()) {
    add(kTxIndex, ingest_dir + "/" + std::to_string(n) + "-txindex.sst");
    st = WriteSst(kTxIndex, files.back(), [&](rocksdb::SstFileWriter& w) {
      rocksdb::Status s;
      for (const auto& [id, loc] : txs) {
        s = w.Put(AsSlice(id), AsSlice(EncodeTxLocation(loc)));
        if (!s.ok()) break;
      }
      return s;
    });
  }
  if (auto state = f->SortedState(""); st.ok() && !state.empty()) {
    add(kState, ingest_dir + "/" + std::to_string(n) + "-state.sst");
    st = WriteSst(kState, files.back(), [&](rocksdb::SstFileWriter& w) {
      rocksdb::Status s;
      for (const auto& [key, value] : state) {
        rocksdb::Slice k(key.data(), key.size());
        s = value ? w.Put(k, rocksdb::Slice(value->data(), value->size())) : w.Delete(k);
        if (!s.ok()) break;
      }
      return s;
    });
  }
  // All column families at once: a crash leaves either every entry of the
  // table ingested or none (the journal still has them).
  if (st.ok() && !args.empty()) st = FromRocks(db->IngestExternalFiles(args), "ingesting staged entries");
  cleanup();
  if (!st.ok()) return st;
  if (f->covers_any()) {
    // Point deletes: a range tombstone would slow every later read of meta.
    rocksdb::WriteBatch del;
    for (uint64_t h = f->first_height(); h <= f->last_height(); ++h) {
      rocksdb::Status s = del.Delete(cfs[kMeta], JournalKey(h));
      if (!s.ok()) return FromRocks(s, "deleting journal records");
    }
    rocksdb::WriteOptions w;
    w.sync = commit_write.sync;
    ML_RETURN_IF_ERROR(FromRocks(db->Write(w, &del), "deleting journal records"));
  }
  std::unique_ptr<StagedWrites> done;
  {
    std::unique_lock l(staged_mu);
    done = std::move(frozen);
  }
  done->Clear();  // outside the lock: it touches the whole table
  std::unique_lock l(staged_mu);
  if (!spare) spare = std::move(done);
  return Status::Ok();
}

Status Store::Impl::Recover() {
  ML_RETURN_IF_ERROR(FromRocks(fs->CreateDirIfMissing(ingest_dir, rocksdb::IOOptions(), nullptr),
                               "creating " + ingest_dir, true));
  std::vector<std::string> leftovers;  // from an ingestion a crash interrupted
  ML_RETURN_IF_ERROR(FromRocks(fs->GetChildren(ingest_dir, rocksdb::IOOptions(), &leftovers, nullptr),
                               "listing " + ingest_dir, true));
  for (const auto& name : leftovers) {
    if (name == "." || name == "..") continue;
    fs->DeleteFile(ingest_dir + "/" + name, rocksdb::IOOptions(), nullptr).PermitUncheckedError();
  }
  auto rec = std::make_unique<StagedWrites>();
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions(), cfs[kMeta]));
  for (it->Seek(kJournalPrefix); it->Valid() && it->key().starts_with(kJournalPrefix); it->Next()) {
    rocksdb::Slice k = it->key();
    if (k.size() != kJournalPrefix.size() + 8) return DataLoss("ledger: malformed journal key");
    rocksdb::Slice v = it->value();
    ML_RETURN_IF_ERROR(ApplyJournal(DecodeU64(k.data() + kJournalPrefix.size()), std::string_view(v.data(), v.size()),
                                    rec.get()));
  }
  ML_RETURN_IF_ERROR(FromRocks(it->status(), "reading the journal"));
  if (rec->empty()) return Status::Ok();
  frozen = std::move(rec);
  std::lock_guard g(ingest_mu);
  return IngestFrozen();
}

void Store::Impl::IngesterLoop() {
  for (;;) {
    {
      std::unique_lock l(signal_mu);
      signal_cv.wait(l, [&] { return stop || signal; });
      if (stop) return;
      signal = false;
    }
    Status s;
    {
      std::lock_guard g(ingest_mu);
      s = IngestFrozen();
    }
    bool need_spare;
    {
      std::shared_lock l(staged_mu);
      need_spare = !spare;
    }
    if (need_spare) {
      // Sized and faulted in here, off the commit path; a store that is
      // only read never commits, never signals, and never pays for it.
      auto fresh = std::make_unique<StagedWrites>(stage_entries);
      std::unique_lock l(staged_mu);
      if (!spare) spare = std::move(fresh);
    }
    if (!s.ok()) {
      // The staged table stays readable and the journal durable; try again
      // later. Commit ingests itself (and reports the error) if the next
      // table fills up meanwhile.
      std::unique_lock l(signal_mu);
      signal_cv.wait_for(l, std::chrono::seconds(1), [&] { return stop; });
      signal = true;
    }
  }
}

Store::Store(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Store::~Store() = default;

Result<std::unique_ptr<Store>> Store::Open(const std::string& dir, StoreOptions opts) {
  if (dir.empty()) return InvalidArgument("ledger: empty store directory");
  auto impl = std::make_unique<Impl>();
  impl->fs = rocksdb::FileSystem::Default();
  impl->testing = opts.testing;
  if (opts.testing && opts.testing->file_system) {
    impl->fs = opts.testing->file_system;
    impl->env = rocksdb::NewCompositeEnv(impl->fs);
  }

  rocksdb::DBOptions db_opts;
  if (impl->env) db_opts.env = impl->env.get();
  db_opts.create_if_missing = opts.create_if_missing;
  db_opts.create_missing_column_families = true;
  db_opts.max_background_jobs = 2;
  db_opts.keep_log_file_num = 10;
  // A torn record at the WAL tail (a commit whose sync never finished) is
  // dropped; everything before it was synced and is replayed.
  db_opts.wal_recovery_mode = rocksdb::WALRecoveryMode::kPointInTimeRecovery;
  db_opts.avoid_flush_during_shutdown = opts.testing && opts.testing->skip_flush_on_close;

  // Does a store exist here? Decide before RocksDB creates anything.
  const std::string current = dir + "/CURRENT";
  rocksdb::IOStatus exists = impl->fs->FileExists(current, rocksdb::IOOptions(), nullptr);
  if (!exists.ok() && !exists.IsNotFound()) {
    return FromRocks(exists, "checking for a store in " + dir, true);
  }
  if (exists.IsNotFound()) {
    if (!opts.create_if_missing) return NotFound("ledger: no store in " + dir);
  } else {
    std::vector<std::string> existing;
    rocksdb::Status s = rocksdb::DB::ListColumnFamilies(db_opts, dir, &existing);
    if (!s.ok()) return FromRocks(s, "listing column families of " + dir, true);
    for (const auto& name : existing) {
      if (std::find(std::begin(kCfNames), std::end(kCfNames), name) == std::end(kCfNames)) {
        return FailedPrecondition("ledger: " + dir +
                                  " is not a medledger store (unknown column family)");
      }
    }
  }

  auto cache = rocksdb::NewLRUCache(opts.block_cache_bytes);
  impl->cache = cache;
  impl->db_opts = db_opts;
  impl->ingest_dir = dir + "/ingest";
  impl->point_prefixes = opts.point_state_prefixes;
  impl->stage_entries = std::max<size_t>(1, opts.stage_entries);
  std::vector<rocksdb::ColumnFamilyDescriptor> descs;
  for (size_t i = 0; i < kNumCfs; ++i) {
    descs.emplace_back(kCfNames[i], CfOptions(static_cast<Cf>(i), cache));
  }
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(db_opts, dir, descs, &impl->cfs, &raw);
  if (!s.ok()) return FromRocks(s, "opening store in " + dir, true);
  impl->db.reset(raw);
  impl->commit_write.sync = opts.sync;

  ML_ASSIGN_OR_RETURN(std::optional<Bytes> schema,
                      impl->Get(kMeta, kSchemaKey, "reading schema version"));
  uint32_t version = 0;  // none yet: a new store
  if (schema) {
    ByteReader r(*schema);
    version = r.U32();
    if (!r.ok() || !r.AtEnd() || (version != kSchemaVersion && version != 1)) {
      return FailedPrecondition("ledger: store in " + dir + " has an unknown schema version");
    }
  }
  if (version != kSchemaVersion) {  // new, or version 1: nothing to convert
    Bytes v;
    ByteWriter(&v).U32(kSchemaVersion);
    rocksdb::WriteOptions w;
    w.sync = true;
    s = impl->db->Put(w, impl->cfs[kMeta], kSchemaKey, AsSlice(v));
    if (!s.ok()) return FromRocks(s, "writing schema version");
  }
  ML_ASSIGN_OR_RETURN(impl->meta, impl->ReadMeta());
  ML_RETURN_IF_ERROR(impl->Recover());
  impl->ingester = std::thread([p = impl.get()] { p->IngesterLoop(); });
  return std::unique_ptr<Store>(new Store(std::move(impl)));
}

Status Store::Commit(const BlockCommit& c) {
  if (c.meta.height != c.height || !c.meta.initialized) {
    return InvalidArgument("ledger: commit of block " + std::to_string(c.height) +
                           " carries meta for another height or uninitialized meta");
  }
  if (c.meta.last_block_hash != c.block_hash) {
    return InvalidArgument("ledger: commit of block " + std::to_string(c.height) +
                           " carries meta with another block hash");
  }
  for (const auto& [id, loc] : c.txs) {
    if (loc.height != c.height) {
      return InvalidArgument("ledger: commit of block " + std::to_string(c.height) +
                             " indexes tx " + ToHex(id) + " at another height");
    }
  }

  std::lock_guard<std::mutex> lock(impl_->commit_mu);
  ChainMeta cur;
  {
    std::shared_lock l(impl_->staged_mu);
    cur = impl_->meta;
  }
  const uint64_t want = cur.initialized ? cur.height + 1 : 0;
  if (c.height != want) {
    return FailedPrecondition("ledger: commit of block " + std::to_string(c.height) +
                              " does not extend the chain (expected height " +
                              std::to_string(want) + ")");
  }

  // If the previous table is still being ingested and the current one is
  // full as well, ingest here rather than grow without bound.
  bool full;
  {
    std::shared_lock l(impl_->staged_mu);
    full = impl_->frozen && impl_->active->entries() >= 4 * impl_->stage_entries;
  }
  if (full) {
    std::lock_guard g(impl_->ingest_mu);
    ML_RETURN_IF_ERROR(impl_->IngestFrozen());
  }

  rocksdb::WriteBatch batch;
  rocksdb::Status s = batch.Put(impl_->cfs[kBlocks], HeightKey(c.height), AsSlice(c.block));
  std::vector<const std::pair<std::string, std::optional<Bytes>>*> staged_state;
  for (const auto& w : c.state_writes) {
    if (!s.ok()) break;
    if (impl_->IsPointKey(w.first)) {
      staged_state.push_back(&w);
      continue;
    }
    s = w.second ? batch.Put(impl_->cfs[kState], w.first, AsSlice(*w.second))
                 : batch.Delete(impl_->cfs[kState], w.first);
  }
  const bool journal = !c.txs.empty() || !staged_state.empty();
  if (s.ok() && journal) s = batch.Put(impl_->cfs[kMeta], JournalKey(c.height), AsSlice(EncodeJournal(c.txs, staged_state)));
  if (s.ok()) s = batch.Put(impl_->cfs[kMeta], kChainMetaKey, AsSlice(EncodeChainMeta(c.meta)));
  if (!s.ok()) return FromRocks(s, "building write batch for block " + std::to_string(c.height));

  // The first commit swaps the empty active table for a sized one, made
  // here outside staged_mu (its pages are faulted in), and has the ingester
  // prepare a spare: stores that are only read never pay for either.
  std::unique_ptr<StagedWrites> sized;
  if (journal && !impl_->active_sized) sized = std::make_unique<StagedWrites>(impl_->stage_entries);

  s = impl_->db->Write(impl_->commit_write, &batch);
  if (!s.ok()) return FromRocks(s, "committing block " + std::to_string(c.height));
  std::unique_lock sl(impl_->staged_mu);
  bool wake = false;  // the ingester has a table to ingest, or a spare to make
  if (sized) {
    impl_->active_sized = wake = true;
    if (impl_->active->empty()) impl_->active = std::move(sized);
  }
  impl_->meta = c.meta;
  if (!journal) return Status::Ok();
  StagedWrites& a = *impl_->active;
  for (const auto& [id, loc] : c.txs) a.AddTx(id, loc);
  for (const auto* w : staged_state) a.AddState(w->first, w->second);
  a.CoverHeight(c.height);
  if (a.entries() >= impl_->stage_entries && !impl_->frozen) {
    impl_->Freeze();
    wake = true;
  }
  sl.unlock();
  if (wake) {
    {
      std::lock_guard l(impl_->signal_mu);
      impl_->signal = true;
    }
    impl_->signal_cv.notify_one();
  }
  return Status::Ok();
}

Result<ChainMeta> Store::Meta() const {
  std::shared_lock l(impl_->staged_mu);
  return impl_->meta;
}

Result<Bytes> Store::GetBlock(uint64_t height) const {
  const std::string what = "reading block " + std::to_string(height);
  ML_ASSIGN_OR_RETURN(std::optional<Bytes> v, impl_->Get(kBlocks, HeightKey(height), what));
  if (!v) return NotFound("ledger: block " + std::to_string(height) + " not found");
  return std::move(*v);
}

Result<std::optional<TxLocation>> Store::FindTx(const Hash32& id) const {
  {
    std::shared_lock l(impl_->staged_mu);
    if (const TxLocation* p = impl_->active->FindTx(id)) return std::optional<TxLocation>(*p);
    if (impl_->frozen) {
      if (const TxLocation* p = impl_->frozen->FindTx(id)) return std::optional<TxLocation>(*p);
    }
  }
  ML_ASSIGN_OR_RETURN(std::optional<Bytes> v,
                      impl_->Get(kTxIndex, AsSlice(id), "looking up tx " + ToHex(id)));
  if (!v) return std::optional<TxLocation>();
  ByteReader r(*v);
  TxLocation loc;
  loc.height = r.U64();
  loc.index = r.U32();
  if (!r.ok() || !r.AtEnd()) {
    return DataLoss("ledger: tx index entry for " + ToHex(id) + " is malformed");
  }
  return std::optional<TxLocation>(loc);
}

namespace {
// For whole-column scans (the audit reads every block, index entry and state
// key once): read ahead in large chunks, and leave the block cache to point
// reads instead of cycling a whole column family through it.
rocksdb::ReadOptions FullScanOptions() {
  rocksdb::ReadOptions ro;
  ro.fill_cache = false;
  ro.readahead_size = size_t(4) << 20;
  return ro;
}
}  // namespace

Result<std::optional<Bytes>> Store::GetState(std::string_view key) const {
  if (impl_->testing && impl_->testing->state_read) ML_RETURN_IF_ERROR(impl_->testing->state_read(key));
  if (impl_->IsPointKey(key)) {
    std::shared_lock l(impl_->staged_mu);
    std::optional<std::string_view> v;
    if (impl_->active->FindState(key, &v) || (impl_->frozen && impl_->frozen->FindState(key, &v))) {
      if (!v) return std::optional<Bytes>();
      return std::optional<Bytes>(Bytes(v->begin(), v->end()));
    }
  }
  return impl_->Get(kState, rocksdb::Slice(key.data(), key.size()), "reading a state key");
}

Status Store::ScanState(std::string_view prefix,
                        const std::function<bool(std::string_view, std::string_view)>& fn) const {
  const std::string upper = PrefixSuccessor(prefix);
  rocksdb::Slice upper_slice(upper);
  rocksdb::ReadOptions ro = prefix.empty() ? FullScanOptions() : rocksdb::ReadOptions();
  if (!upper.empty()) ro.iterate_upper_bound = &upper_slice;
  const rocksdb::Slice pre(prefix.data(), prefix.size());
  // Merge the staged entries under the prefix (newest table wins) into the
  // column family's, staged first on equal keys. The shared lock keeps the
  // tables and the iterator's snapshot consistent with each other; a prefix
  // that no staged key can fall under needs neither.
  std::shared_lock l(impl_->staged_mu, std::defer_lock);
  std::map<std::string_view, std::optional<std::string_view>> staged;
  if (impl_->ScanReachesStaged(prefix)) {
    l.lock();
    if (impl_->frozen)
      for (const auto& [k, v] : impl_->frozen->SortedState(prefix)) staged[k] = v;
    for (const auto& [k, v] : impl_->active->SortedState(prefix)) staged[k] = v;
  }
  std::unique_ptr<rocksdb::Iterator> it(impl_->db->NewIterator(ro, impl_->cfs[kState]));
  auto st = staged.begin();
  it->Seek(pre);
  for (;;) {
    const bool db_has = it->Valid() && it->key().starts_with(pre);
    if (!db_has && st == staged.end()) break;
    std::string_view dk = db_has ? std::string_view(it->key().data(), it->key().size()) : std::string_view();
    if (st != staged.end() && (!db_has || st->first <= dk)) {
      if (db_has && st->first == dk) it->Next();
      const auto& [key, v] = *st;
      ++st;
      if (v && !fn(key, *v)) break;
    } else {
      rocksdb::Slice v = it->value();
      if (!fn(dk, std::string_view(v.data(), v.size()))) break;
      it->Next();
    }
  }
  return FromRocks(it->status(), "scanning state");
}

Status Store::PutMeta(std::string_view key, const Bytes& value) {
  if (key.empty() || key.front() == '\0') {
    return InvalidArgument("ledger: meta keys must be non-empty and not start with 0x00");
  }
  rocksdb::WriteOptions w;
  w.sync = true;
  rocksdb::Status s =
      impl_->db->Put(w, impl_->cfs[kMeta], rocksdb::Slice(key.data(), key.size()), AsSlice(value));
  return FromRocks(s, "writing meta key " + std::string(key));
}

Result<std::optional<Bytes>> Store::GetMeta(std::string_view key) const {
  if (key.empty() || key.front() == '\0') {
    return InvalidArgument("ledger: meta keys must be non-empty and not start with 0x00");
  }
  return impl_->Get(kMeta, rocksdb::Slice(key.data(), key.size()),
                    "reading meta key " + std::string(key));
}

Status Store::FlushStaged() {
  std::lock_guard c(impl_->commit_mu);
  std::lock_guard g(impl_->ingest_mu);
  ML_RETURN_IF_ERROR(impl_->IngestFrozen());
  {
    std::unique_lock l(impl_->staged_mu);
    if (impl_->active->empty()) return Status::Ok();
    impl_->Freeze();
  }
  return impl_->IngestFrozen();
}

Status Store::CompactAll() {
  ML_RETURN_IF_ERROR(FlushStaged());
  rocksdb::CompactRangeOptions o;
  o.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
  for (size_t i = 0; i < kNumCfs; ++i) {
    rocksdb::Status s = impl_->db->CompactRange(o, impl_->cfs[i], nullptr, nullptr);
    if (!s.ok()) return FromRocks(s, std::string("compacting column family ") + kCfNames[i]);
  }
  return Status::Ok();
}

Status Store::ForEachBlock(uint64_t from,
                           const std::function<bool(uint64_t, std::span<const uint8_t>)>& fn) const {
  std::unique_ptr<rocksdb::Iterator> it(
      impl_->db->NewIterator(FullScanOptions(), impl_->cfs[kBlocks]));
  for (it->Seek(HeightKey(from)); it->Valid(); it->Next()) {
    rocksdb::Slice k = it->key();
    if (k.size() != 8) return DataLoss("ledger: blocks column family holds a malformed key");
    rocksdb::Slice v = it->value();
    if (!fn(DecodeU64(k.data()), {reinterpret_cast<const uint8_t*>(v.data()), v.size()})) break;
  }
  return FromRocks(it->status(), "iterating blocks");
}

Status Store::ForEachTx(const std::function<bool(const Hash32&, const TxLocation&)>& fn) const {
  // Staged entries merge in as in ScanState (after open the tables are
  // empty: the journal was ingested, so the offline audit reads only files).
  std::shared_lock l(impl_->staged_mu);
  std::map<Hash32, TxLocation> staged;
  if (impl_->frozen)
    for (const auto& [id, loc] : impl_->frozen->SortedTxs()) staged[id] = loc;
  for (const auto& [id, loc] : impl_->active->SortedTxs()) staged[id] = loc;
  std::unique_ptr<rocksdb::Iterator> it(
      impl_->db->NewIterator(FullScanOptions(), impl_->cfs[kTxIndex]));
  auto st = staged.begin();
  Hash32 id;
  for (it->SeekToFirst();;) {
    bool db_has = it->Valid();
    TxLocation loc;
    if (db_has) {
      rocksdb::Slice k = it->key();
      rocksdb::Slice v = it->value();
      if (k.size() != id.size() || v.size() != kTxLocationSize)
        return DataLoss("ledger: txindex column family holds a malformed entry");
      std::memcpy(id.data(), k.data(), id.size());
      ByteReader r(reinterpret_cast<const uint8_t*>(v.data()), v.size());
      loc.height = r.U64();
      loc.index = r.U32();
    }
    if (!db_has && st == staged.end()) break;
    if (st != staged.end() && (!db_has || st->first <= id)) {
      if (db_has && st->first == id) it->Next();
      if (!fn(st->first, st->second)) break;
      ++st;
    } else {
      if (!fn(id, loc)) break;
      it->Next();
    }
  }
  return FromRocks(it->status(), "iterating the tx index");
}

}  // namespace medledger::ledger
