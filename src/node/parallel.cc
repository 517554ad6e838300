#include "node/parallel.h"

#include <atomic>
#include <thread>

namespace medledger::node {

int DefaultThreads() {
  unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : int(n);
}

void ParallelFor(size_t n, int threads, const std::function<void(size_t)>& fn) {
  if (threads <= 1 || n < 64) {
    for (size_t i = 0; i < n; ++i) fn(i);
    return;
  }
  std::atomic<size_t> next{0};
  auto work = [&] {
    constexpr size_t kChunk = 32;
    for (;;) {
      size_t start = next.fetch_add(kChunk);
      if (start >= n) return;
      size_t end = std::min(n, start + kChunk);
      for (size_t i = start; i < end; ++i) fn(i);
    }
  };
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t) pool.emplace_back(work);
  work();
  for (auto& t : pool) t.join();
}

std::vector<uint8_t> VerifySignatures(const std::vector<model::Transaction>& txs, int threads) {
  std::vector<uint8_t> ok(txs.size());
  ParallelFor(txs.size(), threads, [&](size_t i) { ok[i] = txs[i].VerifySignature(); });
  return ok;
}

}  // namespace medledger::node
