#include "custodian/access_journal.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <future>
#include <thread>

namespace medledger::custodian {
namespace {

namespace fs = std::filesystem;

struct TmpDir {
  std::string path;
  TmpDir() {
    char tmpl[] = "/tmp/ml-journal-XXXXXX";
    path = ::mkdtemp(tmpl);
  }
  ~TmpDir() { fs::remove_all(path); }
};

nlohmann::json Event(int i) { return {{"event_id", "ev" + std::to_string(1000000000000000 + i)}, {"n", i}}; }

TEST(AccessJournal, AppendedEntriesComeBackAfterReopen) {
  TmpDir d;
  {
    auto j = AccessJournal::Open(d.path + "/j");
    ASSERT_TRUE(j.ok()) << j.status().ToString();
    EXPECT_TRUE((*j)->Pending().empty());
    for (int i = 0; i < 5; ++i) ASSERT_TRUE((*j)->AppendSync(Event(i)).ok());
  }
  auto j = AccessJournal::Open(d.path + "/j");
  ASSERT_TRUE(j.ok());
  ASSERT_EQ((*j)->Pending().size(), 5u);
  EXPECT_EQ((*j)->Pending()[3].payload["n"], 3);
  EXPECT_EQ(fs::status(d.path + "/j").permissions() & fs::perms::others_all, fs::perms::none);
}

TEST(AccessJournal, ResolvedOldSegmentsAreDeleted) {
  TmpDir d;
  {
    auto j = AccessJournal::Open(d.path + "/j");
    ASSERT_TRUE(j.ok());
    ASSERT_TRUE((*j)->AppendSync(Event(1)).ok());
    ASSERT_TRUE((*j)->AppendSync(Event(2)).ok());
  }
  auto j = AccessJournal::Open(d.path + "/j");
  ASSERT_TRUE(j.ok());
  ASSERT_EQ((*j)->Pending().size(), 2u);
  EXPECT_EQ((*j)->SegmentFiles().size(), 2u);  // the old one and the new current one
  (*j)->Resolved((*j)->Pending()[0].ticket);
  EXPECT_EQ((*j)->SegmentFiles().size(), 2u);
  (*j)->Resolved((*j)->Pending()[1].ticket);
  EXPECT_EQ((*j)->SegmentFiles().size(), 1u);
}

// The AuditEvent search shows accesses answered but not yet on chain: an
// entry is listed from the moment it is durable (before its callback
// answers the read) until its ticket is resolved, across a restart too.
TEST(AccessJournal, DurableEntriesAreListedUntilResolved) {
  TmpDir d;
  std::vector<uint64_t> tickets;
  {
    auto j = AccessJournal::Open(d.path + "/j");
    ASSERT_TRUE(j.ok());
    for (int i = 0; i < 3; ++i) {
      auto t = (*j)->AppendSync(Event(i));
      ASSERT_TRUE(t.ok());
      tickets.push_back(*t);
    }
    auto u = (*j)->Unresolved();
    ASSERT_EQ(u.size(), 3u);
    for (int i = 0; i < 3; ++i) EXPECT_EQ(u[i]["n"], i);
    EXPECT_NE(tickets[0], tickets[1]);  // one ticket per entry

    std::promise<bool> listed;
    (*j)->Append(Event(7), [&](Status st, uint64_t) {
      bool found = false;
      for (const auto& p : (*j)->Unresolved()) found |= p["n"] == 7;
      listed.set_value(st.ok() && found);
    });
    EXPECT_TRUE(listed.get_future().get());

    (*j)->Resolved(tickets[1]);
    u = (*j)->Unresolved();
    ASSERT_EQ(u.size(), 3u);
    EXPECT_EQ(u[0]["n"], 0);
    EXPECT_EQ(u[1]["n"], 2);
    EXPECT_EQ(u[2]["n"], 7);
  }
  auto j = AccessJournal::Open(d.path + "/j");
  ASSERT_TRUE(j.ok());
  ASSERT_EQ((*j)->Pending().size(), 4u);  // the segment still holds all four
  EXPECT_EQ((*j)->Unresolved().size(), 4u);
  // Resolving one entry twice releases it once: the segment stays while
  // the others are outstanding.
  (*j)->Resolved((*j)->Pending()[0].ticket);
  (*j)->Resolved((*j)->Pending()[0].ticket);
  (*j)->Resolved((*j)->Pending()[1].ticket);
  (*j)->Resolved((*j)->Pending()[1].ticket);
  EXPECT_EQ((*j)->Unresolved().size(), 2u);
  EXPECT_EQ((*j)->SegmentFiles().size(), 2u);
  (*j)->Resolved((*j)->Pending()[2].ticket);
  (*j)->Resolved((*j)->Pending()[3].ticket);
  EXPECT_TRUE((*j)->Unresolved().empty());
  EXPECT_EQ((*j)->SegmentFiles().size(), 1u);
}

TEST(AccessJournal, SegmentsRotateAndGoOnceResolved) {
  TmpDir d;
  AccessJournal::Options o;
  o.segment_bytes = 200;
  auto j = AccessJournal::Open(d.path + "/j", o);
  ASSERT_TRUE(j.ok());
  std::vector<uint64_t> tickets;
  for (int i = 0; i < 20; ++i) {
    auto t = (*j)->AppendSync(Event(i));
    ASSERT_TRUE(t.ok());
    tickets.push_back(*t);
  }
  EXPECT_GT((*j)->SegmentFiles().size(), 3u);
  for (auto t : tickets) (*j)->Resolved(t);
  EXPECT_EQ((*j)->SegmentFiles().size(), 1u);  // only the open one
}

TEST(AccessJournal, TornTailIsCutCorruptMiddleIsDataLoss) {
  TmpDir d;
  {
    auto j = AccessJournal::Open(d.path + "/j");
    ASSERT_TRUE(j.ok());
    ASSERT_TRUE((*j)->AppendSync(Event(1)).ok());
    ASSERT_TRUE((*j)->AppendSync(Event(2)).ok());
  }
  std::string seg = d.path + "/j/access-0000000000.log";
  auto size_before = fs::file_size(seg);
  {
    std::ofstream f(seg, std::ios::app);
    f << "0badc0de {\"event_id\":\"half";  // a write cut by a crash
  }
  {
    auto j = AccessJournal::Open(d.path + "/j");
    ASSERT_TRUE(j.ok()) << j.status().ToString();
    EXPECT_EQ((*j)->Pending().size(), 2u);
  }
  EXPECT_EQ(fs::file_size(seg), size_before);
  // Flip a byte inside the first entry: the second one after it is intact,
  // so this is not a torn write.
  {
    std::fstream f(seg, std::ios::in | std::ios::out);
    f.seekp(12);
    f.put('X');
  }
  auto j = AccessJournal::Open(d.path + "/j");
  ASSERT_FALSE(j.ok());
  EXPECT_EQ(j.status().code(), StatusCode::kDataLoss);
}

// Groups are written in place into a zero-filled segment (no size change
// per sync); a segment copied while open, as a crash leaves it, still holds
// the zero fill, which Open cuts off with the entries intact.
TEST(AccessJournal, PreallocatedSegmentKeepsItsSizeAndRecoversAfterACrash) {
  TmpDir d;
  auto j = AccessJournal::Open(d.path + "/j");
  ASSERT_TRUE(j.ok());
  std::string seg = d.path + "/j/access-0000000000.log";
  ASSERT_TRUE((*j)->AppendSync(Event(1)).ok());
  auto size_after_first = fs::file_size(seg);
  EXPECT_GE(size_after_first, 4096u);  // zero-filled ahead of the entry
  ASSERT_TRUE((*j)->AppendSync(Event(2)).ok());
  ASSERT_TRUE((*j)->AppendSync(Event(3)).ok());
  EXPECT_EQ(fs::file_size(seg), size_after_first);

  fs::create_directories(d.path + "/crashed");
  fs::copy_file(seg, d.path + "/crashed/access-0000000000.log");
  {
    auto c = AccessJournal::Open(d.path + "/crashed");
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    ASSERT_EQ((*c)->Pending().size(), 3u);
    EXPECT_EQ((*c)->Pending()[2].payload["n"], 3);
  }
  std::string expect;
  for (int i = 1; i <= 3; ++i) expect += Event(i).dump();
  auto cut = fs::file_size(d.path + "/crashed/access-0000000000.log");
  EXPECT_EQ(cut, expect.size() + 3 * 10);  // checksum, space and newline per entry

  // A clean close cuts the fill too.
  j->reset();
  EXPECT_EQ(fs::file_size(seg), cut);
}

TEST(AccessJournal, ConcurrentAppendsShareSyncs) {
  TmpDir d;
  auto j = AccessJournal::Open(d.path + "/j");
  ASSERT_TRUE(j.ok());
  std::atomic<int> done{0};
  std::vector<std::thread> ts;
  for (int t = 0; t < 8; ++t)
    ts.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i)
        if ((*j)->AppendSync(Event(t * 100 + i)).ok()) done++;
    });
  for (auto& t : ts) t.join();
  EXPECT_EQ(done.load(), 400);
  EXPECT_LE((*j)->syncs(), 400u);
  j->reset();
  auto again = AccessJournal::Open(d.path + "/j");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ((*again)->Pending().size(), 400u);
}

}  // namespace
}  // namespace medledger::custodian
