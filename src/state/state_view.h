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
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/arena_map.h"
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
  MemState();
  ~MemState() override;
  MemState(const MemState& o);
  MemState& operator=(const MemState& o);
  std::optional<Bytes> Get(std::string_view key) const override;
  // Safe to call from several threads at once, like Get; not with Apply.
  void Scan(std::string_view prefix,
            const std::function<bool(std::string_view, const Bytes&)>& fn) const override;
  void Apply(const WriteSet& writes);  // copies keys and values into the arena
  // Sizes the table for about n keys, so a long replay does not rehash.
  void Reserve(size_t n);
  size_t size() const { return map_.size(); }
  // The value of `key`, if present; valid until the next Apply.
  std::optional<std::string_view> Find(std::string_view key) const;
  // Find for n keys at once (ArenaMap::FindMany).
  void FindMany(const std::string_view* keys, size_t n, std::optional<std::string_view>* out) const {
    map_.FindMany(keys, n, out);
  }

 private:
  // The offline audit replays millions of writes into this table, so it is
  // an ArenaMap (common/arena_map.h): no allocation per key, one probe per
  // lookup.
  ArenaMap map_;
  // The ordered index that prefix scans need is built on the first Scan and
  // kept up to date from then on: a replay whose modules never scan
  // (anchors, identities) never pays for ordered inserts. Views point into
  // the arena, which never moves or frees an entry while the state lives.
  mutable std::mutex order_mu_;
  mutable std::unique_ptr<std::set<std::string_view>> order_;
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
