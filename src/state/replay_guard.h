// Remembers the ids of transactions included in the last `window` blocks.
// Because a transaction's expiry height may be at most `window` blocks ahead
// of the block that includes it, any older id would already be expired: so
// "an id is accepted once, ever" needs only this window, not every id.
// Thread-safe.
#pragma once

#include <deque>
#include <shared_mutex>
#include <unordered_set>
#include <vector>

#include "common/bytes.h"

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
  void AddBlock(uint64_t height, const std::vector<Hash32>& ids);
  uint64_t window() const { return window_; }

 private:
  uint64_t window_;
  mutable std::shared_mutex mu_;
  std::unordered_set<Hash32, HashHasher> ids_;
  std::deque<std::pair<uint64_t, std::vector<Hash32>>> blocks_;
};

}  // namespace medledger::state
