#include "node/mempool.h"

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

Mempool::Mempool(size_t capacity, size_t remembered)
    : capacity_(capacity), remembered_(remembered), reaper_([this] { ReaperLoop(); }) {}

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

Status Mempool::Add(model::Transaction tx, const Hash32& id) {
  std::lock_guard lock(mu_);
  if (pending_.count(id)) return AlreadyExists("transaction is already pending");
  if (pending_.size() >= capacity_) return ResourceExhausted("mempool is full; retry later");
  pending_.insert(id);
  bool was_empty = queue_.empty();
  queue_.emplace_back(std::move(tx), id);
  if (was_empty) cv_.notify_one();  // only the orderer takes; it waits only on an empty queue
  return Status::Ok();
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
  for (const auto& id : ids) pending_.erase(id);
}

void Mempool::Remember(const TxOutcome& o) {
  auto [it, inserted] = recent_.insert_or_assign(o.id, o);
  if (inserted) recent_order_.push_back(o.id);
  while (recent_order_.size() > remembered_) {
    recent_.erase(recent_order_.front());
    recent_order_.pop_front();
  }
  auto range = waiters_.equal_range(o.id);
  for (auto it2 = range.first; it2 != range.second; ++it2) {
    auto& w = it2->second;
    if (w->unresolved > 0) w->unresolved--;
  }
}

void Mempool::RecordRejection(const Hash32& id, model::Verdict v) {
  std::lock_guard lock(mu_);
  TxOutcome o;
  o.id = id;
  o.state = TxState::kRejected;
  o.verdict = std::move(v);
  Remember(o);
  if (!all_waiters_.empty()) reaper_cv_.notify_one();
}

void Mempool::OnBlockCommitted(const CommittedBlock& b) {
  std::vector<std::shared_ptr<Waiter>> ready;
  {
    std::lock_guard lock(mu_);
    for (size_t i = 0; i < b.ids.size(); ++i) {
      pending_.erase(b.ids[i]);
      TxOutcome o;
      o.id = b.ids[i];
      o.height = b.block.header.height;
      o.index = uint32_t(i);
      o.verdict = b.block.results[i];
      o.state = o.verdict.ok() ? TxState::kCommitted : TxState::kRejected;
      Remember(o);
    }
  }
  reaper_cv_.notify_one();
}

TxOutcome Mempool::LookupLocked(const Hash32& id) const {
  auto it = recent_.find(id);
  if (it != recent_.end()) return it->second;
  TxOutcome o;
  o.id = id;
  if (pending_.count(id)) o.state = TxState::kPending;
  return o;
}

TxOutcome Mempool::Lookup(const Hash32& id) const {
  std::lock_guard lock(mu_);
  return LookupLocked(id);
}

void Mempool::WaitAll(std::vector<Hash32> ids, std::chrono::milliseconds timeout,
                      std::function<void(std::vector<TxOutcome>)> done) {
  auto w = std::make_shared<Waiter>();
  std::vector<TxOutcome> now;
  {
    std::lock_guard lock(mu_);
    w->ids = std::move(ids);
    w->deadline = std::chrono::steady_clock::now() + timeout;
    w->done = std::move(done);
    size_t unresolved = 0;
    for (const auto& id : w->ids) {
      TxOutcome o = LookupLocked(id);
      if (o.state == TxState::kPending) {
        unresolved++;
        waiters_.emplace(id, w);
      }
    }
    w->unresolved = unresolved;
    if (unresolved == 0) {
      w->fired = true;
      for (const auto& id : w->ids) now.push_back(LookupLocked(id));
    } else {
      all_waiters_.push_back(w);
    }
  }
  if (!now.empty() || w->ids.empty()) w->done(std::move(now));
}

// Fires waiters that are resolved or past their deadline. Callbacks run on
// this thread, outside the lock, so a slow HTTP reply cannot stall commits.
void Mempool::ReaperLoop() {
  std::unique_lock lock(mu_);
  while (!stop_) {
    reaper_cv_.wait_for(lock, std::chrono::milliseconds(20));
    auto now = std::chrono::steady_clock::now();
    std::vector<std::pair<std::shared_ptr<Waiter>, std::vector<TxOutcome>>> fire;
    for (auto it = all_waiters_.begin(); it != all_waiters_.end();) {
      auto& w = *it;
      if (w->unresolved == 0 || now >= w->deadline || stop_) {
        std::vector<TxOutcome> outs;
        for (const auto& id : w->ids) {
          outs.push_back(LookupLocked(id));
          auto range = waiters_.equal_range(id);
          for (auto r = range.first; r != range.second;) {
            if (r->second == w) r = waiters_.erase(r);
            else ++r;
          }
        }
        w->fired = true;
        fire.emplace_back(w, std::move(outs));
        it = all_waiters_.erase(it);
      } else {
        ++it;
      }
    }
    if (fire.empty()) continue;
    lock.unlock();
    for (auto& [w, outs] : fire) w->done(std::move(outs));
    lock.lock();
  }
}

size_t Mempool::pending() const {
  std::lock_guard lock(mu_);
  return pending_.size();
}

}  // namespace medledger::node
