#include "node/mempool.h"

#include <algorithm>
#include <cstring>

namespace medledger::node {

const char* TxStateName(TxState s) {
  switch (s) {
    case TxState::kUnknown: return "unknown";
    case TxState::kPending: return "pending";
    case TxState::kCommitted: return "committed";
    case TxState::kRejected: return "rejected";
  }
  return "unknown";
}

struct Mempool::Waiter {
  // One per id, in the caller's order; kPending while that id is registered
  // (in pending_ or extra_waits_) and unresolved.
  std::vector<TxOutcome> outs;
  size_t unresolved = 0;
  std::chrono::steady_clock::time_point deadline;
  std::function<void(std::vector<TxOutcome>)> done;
  size_t pos = 0;  // index in live_
};

Mempool::Mempool(size_t capacity, size_t remembered)
    : capacity_(capacity),
      remembered_(remembered),
      reaper_([this] { ReaperLoop(); }) {
  // The outcome table fills to `remembered` under any steady load; sized now,
  // it does not rehash (and fault in fresh pages) while the node takes load.
  // Under the lock: the reaper thread is already running.
  std::lock_guard lock(mu_);
  recent_.Reserve(remembered_);
}

Mempool::~Mempool() { Stop(); }

void Mempool::Stop() {
  {
    std::lock_guard lock(mu_);
    if (stop_) return;
    stop_ = true;
  }
  cv_.notify_all();
  reaper_cv_.notify_all();
  if (reaper_.joinable()) reaper_.join();
}

Status Mempool::AddLocked(model::Transaction&& tx, const Hash32& id, bool* wake) {
  if (pending_.size() >= capacity_) {
    if (pending_.Find(id)) return AlreadyExists("transaction is already pending");
    return ResourceExhausted("mempool is full; retry later");
  }
  if (!pending_.Insert(id).second) return AlreadyExists("transaction is already pending");
  // Only the orderer takes, and it waits only on an empty queue.
  if (queue_.empty()) *wake = true;
  queue_.emplace_back(std::move(tx), id);
  return Status::Ok();
}

Status Mempool::Add(model::Transaction tx, const Hash32& id) {
  bool wake = false;
  Status st;
  {
    std::lock_guard lock(mu_);
    st = AddLocked(std::move(tx), id, &wake);
  }
  if (wake) cv_.notify_one();
  return st;
}

void Mempool::AddAll(std::vector<model::Transaction>* txs, const std::vector<Hash32>& ids,
                     std::vector<Status>* results) {
  results->clear();
  results->reserve(ids.size());
  bool wake = false;
  {
    std::lock_guard lock(mu_);
    for (size_t i = 0; i < ids.size(); ++i) results->push_back(AddLocked(std::move((*txs)[i]), ids[i], &wake));
  }
  if (wake) cv_.notify_one();
}

size_t Mempool::Take(size_t max, std::chrono::milliseconds wait, std::vector<model::Transaction>* txs,
                     std::vector<Hash32>* ids) {
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, wait, [&] { return !queue_.empty() || stop_; });
  size_t n = std::min(max, queue_.size());
  txs->reserve(txs->size() + n);
  ids->reserve(ids->size() + n);
  for (size_t i = 0; i < n; ++i) {
    txs->push_back(std::move(queue_.front().first));
    ids->push_back(queue_.front().second);
    queue_.pop_front();
  }
  return n;
}

void Mempool::Requeue(std::vector<model::Transaction> txs, std::vector<Hash32> ids) {
  std::lock_guard lock(mu_);
  for (size_t i = txs.size(); i-- > 0;) queue_.emplace_front(std::move(txs[i]), ids[i]);
  cv_.notify_all();
}

void Mempool::Forget(const std::vector<Hash32>& ids) {
  std::lock_guard lock(mu_);
  for (const auto& id : ids) {
    WaitRef ref;
    if (pending_.Erase(id, &ref) && ref.waiter) extra_waits_.emplace(id, ref);
  }
}

void Mempool::Remember(const Hash32& id, const Resolved& r, const std::string& detail) {
  if (remembered_ == 0) return;
  auto [slot, inserted] = recent_.Insert(id);
  *slot = r;  // before any Erase below, which may move slots
  if (r.state == TxState::kRejected && !detail.empty()) details_.insert_or_assign(id, detail);
  else if (!inserted && !details_.empty()) details_.erase(id);
  if (!inserted) return;  // an update keeps its place in the forgetting order
  recent_order_.push_back(id);
  while (recent_order_.size() > remembered_) {
    Resolved old;
    if (recent_.Erase(recent_order_.front(), &old) && old.state == TxState::kRejected && !details_.empty())
      details_.erase(recent_order_.front());
    recent_order_.pop_front();
  }
}

void Mempool::Resolve(const WaitRef& ref, const Hash32& id, const Resolved& r, const std::string& detail) {
  Waiter* w = ref.waiter;
  TxOutcome& o = w->outs[ref.slot];
  o.id = id;
  o.state = r.state;
  o.height = r.height;
  o.index = r.index;
  o.verdict.reason = r.reason;
  o.verdict.detail = detail;
  if (--w->unresolved == 0) ready_.push_back(w);
}

void Mempool::ResolveOrphans(const Hash32& id, const Resolved& r, const std::string& detail) {
  auto range = extra_waits_.equal_range(id);
  if (range.first == range.second) return;
  for (auto it = range.first; it != range.second; ++it) Resolve(it->second, id, r, detail);
  extra_waits_.erase(range.first, range.second);
}

void Mempool::RecordRejection(const Hash32& id, model::Verdict v) {
  bool wake;
  {
    std::lock_guard lock(mu_);
    Resolved r;
    r.state = TxState::kRejected;
    r.reason = v.reason;
    Remember(id, r, v.detail);
    // Waiters of a pending id wait for its block; those of an id Forget
    // dropped (etcd: too large for any block) learn the rejection now.
    if (!extra_waits_.empty() && !pending_.Find(id)) ResolveOrphans(id, r, v.detail);
    wake = !ready_.empty();
  }
  if (wake) reaper_cv_.notify_one();
}

void Mempool::OnBlockCommitted(const CommittedBlock& b) {
  bool wake;
  {
    std::lock_guard lock(mu_);
    const uint64_t height = b.block.header.height;
    for (size_t i = 0; i < b.ids.size(); ++i) {
      const Hash32& id = b.ids[i];
      const model::Verdict& v = b.block.results[i];
      Resolved r;
      r.height = height;
      r.index = uint32_t(i);
      r.state = v.ok() ? TxState::kCommitted : TxState::kRejected;
      r.reason = v.reason;
      Remember(id, r, v.detail);
      WaitRef ref;
      if (pending_.Erase(id, &ref) && ref.waiter) Resolve(ref, id, r, v.detail);
      if (!extra_waits_.empty()) ResolveOrphans(id, r, v.detail);
    }
    wake = !ready_.empty();
  }
  if (wake) reaper_cv_.notify_one();
}

// Pending first: an id rejected at one submission and admitted at a later
// one is pending, whatever the older rejection said.
TxOutcome Mempool::LookupLocked(const Hash32& id) const {
  TxOutcome o;
  o.id = id;
  if (pending_.Find(id)) {
    o.state = TxState::kPending;
    return o;
  }
  if (const Resolved* r = recent_.Find(id)) {
    o.state = r->state;
    o.height = r->height;
    o.index = r->index;
    o.verdict.reason = r->reason;
    if (r->state == TxState::kRejected && !details_.empty()) {
      auto it = details_.find(id);
      if (it != details_.end()) o.verdict.detail = it->second;
    }
  }
  return o;
}

TxOutcome Mempool::Lookup(const Hash32& id) const {
  std::lock_guard lock(mu_);
  return LookupLocked(id);
}

void Mempool::WaitAll(std::vector<Hash32> ids, std::chrono::milliseconds timeout,
                      std::function<void(std::vector<TxOutcome>)> done) {
  auto w = std::make_unique<Waiter>();
  w->outs.resize(ids.size());
  std::unique_lock lock(mu_);
  for (size_t i = 0; i < ids.size(); ++i) {
    const Hash32& id = ids[i];
    WaitRef* ref = stop_ ? nullptr : pending_.Find(id);
    if (!ref) {
      w->outs[i] = LookupLocked(id);
      continue;
    }
    WaitRef mine{w.get(), uint32_t(i)};
    if (!ref->waiter) *ref = mine;
    else extra_waits_.emplace(id, mine);
    w->outs[i].id = id;
    w->outs[i].state = TxState::kPending;
    w->unresolved++;
  }
  if (w->unresolved == 0) {
    lock.unlock();
    done(std::move(w->outs));
    return;
  }
  w->deadline = std::chrono::steady_clock::now() + timeout;
  w->done = std::move(done);
  w->pos = live_.size();
  bool earlier = w->deadline < next_deadline_;
  if (earlier) next_deadline_ = w->deadline;
  live_.push_back(std::move(w));
  lock.unlock();
  if (earlier) reaper_cv_.notify_one();
}

void Mempool::Detach(Waiter* w) {
  for (size_t i = 0; i < w->outs.size(); ++i) {
    TxOutcome& o = w->outs[i];
    if (o.state != TxState::kPending) continue;
    WaitRef* ref = pending_.Find(o.id);
    if (ref && ref->waiter == w && ref->slot == i) {
      *ref = WaitRef{};
    } else {
      auto range = extra_waits_.equal_range(o.id);
      for (auto it = range.first; it != range.second; ++it) {
        if (it->second.waiter == w && it->second.slot == i) {
          extra_waits_.erase(it);
          break;
        }
      }
    }
    o = LookupLocked(o.id);
  }
}

std::unique_ptr<Mempool::Waiter> Mempool::Retire(Waiter* w) {
  size_t pos = w->pos;
  std::unique_ptr<Waiter> mine = std::move(live_[pos]);
  if (pos + 1 != live_.size()) {
    live_[pos] = std::move(live_.back());
    live_[pos]->pos = pos;
  }
  live_.pop_back();
  return mine;
}

// Fires waiters that are resolved or past their deadline. Callbacks run on
// this thread, outside the lock, so a slow HTTP reply cannot stall commits.
// It sleeps until the earliest deadline unless a waiter completes first.
void Mempool::ReaperLoop() {
  using Clock = std::chrono::steady_clock;
  std::vector<std::unique_ptr<Waiter>> fire;
  std::unique_lock lock(mu_);
  for (;;) {
    if (ready_.empty() && !stop_) {
      if (next_deadline_ == Clock::time_point::max()) reaper_cv_.wait(lock);
      else reaper_cv_.wait_until(lock, next_deadline_);
    }
    for (Waiter* w : ready_) fire.push_back(Retire(w));
    ready_.clear();
    auto now = Clock::now();
    if (stop_ || now >= next_deadline_) {
      // next_deadline_ may be stale (its waiter completed): recompute it.
      auto next = Clock::time_point::max();
      for (size_t i = 0; i < live_.size();) {
        Waiter* w = live_[i].get();
        if (stop_ || now >= w->deadline) {
          Detach(w);
          fire.push_back(Retire(w));  // moves the last waiter into i
        } else {
          next = std::min(next, w->deadline);
          ++i;
        }
      }
      next_deadline_ = next;
    }
    if (live_.empty()) next_deadline_ = Clock::time_point::max();
    bool stopping = stop_;
    if (!fire.empty()) {
      lock.unlock();
      for (auto& w : fire) w->done(std::move(w->outs));
      fire.clear();  // the callbacks' captures are released here too, unlocked
      lock.lock();
    }
    if (stopping) return;
  }
}

size_t Mempool::pending() const {
  std::lock_guard lock(mu_);
  return pending_.size();
}

}  // namespace medledger::node
