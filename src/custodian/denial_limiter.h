// How many denied reads of one registered key reach the chain. Every read is
// decided and answered, but an access.event per denial would let any
// registered key write to the chain as fast as it can send requests (one
// $everything by a stranger once added 72 transactions). So a key's denials
// go on chain at most once per record per window, and at most
// `per_key_limit` times per window in all; the rest are counted and logged
// locally (api/auth.h's security log), never dropped silently.
//
// Thread safety: Admit may be called from any thread.
#pragma once

#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <unordered_map>
#include <unordered_set>

namespace medledger::custodian {

class DenialLimiter {
 public:
  explicit DenialLimiter(int64_t window_ms = 10 * 60 * 1000, size_t per_key_limit = 20)
      : window_ms_(window_ms), per_key_limit_(per_key_limit) {}

  // True when this denial of `accessor` reading `record_id` at now_ms is to
  // be recorded on chain; false when it is suppressed (already recorded for
  // this record within the window, or the key is over its limit).
  bool Admit(const std::string& accessor, const std::string& record_id, int64_t now_ms);

 private:
  void Expire(int64_t now_ms);
  int64_t window_ms_;
  size_t per_key_limit_;
  std::mutex mu_;
  std::unordered_set<std::string> recorded_;          // accessor "/" record_id, within the window
  std::unordered_map<std::string, size_t> per_key_;   // accessor -> recorded within the window
  std::deque<std::pair<int64_t, std::string>> order_;  // (when, accessor "/" record_id), ascending
};

}  // namespace medledger::custodian
