// Remembers the ids of transactions included in the last `window` blocks.
// Because a transaction's expiry height may be at most `window` blocks ahead
// of the block that includes it, any older id would already be expired: so
// "an id is accepted once, ever" needs only this window, not every id.
// Thread-safe.
#pragma once

#include <cstring>
#include <deque>
#include <shared_mutex>
#include <unordered_set>  // users hash ids with HashHasher
#include <vector>

#include "common/bytes.h"
#include "common/large_alloc.h"

namespace medledger::state {

struct HashHasher {
  size_t operator()(const Hash32& h) const {
    size_t v;
    std::memcpy(&v, h.data(), sizeof v);
    return v;
  }
};

class ReplayGuard {
 public:
  explicit ReplayGuard(uint64_t window) : window_(window) {}
  bool Contains(const Hash32& id) const;
  // Records the ids of block `height` and forgets blocks older than the window.
  // One caller at a time (blocks commit in order).
  void AddBlock(uint64_t height, const std::vector<Hash32>& ids);
  // A hint: starts loading the table slots of `ids` into the cache, so that
  // a block's lookups and inserts that follow overlap their memory accesses
  // instead of waiting for each in turn. No effect on the contents.
  void Prefetch(const std::vector<Hash32>& ids) const;
  // Sizes the table for about n ids, so a long replay does not regrow it.
  void Reserve(size_t n);
  uint64_t window() const { return window_; }
  size_t size() const;  // ids remembered

 private:
  // The window can hold millions of ids (the offline audit keeps every id of
  // a young chain), and each transaction does a lookup and an insert, so the
  // set is a flat open-addressing table (linear probing, at most half full,
  // backward-shift deletion): one cache line per operation and no allocation
  // per id. Ids are SHA-256 outputs, so their first 8 bytes are the hash.
  // An all-zero slot is empty; the all-zero id itself is kept in has_zero_.
  bool FindLocked(const Hash32& id) const;
  void InsertLocked(const Hash32& id);
  void EraseLocked(const Hash32& id);
  using Table = std::vector<Hash32, LargeAllocator<Hash32>>;
  static Table Rehashed(const Table& old, size_t slots);
  void Grow();
  void Resize(size_t slots);

  uint64_t window_;
  mutable std::shared_mutex mu_;
  Table slots_;  // size a power of two, or 0
  size_t count_ = 0;           // non-zero ids in slots_
  bool has_zero_ = false;
  std::deque<std::pair<uint64_t, std::vector<Hash32>>> blocks_;
};

}  // namespace medledger::state
