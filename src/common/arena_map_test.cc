#include "common/arena_map.h"

#include <gtest/gtest.h>

#include <map>
#include <string>

namespace medledger {
namespace {

std::map<std::string, std::string> Contents(const ArenaMap& m) {
  std::map<std::string, std::string> out;
  m.ForEach([&](std::string_view k, std::string_view v) { out.emplace(k, v); });
  return out;
}

// Enough entries to need several arena chunks (64 KiB, 128 KiB, ...) and
// several index rehashes.
void Fill(ArenaMap* m, std::map<std::string, std::string>* model, int n, const std::string& tag) {
  for (int i = 0; i < n; ++i) {
    std::string k = tag + "/" + std::to_string(i);
    std::string v(size_t(i % 97), char('a' + i % 26));
    m->Put(k, v);
    (*model)[k] = v;
  }
}

TEST(ArenaMap, PutFindEraseAndResize) {
  ArenaMap m;
  std::map<std::string, std::string> model;
  Fill(&m, &model, 20000, "k");
  m.Put("k/5", "a longer value than before");  // a new entry for a resized value
  model["k/5"] = "a longer value than before";
  EXPECT_TRUE(m.Erase("k/7"));
  EXPECT_FALSE(m.Erase("k/7"));
  model.erase("k/7");
  EXPECT_EQ(m.size(), model.size());
  EXPECT_EQ(Contents(m), model);
  EXPECT_FALSE(m.Find("k/7"));
  EXPECT_EQ(*m.Find("k/5"), "a longer value than before");
  ArenaMap copy(m);
  EXPECT_EQ(Contents(copy), model);
}

TEST(ArenaMap, ResetEmptiesAndTheMapFillsAgain) {
  ArenaMap m;
  std::map<std::string, std::string> first;
  Fill(&m, &first, 30000, "first");
  m.Reset();
  EXPECT_EQ(m.size(), 0u);
  EXPECT_FALSE(m.Find("first/1"));
  EXPECT_TRUE(Contents(m).empty());
  // Refilled with more than before: the kept chunks are reused, then new ones
  // are added; no old key may reappear.
  std::map<std::string, std::string> second;
  Fill(&m, &second, 45000, "second");
  EXPECT_EQ(m.size(), second.size());
  EXPECT_EQ(Contents(m), second);
  EXPECT_FALSE(m.Find("first/1"));
  for (int i = 0; i < 45000; i += 997) EXPECT_EQ(*m.Find("second/" + std::to_string(i)), second["second/" + std::to_string(i)]);
}

}  // namespace
}  // namespace medledger
