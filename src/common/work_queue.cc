#include "common/work_queue.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <exception>

namespace medledger {

WorkQueue::WorkQueue(std::string name, int threads) : sh_(std::make_shared<Shared>()) {
  sh_->name = std::move(name);
  threads = std::max(1, threads);
  threads_.reserve(threads);
  for (int i = 0; i < threads; ++i) threads_.emplace_back([sh = sh_] { Run(sh); });
}

WorkQueue::~WorkQueue() { Stop(); }

bool WorkQueue::Post(std::function<void()> job) {
  {
    std::lock_guard l(sh_->mu);
    if (sh_->stop) return false;
    sh_->jobs.push_back(std::move(job));
  }
  sh_->cv.notify_one();
  return true;
}

void WorkQueue::Stop() {
  {
    std::lock_guard l(sh_->mu);
    sh_->stop = true;
  }
  sh_->cv.notify_all();
  // Joined outside the lock: a second Stop, say from a job whose captures
  // held the owner, must not wait on the first while the first joins it.
  // That second caller returns at once; the threads need only *sh_.
  std::vector<std::thread> threads;
  {
    std::lock_guard l(threads_mu_);
    threads.swap(threads_);
  }
  for (auto& t : threads) {
    if (t.get_id() == std::this_thread::get_id()) t.detach();
    else t.join();
  }
}

size_t WorkQueue::pending() const {
  std::lock_guard l(sh_->mu);
  return sh_->jobs.size();
}

void WorkQueue::Run(const std::shared_ptr<Shared>& sh) {
  std::unique_lock l(sh->mu);
  for (;;) {
    sh->cv.wait(l, [&] { return sh->stop || !sh->jobs.empty(); });
    // After Stop, what is queued still runs: Post accepted it.
    if (sh->jobs.empty()) return;
    auto job = std::move(sh->jobs.front());
    sh->jobs.pop_front();
    l.unlock();
    try {
      job();
    } catch (const std::exception& e) {
      spdlog::error("{}: a job failed: {}", sh->name, e.what());
    } catch (...) {
      spdlog::error("{}: a job failed with an exception that is not a std::exception", sh->name);
    }
    // Its captures are released outside the lock: they may own the queue.
    job = nullptr;
    l.lock();
  }
}

}  // namespace medledger
