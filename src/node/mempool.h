// Transactions admitted but not yet in a block, what happened to recent
// ones, and the callers waiting for them to commit.
//
// Thread-safe: HTTP handlers add and wait from any thread; the orderer takes
// batches; the chain's commit listener resolves them.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <list>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "model/transaction.h"
#include "model/verdict.h"
#include "node/chain.h"
#include "state/replay_guard.h"

namespace medledger::node {

enum class TxState { kUnknown, kPending, kCommitted, kRejected };
const char* TxStateName(TxState s);

struct TxOutcome {
  Hash32 id{};
  TxState state = TxState::kUnknown;
  uint64_t height = 0;       // for transactions included in a block
  uint32_t index = 0;
  model::Verdict verdict;    // why it was rejected (at admission or in its block)
};

class Mempool {
 public:
  explicit Mempool(size_t capacity = 200000, size_t remembered = 100000);
  ~Mempool();

  // kAlreadyExists if the id is already pending; kResourceExhausted when full.
  Status Add(model::Transaction tx, const Hash32& id);
  // Moves up to `max` transactions, oldest first, into the outputs; waits up
  // to `wait` for the first one. Taken transactions stay "pending" until
  // their block commits or Requeue() gives them back.
  size_t Take(size_t max, std::chrono::milliseconds wait, std::vector<model::Transaction>* txs,
              std::vector<Hash32>* ids);
  void Requeue(std::vector<model::Transaction> txs, std::vector<Hash32> ids);
  // Drops taken transactions that another node's block already included or
  // that were never ordered (etcd mode: lost a race).
  void Forget(const std::vector<Hash32>& ids);

  // Records an admission rejection, so GET /v1/tx/{id} can report it.
  void RecordRejection(const Hash32& id, model::Verdict v);
  void OnBlockCommitted(const CommittedBlock& b);

  // What is known about `id` from memory (pending, or recently resolved).
  TxOutcome Lookup(const Hash32& id) const;
  // Calls done exactly once: when every id is resolved, or at the deadline
  // with what is known then (unresolved ones still kPending).
  void WaitAll(std::vector<Hash32> ids, std::chrono::milliseconds timeout,
               std::function<void(std::vector<TxOutcome>)> done);

  size_t pending() const;
  void Stop();

 private:
  struct Waiter {
    std::vector<Hash32> ids;
    size_t unresolved;
    std::chrono::steady_clock::time_point deadline;
    std::function<void(std::vector<TxOutcome>)> done;
    bool fired = false;
  };
  void Remember(const TxOutcome& o);  // requires mu_
  void ReaperLoop();
  TxOutcome LookupLocked(const Hash32& id) const;

  size_t capacity_, remembered_;
  mutable std::mutex mu_;
  // Two condition variables: one for the orderer waiting for transactions,
  // one for the reaper waiting for outcomes. A single shared one woke both
  // threads on every admitted transaction (a futex storm: 12% of node CPU).
  std::condition_variable cv_;         // queue became non-empty, or stop
  std::condition_variable reaper_cv_;  // outcomes recorded, waiter added, or stop
  std::deque<std::pair<model::Transaction, Hash32>> queue_;
  std::unordered_set<Hash32, state::HashHasher> pending_;
  std::unordered_map<Hash32, TxOutcome, state::HashHasher> recent_;
  std::deque<Hash32> recent_order_;
  std::unordered_multimap<Hash32, std::shared_ptr<Waiter>, state::HashHasher> waiters_;
  std::list<std::shared_ptr<Waiter>> all_waiters_;
  bool stop_ = false;
  std::thread reaper_;
};

}  // namespace medledger::node
