// Signature checking spread over worker threads. Ed25519 verification is
// about 90% of a transaction's cost (measured on the 2-vCPU build machine:
// ~45 of ~50 µs per transaction on one core), so every path that verifies
// many signatures (admission of a batch, blocks from other nodes, the
// offline audit) goes through here.
#pragma once

#include <functional>
#include <vector>

#include "model/transaction.h"

namespace medledger::node {

// Runs fn(i) for i in [0, n) on `threads` threads (the caller's included),
// which take `grain` consecutive indices at a time; on the calling thread
// alone when there are fewer than two grains.
void ParallelFor(size_t n, int threads, const std::function<void(size_t)>& fn, size_t grain = 32);

// sig_ok[i] = txs[i] has a valid signature (crypto::VerifyMany, batches of
// 64 spread over the threads).
std::vector<uint8_t> VerifySignatures(const std::vector<model::Transaction>& txs, int threads);

int DefaultThreads();  // hardware concurrency, at least 1

}  // namespace medledger::node
