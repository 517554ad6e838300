// A string-keyed hash map for tables with millions of small entries that are
// written once and read at random: the offline audit's replay state
// (state::MemState) and the store's staged writes (ledger/staging.h).
//
// Keys and values are packed into large arena chunks (no allocation per key,
// few page faults), and the index is an open-addressing table of (hash,
// entry) pairs at most half full, so a lookup costs one probe into one array
// and one read of the entry. A std::unordered_map<std::string, Bytes> made
// three allocations per key and a pointer chase per probe (about a tenth of
// the audit's CPU). Entries are never moved or freed while the map lives: a
// value that changes size gets a new entry, and string_views of keys stay
// valid. Not thread-safe; concurrent const calls are fine.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string_view>
#include <vector>

namespace medledger {

class ArenaMap {
 public:
  ArenaMap() = default;
  ~ArenaMap();
  ArenaMap(const ArenaMap& o);
  ArenaMap& operator=(const ArenaMap& o);

  // Returns the stored key (valid while the map lives).
  std::string_view Put(std::string_view key, std::string_view value);
  // Returns whether the key was present.
  bool Erase(std::string_view key);
  // The value of `key`; valid until the next Put of that key.
  std::optional<std::string_view> Find(std::string_view key) const;
  // Find for n keys at once, into out[0..n): the probes of a batch overlap
  // in memory instead of each waiting on its own cache misses (the audit
  // looks up every stored key this way, ~3x faster than one by one).
  void FindMany(const std::string_view* keys, size_t n, std::optional<std::string_view>* out) const;
  // Every entry once, in no particular order.
  void ForEach(const std::function<void(std::string_view key, std::string_view value)>& fn) const;
  // Sizes the index for about n keys, so a long replay does not rehash;
  // with `prefault`, its pages are faulted in now (see PrefaultLarge).
  void Reserve(size_t n, bool prefault = false);
  // Empties the map but keeps its memory (already faulted in), for a table
  // that is filled, drained and filled again (the store's staged writes).
  // Invalidates every view the map handed out.
  void Reset();
  size_t size() const { return live_; }

 private:
  struct Entry;
  struct Slot {
    uint64_t hash;
    Entry* entry;  // null: empty; kDeleted: a tombstone
  };
  struct Chunk {
    char* base = nullptr;
    size_t cap = 0;
    size_t used = 0;
  };
  static Entry* const kDeleted;

  Slot* FindSlot(std::string_view key, uint64_t h) const;
  Entry* NewEntry(std::string_view key, std::string_view value);
  void Rehash(size_t min_live);
  void Clear();

  std::vector<Chunk> chunks_;
  size_t cur_ = 0;  // the chunk NewEntry fills; later ones are empty after Reset
  Slot* slots_ = nullptr;
  size_t mask_ = 0;  // capacity - 1; capacity is a power of two
  size_t used_ = 0;  // live entries and tombstones
  size_t live_ = 0;
};

}  // namespace medledger
