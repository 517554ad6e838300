// WorkQueue: a fixed pool of threads that run posted jobs in the order they
// were posted. It keeps slow work (parsing, encryption, fsyncs, calls to
// other nodes) off the HTTP I/O threads.
//
// Only the pool's own threads ever wait on its condition variable. That is
// deliberate, not a detail. Waking one waiter (notify_one) is correct only
// when every waiter can take the job. An owner thread that also waited on
// the same variable for another reason, such as a periodic timer, could
// absorb the wakeup and leave the job queued until the next Post. That
// happened to the cross-organisation forwarder, and a forwarded read then
// went unanswered.
//
// Stop() refuses new jobs, lets the threads finish every job already
// queued, then joins them. A job that needs to know it is running during
// shutdown checks its owner's own flag. A job that throws is logged with the
// pool's name; the thread carries on.
//
// Thread safety: every member may be called from any thread, including from
// a job. When Stop (or the destructor) runs on one of the pool's own threads,
// because a job held the last reference to the queue's owner, that thread
// is detached rather than joined. It drains what is left and exits; the
// queue's state is shared with the threads, so it outlives the object.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace medledger {

class WorkQueue {
 public:
  // `name` appears in log lines; threads < 1 is taken as 1.
  WorkQueue(std::string name, int threads);
  ~WorkQueue();  // Stop()
  WorkQueue(const WorkQueue&) = delete;
  WorkQueue& operator=(const WorkQueue&) = delete;

  // Queues `job`. Returns false, without running it, after Stop().
  bool Post(std::function<void()> job);
  // Idempotent. Returns once every queued job has run, except on one of the
  // pool's own threads, or while another Stop is already joining them.
  void Stop();
  // Jobs queued and not yet started.
  size_t pending() const;

 private:
  struct Shared {
    std::string name;
    std::mutex mu;
    std::condition_variable cv;  // waited on by the pool's threads only; see above
    std::deque<std::function<void()>> jobs;
    bool stop = false;
  };
  static void Run(const std::shared_ptr<Shared>& sh);

  std::shared_ptr<Shared> sh_;
  std::mutex threads_mu_;  // guards threads_: Stop may race with itself
  std::vector<std::thread> threads_;
};

}  // namespace medledger
