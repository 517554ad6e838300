#include "common/arena_map.h"

#include <algorithm>
#include <cstring>
#include <stdexcept>

#include "common/large_alloc.h"

namespace medledger {

namespace {
uint64_t HashKey(std::string_view k) { return std::hash<std::string_view>()(k); }
constexpr size_t kChunkBytes = size_t(8) << 20;  // four 2 MiB huge pages
}  // namespace

// [key length][value length][key][value], 8-byte aligned in its chunk.
struct ArenaMap::Entry {
  uint32_t klen;
  uint32_t vlen;
  std::string_view key() const { return {reinterpret_cast<const char*>(this + 1), klen}; }
  std::string_view value() const { return {reinterpret_cast<const char*>(this + 1) + klen, vlen}; }
};

// A tombstone: an erased key's slot, which probes walk past.
ArenaMap::Entry* const ArenaMap::kDeleted = reinterpret_cast<ArenaMap::Entry*>(uintptr_t(8));

ArenaMap::~ArenaMap() { Clear(); }

void ArenaMap::Clear() {
  for (auto& c : chunks_) FreeLarge(c.base);
  chunks_.clear();
  cur_ = 0;
  FreeLarge(slots_);
  slots_ = nullptr;
  mask_ = used_ = live_ = 0;
}

ArenaMap::ArenaMap(const ArenaMap& o) { *this = o; }

ArenaMap& ArenaMap::operator=(const ArenaMap& o) {
  if (this == &o) return *this;
  Clear();
  Reserve(o.live_);
  o.ForEach([&](std::string_view k, std::string_view v) { Put(k, v); });
  return *this;
}

void ArenaMap::Reset() {
  for (auto& c : chunks_) c.used = 0;
  cur_ = 0;
  if (slots_) std::memset(static_cast<void*>(slots_), 0, (mask_ + 1) * sizeof(Slot));
  used_ = live_ = 0;
}

void ArenaMap::Reserve(size_t n, bool prefault) {
  if (n > live_) Rehash(n);
  if (prefault) PrefaultLarge(slots_, (mask_ + 1) * sizeof(Slot));
}

void ArenaMap::Rehash(size_t min_live) {
  // Load factor at most 1/2: short probe sequences, and a miss (most lookups
  // of a replay are for keys not written yet) ends at an empty slot quickly.
  size_t cap = 16;
  while (cap < min_live * 2) cap <<= 1;
  Slot* fresh = static_cast<Slot*>(AllocLarge(cap * sizeof(Slot), /*zero=*/true));
  size_t mask = cap - 1;
  for (size_t i = 0; slots_ && i <= mask_; ++i) {
    const Slot& s = slots_[i];
    if (!s.entry || s.entry == kDeleted) continue;
    size_t j = s.hash & mask;
    while (fresh[j].entry) j = (j + 1) & mask;
    fresh[j] = s;
  }
  FreeLarge(slots_);
  slots_ = fresh;
  mask_ = mask;
  used_ = live_;
}

ArenaMap::Slot* ArenaMap::FindSlot(std::string_view key, uint64_t h) const {
  if (!slots_) return nullptr;
  for (size_t i = h & mask_;; i = (i + 1) & mask_) {
    Slot& s = slots_[i];
    if (!s.entry) return nullptr;
    if (s.entry != kDeleted && s.hash == h && s.entry->key() == key) return &s;
  }
}

ArenaMap::Entry* ArenaMap::NewEntry(std::string_view key, std::string_view value) {
  if (key.size() > UINT32_MAX || value.size() > UINT32_MAX) throw std::length_error("arena map entry too large");
  size_t need = (sizeof(Entry) + key.size() + value.size() + 7) & ~size_t(7);
  while (cur_ < chunks_.size() && chunks_[cur_].cap - chunks_[cur_].used < need) ++cur_;
  if (cur_ == chunks_.size()) {
    Chunk c;
    // Chunks grow from 64 KiB to 8 MiB, so a small map stays small.
    size_t grow = chunks_.empty() ? size_t(64) << 10 : std::min(kChunkBytes, chunks_.back().cap * 2);
    c.cap = std::max(grow, need);
    c.base = static_cast<char*>(AllocLarge(c.cap, /*zero=*/false));
    chunks_.push_back(c);
  }
  Chunk& c = chunks_[cur_];
  auto* e = reinterpret_cast<Entry*>(c.base + c.used);
  c.used += need;
  e->klen = uint32_t(key.size());
  e->vlen = uint32_t(value.size());
  char* p = reinterpret_cast<char*>(e + 1);
  if (!key.empty()) std::memcpy(p, key.data(), key.size());
  if (!value.empty()) std::memcpy(p + key.size(), value.data(), value.size());
  return e;
}

std::string_view ArenaMap::Put(std::string_view key, std::string_view value) {
  uint64_t h = HashKey(key);
  if (Slot* found = FindSlot(key, h)) {
    Entry* e = found->entry;
    if (e->vlen == value.size()) {
      if (!value.empty()) std::memcpy(reinterpret_cast<char*>(e + 1) + e->klen, value.data(), value.size());
      return e->key();
    }
    // A new entry for a resized value; the old one stays in the arena (a
    // caller may hold a view of its key) and is freed with the map.
    found->entry = NewEntry(key, value);
    return found->entry->key();
  }
  if ((used_ + 1) * 2 > mask_ + 1 || !slots_) Rehash(std::max<size_t>(live_ + 1, live_ * 2));
  Entry* e = NewEntry(key, value);
  size_t i = h & mask_;
  while (slots_[i].entry && slots_[i].entry != kDeleted) i = (i + 1) & mask_;
  if (!slots_[i].entry) used_++;
  slots_[i] = Slot{h, e};
  live_++;
  return e->key();
}

bool ArenaMap::Erase(std::string_view key) {
  Slot* found = FindSlot(key, HashKey(key));
  if (!found) return false;
  found->entry = kDeleted;
  live_--;
  return true;
}

std::optional<std::string_view> ArenaMap::Find(std::string_view key) const {
  const Slot* s = FindSlot(key, HashKey(key));
  if (!s) return std::nullopt;
  return s->entry->value();
}

void ArenaMap::FindMany(const std::string_view* keys, size_t n, std::optional<std::string_view>* out) const {
  constexpr size_t kBatch = 32;
  uint64_t h[kBatch];
  for (size_t base = 0; base < n; base += kBatch) {
    const size_t m = std::min(kBatch, n - base);
    for (size_t i = 0; i < m; ++i) {
      h[i] = HashKey(keys[base + i]);
      if (slots_) __builtin_prefetch(&slots_[h[i] & mask_]);
    }
    // Second stage: the home slots are (mostly) in cache now, so fetch the
    // entries they point at; a probe that walks on finds the rest itself.
    for (size_t i = 0; slots_ && i < m; ++i) {
      const Entry* e = slots_[h[i] & mask_].entry;
      if (e && e != kDeleted) {
        __builtin_prefetch(e);
        __builtin_prefetch(reinterpret_cast<const char*>(e) + 64);
      }
    }
    for (size_t i = 0; i < m; ++i) {
      const Slot* s = FindSlot(keys[base + i], h[i]);
      out[base + i] = s ? std::optional<std::string_view>(s->entry->value()) : std::nullopt;
    }
  }
}

void ArenaMap::ForEach(const std::function<void(std::string_view, std::string_view)>& fn) const {
  for (size_t i = 0; slots_ && i <= mask_; ++i) {
    const Entry* e = slots_[i].entry;
    if (e && e != kDeleted) fn(e->key(), e->value());
  }
}

}  // namespace medledger
