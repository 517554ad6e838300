// A hash map keyed by 32-byte ids (tx ids: SHA-256 digests), stored in one
// array: a lookup is usually one cache miss where std::unordered_map took two
// (bucket, then node), and an insert allocates nothing. Linear probing, at
// most half full, backward-shift deletion (no tombstones to slow later
// probes). Used by the mempool (pending and resolved ids) and the store's
// staged tx index. Not thread-safe.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <utility>
#include <vector>

#include "common/bytes.h"
#include "common/large_alloc.h"

namespace medledger {

template <typename V>
class IdMap {
 public:
  size_t size() const { return size_; }

  // Sizes the table for n ids up front. The slots are written (and so their
  // pages faulted in) here, not by the inserts that follow.
  void Reserve(size_t n) {
    size_t slots = 64;
    while (slots < 2 * n) slots *= 2;
    if (slots > slots_.size()) Resize(slots);
  }

  // Empties the map but keeps its table.
  void Clear() {
    for (auto& s : slots_) s.used = false;
    size_ = 0;
  }

  V* Find(const Hash32& id) {
    if (size_ == 0) return nullptr;
    size_t i = Locate(id, HashOf(id));
    return slots_[i].used ? &slots_[i].value : nullptr;
  }
  const V* Find(const Hash32& id) const { return const_cast<IdMap*>(this)->Find(id); }

  // The value for id, value-initialised if it was absent (second: true).
  // The pointer is valid until the next Insert or Erase.
  std::pair<V*, bool> Insert(const Hash32& id) {
    if ((size_ + 1) * 2 > slots_.size()) Resize(std::max<size_t>(64, slots_.size() * 2));
    uint32_t h = HashOf(id);
    Slot& s = slots_[Locate(id, h)];
    if (s.used) return {&s.value, false};
    s.used = true;
    s.hash = h;
    s.id = id;
    s.value = V{};
    ++size_;
    return {&s.value, true};
  }

  // Removes id, moving its value to *out; false if it was absent.
  bool Erase(const Hash32& id, V* out) {
    if (size_ == 0) return false;
    size_t i = Locate(id, HashOf(id));
    if (!slots_[i].used) return false;
    if (out) *out = std::move(slots_[i].value);
    // Pull each following entry of the run back into the hole unless that
    // would move it before its home slot.
    for (size_t j = (i + 1) & mask_; slots_[j].used; j = (j + 1) & mask_) {
      size_t home = slots_[j].hash & mask_;
      bool stays = i <= j ? (i < home && home <= j) : (i < home || home <= j);
      if (stays) continue;
      slots_[i] = std::move(slots_[j]);
      i = j;
    }
    slots_[i].used = false;
    --size_;
    return true;
  }

  // Every entry once, in no particular order.
  template <typename Fn>
  void ForEach(Fn&& fn) const {
    for (const auto& s : slots_)
      if (s.used) fn(s.id, s.value);
  }

 private:
  struct Slot {
    Hash32 id;
    uint32_t hash = 0;
    bool used = false;
    V value{};
  };

  // Ids are SHA-256 digests, but tests and callers may pass ids that differ
  // in any byte: fold all of them, then spread with a Fibonacci multiply.
  static uint32_t HashOf(const Hash32& id) {
    uint64_t w[4];
    std::memcpy(w, id.data(), sizeof w);
    return uint32_t(((w[0] ^ w[1] ^ w[2] ^ w[3]) * 0x9E3779B97F4A7C15ull) >> 32);
  }

  // The slot holding id, or the empty slot where it would go.
  size_t Locate(const Hash32& id, uint32_t h) const {
    for (size_t i = h & mask_;; i = (i + 1) & mask_) {
      const Slot& s = slots_[i];
      if (!s.used || (s.hash == h && s.id == id)) return i;
    }
  }

  void Resize(size_t slots) {
    std::vector<Slot, LargeAllocator<Slot>> old = std::exchange(slots_, std::vector<Slot, LargeAllocator<Slot>>(slots));
    mask_ = slots_.size() - 1;
    for (auto& s : old) {
      if (!s.used) continue;
      size_t i = s.hash & mask_;
      while (slots_[i].used) i = (i + 1) & mask_;
      slots_[i] = std::move(s);
    }
  }

  std::vector<Slot, LargeAllocator<Slot>> slots_;
  size_t mask_ = 0, size_ = 0;
};

}  // namespace medledger
