// EtcdOrderer: whole blocks ordered through an etcd cluster that the
// organisations' nodes share. etcd orders bytes and never sees state: every
// node validates and applies every block itself (Chain::ApplyBlock), and a
// transaction is acknowledged only once etcd has ordered its block.
//
// The design (keys in etcd, proposing and turns, catch-up from etcd and from
// peers, checkpoints and pruning, agreement, answering at the head, halting
// instead of forking, moving from solo) is in docs/ARCHITECTURE.md, "Network
// (etcd ordering)". What a caller of this class needs from it:
//   - Start runs three threads: the proposer (mempool -> Chain::BuildBlock ->
//     a create-if-absent put of the block's key), the apply thread (Range,
//     then Watch; blocks applied strictly in height order) and the agreement
//     thread (signed root reports, checkpoints, pruning).
//   - A block that does not check out, or an etcd block that differs from one
//     this node committed, halts the node: halted(), and `halted` and
//     `halt_reason` in StatusJson. It never skips a block or forks.
//   - AwaitHead answers once this node has applied every block etcd held when
//     it was called (head_barrier.h), or Unavailable: etcd cannot be read, the
//     bound passed, or the node halted.
//
// Thread safety: Start/Stop from one thread; StatusJson, Metrics and
// AwaitHead from any thread.
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

#include "node/checkpoint.h"
#include "node/head_barrier.h"
#include "node/orderer.h"
#include "node/peer_sync.h"

namespace medledger::etcd {
class EtcdClient;
}

namespace medledger::node {

struct EtcdOrdererOptions {
  std::vector<std::string> endpoints;  // "host:port"
  uint32_t max_txs_per_block = 5000;
  uint32_t block_interval_ms = 20;
  // After winning a height, how long a node holds back before racing for
  // the next one, unless another node claims it first. Without it the node
  // that just won (it applies its own block at once, the others must first
  // validate it) wins nearly every height under load, and the others'
  // transactions wait until it runs dry. 0 turns it off.
  uint32_t yield_after_win_ms = 50;
  // Turns: height h belongs first to the active node key at h mod N (ids
  // sorted); another node proposes for it only after waiting this long for
  // the owner. A lost race is not free: etcd replicates a transaction's
  // whole request, block included, through Raft before its compare fails,
  // and under load two of three proposals were losing. 0 turns it off.
  uint32_t turn_wait_ms = 30;
  // Cap on an encoded block; 0: what etcd accepts for the key (its request
  // limit less the request's own overhead).
  size_t max_block_bytes = 0;
  // etcd's --max-request-bytes, which EtcdClient needs to know.
  int64_t etcd_max_request_bytes = 1572864;
  uint32_t root_report_interval_ms = 1000;
  // Sign a checkpoint report at every multiple of this height; 0: never (the
  // node then adds nothing to anyone's checkpoints).
  uint64_t checkpoint_interval = 1000;
  // Opt-in pruning of etcd: keep this many blocks below the latest majority
  // checkpoint, delete the rest; 0: never delete.
  uint64_t keep_blocks = 0;
};

// "etcd://h1:p1,h2:p2" -> {"h1:p1", "h2:p2"}; kInvalidArgument if malformed.
Result<std::vector<std::string>> ParseEtcdOrdererUrl(const std::string& url);

// The key of block `height` on chain `chain_id`.
std::string EtcdBlockKey(const std::string& chain_id, uint64_t height);

// The greatest block height etcd holds above `local` (one linearizable,
// keys-only read), or `local` when there is none: the head that AwaitHead
// waits for. Errors are the client's (kUnavailable without a quorum).
Result<uint64_t> ReadEtcdHead(etcd::EtcdClient& etcd, const std::string& chain_id, uint64_t local);

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
  void AwaitHead(std::function<void(Status)> done, std::chrono::milliseconds bound) override;

  bool halted() const { return halted_; }

  // Where blocks no longer in etcd are fetched from; without one, a node
  // whose next blocks were pruned halts. Call before Start.
  void SetPeerBlockSource(std::unique_ptr<PeerBlockSource> source) { peer_source_ = std::move(source); }

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
  // The same, giving up after `ms`.
  bool WaitForHeightFor(uint64_t height, uint32_t ms);
  // True when `height` is this node's turn, or turns are off or moot.
  bool MyTurn(uint64_t height);
  void CheckPeers(const std::vector<RootReport>& reports);
  std::string Prefix(const char* what) const;
  // Applies one block (from etcd or a peer, `from` says which for the logs),
  // retrying local failures; DataLoss halts.
  Status ApplyChecked(const model::Block& block, const std::string& from);
  // Blocks next..first_in_etcd-1 are not in etcd: fetch them from peers up
  // to a majority checkpoint and apply them (see the top of this file).
  Status CatchUpFromPeers(uint64_t next, uint64_t first_in_etcd);
  // The lowest (or highest) majority checkpoint at or above min_height that
  // verifies against this node's state; nullopt if none.
  Result<std::optional<Checkpoint>> FindCheckpoint(etcd::EtcdClient& etcd, uint64_t min_height, bool lowest);
  void SignCheckpoints(uint64_t height);
  // PutIfAbsent of a proposed block, guarded by the pruning floor.
  Result<int64_t> PutBlock(uint64_t height, const std::string& key, const Bytes& enc);
  std::string PrunedBelowKey() const;
  void Prune();

  Chain* chain_;
  Mempool* pool_;
  crypto::KeyPair key_;
  EtcdOrdererOptions opts_;
  std::string chain_id_;
  std::unique_ptr<etcd::EtcdClient> etcd_;
  std::unique_ptr<etcd::EtcdClient> watch_etcd_;
  std::unique_ptr<etcd::EtcdClient> roots_etcd_;
  std::unique_ptr<etcd::EtcdClient> head_etcd_;  // the barrier's reads only: never queued behind a block
  std::unique_ptr<HeadBarrier> barrier_;

  std::atomic<bool> stop_{false};
  std::atomic<bool> halted_{false};
  std::thread propose_thread_, apply_thread_, agreement_thread_;
  // Active node ids for turns (proposer thread only). Refreshed every few
  // seconds: a stale list costs fairness for a moment, never safety.
  std::vector<std::string> turn_nodes_;
  std::chrono::steady_clock::time_point turn_refreshed_{};

  std::mutex applied_mu_;
  std::condition_variable applied_cv_;

  mutable std::mutex status_mu_;
  std::string halt_reason_;
  std::string etcd_error_;  // last etcd error seen, cleared on success
  std::map<std::string, PeerView> peers_;
  std::string catchup_error_;      // why the last catch-up from peers failed; cleared on success
  std::string last_peer_failure_;  // the last peer that failed a fetch, and why

  std::unique_ptr<PeerBlockSource> peer_source_;
  uint64_t last_signed_checkpoint_ = 0;  // agreement thread only
  uint64_t floor_height_ = 0;            // proposer thread only: the pruning floor
  int64_t floor_mod_ = -1;               // its etcd mod revision; -1: read it again
  std::atomic<uint64_t> latest_checkpoint_{0}, pruned_below_{0};
  std::atomic<uint64_t> blocks_from_peers_{0}, peer_failures_{0}, checkpoint_reports_{0};

  std::atomic<uint64_t> proposed_{0}, won_{0}, lost_{0}, requeued_{0}, applied_{0};
  std::atomic<size_t> max_block_bytes_{0};
  std::atomic<uint64_t> etcd_errors_{0}, divergences_{0}, split_blocks_{0};
};

}  // namespace medledger::node
