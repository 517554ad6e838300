#include "state/state_view.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <stdexcept>

#include "common/large_alloc.h"

namespace medledger::state {

namespace {

uint64_t HashKey(std::string_view k) { return std::hash<std::string_view>()(k); }

constexpr size_t kChunkBytes = size_t(8) << 20;  // four 2 MiB huge pages

}  // namespace

// [key length][value length][key][value], 8-byte aligned in its chunk.
struct MemState::Entry {
  uint32_t klen;
  uint32_t vlen;
  std::string_view key() const { return {reinterpret_cast<const char*>(this + 1), klen}; }
  std::string_view value() const { return {reinterpret_cast<const char*>(this + 1) + klen, vlen}; }
};

// A tombstone: an erased key's slot, which probes walk past.
MemState::Entry* const MemState::kDeleted = reinterpret_cast<MemState::Entry*>(uintptr_t(8));

struct MemState::Chunk {
  char* base = nullptr;
  size_t cap = 0;
  size_t used = 0;
};

MemState::MemState() = default;

MemState::~MemState() {
  for (auto& c : chunks_) FreeLarge(c.base);
  FreeLarge(slots_);
}

MemState::MemState(const MemState& o) { *this = o; }

MemState& MemState::operator=(const MemState& o) {
  if (this == &o) return *this;
  for (auto& c : chunks_) FreeLarge(c.base);
  chunks_.clear();
  FreeLarge(slots_);
  slots_ = nullptr;
  mask_ = used_ = live_ = 0;
  {
    std::lock_guard l(order_mu_);
    order_.reset();
  }
  Reserve(o.live_);
  for (size_t i = 0; o.slots_ && i <= o.mask_; ++i) {
    const Entry* e = o.slots_[i].entry;
    if (e && e != kDeleted) Put(e->key(), e->value());
  }
  return *this;
}

void MemState::Reserve(size_t n) {
  if (n > live_) Rehash(n);
}

void MemState::Rehash(size_t min_live) {
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

const MemState::Slot* MemState::FindSlot(std::string_view key, uint64_t h) const {
  if (!slots_) return nullptr;
  for (size_t i = h & mask_;; i = (i + 1) & mask_) {
    const Slot& s = slots_[i];
    if (!s.entry) return nullptr;
    if (s.entry != kDeleted && s.hash == h && s.entry->key() == key) return &s;
  }
}

MemState::Entry* MemState::NewEntry(std::string_view key, std::string_view value) {
  if (key.size() > UINT32_MAX || value.size() > UINT32_MAX) throw std::length_error("state entry too large");
  size_t need = (sizeof(Entry) + key.size() + value.size() + 7) & ~size_t(7);
  if (chunks_.empty() || chunks_.back().cap - chunks_.back().used < need) {
    Chunk c;
    // Chunks grow from 64 KiB to 8 MiB, so a small state stays small.
    size_t grow = chunks_.empty() ? size_t(64) << 10 : std::min(kChunkBytes, chunks_.back().cap * 2);
    c.cap = std::max(grow, need);
    c.base = static_cast<char*>(AllocLarge(c.cap, /*zero=*/false));
    chunks_.push_back(c);
  }
  Chunk& c = chunks_.back();
  auto* e = reinterpret_cast<Entry*>(c.base + c.used);
  c.used += need;
  e->klen = uint32_t(key.size());
  e->vlen = uint32_t(value.size());
  char* p = reinterpret_cast<char*>(e + 1);
  if (!key.empty()) std::memcpy(p, key.data(), key.size());
  if (!value.empty()) std::memcpy(p + key.size(), value.data(), value.size());
  return e;
}

void MemState::Put(std::string_view key, std::string_view value) {
  uint64_t h = HashKey(key);
  if (const Slot* found = FindSlot(key, h)) {
    Entry* e = found->entry;
    if (e->vlen == value.size()) {
      if (!value.empty()) std::memcpy(reinterpret_cast<char*>(e + 1) + e->klen, value.data(), value.size());
      return;
    }
    // A new entry for a resized value; the old one stays in the arena (the
    // ordered index may hold a view of its key) and is freed with the state.
    const_cast<Slot*>(found)->entry = NewEntry(key, value);
    return;
  }
  if ((used_ + 1) * 2 > mask_ + 1 || !slots_) Rehash(std::max<size_t>(live_ + 1, live_ * 2));
  Entry* e = NewEntry(key, value);
  size_t i = h & mask_;
  while (slots_[i].entry && slots_[i].entry != kDeleted) i = (i + 1) & mask_;
  if (!slots_[i].entry) used_++;
  slots_[i] = Slot{h, e};
  live_++;
  if (order_) order_->insert(e->key());
}

void MemState::Erase(std::string_view key) {
  const Slot* found = FindSlot(key, HashKey(key));
  if (!found) return;
  if (order_) order_->erase(key);
  const_cast<Slot*>(found)->entry = kDeleted;
  live_--;
}

std::optional<Bytes> MemState::Get(std::string_view key) const {
  const Slot* s = FindSlot(key, HashKey(key));
  if (!s) return std::nullopt;
  std::string_view v = s->entry->value();
  return Bytes(v.begin(), v.end());
}

std::optional<std::string_view> MemState::Find(std::string_view key) const {
  const Slot* s = FindSlot(key, HashKey(key));
  if (!s) return std::nullopt;
  return s->entry->value();
}

const std::set<std::string_view>& MemState::Order() const {
  std::lock_guard l(order_mu_);
  if (!order_) {
    order_ = std::make_unique<std::set<std::string_view>>();
    for (size_t i = 0; slots_ && i <= mask_; ++i) {
      const Entry* e = slots_[i].entry;
      if (e && e != kDeleted) order_->insert(e->key());
    }
  }
  return *order_;
}

void MemState::Scan(std::string_view prefix,
                    const std::function<bool(std::string_view, const Bytes&)>& fn) const {
  const auto& order = Order();
  Bytes tmp;
  for (auto it = order.lower_bound(prefix); it != order.end(); ++it) {
    if (it->compare(0, prefix.size(), prefix) != 0) break;
    std::string_view v = FindSlot(*it, HashKey(*it))->entry->value();
    tmp.assign(v.begin(), v.end());
    if (!fn(*it, tmp)) break;
  }
}

void MemState::Apply(const WriteSet& writes) {
  for (const auto& [k, v] : writes) {
    if (v) Put(k, AsStringView(*v));
    else Erase(k);
  }
}

std::optional<Bytes> Overlay::Get(std::string_view key) const {
  auto it = writes_.find(key);
  if (it != writes_.end()) return it->second;
  return base_->Get(key);
}

void Overlay::Scan(std::string_view prefix,
                   const std::function<bool(std::string_view, const Bytes&)>& fn) const {
  // Merge the base's ordered scan with this layer's ordered writes.
  auto it = writes_.lower_bound(prefix);
  auto in_prefix = [&](const std::string& k) { return k.compare(0, prefix.size(), prefix) == 0; };
  bool stop = false;
  base_->Scan(prefix, [&](std::string_view bk, const Bytes& bv) {
    while (it != writes_.end() && in_prefix(it->first) && std::string_view(it->first) < bk) {
      if (it->second && !fn(it->first, *it->second)) { stop = true; return false; }
      ++it;
    }
    if (it != writes_.end() && in_prefix(it->first) && std::string_view(it->first) == bk) {
      bool cont = true;
      if (it->second) cont = fn(it->first, *it->second);
      ++it;
      if (!cont) stop = true;
      return cont;
    }
    if (!fn(bk, bv)) { stop = true; return false; }
    return true;
  });
  if (stop) return;
  for (; it != writes_.end() && in_prefix(it->first); ++it) {
    if (it->second && !fn(it->first, *it->second)) return;
  }
}

void Overlay::MergeInto(Overlay* parent) {
  // Map nodes move across whole (no key copies, no allocation) unless the
  // parent already has the key.
  while (!writes_.empty()) {
    auto node = writes_.extract(writes_.begin());
    auto it = parent->writes_.lower_bound(node.key());
    if (it != parent->writes_.end() && it->first == node.key()) it->second = std::move(node.mapped());
    else parent->writes_.insert(it, std::move(node));
  }
}

WriteSet Overlay::TakeWrites() {
  WriteSet out;
  out.reserve(writes_.size());
  while (!writes_.empty()) {
    auto node = writes_.extract(writes_.begin());
    out.emplace_back(std::move(node.key()), std::move(node.mapped()));
  }
  return out;
}

}  // namespace medledger::state
