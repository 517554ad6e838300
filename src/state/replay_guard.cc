#include "state/replay_guard.h"

#include <mutex>

namespace medledger::state {

bool ReplayGuard::Contains(const Hash32& id) const {
  std::shared_lock lock(mu_);
  return ids_.count(id) > 0;
}

void ReplayGuard::AddBlock(uint64_t height, const std::vector<Hash32>& ids) {
  std::unique_lock lock(mu_);
  for (const auto& id : ids) ids_.insert(id);
  blocks_.emplace_back(height, ids);
  while (!blocks_.empty() && blocks_.front().first + window_ < height) {
    for (const auto& id : blocks_.front().second) ids_.erase(id);
    blocks_.pop_front();
  }
}

}  // namespace medledger::state
