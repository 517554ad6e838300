// HeadBarrier (head_barrier.h) with a fake head read that the test releases
// by hand: which callers share a read, that a caller waits for the applied
// height, and every way a caller gets Unavailable, each exactly once.
// Bounds here are what is tested (a caller whose head never comes must get
// Unavailable); the hang guards are generous and never a pass criterion.
#include "node/head_barrier.h"

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>

namespace medledger::node {
namespace {

using std::chrono::milliseconds;
constexpr milliseconds kLong{60000};  // a bound no test reaches

// The ordering service: each read blocks until the test answers it.
class FakeHead {
 public:
  Result<uint64_t> Read(uint64_t local) {
    std::unique_lock lock(mu_);
    started_++;
    last_local_ = local;
    cv_.notify_all();
    cv_.wait(lock, [&] { return closed_ || !answers_.empty(); });
    if (answers_.empty()) return Unavailable("closed");
    Result<uint64_t> r = answers_.front();
    answers_.pop_front();
    return r;
  }
  // Waits until `n` reads have been sent in all.
  bool WaitStarted(int n) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, kLong, [&] { return started_ >= n; });
  }
  void Answer(Result<uint64_t> r) {
    std::lock_guard lock(mu_);
    answers_.push_back(std::move(r));
    cv_.notify_all();
  }
  // Every read from now on fails at once (so the reader can be joined).
  void Close() {
    std::lock_guard lock(mu_);
    closed_ = true;
    cv_.notify_all();
  }
  int started() {
    std::lock_guard lock(mu_);
    return started_;
  }
  uint64_t last_local() {
    std::lock_guard lock(mu_);
    return last_local_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Result<uint64_t>> answers_;
  int started_ = 0;
  uint64_t last_local_ = 0;
  bool closed_ = false;
};

// One caller's answers (it must get exactly one).
class Outcome {
 public:
  std::function<void(Status)> Callback() {
    return [this](Status st) {
      std::lock_guard lock(mu_);
      calls_++;
      st_ = std::move(st);
      cv_.notify_all();
    };
  }
  std::optional<Status> Wait() {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, kLong, [&] { return calls_ > 0; });
    return st_;
  }
  bool done() {
    std::lock_guard lock(mu_);
    return calls_ > 0;
  }
  int calls() {
    std::lock_guard lock(mu_);
    return calls_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int calls_ = 0;
  std::optional<Status> st_;
};

struct Fixture {
  FakeHead head;
  std::atomic<uint64_t> applied{0};
  HeadBarrier barrier{[this](uint64_t local) { return head.Read(local); }, [this] { return applied.load(); }};
  Fixture() { barrier.Start(); }
  ~Fixture() {
    head.Close();
    barrier.Stop();
  }
  void Apply(uint64_t h) {
    applied = h;
    barrier.OnApplied();
  }
};

TEST(HeadBarrierTest, CallersQueuedDuringAReadShareTheNextOne) {
  Fixture f;
  f.applied = 5;
  Outcome a, b, c;
  f.barrier.Await(a.Callback(), kLong);
  ASSERT_TRUE(f.head.WaitStarted(1));
  EXPECT_EQ(f.head.last_local(), 5u);
  // b and c arrive while read 1 is in flight: its answer may predate them.
  f.barrier.Await(b.Callback(), kLong);
  f.barrier.Await(c.Callback(), kLong);
  f.head.Answer(5);
  auto sa = a.Wait();
  ASSERT_TRUE(sa && sa->ok()) << (sa ? sa->ToString() : "no answer");
  // They wait for read 2, even though read 1's head is applied.
  ASSERT_TRUE(f.head.WaitStarted(2));
  EXPECT_FALSE(b.done());
  EXPECT_FALSE(c.done());
  f.head.Answer(6);
  f.Apply(6);
  auto sb = b.Wait(), sc = c.Wait();
  ASSERT_TRUE(sb && sb->ok());
  ASSERT_TRUE(sc && sc->ok());
  EXPECT_EQ(f.head.started(), 2);  // one read for both
  EXPECT_EQ(f.barrier.reads(), 2u);
  EXPECT_EQ(a.calls() + b.calls() + c.calls(), 3);
}

TEST(HeadBarrierTest, WaitsUntilTheHeadReadIsApplied) {
  Fixture f;
  f.applied = 3;
  Outcome a;
  f.barrier.Await(a.Callback(), kLong);
  ASSERT_TRUE(f.head.WaitStarted(1));
  f.head.Answer(5);
  f.Apply(4);
  // Height 4 of 5: still waiting. A further Await sends a new read, which
  // the test leaves unanswered, so nothing else can complete `a`.
  Outcome probe;
  f.barrier.Await(probe.Callback(), kLong);
  ASSERT_TRUE(f.head.WaitStarted(2));
  EXPECT_FALSE(a.done());
  f.Apply(5);
  auto sa = a.Wait();
  ASSERT_TRUE(sa && sa->ok());
  EXPECT_FALSE(probe.done());
  f.head.Answer(5);
  ASSERT_TRUE(probe.Wait()->ok());
}

TEST(HeadBarrierTest, HeadNotAppliedWithinBoundIsUnavailableOnce) {
  Fixture f;
  f.applied = 1;
  Outcome a;
  f.head.Answer(9);
  f.barrier.Await(a.Callback(), milliseconds(50));
  auto sa = a.Wait();
  ASSERT_TRUE(sa.has_value());
  EXPECT_EQ(sa->code(), StatusCode::kUnavailable) << sa->ToString();
  f.Apply(9);  // too late: never a second answer
  Outcome probe;
  f.barrier.Await(probe.Callback(), kLong);
  ASSERT_TRUE(f.head.WaitStarted(2));
  f.head.Answer(9);
  ASSERT_TRUE(probe.Wait()->ok());
  EXPECT_EQ(a.calls(), 1);
  EXPECT_EQ(f.barrier.timeouts(), 1u);
}

TEST(HeadBarrierTest, ReadStillInFlightAtTheBoundIsUnavailable) {
  Fixture f;
  Outcome a;
  f.barrier.Await(a.Callback(), milliseconds(50));
  ASSERT_TRUE(f.head.WaitStarted(1));
  auto sa = a.Wait();  // the read is never answered in time
  ASSERT_TRUE(sa.has_value());
  EXPECT_EQ(sa->code(), StatusCode::kUnavailable);
  f.head.Answer(0);  // its late answer completes nobody twice
  Outcome probe;
  f.barrier.Await(probe.Callback(), kLong);
  ASSERT_TRUE(f.head.WaitStarted(2));
  f.head.Answer(0);
  ASSERT_TRUE(probe.Wait()->ok());
  EXPECT_EQ(a.calls(), 1);
}

TEST(HeadBarrierTest, FailedReadIsUnavailableForItsWholeBatch) {
  Fixture f;
  Outcome a, b;
  f.barrier.Await(a.Callback(), kLong);
  ASSERT_TRUE(f.head.WaitStarted(1));
  f.head.Answer(Unavailable("no quorum"));
  auto sa = a.Wait();
  ASSERT_TRUE(sa.has_value());
  EXPECT_EQ(sa->code(), StatusCode::kUnavailable);
  EXPECT_NE(sa->message().find("no quorum"), std::string::npos);
  EXPECT_EQ(f.barrier.read_failures(), 1u);
  // The next caller gets a fresh read.
  f.barrier.Await(b.Callback(), kLong);
  ASSERT_TRUE(f.head.WaitStarted(2));
  f.head.Answer(0);
  ASSERT_TRUE(b.Wait()->ok());
}

TEST(HeadBarrierTest, HaltAnswersWaitersAndLaterCallersUnavailable) {
  Fixture f;
  Outcome a, b, late;
  f.barrier.Await(a.Callback(), kLong);
  ASSERT_TRUE(f.head.WaitStarted(1));
  f.barrier.Await(b.Callback(), kLong);  // queued for the next read
  f.barrier.Halt("fork at block 7");
  for (Outcome* o : {&a, &b}) {
    auto s = o->Wait();
    ASSERT_TRUE(s.has_value());
    EXPECT_EQ(s->code(), StatusCode::kUnavailable);
    EXPECT_NE(s->message().find("fork at block 7"), std::string::npos);
  }
  f.barrier.Await(late.Callback(), kLong);
  EXPECT_TRUE(late.done());  // at once, no read
  EXPECT_EQ(late.Wait()->code(), StatusCode::kUnavailable);
}

TEST(HeadBarrierTest, StopAnswersEveryWaiter) {
  auto f = std::make_unique<Fixture>();
  Outcome a, b;
  f->barrier.Await(a.Callback(), kLong);
  ASSERT_TRUE(f->head.WaitStarted(1));
  f->barrier.Await(b.Callback(), kLong);
  f->head.Close();  // read 1 returns (failing), so that Stop can join the reader
  f->barrier.Stop();
  EXPECT_EQ(a.calls(), 1);
  EXPECT_EQ(b.calls(), 1);
  EXPECT_EQ(a.Wait()->code(), StatusCode::kUnavailable);
  Outcome after;
  f->barrier.Await(after.Callback(), kLong);
  EXPECT_EQ(after.Wait()->code(), StatusCode::kUnavailable);
}

TEST(HeadBarrierTest, ManyConcurrentCallersEachAnsweredOnce) {
  Fixture f;
  constexpr int kCallers = 200;
  std::vector<std::unique_ptr<Outcome>> outs;
  for (int i = 0; i < kCallers; ++i) outs.push_back(std::make_unique<Outcome>());
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (int i = t; i < kCallers; i += 4) f.barrier.Await(outs[i]->Callback(), kLong);
    });
  // Answer reads until everyone is done: far fewer reads than callers is the
  // point, but how many depends on scheduling, so only the bound is checked.
  std::atomic<bool> all{false};
  std::thread answerer([&] {
    int answered = 0;
    while (!all) {
      if (f.head.started() > answered) {
        f.head.Answer(0);
        answered++;
      } else {
        std::this_thread::yield();
      }
    }
  });
  for (auto& th : threads) th.join();
  for (auto& o : outs) ASSERT_TRUE(o->Wait()->ok());
  all = true;
  answerer.join();
  for (auto& o : outs) EXPECT_EQ(o->calls(), 1);
  EXPECT_LE(f.barrier.reads(), uint64_t(kCallers));
}

}  // namespace
}  // namespace medledger::node
