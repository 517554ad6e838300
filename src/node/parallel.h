// Signature checking spread over worker threads. Ed25519 verification is
// about 90% of a transaction's cost (LIMITS.md), so every path that verifies
// many signatures (admission of a batch, blocks from other nodes, the
// offline audit) goes through here.
#pragma once

#include <functional>
#include <vector>

#include "model/transaction.h"

namespace medledger::node {

// Runs fn(i) for i in [0, n) on `threads` threads (the caller's included).
void ParallelFor(size_t n, int threads, const std::function<void(size_t)>& fn);

// sig_ok[i] = txs[i] has a valid signature.
std::vector<uint8_t> VerifySignatures(const std::vector<model::Transaction>& txs, int threads);

int DefaultThreads();  // hardware concurrency, at least 1

}  // namespace medledger::node
