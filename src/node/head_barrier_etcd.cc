// HeadBarrier over a real etcd (tests/support/etcd_cluster.h), reading the
// head the way EtcdOrderer does (ReadEtcdHead), with the applied height
// played by the test: a caller waits for every block key etcd held when it
// called, the head skips pruned gaps, and without a quorum callers get
// Unavailable within their bound instead of an answer from stale state.
// Registered by hand (src/node/CMakeLists.txt) as etcd.HeadBarrierEtcdTest.*,
// hence a name outside the *_test.cc glob of node_test.
#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <memory>

#include "etcd/etcd_client.h"
#include "node/etcd_orderer.h"
#include "node/head_barrier.h"
#include "tests/support/etcd_cluster.h"

namespace medledger::node {
namespace {

using std::chrono::milliseconds;
constexpr milliseconds kLong{60000};  // a bound no healthy test reaches
const std::string kChain = "barrier-test";

struct Rig {
  std::unique_ptr<test::EtcdCluster> cluster;
  std::unique_ptr<etcd::EtcdClient> writer, reader;
  std::atomic<uint64_t> applied{0};
  std::unique_ptr<HeadBarrier> barrier;

  explicit Rig(int members) {
    test::EtcdClusterOptions o;
    o.members = members;
    auto c = test::EtcdCluster::Start(o);
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    if (!c.ok()) return;
    cluster = std::move(*c);
    writer = std::make_unique<etcd::EtcdClient>(cluster->endpoints(), milliseconds(5000));
    etcd::EtcdClient::Options ro;
    ro.endpoints = cluster->endpoints();
    ro.timeout = milliseconds(1500);  // as EtcdOrderer's head client
    reader = std::make_unique<etcd::EtcdClient>(ro);
    barrier = std::make_unique<HeadBarrier>([this](uint64_t local) { return ReadEtcdHead(*reader, kChain, local); },
                                            [this] { return applied.load(); });
    barrier->Start();
  }
  ~Rig() {
    if (barrier) barrier->Stop();
  }
  bool ok() const { return cluster != nullptr; }
  Status PutBlock(uint64_t h) { return writer->Put(EtcdBlockKey(kChain, h), ToBytes("block")).status(); }
  void Apply(uint64_t h) {
    applied = h;
    barrier->OnApplied();
  }
  std::future<Status> Await(milliseconds bound) {
    auto p = std::make_shared<std::promise<Status>>();
    auto f = p->get_future();
    barrier->Await([p](Status st) { p->set_value(std::move(st)); }, bound);
    return f;
  }
};

TEST(HeadBarrierEtcdTest, ReadEtcdHeadIsTheGreatestBlockAboveLocal) {
  Rig rig(1);
  ASSERT_TRUE(rig.ok());
  auto empty = ReadEtcdHead(*rig.reader, kChain, 4);
  ASSERT_TRUE(empty.ok()) << empty.status().ToString();
  EXPECT_EQ(*empty, 4u);  // nothing in etcd: the local height is the head
  for (uint64_t h : {1, 2, 3, 9, 10, 11}) ASSERT_TRUE(rig.PutBlock(h).ok());  // 4..8 pruned
  ASSERT_TRUE(rig.writer->Put("/medledger/" + kChain + "/roots/x", ToBytes("not a block")).ok());
  ASSERT_TRUE(rig.writer->Put("/medledger/" + kChain + "x/blocks/00000000000000000099", ToBytes("other chain")).ok());
  EXPECT_EQ(*ReadEtcdHead(*rig.reader, kChain, 0), 11u);
  EXPECT_EQ(*ReadEtcdHead(*rig.reader, kChain, 5), 11u);
  EXPECT_EQ(*ReadEtcdHead(*rig.reader, kChain, 11), 11u);
  EXPECT_EQ(*ReadEtcdHead(*rig.reader, kChain, 12), 12u);  // ahead of etcd (moved from solo)
}

TEST(HeadBarrierEtcdTest, CallerWaitsForEveryBlockOrderedBeforeItCalled) {
  Rig rig(3);
  ASSERT_TRUE(rig.ok());
  for (uint64_t h = 1; h <= 5; ++h) ASSERT_TRUE(rig.PutBlock(h).ok());
  rig.Apply(2);
  auto f = rig.Await(kLong);
  // Applying up to 4 is not enough; the waiter must see 5.
  rig.Apply(3);
  rig.Apply(4);
  EXPECT_EQ(f.wait_for(milliseconds(0)), std::future_status::timeout);
  rig.Apply(5);
  Status st = f.get();
  EXPECT_TRUE(st.ok()) << st.ToString();
  // Up to date: the next caller is answered after one read.
  uint64_t reads = rig.barrier->reads();
  EXPECT_TRUE(rig.Await(kLong).get().ok());
  EXPECT_EQ(rig.barrier->reads(), reads + 1);
}

TEST(HeadBarrierEtcdTest, ConcurrentCallersShareReads) {
  Rig rig(1);
  ASSERT_TRUE(rig.ok());
  ASSERT_TRUE(rig.PutBlock(1).ok());
  rig.Apply(1);
  constexpr int kCallers = 300;
  std::vector<std::future<Status>> fs;
  for (int i = 0; i < kCallers; ++i) fs.push_back(rig.Await(kLong));
  for (auto& f : fs) EXPECT_TRUE(f.get().ok());
  // At most one read in flight: callers that queue during a read share the
  // next, so a burst costs a handful of reads, not one each.
  EXPECT_LT(rig.barrier->reads(), uint64_t(kCallers));
}

TEST(HeadBarrierEtcdTest, HeadNotReachedWithinBoundIsUnavailable) {
  Rig rig(1);
  ASSERT_TRUE(rig.ok());
  for (uint64_t h = 1; h <= 3; ++h) ASSERT_TRUE(rig.PutBlock(h).ok());
  rig.Apply(1);
  Status st = rig.Await(milliseconds(200)).get();
  EXPECT_EQ(st.code(), StatusCode::kUnavailable) << st.ToString();
  EXPECT_EQ(rig.barrier->timeouts(), 1u);
}

TEST(HeadBarrierEtcdTest, NoQuorumIsUnavailableNotStale) {
  Rig rig(3);
  ASSERT_TRUE(rig.ok());
  ASSERT_TRUE(rig.PutBlock(1).ok());
  rig.Apply(1);
  ASSERT_TRUE(rig.Await(kLong).get().ok());
  ASSERT_TRUE(rig.cluster->Kill(1).ok());
  ASSERT_TRUE(rig.cluster->Kill(2).ok());
  // The local state is as new as anything etcd held, but without a quorum
  // that cannot be known: Unavailable, from the read or from the bound.
  for (int i = 0; i < 3; ++i) {
    Status st = rig.Await(milliseconds(2000)).get();
    EXPECT_EQ(st.code(), StatusCode::kUnavailable) << st.ToString();
  }
  // Quorum back: answered again.
  ASSERT_TRUE(rig.cluster->Restart(1).ok());
  Status st;
  for (int i = 0; i < 50 && !(st = rig.Await(milliseconds(2000)).get()).ok(); ++i) {
  }
  EXPECT_TRUE(st.ok()) << st.ToString();
}

}  // namespace
}  // namespace medledger::node
