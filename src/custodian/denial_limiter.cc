#include "custodian/denial_limiter.h"

namespace medledger::custodian {

void DenialLimiter::Expire(int64_t now_ms) {
  while (!order_.empty() && order_.front().first + window_ms_ <= now_ms) {
    const std::string& k = order_.front().second;
    recorded_.erase(k);
    std::string accessor = k.substr(0, k.find('/'));
    if (auto it = per_key_.find(accessor); it != per_key_.end() && --it->second == 0) per_key_.erase(it);
    order_.pop_front();
  }
}

bool DenialLimiter::Admit(const std::string& accessor, const std::string& record_id, int64_t now_ms) {
  std::lock_guard l(mu_);
  Expire(now_ms);
  std::string k = accessor + "/" + record_id;
  if (recorded_.count(k)) return false;
  size_t& n = per_key_[accessor];
  if (n >= per_key_limit_) return false;
  n++;
  recorded_.insert(k);
  // Callers pass a clock that does not go backwards by much; an entry out of
  // order only expires a little late.
  order_.emplace_back(now_ms, std::move(k));
  return true;
}

}  // namespace medledger::custodian
