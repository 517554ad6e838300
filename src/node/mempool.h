// Transactions admitted but not yet in a block, what happened to recent
// ones, and the callers waiting for them to commit.
//
// Thread-safe: HTTP handlers add and wait from any thread; the orderer takes
// batches; the chain's commit listener resolves them. WaitAll callbacks run
// without the lock held (on the caller's thread when already resolved, else
// on the mempool's reaper thread), so they may call back into the mempool.
//
// Every admitted transaction passes through Add, Take, WaitAll and
// OnBlockCommitted at the node's peak rate, so the bookkeeping is flat:
// open-addressing tables keyed by tx id, no allocation per transaction, and
// a waiter is reached from the pending entry rather than through a second
// index.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/id_map.h"
#include "model/transaction.h"
#include "model/verdict.h"
#include "node/chain.h"
#include "state/replay_guard.h"

namespace medledger::node {

enum class TxState : uint8_t { kUnknown, kPending, kCommitted, kRejected };
const char* TxStateName(TxState s);

struct TxOutcome {
  Hash32 id{};
  TxState state = TxState::kUnknown;
  uint64_t height = 0;       // for transactions included in a block
  uint32_t index = 0;
  model::Verdict verdict;    // why it was rejected (at admission or in its block)
  // Set, with state kUnknown, when admission could not decide because this
  // node failed (state unreadable, mempool full): no verdict, retry later.
  Status error;
};

class Mempool {
 public:
  // `capacity` bounds the pending transactions; `remembered` how many
  // resolved outcomes Lookup can still report (the oldest are forgotten).
  explicit Mempool(size_t capacity = 200000, size_t remembered = 100000);
  ~Mempool();

  // kAlreadyExists if the id is already pending; kResourceExhausted when full.
  Status Add(model::Transaction tx, const Hash32& id);
  // Add for each (txs[i], ids[i]) in order, under one lock; results[i] is
  // what Add would have returned. A batch of submissions takes the lock once
  // rather than once per transaction: the commit listener holds it for a
  // whole block, and per-transaction adds that queued behind it idled the
  // HTTP threads for ~7% of the time under full load.
  void AddAll(std::vector<model::Transaction>* txs, const std::vector<Hash32>& ids, std::vector<Status>* results);
  // Moves up to `max` transactions, oldest first, into the outputs; waits up
  // to `wait` for the first one. Taken transactions stay "pending" until
  // their block commits or Requeue() gives them back.
  size_t Take(size_t max, std::chrono::milliseconds wait, std::vector<model::Transaction>* txs,
              std::vector<Hash32>* ids);
  void Requeue(std::vector<model::Transaction> txs, std::vector<Hash32> ids);
  // Drops taken transactions that another node's block already included or
  // that were never ordered (etcd mode: lost a race). Their waiters keep
  // waiting: a block that includes them, or a RecordRejection, resolves them.
  void Forget(const std::vector<Hash32>& ids);

  // Records an admission rejection, so GET /v1/tx/{id} can report it. An id
  // that is pending stays pending (it was admitted by another submission).
  void RecordRejection(const Hash32& id, model::Verdict v);
  void OnBlockCommitted(const CommittedBlock& b);

  // What is known about `id` from memory: pending, or recently resolved.
  TxOutcome Lookup(const Hash32& id) const;
  // Calls done exactly once with one outcome per id, in order: when every
  // id is resolved, or at the deadline with what is known then (unresolved
  // ones still kPending). Ids not pending when called count as resolved.
  void WaitAll(std::vector<Hash32> ids, std::chrono::milliseconds timeout,
               std::function<void(std::vector<TxOutcome>)> done);

  size_t pending() const;
  // Fires every waiter with what is known and stops the reaper; later
  // WaitAll calls answer at once.
  void Stop();

 private:
  struct Waiter;
  // One id's registration with a waiter: which of its outcomes to fill.
  struct WaitRef {
    Waiter* waiter = nullptr;
    uint32_t slot = 0;
  };
  // What Lookup reports of a resolved id, without the rejection detail
  // (kept apart in details_: rejections are rare, strings are not small).
  struct Resolved {
    uint64_t height = 0;
    uint32_t index = 0;
    TxState state = TxState::kUnknown;
    model::Reject reason = model::Reject::kNone;
  };
  Status AddLocked(model::Transaction&& tx, const Hash32& id, bool* wake);  // requires mu_
  void Remember(const Hash32& id, const Resolved& r, const std::string& detail);  // requires mu_
  // Fills the waiter's outcome and queues it for the reaper once complete.
  void Resolve(const WaitRef& ref, const Hash32& id, const Resolved& r, const std::string& detail);  // requires mu_
  void ResolveOrphans(const Hash32& id, const Resolved& r, const std::string& detail);  // requires mu_
  // Unhooks a waiter from every id it still waits for.
  void Detach(Waiter* w);  // requires mu_
  std::unique_ptr<Waiter> Retire(Waiter* w);  // requires mu_: takes it out of live_
  void ReaperLoop();
  TxOutcome LookupLocked(const Hash32& id) const;

  size_t capacity_, remembered_;
  mutable std::mutex mu_;
  // Two condition variables: one for the orderer waiting for transactions,
  // one for the reaper waiting for outcomes. A single shared one woke both
  // threads on every admitted transaction (a futex storm: 12% of node CPU).
  std::condition_variable cv_;         // queue became non-empty, or stop
  std::condition_variable reaper_cv_;  // a waiter completed, an earlier deadline, or stop
  std::deque<std::pair<model::Transaction, Hash32>> queue_;
  // Pending ids, each with its first waiter (most ids have none or one).
  IdMap<WaitRef> pending_;
  // Further waiters of a pending id, and waiters of ids that Forget dropped
  // from pending_ (resolved by a later commit or rejection, else at the
  // deadline). Rare, so usually empty and never searched.
  std::unordered_multimap<Hash32, WaitRef, state::HashHasher> extra_waits_;
  // Resolved outcomes, and their ids oldest first for forgetting them.
  IdMap<Resolved> recent_;
  std::deque<Hash32> recent_order_;
  std::unordered_map<Hash32, std::string, state::HashHasher> details_;  // of remembered rejections
  std::vector<std::unique_ptr<Waiter>> live_;  // registered, not yet fired
  std::vector<Waiter*> ready_;                 // every id resolved; the reaper fires them
  std::chrono::steady_clock::time_point next_deadline_ = std::chrono::steady_clock::time_point::max();
  bool stop_ = false;
  std::thread reaper_;
};

}  // namespace medledger::node
