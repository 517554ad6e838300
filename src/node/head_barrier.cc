#include "node/head_barrier.h"

namespace medledger::node {

HeadBarrier::HeadBarrier(ReadHead read, AppliedHeight applied) : read_(std::move(read)), applied_(std::move(applied)) {}

HeadBarrier::~HeadBarrier() { Stop(); }

void HeadBarrier::Start() {
  std::lock_guard lock(mu_);
  if (started_ || stop_) return;
  started_ = true;
  reader_ = std::thread([this] { ReadLoop(); });
  completer_ = std::thread([this] { CompleteLoop(); });
}

void HeadBarrier::Stop() {
  std::vector<Completion> out;
  {
    std::lock_guard lock(mu_);
    stop_ = true;
    while (!waiters_.empty()) Finish(waiters_.begin()->first, Unavailable("the node is stopping"), &out);
  }
  read_cv_.notify_all();
  complete_cv_.notify_all();
  Run(&out);
  if (reader_.joinable()) reader_.join();
  if (completer_.joinable()) completer_.join();
}

void HeadBarrier::Await(std::function<void(Status)> done, std::chrono::milliseconds bound) {
  std::unique_lock lock(mu_);
  if (stop_ || !started_ || !halted_.empty()) {
    Status st = !halted_.empty() ? Unavailable("this node has halted: " + halted_)
                                 : Unavailable("the node is not ordering blocks (starting or stopping)");
    lock.unlock();
    done(std::move(st));
    return;
  }
  const uint64_t id = next_id_++;
  Waiter& w = waiters_[id];
  w.done = std::move(done);
  w.deadline_it = by_deadline_.emplace(Clock::now() + bound, id);
  queued_.push_back(id);
  if (w.deadline_it == by_deadline_.begin()) dirty_ = true;  // the completer sleeps until an older deadline
  lock.unlock();
  read_cv_.notify_one();
  complete_cv_.notify_one();
}

void HeadBarrier::OnApplied() {
  {
    std::lock_guard lock(mu_);
    if (by_target_.empty()) return;
    dirty_ = true;
  }
  complete_cv_.notify_one();
}

void HeadBarrier::Halt(const std::string& why) {
  std::vector<Completion> out;
  {
    std::lock_guard lock(mu_);
    if (halted_.empty()) halted_ = why.empty() ? "halted" : why;
    while (!waiters_.empty())
      Finish(waiters_.begin()->first, Unavailable("this node has halted: " + halted_), &out);
  }
  Run(&out);
}

uint64_t HeadBarrier::reads() const {
  std::lock_guard lock(mu_);
  return reads_;
}

uint64_t HeadBarrier::read_failures() const {
  std::lock_guard lock(mu_);
  return read_failures_;
}

uint64_t HeadBarrier::timeouts() const {
  std::lock_guard lock(mu_);
  return timeouts_;
}

void HeadBarrier::Finish(uint64_t id, Status st, std::vector<Completion>* out) {
  auto it = waiters_.find(id);
  if (it == waiters_.end()) return;
  by_deadline_.erase(it->second.deadline_it);
  if (it->second.has_target) by_target_.erase(it->second.target_it);
  out->emplace_back(std::move(it->second.done), std::move(st));
  waiters_.erase(it);
}

void HeadBarrier::Run(std::vector<Completion>* out) {
  for (auto& [done, st] : *out) done(std::move(st));
  out->clear();
}

void HeadBarrier::ReadLoop() {
  std::unique_lock lock(mu_);
  std::vector<uint64_t> batch;
  std::vector<Completion> out;
  for (;;) {
    read_cv_.wait(lock, [&] { return stop_ || !queued_.empty(); });
    if (stop_) return;
    // Everyone queued so far arrived before this read is sent, so its answer
    // is a head they may wait for; later arrivals queue for the next read.
    batch.clear();
    batch.swap(queued_);
    lock.unlock();
    Result<uint64_t> head = read_(applied_());
    lock.lock();
    reads_++;
    if (!head.ok()) read_failures_++;
    for (uint64_t id : batch) {
      auto it = waiters_.find(id);
      if (it == waiters_.end()) continue;  // timed out, halted or stopped meanwhile
      if (!head.ok()) {
        Finish(id, Unavailable("cannot read the ordering service's head: " + head.status().message()), &out);
        continue;
      }
      it->second.target_it = by_target_.emplace(*head, id);
      it->second.has_target = true;
    }
    // The completer answers those whose head is already applied: this thread
    // goes back to reading at once.
    dirty_ = true;
    complete_cv_.notify_one();
    if (!out.empty()) {
      lock.unlock();
      Run(&out);
      lock.lock();
    }
  }
}

void HeadBarrier::CompleteLoop() {
  std::unique_lock lock(mu_);
  std::vector<Completion> out;
  while (!stop_) {
    dirty_ = false;
    if (!by_target_.empty()) {
      const uint64_t applied = applied_();
      while (!by_target_.empty() && by_target_.begin()->first <= applied)
        Finish(by_target_.begin()->second, Status::Ok(), &out);
    }
    const auto now = Clock::now();
    while (!by_deadline_.empty() && by_deadline_.begin()->first <= now) {
      const uint64_t id = by_deadline_.begin()->second;
      const Waiter& w = waiters_.at(id);
      std::string why = w.has_target ? "this node has not yet applied block " + std::to_string(w.target_it->first) +
                                           " that the ordering service holds (applied: " +
                                           std::to_string(applied_()) + ")"
                                     : std::string("the ordering service's head could not be read in time");
      timeouts_++;
      Finish(id, Unavailable(why), &out);
    }
    if (!out.empty()) {
      lock.unlock();
      Run(&out);
      lock.lock();
      continue;
    }
    if (dirty_) continue;
    if (by_deadline_.empty()) {
      complete_cv_.wait(lock, [&] { return stop_ || dirty_; });
    } else {
      complete_cv_.wait_until(lock, by_deadline_.begin()->first, [&] { return stop_ || dirty_; });
    }
  }
}

}  // namespace medledger::node
