#include "state/state_view.h"

#include <gtest/gtest.h>

#include <map>
#include <random>

namespace medledger::state {
namespace {

Bytes B(std::string_view s) { return ToBytes(s); }

std::map<std::string, std::string> ScanAll(const MemState& st, std::string_view prefix) {
  std::map<std::string, std::string> out;
  std::string last;
  st.Scan(prefix, [&](std::string_view k, const Bytes& v) {
    EXPECT_TRUE(out.empty() || std::string(k) > last) << "scan out of order at " << k;
    last = std::string(k);
    out[std::string(k)] = std::string(AsStringView(v));
    return true;
  });
  return out;
}

// The flat table against a std::map model through inserts, same-size and
// resized overwrites, deletes (tombstones), re-inserts and several rehashes.
TEST(MemState, MatchesAMapModelThroughRandomWrites) {
  MemState st;
  std::map<std::string, std::string> model;
  std::mt19937 rng(7);
  bool scanned = false;
  for (int round = 0; round < 40; ++round) {
    WriteSet ws;
    std::map<std::string, std::optional<std::string>> batch;  // sorted, unique keys like a real WriteSet
    for (int i = 0; i < 500; ++i) {
      std::string key = (rng() % 2 ? "a/" : "b/") + std::to_string(rng() % 3000);
      if (rng() % 5 == 0) batch[key] = std::nullopt;
      else batch[key] = std::string(rng() % 40, char('a' + rng() % 26));
    }
    for (auto& [k, v] : batch) {
      ws.emplace_back(k, v ? std::optional<Bytes>(B(*v)) : std::nullopt);
      if (v) model[k] = *v;
      else model.erase(k);
    }
    st.Apply(ws);
    ASSERT_EQ(st.size(), model.size());
    if (round == 10) {  // from here on the ordered index is kept up to date
      scanned = true;
      (void)ScanAll(st, "");
    }
  }
  ASSERT_TRUE(scanned);
  for (const auto& [k, v] : model) {
    auto got = st.Get(k);
    ASSERT_TRUE(got) << k;
    EXPECT_EQ(AsStringView(*got), v);
    ASSERT_TRUE(st.Find(k));
    EXPECT_EQ(*st.Find(k), v);
  }
  EXPECT_FALSE(st.Get("a/none"));
  std::map<std::string, std::string> want_a;
  for (const auto& [k, v] : model)
    if (k.rfind("a/", 0) == 0) want_a[k] = v;
  EXPECT_EQ(ScanAll(st, "a/"), want_a);
  EXPECT_EQ(ScanAll(st, ""), model);

  MemState copy = st;
  EXPECT_EQ(copy.size(), st.size());
  EXPECT_EQ(ScanAll(copy, ""), model);
  copy.Apply(WriteSet{{"a/new", B("x")}});
  EXPECT_FALSE(st.Get("a/new"));
}

TEST(MemState, EmptyKeysAndValuesAndReserve) {
  MemState st;
  st.Reserve(100000);
  st.Apply(WriteSet{{"", B("")}, {"k", B("")}});
  ASSERT_TRUE(st.Get(""));
  EXPECT_TRUE(st.Get("")->empty());
  ASSERT_TRUE(st.Find("k"));
  EXPECT_EQ(st.size(), 2u);
  st.Apply(WriteSet{{"", std::nullopt}, {"k", B("value")}});
  EXPECT_FALSE(st.Get(""));
  EXPECT_EQ(*st.Find("k"), "value");
  EXPECT_EQ(st.size(), 1u);
}

}  // namespace
}  // namespace medledger::state
