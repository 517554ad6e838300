#include "ledger/store.h"

#include <rocksdb/cache.h>
#include <rocksdb/convenience.h>
#include <rocksdb/db.h>
#include <rocksdb/env.h>
#include <rocksdb/file_system.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/options.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <mutex>
#include <set>

#include "ledger/store_testing.h"

namespace medledger::ledger {
namespace {

// Column families, in the order of Impl::cfs. "default" is required by
// RocksDB and kept empty.
enum Cf : size_t { kDefault = 0, kBlocks, kTxIndex, kState, kMeta, kNumCfs };
constexpr const char* kCfNames[kNumCfs] = {"default", "blocks", "txindex", "state", "meta"};

// Reserved meta keys start with 0x00; PutMeta refuses such keys.
const std::string kChainMetaKey("\x00" "chain", 6);
const std::string kSchemaKey("\x00" "schema", 7);
constexpr uint32_t kSchemaVersion = 1;
constexpr uint8_t kChainMetaVersion = 1;
constexpr size_t kChainMetaSize = 1 + 8 + 32 + 32 + 8 + 1;
constexpr size_t kTxLocationSize = 8 + 4;

// Converts a RocksDB status at the module edge. `what` names the operation.
// RocksDB's own message is appended only where it cannot contain user keys or
// values: for I/O-class errors (paths and errno) and while opening.
Status FromRocks(const rocksdb::Status& s, const std::string& what, bool with_detail = false) {
  using C = rocksdb::Status::Code;
  StatusCode code = StatusCode::kInternal;
  bool io_class = false;
  switch (s.code()) {
    case C::kOk:
      return Status::Ok();
    case C::kNotFound: code = StatusCode::kNotFound; break;
    case C::kCorruption: code = StatusCode::kDataLoss; break;
    case C::kNotSupported: code = StatusCode::kFailedPrecondition; io_class = true; break;
    case C::kInvalidArgument: code = StatusCode::kFailedPrecondition; break;
    case C::kIOError:
      code = s.IsNoSpace() ? StatusCode::kResourceExhausted : StatusCode::kUnavailable;
      io_class = true;
      break;
    case C::kMergeInProgress: code = StatusCode::kInternal; break;
    case C::kIncomplete:
    case C::kShutdownInProgress:
    case C::kTimedOut:
    case C::kBusy:
    case C::kExpired:
    case C::kTryAgain:
      code = StatusCode::kUnavailable;
      io_class = true;
      break;
    case C::kAborted: code = StatusCode::kAborted; break;
    default: code = StatusCode::kInternal; break;
  }
  std::string msg = "ledger: " + what + " failed (rocksdb " +
                    std::to_string(static_cast<int>(s.code())) + ")";
  if (io_class || with_detail) msg += ": " + s.ToString();
  return Status(code, std::move(msg));
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
  std::unique_ptr<rocksdb::Env> env;  // set only with a test file system
  std::shared_ptr<rocksdb::FileSystem> fs;
  std::unique_ptr<rocksdb::DB> db;
  std::vector<rocksdb::ColumnFamilyHandle*> cfs;
  rocksdb::WriteOptions commit_write;
  std::mutex commit_mu;  // serializes Commit's read-check-write

  ~Impl() {
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

Store::Store(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Store::~Store() = default;

Result<std::unique_ptr<Store>> Store::Open(const std::string& dir, StoreOptions opts) {
  if (dir.empty()) return InvalidArgument("ledger: empty store directory");
  auto impl = std::make_unique<Impl>();
  impl->fs = rocksdb::FileSystem::Default();
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
  if (schema) {
    ByteReader r(*schema);
    uint32_t v = r.U32();
    if (!r.ok() || !r.AtEnd() || v != kSchemaVersion) {
      return FailedPrecondition("ledger: store in " + dir + " has an unknown schema version");
    }
  } else {
    Bytes v;
    ByteWriter(&v).U32(kSchemaVersion);
    rocksdb::WriteOptions w;
    w.sync = true;
    s = impl->db->Put(w, impl->cfs[kMeta], kSchemaKey, AsSlice(v));
    if (!s.ok()) return FromRocks(s, "writing schema version");
  }
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
  ML_ASSIGN_OR_RETURN(ChainMeta cur, impl_->ReadMeta());
  const uint64_t want = cur.initialized ? cur.height + 1 : 0;
  if (c.height != want) {
    return FailedPrecondition("ledger: commit of block " + std::to_string(c.height) +
                              " does not extend the chain (expected height " +
                              std::to_string(want) + ")");
  }

  rocksdb::WriteBatch batch;
  rocksdb::Status s = batch.Put(impl_->cfs[kBlocks], HeightKey(c.height), AsSlice(c.block));
  // Index entries go in in key order: the memtable's skiplist starts each
  // insert from where the previous one ended (its splice), so ordered keys
  // skip most of the upper levels of the search. Ids arrive in block order,
  // which is random.
  std::vector<const std::pair<Hash32, TxLocation>*> order;
  order.reserve(c.txs.size());
  for (const auto& e : c.txs) order.push_back(&e);
  std::sort(order.begin(), order.end(), [](auto* a, auto* b) { return a->first < b->first; });
  for (const auto* e : order) {
    if (!s.ok()) break;
    s = batch.Put(impl_->cfs[kTxIndex], AsSlice(e->first), AsSlice(EncodeTxLocation(e->second)));
  }
  for (const auto& [key, value] : c.state_writes) {
    if (!s.ok()) break;
    s = value ? batch.Put(impl_->cfs[kState], key, AsSlice(*value))
              : batch.Delete(impl_->cfs[kState], key);
  }
  if (s.ok()) s = batch.Put(impl_->cfs[kMeta], kChainMetaKey, AsSlice(EncodeChainMeta(c.meta)));
  if (!s.ok()) return FromRocks(s, "building write batch for block " + std::to_string(c.height));

  s = impl_->db->Write(impl_->commit_write, &batch);
  if (!s.ok()) return FromRocks(s, "committing block " + std::to_string(c.height));
  return Status::Ok();
}

Result<ChainMeta> Store::Meta() const { return impl_->ReadMeta(); }

Result<Bytes> Store::GetBlock(uint64_t height) const {
  const std::string what = "reading block " + std::to_string(height);
  ML_ASSIGN_OR_RETURN(std::optional<Bytes> v, impl_->Get(kBlocks, HeightKey(height), what));
  if (!v) return NotFound("ledger: block " + std::to_string(height) + " not found");
  return std::move(*v);
}

Result<std::optional<TxLocation>> Store::FindTx(const Hash32& id) const {
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
  return impl_->Get(kState, rocksdb::Slice(key.data(), key.size()), "reading a state key");
}

Status Store::ScanState(std::string_view prefix,
                        const std::function<bool(std::string_view, std::string_view)>& fn) const {
  const std::string upper = PrefixSuccessor(prefix);
  rocksdb::Slice upper_slice(upper);
  rocksdb::ReadOptions ro = prefix.empty() ? FullScanOptions() : rocksdb::ReadOptions();
  if (!upper.empty()) ro.iterate_upper_bound = &upper_slice;
  std::unique_ptr<rocksdb::Iterator> it(impl_->db->NewIterator(ro, impl_->cfs[kState]));
  for (it->Seek(rocksdb::Slice(prefix.data(), prefix.size())); it->Valid(); it->Next()) {
    rocksdb::Slice k = it->key();
    if (!k.starts_with(rocksdb::Slice(prefix.data(), prefix.size()))) break;
    rocksdb::Slice v = it->value();
    if (!fn(std::string_view(k.data(), k.size()), std::string_view(v.data(), v.size()))) break;
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

Status Store::CompactAll() {
  rocksdb::CompactRangeOptions o;
  o.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
  for (size_t i = 0; i < kNumCfs; ++i) {
    rocksdb::Status s = impl_->db->CompactRange(o, impl_->cfs[i], nullptr, nullptr);
    if (!s.ok()) return FromRocks(s, std::string("compacting column family ") + kCfNames[i]);
  }
  return Status::Ok();
}

Status Store::ForEachBlock(uint64_t from,
                           const std::function<bool(uint64_t, Bytes&)>& fn) const {
  std::unique_ptr<rocksdb::Iterator> it(
      impl_->db->NewIterator(FullScanOptions(), impl_->cfs[kBlocks]));
  for (it->Seek(HeightKey(from)); it->Valid(); it->Next()) {
    rocksdb::Slice k = it->key();
    if (k.size() != 8) return DataLoss("ledger: blocks column family holds a malformed key");
    Bytes value = ToBytes(it->value());
    if (!fn(DecodeU64(k.data()), value)) break;
  }
  return FromRocks(it->status(), "iterating blocks");
}

Status Store::ForEachTx(const std::function<bool(const Hash32&, const TxLocation&)>& fn) const {
  std::unique_ptr<rocksdb::Iterator> it(
      impl_->db->NewIterator(FullScanOptions(), impl_->cfs[kTxIndex]));
  Hash32 id;
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    rocksdb::Slice k = it->key();
    rocksdb::Slice v = it->value();
    if (k.size() != id.size() || v.size() != kTxLocationSize)
      return DataLoss("ledger: txindex column family holds a malformed entry");
    std::memcpy(id.data(), k.data(), id.size());
    ByteReader r(reinterpret_cast<const uint8_t*>(v.data()), v.size());
    TxLocation loc;
    loc.height = r.U64();
    loc.index = r.U32();
    if (!fn(id, loc)) break;
  }
  return FromRocks(it->status(), "iterating the tx index");
}

}  // namespace medledger::ledger
