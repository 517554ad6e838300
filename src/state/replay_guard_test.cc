#include "state/replay_guard.h"

#include <gtest/gtest.h>

#include <random>
#include <set>

namespace medledger::state {
namespace {

// An id whose table home slot is `home` (the first 8 bytes are the hash),
// told apart from others by `tag`.
Hash32 IdAt(uint64_t home, uint32_t tag) {
  Hash32 h{};
  std::memcpy(h.data(), &home, sizeof home);
  std::memcpy(h.data() + 8, &tag, sizeof tag);
  return h;
}

// The flat table against a reference set with the same semantics (forgetting
// a block erases its ids), under the collisions that exercise probing,
// wrap-around at the table's end, backward-shift deletion and growth: ids
// crowd a few home slots at both ends of the table, and some ids repeat.
TEST(ReplayGuard, MatchesAReferenceSetUnderCollisions) {
  std::mt19937_64 rng(7);
  constexpr uint64_t kWindow = 3;
  ReplayGuard g(kWindow);
  std::set<Hash32> ref;
  std::deque<std::pair<uint64_t, std::vector<Hash32>>> blocks;
  std::vector<Hash32> all;
  uint32_t tag = 1;
  for (uint64_t height = 1; height <= 300; ++height) {
    std::vector<Hash32> ids;
    // Every 100 blocks, a block big enough to make the table grow.
    size_t n = height % 100 == 0 ? 1500 : rng() % 40;
    for (size_t i = 0; i < n; ++i) {
      if (!all.empty() && rng() % 10 == 0) {
        ids.push_back(all[rng() % all.size()]);  // a repeat of an older id
        continue;
      }
      uint64_t home = (rng() % 2) ? 1023 - rng() % 3 : rng() % 5;
      if (rng() % 8 == 0) home = rng();
      ids.push_back(IdAt(home, tag++));
    }
    if (height % 50 == 0) ids.push_back(Hash32{});  // the all-zero id too
    g.Prefetch(ids);  // a hint only: must not change what the guard holds
    g.AddBlock(height, ids);
    ref.insert(ids.begin(), ids.end());
    blocks.emplace_back(height, ids);
    while (blocks.front().first + kWindow < height) {
      for (const auto& id : blocks.front().second) ref.erase(id);
      blocks.pop_front();
    }
    all.insert(all.end(), ids.begin(), ids.end());
    ASSERT_EQ(g.size(), ref.size()) << "height " << height;
    for (const auto& id : all) ASSERT_EQ(g.Contains(id), ref.count(id) > 0) << "height " << height;
  }
}

}  // namespace
}  // namespace medledger::state
