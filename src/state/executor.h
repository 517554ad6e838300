// The transaction engine: checks every transaction against the rules that
// do not depend on its type (chain id, signature, expiry, replay, signer
// status, role), hands it to the module that owns its type, and collects the
// block's verdicts, write set and state root. Deterministic and free of I/O:
// two nodes that execute the same block on the same state get the same
// verdicts and the same root.
#pragma once

#include <cstring>
#include <memory>
#include <shared_mutex>
#include <unordered_map>
#include <vector>

#include "model/block.h"
#include "state/module.h"
#include "state/replay_guard.h"
#include "state/state_root.h"

namespace medledger::state {

struct BlockExecution {
  std::vector<model::Verdict> verdicts;
  WriteSet writes;  // sorted by key
  Hash32 state_root{};
};

struct KeyHasher {
  size_t operator()(const crypto::PublicKey& k) const {
    size_t v;
    std::memcpy(&v, k.data(), sizeof v);
    return v;
  }
};

class Executor;

// Decoded chain parameters and signer records for admission checks, shared
// by the threads that admit transactions against one committed state.
// Admission checks every incoming transaction, and decoding the parameters
// and the signer's identity and organisation records each time cost more
// than the rest of the check. The owner calls Reset() after committing a
// block that writes identity, organisation or parameter state; a record
// read before a reset is never kept after it (epoch check), so an entry is
// always what the latest committed state says. Thread-safe.
class AdmissionCache {
 public:
  void Reset();

 private:
  friend class Executor;
  using Signer = std::pair<std::optional<IdentityRecord>, bool /*org active*/>;
  std::shared_ptr<const Result<ChainParams>> Params(const StateReader& base);
  Signer Lookup(const StateReader& base, const crypto::PublicKey& pk);

  static constexpr size_t kMaxSigners = 100000;
  std::shared_mutex mu_;
  uint64_t epoch_ = 0;
  std::shared_ptr<const Result<ChainParams>> params_;
  std::unordered_map<crypto::PublicKey, Signer, KeyHasher> signers_;
};

class Executor {
 public:
  explicit Executor(std::vector<std::unique_ptr<Module>> modules);
  // Identity + anchor modules: the ledger core alone.
  static std::unique_ptr<Executor> Core();
  void AddModule(std::unique_ptr<Module> m) { modules_.push_back(std::move(m)); }
  // Every module's PointKeyPrefixes.
  std::vector<std::string> PointKeyPrefixes() const {
    std::vector<std::string> out;
    for (const auto& m : modules_)
      for (auto& p : m->PointKeyPrefixes()) out.push_back(std::move(p));
    return out;
  }

  // Executes `txs` as block `height`. sig_ok[i] says whether tx i's signature
  // was verified (callers verify in parallel before the sequential part).
  BlockExecution Execute(const StateReader& base, const Hash32& prev_state_root, uint64_t height,
                         uint64_t timestamp_ms, const std::vector<model::Transaction>& txs,
                         const std::vector<Hash32>& ids, const std::vector<uint8_t>& sig_ok,
                         const ReplayGuard& replay) const;

  // Signer records decoded once and kept until a transaction writes
  // identity, organisation or parameter state.
  struct SignerCache {
    std::unordered_map<crypto::PublicKey, std::pair<std::optional<IdentityRecord>, bool /*org active*/>, KeyHasher> map;
  };
  // Execute with signer records carried from block to block in `signers`
  // (a chain with many signers otherwise decodes nearly every signer's
  // records again in every block). Only for a caller that applies each
  // executed block's writes to `base` before the next call and stops at the
  // first block it refuses, as the offline audit does: then the cache always
  // matches `base`.
  BlockExecution Execute(const StateReader& base, const Hash32& prev_state_root, uint64_t height,
                         uint64_t timestamp_ms, const std::vector<model::Transaction>& txs,
                         const std::vector<Hash32>& ids, const std::vector<uint8_t>& sig_ok,
                         const ReplayGuard& replay, SignerCache& signers) const;

  // Admission check of one transaction against committed state, as if it
  // were included in block `height`: the same rules, nothing written.
  // The signature is assumed checked by the caller.
  model::Verdict Check(const StateReader& base, uint64_t height, uint64_t timestamp_ms,
                       const model::Transaction& tx, const Hash32& id, const ReplayGuard& replay) const;
  // The same, with parameters and signer records from `cache`.
  model::Verdict Check(const StateReader& base, uint64_t height, uint64_t timestamp_ms,
                       const model::Transaction& tx, const Hash32& id, const ReplayGuard& replay,
                       AdmissionCache& cache) const;

 private:
  model::Verdict ApplyOne(Overlay& block_state, const ChainParams& params, uint64_t height,
                          uint64_t timestamp_ms, const model::Transaction& tx, const Hash32& id,
                          bool sig_ok, bool in_block_dup, SignerCache& cache, bool admission = false) const;
  Module* FindModule(uint16_t type) const;
  std::vector<std::unique_ptr<Module>> modules_;
};

Result<ChainParams> LoadParams(const StateReader& st);

}  // namespace medledger::state
