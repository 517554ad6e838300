// HeadBarrier: "has this node applied every block that the ordering service
// held when the request arrived?" (docs/ARCHITECTURE.md, "Answering at the
// head, not at the node's own position").
//
// Followers apply a block after its producer does, and a node answers from
// its own state. Without this, a transaction or a signed request that is
// valid against the chain is refused by a node a few blocks behind (an
// identity registered through node 1 and used at once through node 2 is
// "unknown_signer"; a revoked consent is still honoured). The head "known at
// request time" is read from the ordering service itself, linearizably, after
// the request arrived, never taken from the node's own watch position.
//
// Batching: one head read is in flight at a time. Every Await that arrived
// before a read was sent is answered by that read; Awaits that arrive while
// it is in flight wait for the next one (which is sent as soon as the current
// one returns). So the ordering service sees at most one small read per node
// at a time, whatever the request rate, and each caller waits about one or
// two round trips plus whatever applying the blocks it needs takes.
//
// Outcomes: Ok once the applied height reaches the head read; Unavailable
// when the read fails (no quorum, a partition), when the height is not
// reached within the caller's bound (counted from the call), after Halt, or
// at Stop. An Unavailable waiter is never completed twice and never Ok later.
//
// Threads: a reader thread that sends the reads and a completion thread that
// runs the callbacks (heads reached, deadlines passed). `done` therefore runs
// on one of those threads (or on the caller's, before Await returns, when the
// barrier is halted or stopped); it must be short: completions are serial.
// Await, OnApplied and Halt may be called from any thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/status.h"

namespace medledger::node {

class HeadBarrier {
 public:
  // Reads the ordering service's head height, given the local applied height
  // when the read is sent (a read may look only above it, and answer it when
  // nothing is there). Blocking; runs on the reader thread only.
  using ReadHead = std::function<Result<uint64_t>(uint64_t local_height)>;
  // The locally applied height; called from the barrier's threads.
  using AppliedHeight = std::function<uint64_t()>;

  HeadBarrier(ReadHead read, AppliedHeight applied);
  ~HeadBarrier();  // Stop()
  HeadBarrier(const HeadBarrier&) = delete;
  HeadBarrier& operator=(const HeadBarrier&) = delete;

  void Start();
  // Completes every waiter with Unavailable and joins the threads. Later
  // Awaits complete Unavailable at once. Idempotent.
  void Stop();

  void Await(std::function<void(Status)> done, std::chrono::milliseconds bound);
  // The applied height may have grown: completes the waiters it satisfies.
  void OnApplied();
  // The node stopped applying blocks for good: every waiter, present and
  // future, gets Unavailable (with `why`).
  void Halt(const std::string& why);

  uint64_t reads() const;          // head reads sent
  uint64_t read_failures() const;  // of which failed
  uint64_t timeouts() const;       // waiters answered Unavailable at their deadline

 private:
  using Clock = std::chrono::steady_clock;
  struct Waiter {
    std::function<void(Status)> done;
    std::multimap<Clock::time_point, uint64_t>::iterator deadline_it;
    std::multimap<uint64_t, uint64_t>::iterator target_it;
    bool has_target = false;
  };
  using Completion = std::pair<std::function<void(Status)>, Status>;

  void ReadLoop();
  void CompleteLoop();
  // Removes waiter `id` (if still live) and queues its callback. mu_ held.
  void Finish(uint64_t id, Status st, std::vector<Completion>* out);
  static void Run(std::vector<Completion>* out);

  ReadHead read_;
  AppliedHeight applied_;

  mutable std::mutex mu_;
  std::condition_variable read_cv_;      // reader: queued_ not empty, or stop
  std::condition_variable complete_cv_;  // completer: dirty_, a new deadline, or stop
  bool stop_ = false;
  bool started_ = false;
  std::string halted_;  // non-empty once halted: why
  bool dirty_ = false;  // applied height moved or targets were added
  uint64_t next_id_ = 1;
  std::map<uint64_t, Waiter> waiters_;             // live waiters by id
  std::vector<uint64_t> queued_;                   // ids for the next read
  std::multimap<Clock::time_point, uint64_t> by_deadline_;
  std::multimap<uint64_t, uint64_t> by_target_;    // head height to reach -> id
  uint64_t reads_ = 0, read_failures_ = 0, timeouts_ = 0;
  std::thread reader_, completer_;
};

}  // namespace medledger::node
