// The mempool (mempool.h): admission limits, the orderer's queue, what
// Lookup reports before and after a block, and WaitAll's exactly-once
// answers: at once, on resolution, or at the deadline.
#include "node/mempool.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <random>

namespace medledger::node {
namespace {

using std::chrono::milliseconds;

// Ids that share most bytes, so the tables cannot rely on the first ones.
Hash32 Id(uint32_t n) {
  Hash32 h{};
  h.fill(0xab);
  h[28] = uint8_t(n >> 24);
  h[29] = uint8_t(n >> 16);
  h[30] = uint8_t(n >> 8);
  h[31] = uint8_t(n);
  return h;
}

model::Transaction Tx(uint64_t nonce) {
  model::Transaction tx;
  tx.chain_id = "mempool-test";
  tx.nonce = nonce;
  return tx;
}

// Commits `ids` at `height`; results[i] empty means accepted.
void Commit(Mempool& pool, uint64_t height, const std::vector<Hash32>& ids,
            const std::vector<model::Verdict>& results = {}) {
  model::Block b;
  b.header.height = height;
  b.results = results;
  b.results.resize(ids.size());
  pool.OnBlockCommitted(CommittedBlock{b, Hash32{}, ids});
}

// Collects WaitAll answers; counts them so a second call shows.
struct Answers {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::vector<TxOutcome>> got;

  std::function<void(std::vector<TxOutcome>)> Callback() {
    return [this](std::vector<TxOutcome> outs) {
      std::lock_guard lock(mu);
      got.push_back(std::move(outs));
      cv.notify_all();
    };
  }
  // Waits (generously) for at least n answers; returns how many there are.
  size_t WaitFor(size_t n, milliseconds limit = milliseconds(10000)) {
    std::unique_lock lock(mu);
    cv.wait_for(lock, limit, [&] { return got.size() >= n; });
    return got.size();
  }
  size_t Count() {
    std::lock_guard lock(mu);
    return got.size();
  }
};

TEST(MempoolTest, AddRefusesDuplicatesAndOverCapacity) {
  Mempool pool(2, 10);
  EXPECT_TRUE(pool.Add(Tx(1), Id(1)).ok());
  Status dup = pool.Add(Tx(1), Id(1));
  EXPECT_EQ(dup.code(), StatusCode::kAlreadyExists);
  EXPECT_TRUE(pool.Add(Tx(2), Id(2)).ok());
  EXPECT_EQ(pool.Add(Tx(3), Id(3)).code(), StatusCode::kResourceExhausted);
  // Full, and still a duplicate is told apart from a new one.
  EXPECT_EQ(pool.Add(Tx(2), Id(2)).code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(pool.pending(), 2u);
  EXPECT_EQ(pool.Lookup(Id(1)).state, TxState::kPending);
  EXPECT_EQ(pool.Lookup(Id(3)).state, TxState::kUnknown);

  Commit(pool, 5, {Id(1)});
  EXPECT_EQ(pool.pending(), 1u);
  EXPECT_TRUE(pool.Add(Tx(3), Id(3)).ok());
}

TEST(MempoolTest, AddAllAnswersEachAsAddWouldInOrder) {
  Mempool pool(3, 10);
  ASSERT_TRUE(pool.Add(Tx(1), Id(1)).ok());
  // A duplicate of a pending id, a duplicate inside the batch, then more
  // than fits.
  std::vector<model::Transaction> txs{Tx(1), Tx(2), Tx(2), Tx(3), Tx(4)};
  std::vector<Hash32> ids{Id(1), Id(2), Id(2), Id(3), Id(4)};
  std::vector<Status> got;
  pool.AddAll(&txs, ids, &got);
  ASSERT_EQ(got.size(), 5u);
  EXPECT_EQ(got[0].code(), StatusCode::kAlreadyExists);
  EXPECT_TRUE(got[1].ok());
  EXPECT_EQ(got[2].code(), StatusCode::kAlreadyExists);
  EXPECT_TRUE(got[3].ok());
  EXPECT_EQ(got[4].code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(pool.pending(), 3u);
  // The queue holds the admitted ones, oldest first.
  std::vector<model::Transaction> taken;
  std::vector<Hash32> taken_ids;
  EXPECT_EQ(pool.Take(10, milliseconds(0), &taken, &taken_ids), 3u);
  EXPECT_EQ(taken_ids, (std::vector<Hash32>{Id(1), Id(2), Id(3)}));
  EXPECT_EQ(taken[2].nonce, 3u);
}

TEST(MempoolTest, TakeIsOldestFirstAndRequeuePutsBackInFront) {
  Mempool pool;
  for (uint32_t i = 1; i <= 5; ++i) ASSERT_TRUE(pool.Add(Tx(i), Id(i)).ok());
  std::vector<model::Transaction> txs;
  std::vector<Hash32> ids;
  ASSERT_EQ(pool.Take(3, milliseconds(0), &txs, &ids), 3u);
  ASSERT_EQ(ids, (std::vector<Hash32>{Id(1), Id(2), Id(3)}));
  EXPECT_EQ(txs[0].nonce, 1u);
  EXPECT_EQ(txs[2].nonce, 3u);
  // Taken is still pending until its block commits.
  EXPECT_EQ(pool.Lookup(Id(2)).state, TxState::kPending);
  EXPECT_EQ(pool.pending(), 5u);

  pool.Requeue(std::move(txs), std::move(ids));
  std::vector<model::Transaction> all;
  std::vector<Hash32> all_ids;
  ASSERT_EQ(pool.Take(100, milliseconds(0), &all, &all_ids), 5u);
  for (uint32_t i = 0; i < 5; ++i) {
    EXPECT_EQ(all_ids[i], Id(i + 1));
    EXPECT_EQ(all[i].nonce, i + 1);
  }
  EXPECT_EQ(pool.Take(100, milliseconds(0), &all, &all_ids), 0u);
}

TEST(MempoolTest, TakeWaitsForTheFirstTransaction) {
  Mempool pool;
  std::thread adder([&] {
    std::this_thread::sleep_for(milliseconds(20));
    ASSERT_TRUE(pool.Add(Tx(7), Id(7)).ok());
  });
  std::vector<model::Transaction> txs;
  std::vector<Hash32> ids;
  size_t n = 0;
  for (int i = 0; i < 100 && n == 0; ++i) n = pool.Take(10, milliseconds(100), &txs, &ids);
  adder.join();
  ASSERT_EQ(n, 1u);
  EXPECT_EQ(ids[0], Id(7));
}

TEST(MempoolTest, ForgetDropsPendingIds) {
  Mempool pool;
  ASSERT_TRUE(pool.Add(Tx(1), Id(1)).ok());
  ASSERT_TRUE(pool.Add(Tx(2), Id(2)).ok());
  pool.Forget({Id(1), Id(9)});
  EXPECT_EQ(pool.pending(), 1u);
  EXPECT_EQ(pool.Lookup(Id(1)).state, TxState::kUnknown);
  EXPECT_EQ(pool.Lookup(Id(2)).state, TxState::kPending);
  // Forgotten, it may be admitted again.
  EXPECT_TRUE(pool.Add(Tx(1), Id(1)).ok());
}

TEST(MempoolTest, BlockResolvesLookupToCommittedOrRejectedWithReason) {
  Mempool pool;
  for (uint32_t i = 1; i <= 3; ++i) ASSERT_TRUE(pool.Add(Tx(i), Id(i)).ok());
  Commit(pool, 42, {Id(1), Id(2), Id(3)},
         {model::Verdict::Accept(), model::Verdict::No(model::Reject::kConflict, "already granted"),
          model::Verdict::Accept()});
  EXPECT_EQ(pool.pending(), 0u);

  TxOutcome a = pool.Lookup(Id(1));
  EXPECT_EQ(a.id, Id(1));
  EXPECT_EQ(a.state, TxState::kCommitted);
  EXPECT_EQ(a.height, 42u);
  EXPECT_EQ(a.index, 0u);
  EXPECT_TRUE(a.verdict.ok());

  TxOutcome b = pool.Lookup(Id(2));
  EXPECT_EQ(b.state, TxState::kRejected);
  EXPECT_EQ(b.height, 42u);
  EXPECT_EQ(b.index, 1u);
  EXPECT_EQ(b.verdict.reason, model::Reject::kConflict);
  EXPECT_EQ(b.verdict.detail, "already granted");

  EXPECT_EQ(pool.Lookup(Id(3)).index, 2u);
}

TEST(MempoolTest, RecordRejectionIsReported) {
  Mempool pool;
  pool.RecordRejection(Id(1), model::Verdict::No(model::Reject::kBadSignature, "signature does not verify"));
  TxOutcome o = pool.Lookup(Id(1));
  EXPECT_EQ(o.state, TxState::kRejected);
  EXPECT_EQ(o.height, 0u);
  EXPECT_EQ(o.verdict.reason, model::Reject::kBadSignature);
  EXPECT_EQ(o.verdict.detail, "signature does not verify");
  // A later rejection replaces it.
  pool.RecordRejection(Id(1), model::Verdict::No(model::Reject::kReplayed, ""));
  o = pool.Lookup(Id(1));
  EXPECT_EQ(o.verdict.reason, model::Reject::kReplayed);
  EXPECT_EQ(o.verdict.detail, "");
}

TEST(MempoolTest, ReadmittedAfterARejectionIsPendingThenCommitted) {
  Mempool pool;
  pool.RecordRejection(Id(1), model::Verdict::No(model::Reject::kNotFound, "no such consent"));
  ASSERT_TRUE(pool.Add(Tx(1), Id(1)).ok());
  EXPECT_EQ(pool.Lookup(Id(1)).state, TxState::kPending);
  Answers ans;
  pool.WaitAll({Id(1)}, milliseconds(30000), ans.Callback());
  EXPECT_EQ(ans.Count(), 0u);  // it waits for the block, not the old rejection
  Commit(pool, 3, {Id(1)});
  ASSERT_EQ(ans.WaitFor(1), 1u);
  EXPECT_EQ(ans.got[0][0].state, TxState::kCommitted);
  TxOutcome o = pool.Lookup(Id(1));
  EXPECT_EQ(o.state, TxState::kCommitted);
  EXPECT_EQ(o.verdict.detail, "");
}

TEST(MempoolTest, RecordRejectionOfAPendingIdLeavesItPending) {
  Mempool pool;
  ASSERT_TRUE(pool.Add(Tx(1), Id(1)).ok());
  pool.RecordRejection(Id(1), model::Verdict::No(model::Reject::kConflict, "raced"));
  EXPECT_EQ(pool.Lookup(Id(1)).state, TxState::kPending);
}

TEST(MempoolTest, WaitAllAnswersAtOnceWhenNothingIsPending) {
  Mempool pool;
  ASSERT_TRUE(pool.Add(Tx(1), Id(1)).ok());
  Commit(pool, 1, {Id(1)});
  pool.RecordRejection(Id(2), model::Verdict::No(model::Reject::kExpired, "too late"));
  Answers ans;
  pool.WaitAll({Id(1), Id(2), Id(3)}, milliseconds(30000), ans.Callback());
  ASSERT_EQ(ans.Count(), 1u);  // on the caller's thread, before WaitAll returns
  const auto& outs = ans.got[0];
  ASSERT_EQ(outs.size(), 3u);
  EXPECT_EQ(outs[0].id, Id(1));
  EXPECT_EQ(outs[0].state, TxState::kCommitted);
  EXPECT_EQ(outs[1].state, TxState::kRejected);
  EXPECT_EQ(outs[1].verdict.detail, "too late");
  EXPECT_EQ(outs[2].id, Id(3));
  EXPECT_EQ(outs[2].state, TxState::kUnknown);

  Answers none;
  pool.WaitAll({}, milliseconds(30000), none.Callback());
  ASSERT_EQ(none.Count(), 1u);
  EXPECT_TRUE(none.got[0].empty());
}

TEST(MempoolTest, WaitAllAnswersOnceEveryIdResolves) {
  Mempool pool;
  for (uint32_t i = 1; i <= 3; ++i) ASSERT_TRUE(pool.Add(Tx(i), Id(i)).ok());
  pool.RecordRejection(Id(4), model::Verdict::No(model::Reject::kMalformed, "bad"));
  Answers ans;
  pool.WaitAll({Id(3), Id(4), Id(1), Id(2)}, milliseconds(30000), ans.Callback());
  Commit(pool, 7, {Id(1), Id(2)}, {model::Verdict::Accept(), model::Verdict::No(model::Reject::kDenied, "no")});
  std::this_thread::sleep_for(milliseconds(50));
  EXPECT_EQ(ans.Count(), 0u);  // Id(3) is still pending
  Commit(pool, 8, {Id(3)});
  ASSERT_EQ(ans.WaitFor(1), 1u);
  const auto& outs = ans.got[0];
  ASSERT_EQ(outs.size(), 4u);
  EXPECT_EQ(outs[0].id, Id(3));
  EXPECT_EQ(outs[0].state, TxState::kCommitted);
  EXPECT_EQ(outs[0].height, 8u);
  EXPECT_EQ(outs[1].state, TxState::kRejected);
  EXPECT_EQ(outs[1].verdict.reason, model::Reject::kMalformed);
  EXPECT_EQ(outs[2].id, Id(1));
  EXPECT_EQ(outs[2].state, TxState::kCommitted);
  EXPECT_EQ(outs[2].height, 7u);
  EXPECT_EQ(outs[2].index, 0u);
  EXPECT_EQ(outs[3].state, TxState::kRejected);
  EXPECT_EQ(outs[3].height, 7u);
  EXPECT_EQ(outs[3].index, 1u);
  EXPECT_EQ(outs[3].verdict.detail, "no");
}

TEST(MempoolTest, WaitAllAnswersAtTheDeadlineWithPendingOnesPending) {
  Mempool pool;
  ASSERT_TRUE(pool.Add(Tx(1), Id(1)).ok());
  ASSERT_TRUE(pool.Add(Tx(2), Id(2)).ok());
  // Id(1) commits before the wait, not after it: committed after, it could
  // lose the race with a 50 ms deadline on a slow machine.
  Commit(pool, 1, {Id(1)});
  Answers ans;
  pool.WaitAll({Id(1), Id(2)}, milliseconds(50), ans.Callback());
  ASSERT_EQ(ans.WaitFor(1), 1u);
  const auto& outs = ans.got[0];
  EXPECT_EQ(outs[0].state, TxState::kCommitted);
  EXPECT_EQ(outs[1].id, Id(2));
  EXPECT_EQ(outs[1].state, TxState::kPending);

  // Exactly once: the later commit does not answer again.
  Commit(pool, 2, {Id(2)});
  std::this_thread::sleep_for(milliseconds(100));
  EXPECT_EQ(ans.Count(), 1u);
}

TEST(MempoolTest, WaitAllAnswersExactlyOnceWhenResolved) {
  Mempool pool;
  ASSERT_TRUE(pool.Add(Tx(1), Id(1)).ok());
  Answers ans;
  pool.WaitAll({Id(1)}, milliseconds(100), ans.Callback());
  Commit(pool, 1, {Id(1)});
  ASSERT_EQ(ans.WaitFor(1), 1u);
  std::this_thread::sleep_for(milliseconds(250));  // past the deadline
  EXPECT_EQ(ans.Count(), 1u);
  // Normally the commit answers. On a machine stalled for over 100 ms
  // between the two calls the deadline answers first, as pending. Either
  // way, what is checked here holds: there is exactly one answer.
  const TxState st = ans.got[0][0].state;
  EXPECT_TRUE(st == TxState::kCommitted || st == TxState::kPending) << TxStateName(st);
}

TEST(MempoolTest, TwoWaitersOnOneIdBothAnswer) {
  Mempool pool;
  ASSERT_TRUE(pool.Add(Tx(1), Id(1)).ok());
  ASSERT_TRUE(pool.Add(Tx(2), Id(2)).ok());
  Answers a, b, c;
  pool.WaitAll({Id(1)}, milliseconds(30000), a.Callback());
  pool.WaitAll({Id(2), Id(1)}, milliseconds(30000), b.Callback());
  pool.WaitAll({Id(1), Id(1)}, milliseconds(30000), c.Callback());  // a batch may repeat an id
  Commit(pool, 1, {Id(1)});
  ASSERT_EQ(a.WaitFor(1), 1u);
  ASSERT_EQ(c.WaitFor(1), 1u);
  EXPECT_EQ(a.got[0][0].state, TxState::kCommitted);
  EXPECT_EQ(c.got[0][0].state, TxState::kCommitted);
  EXPECT_EQ(c.got[0][1].state, TxState::kCommitted);
  EXPECT_EQ(b.Count(), 0u);
  Commit(pool, 2, {Id(2)});
  ASSERT_EQ(b.WaitFor(1), 1u);
  EXPECT_EQ(b.got[0][0].height, 2u);
  EXPECT_EQ(b.got[0][1].height, 1u);
}

TEST(MempoolTest, SecondWaiterAnswersAtItsDeadlineWhileTheFirstWaits) {
  Mempool pool;
  ASSERT_TRUE(pool.Add(Tx(1), Id(1)).ok());
  Answers slow, fast;
  pool.WaitAll({Id(1)}, milliseconds(30000), slow.Callback());
  pool.WaitAll({Id(1)}, milliseconds(50), fast.Callback());
  ASSERT_EQ(fast.WaitFor(1), 1u);
  EXPECT_EQ(fast.got[0][0].state, TxState::kPending);
  EXPECT_EQ(slow.Count(), 0u);
  Commit(pool, 1, {Id(1)});
  ASSERT_EQ(slow.WaitFor(1), 1u);
  EXPECT_EQ(slow.got[0][0].state, TxState::kCommitted);
  EXPECT_EQ(fast.Count(), 1u);
}

// etcd mode: a taken transaction dropped with Forget is still answered when
// a block includes it, or when it is rejected.
TEST(MempoolTest, WaitersOfForgottenIdsAreStillAnswered) {
  Mempool pool;
  ASSERT_TRUE(pool.Add(Tx(1), Id(1)).ok());
  ASSERT_TRUE(pool.Add(Tx(2), Id(2)).ok());
  Answers a, b;
  pool.WaitAll({Id(1)}, milliseconds(30000), a.Callback());
  pool.WaitAll({Id(2)}, milliseconds(30000), b.Callback());
  pool.Forget({Id(1), Id(2)});
  Commit(pool, 9, {Id(1)});
  ASSERT_EQ(a.WaitFor(1), 1u);
  EXPECT_EQ(a.got[0][0].state, TxState::kCommitted);
  EXPECT_EQ(a.got[0][0].height, 9u);
  pool.RecordRejection(Id(2), model::Verdict::No(model::Reject::kOversized, "too large"));
  ASSERT_EQ(b.WaitFor(1), 1u);
  EXPECT_EQ(b.got[0][0].state, TxState::kRejected);
  EXPECT_EQ(b.got[0][0].verdict.detail, "too large");
}

TEST(MempoolTest, ForgottenIdAtTheDeadlineReportsWhatIsKnown) {
  Mempool pool;
  ASSERT_TRUE(pool.Add(Tx(1), Id(1)).ok());
  Answers a;
  pool.WaitAll({Id(1)}, milliseconds(50), a.Callback());
  pool.Forget({Id(1)});
  ASSERT_EQ(a.WaitFor(1), 1u);
  EXPECT_EQ(a.got[0][0].state, TxState::kUnknown);
}

TEST(MempoolTest, StopAnswersWaitersAndLaterWaitsAtOnce) {
  Mempool pool;
  ASSERT_TRUE(pool.Add(Tx(1), Id(1)).ok());
  Answers a, b;
  pool.WaitAll({Id(1)}, milliseconds(30000), a.Callback());
  pool.Stop();
  ASSERT_EQ(a.Count(), 1u);
  EXPECT_EQ(a.got[0][0].state, TxState::kPending);
  pool.WaitAll({Id(1)}, milliseconds(30000), b.Callback());
  ASSERT_EQ(b.Count(), 1u);
  EXPECT_EQ(b.got[0][0].state, TxState::kPending);
}

TEST(MempoolTest, CallbacksMayCallBackIntoTheMempool) {
  Mempool pool;
  ASSERT_TRUE(pool.Add(Tx(1), Id(1)).ok());
  Answers a;
  std::optional<TxOutcome> seen;
  pool.WaitAll({Id(1)}, milliseconds(30000), [&](std::vector<TxOutcome> outs) {
    seen = pool.Lookup(Id(1));  // would deadlock if called under the lock
    a.Callback()(std::move(outs));
  });
  Commit(pool, 1, {Id(1)});
  ASSERT_EQ(a.WaitFor(1), 1u);
  ASSERT_TRUE(seen.has_value());
  EXPECT_EQ(seen->state, TxState::kCommitted);
}

TEST(MempoolTest, RememberedCapacityForgetsTheOldestFirst) {
  Mempool pool(100, 3);
  pool.RecordRejection(Id(1), model::Verdict::No(model::Reject::kMalformed, "one"));
  Commit(pool, 1, {Id(2), Id(3)});
  EXPECT_EQ(pool.Lookup(Id(1)).state, TxState::kRejected);
  // Updating an id keeps its place in the order.
  pool.RecordRejection(Id(1), model::Verdict::No(model::Reject::kReplayed, "again"));
  Commit(pool, 2, {Id(4)});
  EXPECT_EQ(pool.Lookup(Id(1)).state, TxState::kUnknown);
  EXPECT_EQ(pool.Lookup(Id(2)).state, TxState::kCommitted);
  Commit(pool, 3, {Id(5)});
  EXPECT_EQ(pool.Lookup(Id(2)).state, TxState::kUnknown);
  EXPECT_EQ(pool.Lookup(Id(3)).state, TxState::kCommitted);
  EXPECT_EQ(pool.Lookup(Id(4)).height, 2u);
  EXPECT_EQ(pool.Lookup(Id(5)).height, 3u);
  // A forgotten rejection's detail does not come back with a new outcome.
  pool.RecordRejection(Id(1), model::Verdict::No(model::Reject::kExpired, ""));
  EXPECT_EQ(pool.Lookup(Id(1)).verdict.detail, "");

  Mempool none(100, 0);
  none.RecordRejection(Id(1), model::Verdict::No(model::Reject::kMalformed, "x"));
  EXPECT_EQ(none.Lookup(Id(1)).state, TxState::kUnknown);
}

// Many ids through the tables in a shuffled order: growth and deletion
// must keep every other id findable.
TEST(MempoolTest, ManyIdsCommittedOutOfOrder) {
  constexpr uint32_t kN = 20000;
  Mempool pool(kN, kN / 2);
  std::vector<Hash32> ids;
  for (uint32_t i = 0; i < kN; ++i) {
    ids.push_back(Id(i * 7919u));
    ASSERT_TRUE(pool.Add(Tx(i), ids.back()).ok());
  }
  EXPECT_EQ(pool.Add(Tx(0), Id(1)).code(), StatusCode::kResourceExhausted);
  std::vector<Hash32> order = ids;
  std::shuffle(order.begin(), order.end(), std::mt19937(42));
  Answers ans;
  pool.WaitAll(ids, milliseconds(30000), ans.Callback());
  for (uint32_t start = 0; start < kN; start += 1000) {
    Commit(pool, 1 + start / 1000, std::vector<Hash32>(order.begin() + start, order.begin() + start + 1000));
    for (uint32_t j = start + 1000; j < kN; j += 97) ASSERT_EQ(pool.Lookup(order[j]).state, TxState::kPending);
  }
  EXPECT_EQ(pool.pending(), 0u);
  ASSERT_EQ(ans.WaitFor(1), 1u);
  for (uint32_t i = 0; i < kN; ++i) ASSERT_EQ(ans.got[0][i].state, TxState::kCommitted) << i;
  // The newest half is remembered, the oldest half forgotten.
  for (uint32_t j = 0; j < kN; ++j) {
    TxState want = j >= kN / 2 ? TxState::kCommitted : TxState::kUnknown;
    ASSERT_EQ(pool.Lookup(order[j]).state, want) << j;
    if (want == TxState::kCommitted) {
      TxOutcome o = pool.Lookup(order[j]);
      ASSERT_EQ(o.height, 1 + j / 1000);
      ASSERT_EQ(o.index, j % 1000);
    }
  }
}

// Admitting, taking, committing and waiting from several threads at once
// (run under TSan to catch a missing lock); every waiter answers once.
TEST(MempoolTest, ConcurrentAddWaitAndCommit) {
  constexpr uint32_t kThreads = 4, kPer = 500;
  Mempool pool;
  std::atomic<bool> done{false};
  std::thread orderer([&] {
    uint64_t height = 1;
    while (!done) {
      std::vector<model::Transaction> txs;
      std::vector<Hash32> ids;
      if (pool.Take(100, milliseconds(5), &txs, &ids) > 0) Commit(pool, height++, ids);
    }
  });
  Answers ans;
  std::vector<std::thread> clients;
  for (uint32_t t = 0; t < kThreads; ++t) {
    clients.emplace_back([&, t] {
      for (uint32_t i = 0; i < kPer; ++i) {
        Hash32 id = Id(t * kPer + i + 1);
        ASSERT_TRUE(pool.Add(Tx(i), id).ok());
        pool.WaitAll({id}, milliseconds(30000), ans.Callback());
      }
    });
  }
  for (auto& c : clients) c.join();
  EXPECT_EQ(ans.WaitFor(kThreads * kPer), kThreads * kPer);
  done = true;
  orderer.join();
  for (const auto& outs : ans.got) EXPECT_EQ(outs[0].state, TxState::kCommitted);
}

}  // namespace
}  // namespace medledger::node
