// The offline full audit behind `medledger verify`: replays the chain from
// the genesis document and re-checks every block hash and linkage, Merkle
// root, results root, proposer signature, transaction signature, replay and
// expiry rule, state transition and state root, the transaction index, and
// finally that the stored state equals the replayed one. The first problem
// is reported with the block it was found in.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "common/status.h"

namespace medledger::node {

struct AuditReport {
  bool ok = true;
  std::optional<uint64_t> bad_block;  // the first block found wrong
  std::string problem;                // what is wrong, in one line
  uint64_t height = 0;                // blocks checked: 0..height
  uint64_t txs = 0;
  uint64_t valid_txs = 0;
  double seconds = 0;
};

struct AuditOptions {
  int threads = 0;  // 0: all cores
  std::function<void(uint64_t height)> progress;
};

// Errors (the store cannot be opened, e.g. a node is running on it) come
// back as a Status; findings come back in the report.
Result<AuditReport> AuditChain(const std::string& data_dir, AuditOptions opts);

}  // namespace medledger::node
