#include "common/work_queue.h"

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <memory>
#include <stdexcept>
#include <thread>
#include <vector>

namespace medledger {
namespace {

TEST(WorkQueue, RunsEveryJobPostedFromManyThreads) {
  std::atomic<int> ran{0};
  {
    WorkQueue q("test", 4);
    std::vector<std::thread> posters;
    for (int t = 0; t < 4; ++t)
      posters.emplace_back([&] {
        for (int i = 0; i < 2500; ++i) ASSERT_TRUE(q.Post([&] { ran.fetch_add(1, std::memory_order_relaxed); }));
      });
    for (auto& t : posters) t.join();
  }  // the destructor finishes what is queued
  EXPECT_EQ(ran.load(), 10000);
}

TEST(WorkQueue, OneThreadRunsJobsInPostingOrder) {
  std::vector<int> seen;
  {
    WorkQueue q("test", 1);
    for (int i = 0; i < 100; ++i) q.Post([&seen, i] { seen.push_back(i); });
  }
  ASSERT_EQ(seen.size(), 100u);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(seen[i], i);
}

// Each job is posted only after the previous one finished, so every Post
// finds all threads idle and asleep: every single wakeup must reach one of
// them. A lost wakeup leaves get() blocked and the test hangs (the CTest
// timeout reports it) instead of passing.
TEST(WorkQueue, EveryPostWakesAnIdleThread) {
  WorkQueue q("test", 4);
  for (int i = 0; i < 2000; ++i) {
    std::promise<int> p;
    auto f = p.get_future();
    ASSERT_TRUE(q.Post([&p, i] { p.set_value(i); }));
    ASSERT_EQ(f.get(), i);
  }
  EXPECT_EQ(q.pending(), 0u);
}

TEST(WorkQueue, StopFinishesQueuedJobsAndRefusesNewOnes) {
  std::atomic<int> ran{0};
  std::promise<void> release;
  std::shared_future<void> gate = release.get_future().share();
  WorkQueue q("test", 1);
  std::promise<void> started;
  ASSERT_TRUE(q.Post([&started, gate] {  // holds the only thread
    started.set_value();
    gate.wait();
  }));
  started.get_future().wait();
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(q.Post([&] { ran++; }));
  EXPECT_EQ(q.pending(), 10u);
  std::thread stopper([&] { q.Stop(); });
  // Post is refused once Stop has begun; wait for that point by polling the
  // outcome, not the clock.
  std::atomic<int> late{0};
  int accepted = 0;
  while (q.Post([&] { late++; })) accepted++;
  release.set_value();
  stopper.join();
  // Every job accepted, before Stop or while it began, ran; once refused,
  // Post stays refused.
  EXPECT_EQ(ran.load(), 10);
  EXPECT_EQ(late.load(), accepted);
  EXPECT_EQ(q.pending(), 0u);
  EXPECT_FALSE(q.Post([&] { late++; }));
  q.Stop();  // idempotent
}

TEST(WorkQueue, AThrowingJobDoesNotStopTheThread) {
  WorkQueue q("test", 1);
  ASSERT_TRUE(q.Post([] { throw std::runtime_error("boom"); }));
  ASSERT_TRUE(q.Post([] { throw 42; }));
  std::promise<void> p;
  auto f = p.get_future();
  ASSERT_TRUE(q.Post([&] { p.set_value(); }));
  f.get();
}

TEST(WorkQueue, AJobMayPostAnother) {
  std::promise<int> p;
  auto f = p.get_future();
  WorkQueue q("test", 2);
  ASSERT_TRUE(q.Post([&] { q.Post([&] { p.set_value(7); }); }));
  EXPECT_EQ(f.get(), 7);
}

// The owner's last reference can sit in a job (the FHIR read service's
// jobs hold it); the queue is then destroyed on its own thread, which must
// neither join itself nor touch freed memory (ASan checks the latter).
TEST(WorkQueue, AJobMayHoldTheLastReferenceToItsQueue) {
  auto q = std::make_shared<WorkQueue>("test", 2);
  std::weak_ptr<WorkQueue> w = q;
  std::promise<void> release;
  std::shared_future<void> gate = release.get_future().share();
  std::promise<void> later_ran;
  auto later = later_ran.get_future();
  ASSERT_TRUE(q->Post([keep = q, gate] { gate.wait(); }));
  ASSERT_TRUE(q->Post([&later_ran] { later_ran.set_value(); }));
  q.reset();
  release.set_value();
  later.get();
  while (!w.expired()) std::this_thread::yield();
}

}  // namespace
}  // namespace medledger
