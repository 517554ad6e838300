#include "node/parallel.h"

#include <algorithm>
#include <atomic>
#include <thread>


namespace medledger::node {

int DefaultThreads() {
  unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : int(n);
}

void ParallelFor(size_t n, int threads, const std::function<void(size_t)>& fn, size_t grain) {
  if (threads <= 1 || n < 2 * grain) {
    for (size_t i = 0; i < n; ++i) fn(i);
    return;
  }
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (;;) {
      size_t start = next.fetch_add(grain);
      if (start >= n) return;
      size_t end = std::min(n, start + grain);
      for (size_t i = start; i < end; ++i) fn(i);
    }
  };
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t) pool.emplace_back(work);
  work();
  for (auto& t : pool) t.join();
}

std::vector<uint8_t> VerifySignatures(const std::vector<model::Transaction>& txs, int threads) {
  constexpr size_t kBatch = 64;
  std::vector<uint8_t> ok(txs.size());
  ParallelFor(
      (txs.size() + kBatch - 1) / kBatch, threads,
      [&](size_t c) {
        const size_t from = c * kBatch, to = std::min(txs.size(), from + kBatch);
        std::vector<Bytes> signing;
        model::VerifyTxSignatures(std::span(txs).subspan(from, to - from), &signing, ok.data() + from);
      },
      /*grain=*/1);
  return ok;
}

}  // namespace medledger::node
