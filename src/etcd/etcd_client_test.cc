// EtcdClient against real etcd members on loopback (tests/support/etcd_cluster.h).
// Timeouts here only bound hangs; no test passes or fails on how fast
// something happened.
#include "etcd/etcd_client.h"

#include <atomic>
#include <cstdio>
#include <mutex>
#include <thread>

#include <gtest/gtest.h>

#include "tests/support/etcd_cluster.h"

namespace medledger::etcd {
namespace {

using std::chrono::milliseconds;
using test::EtcdCluster;
using test::EtcdClusterOptions;

std::unique_ptr<EtcdCluster> StartCluster(int members) {
  EtcdClusterOptions o;
  o.members = members;
  auto c = EtcdCluster::Start(o);
  EXPECT_TRUE(c.ok()) << c.status().ToString();
  return c.ok() ? std::move(*c) : nullptr;
}

// Polls pred until it holds or a generous bound passes (a hang guard only).
template <class Pred>
bool Eventually(Pred pred, milliseconds bound = milliseconds(60000)) {
  const auto end = std::chrono::steady_clock::now() + bound;
  while (std::chrono::steady_clock::now() < end) {
    if (pred()) return true;
    std::this_thread::sleep_for(milliseconds(20));
  }
  return pred();
}

// Runs Watch on a thread and records what it delivers.
class Watcher {
 public:
  Watcher(EtcdClient* client, std::string prefix, int64_t start_rev) {
    thread_ = std::thread([=, this] {
      Status st = client->Watch(prefix, start_rev,
                                [this](const WatchEvent& ev) {
                                  std::lock_guard<std::mutex> lock(mu_);
                                  events_.push_back(ev);
                                  return true;
                                },
                                &stop_);
      std::lock_guard<std::mutex> lock(mu_);
      result_ = st;
      done_ = true;
    });
  }
  ~Watcher() { Stop(); }
  void Stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  size_t count() {
    std::lock_guard<std::mutex> lock(mu_);
    return events_.size();
  }
  bool done() {
    std::lock_guard<std::mutex> lock(mu_);
    return done_;
  }
  std::vector<WatchEvent> events() {
    std::lock_guard<std::mutex> lock(mu_);
    return events_;
  }
  Status result() {
    std::lock_guard<std::mutex> lock(mu_);
    return result_;
  }

 private:
  std::mutex mu_;
  std::vector<WatchEvent> events_;
  Status result_;
  bool done_ = false;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

std::string Str(const Bytes& b) { return std::string(AsStringView(b)); }

TEST(EtcdClientTest, ConfigurationErrorsAreInvalidArgument) {
  EtcdClient none(std::vector<std::string>{}, milliseconds(100));
  EXPECT_EQ(none.Get("k").status().code(), StatusCode::kInvalidArgument);
  EtcdClient bad({"127.0.0.1"}, milliseconds(100));
  EXPECT_EQ(bad.Put("k", ToBytes("v")).status().code(), StatusCode::kInvalidArgument);
  EtcdClient tls({"https://127.0.0.1:2379"}, milliseconds(100));
  EXPECT_EQ(tls.CurrentRevision().status().code(), StatusCode::kInvalidArgument);
  std::atomic<bool> stop{false};
  EXPECT_EQ(bad.Watch("p", 0, [](const WatchEvent&) { return true; }, &stop).code(),
            StatusCode::kInvalidArgument);
}

TEST(EtcdClientTest, NothingListeningIsUnavailable) {
  // Port 1 on loopback: connection refused at once.
  EtcdClient c({"127.0.0.1:1"}, milliseconds(300));
  EXPECT_EQ(c.Get("k").status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(c.Put("k", ToBytes("v")).status().code(), StatusCode::kUnavailable);
}

TEST(EtcdClientTest, PrefixEnd) {
  EXPECT_EQ(EtcdClient::PrefixEnd("blocks/"), "blocks0");
  EXPECT_EQ(EtcdClient::PrefixEnd(std::string("a\xff", 2)), "b");
  EXPECT_EQ(EtcdClient::PrefixEnd(std::string("\xff\xff", 2)), "");
  EXPECT_EQ(EtcdClient::PrefixEnd(""), "");
}

TEST(EtcdClientTest, PutGetRange) {
  auto cluster = StartCluster(1);
  ASSERT_NE(cluster, nullptr);
  EtcdClient c(cluster->endpoints(), milliseconds(5000));

  auto missing = c.Get("b/0");
  ASSERT_TRUE(missing.ok()) << missing.status().ToString();
  EXPECT_FALSE(missing->has_value());

  Bytes binary = {0, 1, 2, 0xff, 0, '\n'};
  auto r1 = c.Put("b/1", binary);
  ASSERT_TRUE(r1.ok()) << r1.status().ToString();
  auto r0 = c.Put("b/0", ToBytes("zero"));
  ASSERT_TRUE(r0.ok());
  EXPECT_GT(*r0, *r1);
  ASSERT_TRUE(c.Put("b/2", Bytes{}).ok());  // empty value
  ASSERT_TRUE(c.Put("c/0", ToBytes("other prefix")).ok());
  auto r1b = c.Put("b/1", binary);
  ASSERT_TRUE(r1b.ok());

  auto got = c.Get("b/1");
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_EQ((*got)->key, "b/1");
  EXPECT_EQ((*got)->value, binary);
  EXPECT_EQ((*got)->create_revision, *r1);
  EXPECT_EQ((*got)->mod_revision, *r1b);
  EXPECT_EQ((*got)->version, 2);

  auto rev = c.CurrentRevision();
  ASSERT_TRUE(rev.ok());
  EXPECT_EQ(*rev, *r1b);

  auto all = c.Range("b/", EtcdClient::PrefixEnd("b/"));
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  ASSERT_EQ(all->kvs.size(), 3u);
  EXPECT_EQ(all->kvs[0].key, "b/0");
  EXPECT_EQ(Str(all->kvs[0].value), "zero");
  EXPECT_EQ(all->kvs[1].key, "b/1");
  EXPECT_EQ(all->kvs[2].key, "b/2");
  EXPECT_TRUE(all->kvs[2].value.empty());
  EXPECT_FALSE(all->more);
  EXPECT_EQ(all->revision, *r1b);

  auto page = c.Range("b/", EtcdClient::PrefixEnd("b/"), 2);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->kvs.size(), 2u);
  EXPECT_TRUE(page->more);

  // A read at an older revision sees the old state.
  auto old = c.Range("b/", EtcdClient::PrefixEnd("b/"), 0, *r0);
  ASSERT_TRUE(old.ok());
  EXPECT_EQ(old->kvs.size(), 2u);

  auto everything = c.Range("", "");
  ASSERT_TRUE(everything.ok());
  EXPECT_EQ(everything->kvs.size(), 4u);

  EXPECT_EQ(c.Put("", ToBytes("x")).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(c.Range("a", "b", -1).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(c.Range("a", "b", 0, *rev + 1000).status().code(), StatusCode::kInvalidArgument);
}

TEST(EtcdClientTest, LastKeyIsTheGreatestKeyInRange) {
  auto cluster = StartCluster(1);
  ASSERT_NE(cluster, nullptr);
  EtcdClient c(cluster->endpoints(), milliseconds(5000));
  auto none = c.LastKey("k/", EtcdClient::PrefixEnd("k/"));
  ASSERT_TRUE(none.ok()) << none.status().ToString();
  EXPECT_FALSE(none->has_value());
  ASSERT_TRUE(c.Put("k/03", Bytes(1000, 'x')).ok());
  ASSERT_TRUE(c.Put("k/01", ToBytes("a")).ok());
  ASSERT_TRUE(c.Put("k/07", ToBytes("b")).ok());
  ASSERT_TRUE(c.Put("l/99", ToBytes("other prefix")).ok());
  auto last = c.LastKey("k/", EtcdClient::PrefixEnd("k/"));
  ASSERT_TRUE(last.ok() && last->has_value()) << last.status().ToString();
  EXPECT_EQ(**last, "k/07");
  auto below = c.LastKey("k/", "k/05");
  ASSERT_TRUE(below.ok() && below->has_value());
  EXPECT_EQ(**below, "k/03");
  auto above = c.LastKey("k/08", EtcdClient::PrefixEnd("k/"));
  ASSERT_TRUE(above.ok());
  EXPECT_FALSE(above->has_value());
}

TEST(EtcdClientTest, OversizedValueRejected) {
  auto cluster = StartCluster(1);
  ASSERT_NE(cluster, nullptr);
  EtcdClient c(cluster->endpoints(), milliseconds(10000));

  const std::string key = "blocks/00000001";
  const size_t max = c.MaxValueBytes(key);
  ASSERT_GT(max, size_t{1500000});
  // The largest accepted value really fits the server's limit...
  Bytes fits(max, 0xab);
  auto ok = c.PutIfAbsent(key, fits);
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  auto ok2 = c.Put("blocks/00000002", Bytes(c.MaxValueBytes("blocks/00000002"), 1));
  ASSERT_TRUE(ok2.ok()) << ok2.status().ToString();
  // ...and one byte more is refused before it is sent.
  Bytes too_big(max + 1, 0xab);
  EXPECT_EQ(c.Put(key, too_big).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(c.PutIfAbsent("blocks/00000003", too_big).status().code(), StatusCode::kInvalidArgument);

  // A client that assumes a larger limit than the server has is refused by
  // the server, with the same code.
  EtcdClient::Options o;
  o.endpoints = cluster->endpoints();
  o.timeout = milliseconds(10000);
  o.max_request_bytes = 4 << 20;
  EtcdClient loose(o);
  auto refused = loose.Put("blocks/00000004", Bytes(1700000, 7));
  EXPECT_EQ(refused.status().code(), StatusCode::kInvalidArgument) << refused.status().ToString();
  auto absent = c.Get("blocks/00000004");
  ASSERT_TRUE(absent.ok());
  EXPECT_FALSE(absent->has_value());
}

// The primitives pruning relies on (node/etcd_orderer.h): a create guarded
// by another key's mod revision, compare-and-swap, and delete-range.
TEST(EtcdClientTest, GuardedCreateCompareAndSwapAndDeleteRange) {
  auto cluster = StartCluster(1);
  ASSERT_NE(cluster, nullptr);
  EtcdClient c(cluster->endpoints(), milliseconds(10000));
  // Guard absent (mod revision 0): the create goes through.
  auto a = c.PutIfAbsentGuarded("b/1", ToBytes("one"), "floor", 0);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  // Retrying the same bytes is success; other bytes are kAborted.
  EXPECT_TRUE(c.PutIfAbsentGuarded("b/1", ToBytes("one"), "floor", 0).ok());
  EXPECT_EQ(c.PutIfAbsentGuarded("b/1", ToBytes("uno"), "floor", 0).status().code(), StatusCode::kAborted);
  // CAS on the guard: from absent, then only with the current mod revision.
  auto f = c.PutIfModRevision("floor", ToBytes("5"), 0);
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ(c.PutIfModRevision("floor", ToBytes("6"), 0).status().code(), StatusCode::kAborted);
  auto g = c.Get("floor");
  ASSERT_TRUE(g.ok() && g->has_value());
  EXPECT_EQ(AsStringView((*g)->value), "5");
  // The guard moved: a create with the old revision fails, with the new one
  // it goes through.
  EXPECT_EQ(c.PutIfAbsentGuarded("b/2", ToBytes("two"), "floor", 0).status().code(), StatusCode::kFailedPrecondition);
  auto absent = c.Get("b/2");
  ASSERT_TRUE(absent.ok());
  EXPECT_FALSE(absent->has_value());
  EXPECT_TRUE(c.PutIfAbsentGuarded("b/2", ToBytes("two"), "floor", (*g)->mod_revision).ok());
  ASSERT_TRUE(c.Put("b/3", ToBytes("three")).ok());
  // Delete-range removes [from, to) and is idempotent.
  ASSERT_TRUE(c.DeleteRange("b/1", "b/3").ok());
  ASSERT_TRUE(c.DeleteRange("b/1", "b/3").ok());
  auto left = c.Range("b/", EtcdClient::PrefixEnd("b/"));
  ASSERT_TRUE(left.ok());
  ASSERT_EQ(left->kvs.size(), 1u);
  EXPECT_EQ(left->kvs[0].key, "b/3");
  EXPECT_EQ(c.DeleteRange("", "x").status().code(), StatusCode::kInvalidArgument);
}

TEST(EtcdClientTest, PutIfAbsentRaceHasExactlyOneWinnerPerKey) {
  auto cluster = StartCluster(3);
  ASSERT_NE(cluster, nullptr);
  auto eps = cluster->endpoints();
  EtcdClient a({eps[0], eps[1], eps[2]}, milliseconds(10000));
  EtcdClient b({eps[1], eps[2], eps[0]}, milliseconds(10000));
  constexpr int kKeys = 40;
  auto key = [](int i) { return "race/" + std::to_string(1000 + i); };

  struct Outcome {
    std::vector<StatusCode> codes = std::vector<StatusCode>(kKeys);
    std::vector<int64_t> revs = std::vector<int64_t>(kKeys);
  };
  Outcome oa, ob;
  std::atomic<bool> go{false};
  auto run = [&](EtcdClient* c, std::string tag, Outcome* out) {
    while (!go) std::this_thread::yield();
    for (int i = 0; i < kKeys; ++i) {
      auto r = c->PutIfAbsent(key(i), ToBytes(tag + std::to_string(i)));
      out->codes[i] = r.status().code();
      out->revs[i] = r.ok() ? *r : 0;
    }
  };
  std::thread ta(run, &a, "A", &oa), tb(run, &b, "B", &ob);
  go = true;
  ta.join();
  tb.join();

  for (int i = 0; i < kKeys; ++i) {
    SCOPED_TRACE(key(i));
    const bool a_won = oa.codes[i] == StatusCode::kOk;
    const bool b_won = ob.codes[i] == StatusCode::kOk;
    EXPECT_NE(a_won, b_won);
    EXPECT_EQ(a_won ? ob.codes[i] : oa.codes[i], StatusCode::kAborted);
    auto got = a.Get(key(i));
    ASSERT_TRUE(got.ok() && got->has_value());
    EXPECT_EQ(Str((*got)->value), (a_won ? "A" : "B") + std::to_string(i));
    EXPECT_EQ((*got)->create_revision, a_won ? oa.revs[i] : ob.revs[i]);
    EXPECT_EQ((*got)->version, 1);
  }

  // Idempotent for the same value (a retry of the winner), refused otherwise.
  auto again = a.Get(key(0));
  ASSERT_TRUE(again.ok() && again->has_value());
  auto retry = b.PutIfAbsent(key(0), (*again)->value);
  ASSERT_TRUE(retry.ok()) << retry.status().ToString();
  EXPECT_EQ(*retry, (*again)->create_revision);
  EXPECT_EQ(b.PutIfAbsent(key(0), ToBytes("C")).status().code(), StatusCode::kAborted);
}

TEST(EtcdClientTest, WatchDeliversEventsInOrderFromRevision) {
  auto cluster = StartCluster(1);
  ASSERT_NE(cluster, nullptr);
  EtcdClient c(cluster->endpoints(), milliseconds(5000));

  ASSERT_TRUE(c.Put("w/before", ToBytes("old")).ok());
  auto first = c.Put("w/1", ToBytes("one"));
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE(c.Put("x/1", ToBytes("not watched")).ok());
  ASSERT_TRUE(c.Put("w/2", ToBytes("two")).ok());

  Watcher w(&c, "w/", *first);
  ASSERT_TRUE(c.Put("w/3", ToBytes("three")).ok());
  ASSERT_TRUE(c.Put("w/1", ToBytes("one again")).ok());
  ASSERT_TRUE(Eventually([&] { return w.count() >= 4; }));
  w.Stop();
  EXPECT_TRUE(w.result().ok()) << w.result().ToString();

  auto ev = w.events();
  ASSERT_EQ(ev.size(), 4u);
  const char* keys[] = {"w/1", "w/2", "w/3", "w/1"};
  const char* vals[] = {"one", "two", "three", "one again"};
  for (size_t i = 0; i < ev.size(); ++i) {
    EXPECT_EQ(ev[i].type, WatchEvent::Type::kPut);
    EXPECT_EQ(ev[i].kv.key, keys[i]);
    EXPECT_EQ(Str(ev[i].kv.value), vals[i]);
    if (i > 0) {
      EXPECT_GT(ev[i].kv.mod_revision, ev[i - 1].kv.mod_revision);
    }
  }
  EXPECT_EQ(ev[0].kv.mod_revision, *first);

  // fn returning false ends the watch with OK.
  int seen = 0;
  Status st = c.Watch("w/", *first, [&](const WatchEvent&) { return ++seen < 2; }, nullptr);
  EXPECT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(seen, 2);

  // start_rev 0 means "from now": only later changes arrive.
  Watcher now(&c, "w/", 0);
  // The watch may not be registered yet; keep writing until one arrives.
  int n = 0;
  ASSERT_TRUE(Eventually([&] {
    EXPECT_TRUE(c.Put("w/later", ToBytes(std::to_string(n++))).ok());
    return now.count() > 0;
  }));
  now.Stop();
  for (const auto& e : now.events()) EXPECT_EQ(e.kv.key, "w/later");
}

TEST(EtcdClientTest, WatchReportsDeletes) {
  auto cluster = StartCluster(1);
  ASSERT_NE(cluster, nullptr);
  EtcdClient c(cluster->endpoints(), milliseconds(5000));
  auto put = c.Put("d/1", ToBytes("v"));
  ASSERT_TRUE(put.ok());
  auto del = c.Delete("d/1");
  ASSERT_TRUE(del.ok()) << del.status().ToString();
  EXPECT_GT(*del, *put);
  auto gone = c.Get("d/1");
  ASSERT_TRUE(gone.ok());
  EXPECT_FALSE(gone->has_value());
  EXPECT_TRUE(c.Delete("d/never").ok());
  std::vector<WatchEvent> ev;
  Status st = c.Watch("d/", *put, [&](const WatchEvent& e) {
    ev.push_back(e);
    return ev.size() < 2;
  }, nullptr);
  ASSERT_TRUE(st.ok()) << st.ToString();
  ASSERT_EQ(ev.size(), 2u);
  EXPECT_EQ(ev[0].type, WatchEvent::Type::kPut);
  EXPECT_EQ(ev[1].type, WatchEvent::Type::kDelete);
  EXPECT_EQ(ev[1].kv.key, "d/1");
  EXPECT_GT(ev[1].kv.mod_revision, ev[0].kv.mod_revision);
}

// Writes "<tag><i>" to e/<i> for i in [from, to) and returns nothing; every
// write must succeed (PutIfAbsent retries through ambiguity).
void WriteRange(EtcdClient* c, int from, int to) {
  for (int i = from; i < to; ++i) {
    char key[32];
    std::snprintf(key, sizeof(key), "e/%04d", i);
    auto r = c->PutIfAbsent(key, ToBytes(std::to_string(i)));
    ASSERT_TRUE(r.ok()) << key << ": " << r.status().ToString();
  }
}

void ExpectSequence(const std::vector<WatchEvent>& ev, int n) {
  ASSERT_EQ(ev.size(), size_t(n));
  for (int i = 0; i < n; ++i) {
    char key[32];
    std::snprintf(key, sizeof(key), "e/%04d", i);
    EXPECT_EQ(ev[i].kv.key, key);
    EXPECT_EQ(Str(ev[i].kv.value), std::to_string(i));
    if (i > 0) {
      EXPECT_GT(ev[i].kv.mod_revision, ev[i - 1].kv.mod_revision);
    }
  }
}

TEST(EtcdClientTest, WatchResumesAfterWatchedMemberRestarts) {
  auto cluster = StartCluster(3);
  ASSERT_NE(cluster, nullptr);
  auto eps = cluster->endpoints();
  EtcdClient writer({eps[1], eps[2]}, milliseconds(10000));
  auto start = writer.CurrentRevision();
  ASSERT_TRUE(start.ok());
  // The watcher knows only member 0, so it must wait for it to come back.
  EtcdClient::Options o;
  o.endpoints = {eps[0]};
  o.timeout = milliseconds(5000);
  o.watch_reconnect_budget = milliseconds(120000);
  EtcdClient watch_client(o);
  Watcher w(&watch_client, "e/", *start + 1);

  WriteRange(&writer, 0, 10);
  ASSERT_TRUE(Eventually([&] { return w.count() >= 10; }));
  ASSERT_TRUE(cluster->Kill(0).ok());
  WriteRange(&writer, 10, 20);  // while the watched member is down
  ASSERT_TRUE(cluster->Restart(0).ok());
  WriteRange(&writer, 20, 30);
  ASSERT_TRUE(Eventually([&] { return w.count() >= 30 || w.done(); }, milliseconds(120000)));
  w.Stop();
  EXPECT_TRUE(w.result().ok()) << w.result().ToString();
  ExpectSequence(w.events(), 30);
}

TEST(EtcdClientTest, WatchFailsOverWhenWatchedMemberDies) {
  auto cluster = StartCluster(3);
  ASSERT_NE(cluster, nullptr);
  auto eps = cluster->endpoints();
  EtcdClient writer({eps[2], eps[1]}, milliseconds(10000));
  auto start = writer.CurrentRevision();
  ASSERT_TRUE(start.ok());
  EtcdClient watch_client({eps[0], eps[1], eps[2]}, milliseconds(5000));
  Watcher w(&watch_client, "e/", *start + 1);

  WriteRange(&writer, 0, 10);
  ASSERT_TRUE(Eventually([&] { return w.count() >= 10; }));
  ASSERT_TRUE(cluster->Kill(0).ok());  // never restarted
  WriteRange(&writer, 10, 25);
  ASSERT_TRUE(Eventually([&] { return w.count() >= 25 || w.done(); }));
  w.Stop();
  EXPECT_TRUE(w.result().ok()) << w.result().ToString();
  ExpectSequence(w.events(), 25);
}

TEST(EtcdClientTest, FailsOverWhenCurrentMemberIsKilled) {
  auto cluster = StartCluster(3);
  ASSERT_NE(cluster, nullptr);
  // Put the leader first, so the kill also forces an election: the hard case.
  EtcdClient probe(cluster->endpoints(), milliseconds(5000));
  auto leader = probe.LeaderEndpoint();
  ASSERT_TRUE(leader.ok()) << leader.status().ToString();
  int li = cluster->IndexOf(*leader);
  ASSERT_GE(li, 0) << *leader;
  std::vector<std::string> eps = {*leader};
  for (const auto& e : cluster->endpoints()) {
    if (e != *leader) eps.push_back(e);
  }
  EtcdClient c(eps, milliseconds(15000));
  ASSERT_TRUE(c.Put("f/0", ToBytes("zero")).ok());
  ASSERT_EQ(c.CurrentEndpoint(), *leader);

  ASSERT_TRUE(cluster->Kill(li).ok());
  auto r = c.PutIfAbsent("f/1", ToBytes("one"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_NE(c.CurrentEndpoint(), *leader);
  auto got = c.Get("f/0");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  ASSERT_TRUE(got->has_value());
  EXPECT_EQ(Str((*got)->value), "zero");

  auto new_leader = c.LeaderEndpoint();
  ASSERT_TRUE(new_leader.ok()) << new_leader.status().ToString();
  EXPECT_NE(*new_leader, *leader);
}

TEST(EtcdClientTest, NoQuorumIsUnavailableNotAHang) {
  auto cluster = StartCluster(3);
  ASSERT_NE(cluster, nullptr);
  EtcdClient c(cluster->endpoints(), milliseconds(3000));
  ASSERT_TRUE(c.Put("q/0", ToBytes("zero")).ok());

  ASSERT_TRUE(cluster->Kill(1).ok());
  ASSERT_TRUE(cluster->Kill(2).ok());
  auto put = c.Put("q/1", ToBytes("one"));
  EXPECT_EQ(put.status().code(), StatusCode::kUnavailable) << put.status().ToString();
  auto cas = c.PutIfAbsent("q/2", ToBytes("two"));
  EXPECT_EQ(cas.status().code(), StatusCode::kUnavailable) << cas.status().ToString();
  auto get = c.Get("q/0");
  EXPECT_EQ(get.status().code(), StatusCode::kUnavailable) << get.status().ToString();
  std::atomic<bool> stop{false};
  EtcdClient::Options o;
  o.endpoints = cluster->endpoints();
  o.timeout = milliseconds(3000);
  o.watch_reconnect_budget = milliseconds(3000);
  EtcdClient wc(o);
  Status wst = wc.Watch("q/", 1, [](const WatchEvent&) { return true; }, &stop);
  EXPECT_EQ(wst.code(), StatusCode::kUnavailable) << wst.ToString();

  ASSERT_TRUE(cluster->Restart(1).ok());
  // Quorum is back. An ambiguous Put during recovery may still be reported,
  // so allow a few attempts.
  Status last;
  bool ok = false;
  for (int i = 0; i < 5 && !ok; ++i) {
    auto r = c.Put("q/1", ToBytes("one"));
    ok = r.ok();
    last = r.status();
  }
  EXPECT_TRUE(ok) << last.ToString();
  auto got = c.Get("q/1");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  ASSERT_TRUE(got->has_value());
  EXPECT_EQ(Str((*got)->value), "one");
}

TEST(EtcdClientTest, WatchFromCompactedRevisionFails) {
  auto cluster = StartCluster(1);
  ASSERT_NE(cluster, nullptr);
  EtcdClient c(cluster->endpoints(), milliseconds(5000));
  auto first = c.Put("k/1", ToBytes("1"));
  ASSERT_TRUE(first.ok());
  for (int i = 2; i <= 5; ++i) ASSERT_TRUE(c.Put("k/" + std::to_string(i), ToBytes("x")).ok());
  auto rev = c.CurrentRevision();
  ASSERT_TRUE(rev.ok());

  ASSERT_TRUE(c.Compact(*rev).ok());
  EXPECT_TRUE(c.Compact(*rev).ok());  // again: nothing to do
  EXPECT_TRUE(c.Compact(*first).ok());  // older: nothing to do
  EXPECT_EQ(c.Compact(*rev + 100).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(c.Compact(0).code(), StatusCode::kInvalidArgument);

  int calls = 0;
  Status st = c.Watch("k/", *first, [&](const WatchEvent&) { ++calls; return true; }, nullptr);
  EXPECT_EQ(st.code(), StatusCode::kFailedPrecondition) << st.ToString();
  EXPECT_EQ(st.message().rfind("compacted", 0), 0u) << st.message();
  EXPECT_EQ(calls, 0);

  auto old = c.Range("k/", "k0", 0, *first);
  EXPECT_EQ(old.status().code(), StatusCode::kFailedPrecondition);

  // From the compaction revision itself the history is still there.
  std::vector<WatchEvent> ev;
  st = c.Watch("k/", *rev, [&](const WatchEvent& e) { ev.push_back(e); return false; }, nullptr);
  EXPECT_TRUE(st.ok()) << st.ToString();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].kv.key, "k/5");
}

}  // namespace
}  // namespace medledger::etcd
