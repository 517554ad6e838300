// A node's chain: the durable store, the state machine, and the one place
// where blocks are made or accepted and committed.
//
// Thread safety: reads (Meta, state(), FindTx, GetBlock) are safe from any
// thread at any time. ProduceBlock and ApplyBlock must be called from one
// thread at a time (the orderer's); they serialise on an internal mutex
// anyway. Commit listeners run on that thread, after the block is durable.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <unordered_map>

#include "crypto/ed25519.h"
#include "ledger/store.h"
#include "model/block.h"
#include "state/executor.h"
#include "state/genesis.h"

namespace medledger::node {

// The world state as committed in the store, with a read cache in front.
// Identity, organisation and parameter records are read by nearly every
// transaction, twice (admission and execution); the cache keeps those reads
// off RocksDB's memtable. Coherence: the committer calls Invalidate() with
// the keys of each block after the block is durable; a read that started
// before an invalidation does not fill the cache (epoch check), so a stale
// value can never be cached after its key was rewritten.
class StoreState : public state::StateReader {
 public:
  explicit StoreState(const ledger::Store* store) : store_(store) {}
  std::optional<Bytes> Get(std::string_view key) const override;
  void Scan(std::string_view prefix,
            const std::function<bool(std::string_view, const Bytes&)>& fn) const override;
  void Invalidate(const state::WriteSet& writes);

 private:
  const ledger::Store* store_;
  mutable std::shared_mutex mu_;  // readers share it: hits must not serialise admission threads
  mutable std::unordered_map<std::string, std::optional<Bytes>> cache_;
  uint64_t epoch_ = 0;
};

struct CommittedBlock {
  const model::Block& block;
  Hash32 hash;
  const std::vector<Hash32>& ids;
};

struct ChainOptions {
  bool sync = true;               // fsync every block commit
  int verify_threads = 0;         // 0: all cores
  // Tests only (a fault-injecting file system under the store); null in the node.
  std::shared_ptr<ledger::StoreTestHooks> store_testing;
};

class Chain {
 public:
  // Creates a new chain in data_dir/ledger from a genesis document.
  // FailedPrecondition if one already exists there.
  static Status Init(const std::string& data_dir, const nlohmann::json& genesis_doc);
  static Result<std::unique_ptr<Chain>> Open(const std::string& data_dir, ChainOptions opts);

  const state::ChainParams& params() const { return genesis_.params; }
  const state::Genesis& genesis() const { return genesis_; }
  ledger::ChainMeta Meta() const;
  const state::StateReader& state() const { return *state_; }
  const state::Executor& executor() const { return *executor_; }
  const state::ReplayGuard& replay() const { return *replay_; }
  ledger::Store& store() { return *store_; }
  const ledger::Store& store() const { return *store_; }

  // Admission check for one transaction whose signature the caller verified.
  // kUnavailable when the state could not be read: a failure of this node,
  // never a verdict on the transaction.
  Result<model::Verdict> Check(const model::Transaction& tx, const Hash32& id) const;

  // Executes `txs` (signatures already verified) as the next block, signs it
  // with `proposer`, commits it durably and returns it.
  Result<model::Block> ProduceBlock(const std::vector<model::Transaction>& txs,
                                    const std::vector<Hash32>& ids,
                                    const crypto::KeyPair& proposer, uint64_t timestamp_ms);

  // Builds the next block without committing it (for orderers that must
  // agree on a block before anyone commits it).
  Result<model::Block> BuildBlock(const std::vector<model::Transaction>& txs,
                                  const std::vector<Hash32>& ids,
                                  const crypto::KeyPair& proposer, uint64_t timestamp_ms);

  // Validates a block made elsewhere (height, linkage, proposer, signatures,
  // roots, re-executed verdicts) and commits it. DataLoss naming what is
  // wrong if it does not check out; nothing is written then. The block that
  // the last BuildBlock made, byte for byte (same hash) and on the same head,
  // is committed from that build's results without re-validation: this node
  // made those checks itself moments ago on the same state.
  Status ApplyBlock(const model::Block& block);

  void AddCommitListener(std::function<void(const CommittedBlock&)> fn);

 private:
  Chain() = default;
  Result<std::pair<model::Block, state::WriteSet>> Build(const std::vector<model::Transaction>& txs,
                                                         const std::vector<Hash32>& ids,
                                                         const crypto::KeyPair& proposer,
                                                         uint64_t timestamp_ms);
  Status Commit(const model::Block& block, const std::vector<Hash32>& ids, state::WriteSet writes);
  Status LoadReplayWindow();

  // The last block BuildBlock made, kept so that ApplyBlock can commit it
  // without verifying and executing it a second time when the orderer hands
  // back exactly that block (this node won the height) on exactly the state
  // it was built on. Guarded by commit_mu_.
  struct Built {
    Hash32 hash{};     // of the header
    Hash32 digest{};   // SHA-256 of the whole encoding: signatures included
    uint64_t height = 0;
    Hash32 prev_hash{};
    std::vector<Hash32> ids;
    state::WriteSet writes;
  };
  std::optional<Built> built_;

  ChainOptions opts_;
  std::unique_ptr<ledger::Store> store_;
  std::unique_ptr<StoreState> state_;
  state::Genesis genesis_;
  std::unique_ptr<state::Executor> executor_;
  std::unique_ptr<state::ReplayGuard> replay_;
  mutable state::AdmissionCache admission_;
  mutable std::mutex meta_mu_;
  ledger::ChainMeta meta_;
  std::mutex commit_mu_;
  std::vector<std::function<void(const CommittedBlock&)>> listeners_;
};

// Verifies everything about `block` that does not need state: format,
// linkage to `prev` (hash, height), Merkle root, results root, proposer
// signature. Returns a message naming the first problem.
std::optional<std::string> CheckBlockStateless(const model::Block& block, const Hash32& prev_hash,
                                               uint64_t expected_height);

}  // namespace medledger::node
