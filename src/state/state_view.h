// The world state as the state machine sees it: a sorted key-value map.
// StateReader is the seam to storage (ledger/ implements it on RocksDB;
// MemState is the in-memory one for tests and offline verification).
// Overlay layers writes on a reader without touching it, so a block is
// executed, hashed and only then committed, and a failed transaction's
// writes are dropped whole.
#pragma once

#include <functional>
#include <map>
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

class MemState : public StateReader {
 public:
  MemState() = default;
  MemState(const MemState& o) : kv_(o.kv_) { Reindex(); }
  MemState& operator=(const MemState& o) {
    if (this != &o) {
      kv_ = o.kv_;
      Reindex();
    }
    return *this;
  }
  std::optional<Bytes> Get(std::string_view key) const override;
  void Scan(std::string_view prefix,
            const std::function<bool(std::string_view, const Bytes&)>& fn) const override;
  void Apply(const WriteSet& writes);
  size_t size() const { return kv_.size(); }
  // Every entry in key order (for whole-state comparisons).
  const std::map<std::string, Bytes, std::less<>>& entries() const { return kv_; }

 private:
  // Point reads dominate replay (several per transaction), so they go to a
  // hash map; the ordered key set serves prefix scans.
  std::map<std::string, Bytes, std::less<>> kv_;
  std::unordered_map<std::string_view, const Bytes*> index_;
  void Reindex() {
    index_.clear();
    for (const auto& [k, v] : kv_) index_[std::string_view(k)] = &v;
  }
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
