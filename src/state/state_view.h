// The world state as the state machine sees it: a sorted key-value map.
// StateReader is the seam to storage (ledger/ implements it on RocksDB;
// MemState is the in-memory one for tests and offline verification).
// Overlay layers writes on a reader without touching it, so a block is
// executed, hashed and only then committed, and a failed transaction's
// writes are dropped whole.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <unordered_map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/bytes.h"

namespace medledger::state {

using WriteSet = std::vector<std::pair<std::string, std::optional<Bytes>>>;  // sorted by key

class StateReader {
 public:
  virtual ~StateReader() = default;
  virtual std::optional<Bytes> Get(std::string_view key) const = 0;
  // Calls fn for each key with the prefix in ascending key order until it returns false.
  virtual void Scan(std::string_view prefix,
                    const std::function<bool(std::string_view, const Bytes&)>& fn) const = 0;
};

// MemState's key hash. Transparent, so a string_view looks a key up
// without building a std::string.
struct StateKeyHash {
  using is_transparent = void;
  size_t operator()(std::string_view k) const { return std::hash<std::string_view>()(k); }
};

}  // namespace medledger::state

#ifdef __GLIBCXX__
// libstdc++ keeps each node's hash code only for hashers it knows to be
// slow; without it, every probe of a bucket rehashes a ~70-byte key and
// compares whole keys (a quarter of the audit's replay time).
template <>
struct std::__is_fast_hash<medledger::state::StateKeyHash> : std::false_type {};
#endif

namespace medledger::state {

class MemState : public StateReader {
 public:
  MemState() = default;
  MemState(const MemState& o) : kv_(o.kv_) {}
  MemState& operator=(const MemState& o) {
    if (this != &o) {
      kv_ = o.kv_;
      std::lock_guard l(order_mu_);
      order_.reset();
    }
    return *this;
  }
  std::optional<Bytes> Get(std::string_view key) const override;
  // Safe to call from several threads at once, like Get; not with Apply.
  void Scan(std::string_view prefix,
            const std::function<bool(std::string_view, const Bytes&)>& fn) const override;
  void Apply(const WriteSet& writes);
  void Apply(WriteSet&& writes);  // moves the keys and values in
  // Sizes the table for about n keys, so a long replay does not rehash.
  void Reserve(size_t n) { kv_.reserve(n); }
  size_t size() const { return kv_.size(); }
  // The value of `key`, or null; valid until the next Apply.
  const Bytes* Find(std::string_view key) const;

 private:
  // Point reads and writes dominate replay (several per transaction), so the
  // keys live in a hash table. The ordered index that prefix scans need is
  // built on the first Scan and kept up to date from then on: a replay whose
  // modules never scan (anchors, identities) never pays for ordered inserts.
  std::unordered_map<std::string, Bytes, StateKeyHash, std::equal_to<>> kv_;
  mutable std::mutex order_mu_;
  mutable std::unique_ptr<std::set<std::string_view>> order_;  // views of kv_'s keys
  const std::set<std::string_view>& Order() const;
};

// Writes buffered over a base reader. Not thread-safe.
class Overlay : public StateReader {
 public:
  explicit Overlay(const StateReader* base) : base_(base) {}
  std::optional<Bytes> Get(std::string_view key) const override;
  void Scan(std::string_view prefix,
            const std::function<bool(std::string_view, const Bytes&)>& fn) const override;
  void Put(std::string key, Bytes value) { writes_[std::move(key)] = std::move(value); }
  void Delete(std::string key) { writes_[std::move(key)] = std::nullopt; }
  // Moves this overlay's writes into `parent` (a tx's writes into its block's).
  void MergeInto(Overlay* parent);
  void Clear() { writes_.clear(); }
  WriteSet TakeWrites();
  bool empty() const { return writes_.empty(); }
  bool WritesPrefix(std::string_view prefix) const {
    auto it = writes_.lower_bound(prefix);
    return it != writes_.end() && it->first.compare(0, prefix.size(), prefix) == 0;
  }

 private:
  const StateReader* base_;
  std::map<std::string, std::optional<Bytes>, std::less<>> writes_;
};

}  // namespace medledger::state
