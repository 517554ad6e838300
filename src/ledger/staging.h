// Staged writes: tx-index entries and point-keyed state that a commit makes
// visible and durable without inserting them into RocksDB's memtables.
//
// Why: every transaction adds one tx-index entry and usually one state key
// under a random 32-byte hash (an anchor). A random insert into RocksDB's
// skiplist memtable costs ~3 us on our hardware (a cache miss per level),
// twice per transaction, which was ~10% of a node's CPU under full load.
// Instead a commit puts those entries into this in-memory table (a hash
// lookup each) and into one journal record per block in the same synced
// write batch as the block, so they are as durable as before. When the table
// is large enough the store sorts it once, writes it as SST files and
// ingests them (ledger/store.cc), then deletes the journal records it
// covered. On open, journal records still present are staged again and
// ingested before the store serves anything.
//
// Only keys that are read by exact key may be staged: a staged key is found
// by Get at once, but a prefix scan must merge the table in (the store does,
// at the cost of sorting the matching entries), so the families that modules
// scan stay on the memtable path.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/arena_map.h"
#include "common/bytes.h"
#include "common/id_map.h"
#include "common/status.h"
#include "ledger/store.h"

namespace medledger::ledger {

class StagedWrites {
 public:
  // Sized for about `expected` entries without growing, its pages faulted in
  // now: the store adds entries inside an exclusive section, where a rehash
  // or page faults on fresh memory (huge pages: compaction) stalled every
  // reader for milliseconds. The default grows as needed.
  explicit StagedWrites(size_t expected = 0);
  StagedWrites(const StagedWrites&) = delete;
  StagedWrites& operator=(const StagedWrites&) = delete;

  // Records the writes of block `height` (heights must not decrease).
  void AddTx(const Hash32& id, const TxLocation& loc);
  void AddState(std::string_view key, const std::optional<Bytes>& value);
  void CoverHeight(uint64_t height);
  // Empties the table but keeps its memory, so the next fill neither grows
  // the id table step by step nor faults in fresh pages (that was ~3% of a
  // busy node's CPU). Invalidates views handed out by FindState/SortedState.
  void Clear();

  const TxLocation* FindTx(const Hash32& id) const;  // nullptr: not staged
  // false: not staged; else *value is the staged value, nullopt for a delete
  // (valid until the next AddState of that key).
  bool FindState(std::string_view key, std::optional<std::string_view>* value) const;

  size_t entries() const { return txs_.size() + state_.size(); }
  bool empty() const { return entries() == 0 && !covers_any_; }
  bool covers_any() const { return covers_any_; }
  uint64_t first_height() const { return first_height_; }
  uint64_t last_height() const { return last_height_; }

  // Entries in key order, for ingestion and for merging into scans.
  std::vector<std::pair<Hash32, TxLocation>> SortedTxs() const;
  std::vector<std::pair<std::string_view, std::optional<std::string_view>>> SortedState(
      std::string_view prefix) const;

 private:
  // Tx index: an IdMap. State: an ArenaMap whose values carry a leading
  // byte, 1 for a put and 0 for a delete.
  IdMap<TxLocation> txs_;
  ArenaMap state_;
  bool covers_any_ = false;
  uint64_t first_height_ = 0, last_height_ = 0;
};

// The journal record of one block: its tx-index entries and its staged state
// writes, in the block's write batch under meta key JournalKey(height).
//
//   u8 version (=1) | u32 n | n x (id [32] | u32 index)
//                   | u32 m | m x (var key | u8 present | [var value])
//
// var = u32 length | bytes. Heights come from the key.
std::string JournalKey(uint64_t height);
extern const std::string kJournalPrefix;  // every journal key starts with it
Bytes EncodeJournal(const std::vector<std::pair<Hash32, TxLocation>>& txs,
                    const std::vector<const std::pair<std::string, std::optional<Bytes>>*>& state);
// Stages the record of block `height` into `into`; kDataLoss if malformed.
Status ApplyJournal(uint64_t height, std::string_view record, StagedWrites* into);

}  // namespace medledger::ledger
