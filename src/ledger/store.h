// The durable block store: blocks, the transaction index, the world state and
// node metadata, kept in one RocksDB database (schema: docs/STORAGE.md).
//
// The store is byte-oriented. The caller encodes blocks and transactions and
// computes every hash; the store never interprets or hashes what it keeps, so
// a RocksDB upgrade cannot change consensus.
//
// Durability: Commit() writes everything one block changes in one atomic
// RocksDB write batch (tx-index entries and point-keyed state go in as a
// journal record and reach their column families later, see
// ledger/staging.h; reads see them at once either way). With StoreOptions::sync (the default) it returns only
// after the write-ahead log holding that batch has been fsynced, so a block
// that Commit() acknowledged survives a power cut; one fsync per block, never
// per transaction. After a crash the store holds a prefix of the committed
// blocks, each either complete or absent.
//
// Thread safety: a Store may be shared by any number of threads. Reads
// (Meta, GetBlock, FindTx, GetState, ScanState, GetMeta, ForEachBlock) may run
// concurrently with each other and with one Commit; a reader sees each commit
// either fully or not at all within a single call, but two calls may straddle
// a commit (read Meta first, then data at or below Meta().height). Commits are
// serialized internally; the node should still have a single committer, since
// the height check rejects all but one of two racing commits for a height.
//
// Errors: kUnavailable for I/O failures (retry later; the disk may be full
// or busy), kDataLoss for corruption found on disk (do not retry; restore the
// node), kNotFound for an absent block, kFailedPrecondition for a commit
// that does not extend the chain or a directory that is not a medledger
// store, kInvalidArgument for a malformed request. Messages name the
// operation, height or column family, never keys, values or payloads.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/bytes.h"
#include "common/status.h"

namespace medledger::ledger {

struct TxLocation {
  uint64_t height = 0;
  uint32_t index = 0;  // position of the transaction within its block
  friend bool operator==(const TxLocation&, const TxLocation&) = default;
};

struct ChainMeta {
  uint64_t height = 0;  // height of the newest block; 0 = only genesis, or empty
  Hash32 last_block_hash{};
  Hash32 state_root{};
  uint64_t committed_txs = 0;
  bool initialized = false;  // false until the genesis block is committed
  friend bool operator==(const ChainMeta&, const ChainMeta&) = default;
};

// Everything one block commit writes, applied atomically.
struct BlockCommit {
  uint64_t height = 0;
  Bytes block;  // the encoded block, stored as given
  Hash32 block_hash{};
  std::vector<std::pair<Hash32, TxLocation>> txs;  // tx id -> location; overwrites
  // Applied in order; nullopt deletes the key.
  std::vector<std::pair<std::string, std::optional<Bytes>>> state_writes;
  ChainMeta meta;  // the chain meta after this block
};

// Defined in ledger/store_testing.h: hooks for tests (a fault-injecting file
// system). Production code leaves StoreOptions::testing null.
struct StoreTestHooks;

struct StoreOptions {
  // Fsync the write-ahead log on every Commit before it returns. Turning it
  // off loses the most recent commits on power loss (never on a crash of the
  // process alone); only for tests and throwaway nodes.
  bool sync = true;
  size_t block_cache_bytes = size_t{256} << 20;  // shared by all column families
  bool create_if_missing = true;
  // State keys under these prefixes are staged (ledger/staging.h): kept in
  // memory and in a per-block journal, then ingested as sorted files, instead
  // of being inserted one by one into RocksDB's memtable. Only for key
  // families that are read by exact key; a prefix scan that reaches them
  // works but sorts the staged entries it covers. The tx index is always
  // staged.
  std::vector<std::string> point_state_prefixes;
  // How many staged entries (tx index + state) trigger an ingestion.
  size_t stage_entries = size_t{1} << 18;
  std::shared_ptr<StoreTestHooks> testing;
};

class Store {
 public:
  // Opens (or creates, if opts.create_if_missing) the store in `dir`.
  // kNotFound if `dir` holds no store and create_if_missing is false;
  // kDataLoss if its files are corrupt; kUnavailable if another process holds
  // it open or the disk fails; kFailedPrecondition if it is a store of an
  // unknown schema version or not a medledger store.
  static Result<std::unique_ptr<Store>> Open(const std::string& dir, StoreOptions opts);

  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // Applies `c` atomically. The chain must grow by one: the first commit is
  // height 0 (genesis), each later one the current height + 1, and
  // c.meta.height must equal c.height with c.meta.initialized set; otherwise
  // kFailedPrecondition and nothing is written. With opts.sync, returns OK only
  // once the commit is durable. On error nothing of `c` is visible; the caller
  // may retry the same commit.
  Status Commit(const BlockCommit& c);

  // The meta of the newest commit; a default ChainMeta (initialized = false)
  // for an empty store.
  Result<ChainMeta> Meta() const;

  Result<Bytes> GetBlock(uint64_t height) const;  // kNotFound if absent
  Result<std::optional<TxLocation>> FindTx(const Hash32& id) const;
  Result<std::optional<Bytes>> GetState(std::string_view key) const;

  // Calls fn for every state key starting with `prefix`, in bytewise key
  // order, until fn returns false. The views are valid only during the call.
  // Reads one consistent snapshot. fn must not call Commit.
  Status ScanState(std::string_view prefix,
                   const std::function<bool(std::string_view key, std::string_view value)>& fn) const;

  // Miscellaneous node metadata (genesis bytes, node config). PutMeta is
  // always fsynced, whatever opts.sync says. Keys must be non-empty and must
  // not start with byte 0x00, which the store reserves (kInvalidArgument).
  Status PutMeta(std::string_view key, const Bytes& value);
  Result<std::optional<Bytes>> GetMeta(std::string_view key) const;

  // Flushes memtables and rewrites every column family down to the last
  // level, so that deleted state (crypto-shredded keys) is physically gone
  // from the SST files. Obsolete write-ahead logs are deleted with the flush.
  // Slow: for maintenance, not the commit path.
  Status CompactAll();

  // Ingests every staged entry now and deletes the journal records that held
  // them. The store does this by itself in the background once
  // StoreOptions::stage_entries have accumulated; for tests and maintenance.
  Status FlushStaged();

  // Calls fn for each block with height >= from, in height order, until fn
  // returns false. Reads one consistent snapshot.
  // The bytes are valid only during the call (they lie in RocksDB's block
  // buffer): a caller that keeps them copies them, into a buffer it reuses.
  Status ForEachBlock(uint64_t from, const std::function<bool(uint64_t, std::span<const uint8_t>)>& fn) const;

  // Calls fn for every transaction index entry in bytewise id order, until fn
  // returns false (the offline audit compares the whole index in one pass
  // instead of one lookup per transaction). kDataLoss for a malformed entry.
  Status ForEachTx(const std::function<bool(const Hash32& id, const TxLocation& loc)>& fn) const;


 private:
  struct Impl;
  explicit Store(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace medledger::ledger
