#include "state/replay_guard.h"

#include <algorithm>
#include <cstring>
#include <mutex>

namespace medledger::state {

namespace {
// Word compares: these run several times per transaction, and the
// std::array operators call memcmp.
uint64_t Word(const Hash32& h, size_t i) {
  uint64_t w;
  std::memcpy(&w, h.data() + 8 * i, 8);
  return w;
}
bool IsZero(const Hash32& h) { return (Word(h, 0) | Word(h, 1) | Word(h, 2) | Word(h, 3)) == 0; }
bool Same(const Hash32& a, const Hash32& b) {
  return ((Word(a, 0) ^ Word(b, 0)) | (Word(a, 1) ^ Word(b, 1)) | (Word(a, 2) ^ Word(b, 2)) |
          (Word(a, 3) ^ Word(b, 3))) == 0;
}
}  // namespace

bool ReplayGuard::FindLocked(const Hash32& id) const {
  if (IsZero(id)) return has_zero_;
  if (slots_.empty()) return false;
  size_t mask = slots_.size() - 1;
  for (size_t i = HashHasher()(id) & mask;; i = (i + 1) & mask) {
    if (Same(slots_[i], id)) return true;
    if (IsZero(slots_[i])) return false;
  }
}

void ReplayGuard::Grow() { Resize(slots_.empty() ? 1024 : slots_.size() * 2); }

// The ids of `old` in a fresh table of `slots` (a power of two, more than
// twice as many as the ids). Reads `old` only, so it may run under the
// shared lock.
ReplayGuard::Table ReplayGuard::Rehashed(const Table& old, size_t slots) {
  Table t(slots);
  const size_t mask = slots - 1;
  for (const auto& id : old) {
    if (IsZero(id)) continue;
    size_t i = HashHasher()(id) & mask;
    while (!IsZero(t[i])) i = (i + 1) & mask;
    t[i] = id;
  }
  return t;
}

void ReplayGuard::Resize(size_t slots) { slots_ = Rehashed(slots_, slots); }

void ReplayGuard::Reserve(size_t n) {
  std::unique_lock lock(mu_);
  size_t slots = 1024;
  while (slots < 2 * n + 2) slots *= 2;
  if (slots > slots_.size()) Resize(slots);
}

void ReplayGuard::InsertLocked(const Hash32& id) {
  if (IsZero(id)) {
    has_zero_ = true;
    return;
  }
  if ((count_ + 1) * 2 > slots_.size()) Grow();
  size_t mask = slots_.size() - 1;
  for (size_t i = HashHasher()(id) & mask;; i = (i + 1) & mask) {
    if (Same(slots_[i], id)) return;
    if (IsZero(slots_[i])) {
      slots_[i] = id;
      ++count_;
      return;
    }
  }
}

void ReplayGuard::EraseLocked(const Hash32& id) {
  if (IsZero(id)) {
    has_zero_ = false;
    return;
  }
  if (slots_.empty()) return;
  size_t mask = slots_.size() - 1;
  size_t i = HashHasher()(id) & mask;
  for (;; i = (i + 1) & mask) {
    if (IsZero(slots_[i])) return;  // not present
    if (Same(slots_[i], id)) break;
  }
  // Backward-shift deletion: pull later entries of the probe run into the
  // hole when their home slot is not in (hole, their slot], so every
  // remaining id stays reachable from its home slot without tombstones.
  size_t hole = i;
  for (size_t j = (i + 1) & mask; !IsZero(slots_[j]); j = (j + 1) & mask) {
    size_t home = HashHasher()(slots_[j]) & mask;
    bool stays = hole <= j ? (hole < home && home <= j) : (hole < home || home <= j);
    if (!stays) {
      slots_[hole] = slots_[j];
      hole = j;
    }
  }
  slots_[hole] = Hash32{};
  --count_;
}

void ReplayGuard::Prefetch(const std::vector<Hash32>& ids) const {
  std::shared_lock lock(mu_);
  if (slots_.empty()) return;
  size_t mask = slots_.size() - 1;
  for (const auto& id : ids) __builtin_prefetch(&slots_[HashHasher()(id) & mask]);
}

bool ReplayGuard::Contains(const Hash32& id) const {
  std::shared_lock lock(mu_);
  return FindLocked(id);
}

size_t ReplayGuard::size() const {
  std::shared_lock lock(mu_);
  return count_ + (has_zero_ ? 1 : 0);
}

void ReplayGuard::AddBlock(uint64_t height, const std::vector<Hash32>& ids) {
  // A table that must grow is rebuilt under the shared lock, so admission
  // checks (Contains) go on meanwhile; the exclusive lock only swaps it in.
  // Growing under the exclusive lock stalled every admission thread for
  // the tens of milliseconds a rehash of a million ids takes. Only AddBlock
  // changes the table, one call at a time, so it cannot change meanwhile.
  Table grown;
  {
    std::shared_lock lock(mu_);
    size_t slots = std::max<size_t>(slots_.size(), 1024);
    while ((count_ + ids.size() + 1) * 2 > slots) slots *= 2;
    if (slots != slots_.size()) grown = Rehashed(slots_, slots);
  }
  std::unique_lock lock(mu_);
  if (!grown.empty()) slots_.swap(grown);  // the old table is freed after unlocking
  for (const auto& id : ids) InsertLocked(id);
  blocks_.emplace_back(height, ids);
  while (!blocks_.empty() && blocks_.front().first + window_ < height) {
    for (const auto& id : blocks_.front().second) EraseLocked(id);
    blocks_.pop_front();
  }
}

}  // namespace medledger::state
