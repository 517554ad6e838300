// EtcdOrderer: whole blocks ordered through an etcd cluster (issue 4).
//
// etcd is the ordering service only; it never sees state. Keys:
//   /medledger/<chain_id>/blocks/<height, 20 digits>   an encoded block
//   /medledger/<chain_id>/roots/<node public id>       a signed root report
//
// Proposing. The proposer thread takes pending transactions from the
// mempool, builds the next block on the local head (Chain::BuildBlock: it
// executes and signs, but commits nothing) and creates the block's key with
// PutIfAbsent. The first node to create a height wins it; etcd's Raft log
// makes that choice linearizable, so every node sees the same winner.
// Whatever the outcome, the proposer then waits until the apply thread has
// applied that height, and returns to the mempool (Requeue) the transactions
// of its own candidate that the winning block did not include; included ones
// were resolved by the chain's commit listener (Mempool::OnBlockCommitted).
// An etcd outage makes PutIfAbsent return kUnavailable; since it is
// idempotent the proposer retries the same bytes until the answer is known,
// so a transaction is acknowledged (committed locally) only after etcd
// ordered its block.
//
// Applying. The apply thread reads the blocks after the local head with
// Range (catch-up, paged, at one revision) and then follows them with Watch
// from the next revision; it applies them strictly in height order with
// Chain::ApplyBlock, which re-validates everything (linkage, proposer,
// signatures, re-execution, state root). A block that does not check out
// (DataLoss), a missing height, or an etcd block that differs from the one
// this node already committed at that height halts the node: it stops
// applying and proposing, logs an error, and reports `halted` and
// `halt_reason` in StatusJson. It never skips a block or forks.
//
// Size: a candidate block is cut so that its encoding stays below the etcd
// request limit (EtcdClient::MaxValueBytes); the rest goes back to the
// mempool for the next block.
//
// Agreement. The agreement thread periodically writes this node's signed
// report (height, state_root, block_hash) under roots/<node id> and reads
// everyone's. A peer's report for height h is checked against this node's
// own block h: same block hash and same state root, or it diverges (error
// log, `divergent_peers` in StatusJson). Peers ahead of this node are
// checked once it reaches their height.
//
// Moving from solo: the first etcd block is simply the local height + 1;
// nodes that share the genesis and the solo history continue from there.
//
// Thread safety: Start/Stop from one thread; StatusJson from any thread.
#pragma once

#include <atomic>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "node/orderer.h"

namespace medledger::ordering {
class EtcdClient;
}

namespace medledger::node {

struct EtcdOrdererOptions {
  std::vector<std::string> endpoints;  // "host:port"
  uint32_t max_txs_per_block = 5000;
  uint32_t block_interval_ms = 20;
  // Cap on an encoded block; 0: what etcd accepts for the key (its request
  // limit less the request's own overhead).
  size_t max_block_bytes = 0;
  // etcd's --max-request-bytes, which EtcdClient needs to know.
  int64_t etcd_max_request_bytes = 1572864;
  uint32_t root_report_interval_ms = 1000;
};

// "etcd://h1:p1,h2:p2" -> {"h1:p1", "h2:p2"}; kInvalidArgument if malformed.
Result<std::vector<std::string>> ParseEtcdOrdererUrl(const std::string& url);

// The key of block `height` on chain `chain_id`.
std::string EtcdBlockKey(const std::string& chain_id, uint64_t height);

// A node's signed statement about its head, as published under roots/.
struct RootReport {
  std::string node_id;  // public id of the node key that signed it
  uint64_t height = 0;
  Hash32 state_root{};
  Hash32 block_hash{};
  uint64_t time_ms = 0;
  crypto::Signature sig{};

  Bytes SigningBytes(const std::string& chain_id) const;
  std::string ToJson() const;
  static Result<RootReport> FromJson(std::string_view text);
};

class EtcdOrderer : public Orderer {
 public:
  EtcdOrderer(Chain* chain, Mempool* pool, crypto::KeyPair key, EtcdOrdererOptions opts);
  ~EtcdOrderer() override;
  const char* name() const override { return "etcd"; }
  // Connects (checks that some endpoint answers within the client's
  // timeout: kUnavailable otherwise) and starts the threads.
  Status Start() override;
  void Stop() override;
  nlohmann::json StatusJson() const override;
  std::vector<Metric> Metrics() const override;

  bool halted() const { return halted_; }

 private:
  struct PeerView {
    RootReport report;
    std::optional<bool> agrees;  // unset: not checked yet (peer ahead of us)
    uint64_t checked_height = 0;
  };

  void ProposeLoop();
  void ApplyLoop();
  void AgreementLoop();
  // Catch-up: applies every block in etcd above the local head. Returns the
  // revision read at, for the watch to continue from.
  Result<int64_t> CatchUp();
  // Handles block `height` read from etcd. OK: applied, or already had it.
  Status HandleBlock(uint64_t height, const Bytes& value);
  void Halt(const std::string& why);
  void NotifyApplied();
  // Waits until the local height reaches `height`, the node halts, or stop.
  bool WaitForHeight(uint64_t height);
  void CheckPeers(const std::vector<RootReport>& reports);
  std::string Prefix(const char* what) const;

  Chain* chain_;
  Mempool* pool_;
  crypto::KeyPair key_;
  EtcdOrdererOptions opts_;
  std::string chain_id_;
  std::unique_ptr<ordering::EtcdClient> etcd_;
  std::unique_ptr<ordering::EtcdClient> watch_etcd_;
  std::unique_ptr<ordering::EtcdClient> roots_etcd_;

  std::atomic<bool> stop_{false};
  std::atomic<bool> halted_{false};
  std::thread propose_thread_, apply_thread_, agreement_thread_;

  std::mutex applied_mu_;
  std::condition_variable applied_cv_;

  mutable std::mutex status_mu_;
  std::string halt_reason_;
  std::string etcd_error_;  // last etcd error seen, cleared on success
  std::map<std::string, PeerView> peers_;

  std::atomic<uint64_t> proposed_{0}, won_{0}, lost_{0}, requeued_{0}, applied_{0};
  std::atomic<size_t> max_block_bytes_{0};
  std::atomic<uint64_t> etcd_errors_{0}, divergences_{0}, split_blocks_{0};
};

}  // namespace medledger::node
