#include "node/etcd_orderer.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <set>

#include "etcd/etcd_client.h"
#include "node/checkpoint.h"
#include "state/identity_record.h"

namespace medledger::node {

namespace {

using etcd::EtcdClient;

// Encoded block = header (~190 B) + signature (64) + per tx: the tx and its
// verdict (u8 reason + var detail of at most kMaxVerdictDetail bytes).
constexpr size_t kBlockOverhead = 512;
constexpr size_t kVerdictOverhead = 1 + 3 + model::kMaxVerdictDetail;

size_t TxBudgetBytes(const model::Transaction& tx) {
  // Fixed fields (version, signer, nonce, expiry, type, signature, length
  // prefixes) are well under 160 bytes.
  return 160 + tx.chain_id.size() + tx.payload.size() + kVerdictOverhead;
}

std::optional<uint64_t> ParseHeightSuffix(std::string_view key, std::string_view prefix) {
  if (key.size() <= prefix.size() || key.substr(0, prefix.size()) != prefix) return std::nullopt;
  std::string_view digits = key.substr(prefix.size());
  uint64_t h = 0;
  auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), h);
  if (ec != std::errc() || p != digits.data() + digits.size()) return std::nullopt;
  return h;
}

void SleepMs(int ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); }

// Budget of one head read (all endpoints, retries included). A head learned
// later than a caller's bound (2 s by default) helps nobody, and a shorter
// budget lets the next read, which serves the callers that queued meanwhile,
// go out sooner during an outage.
constexpr auto kHeadReadTimeout = std::chrono::milliseconds(1500);

}  // namespace

Result<std::vector<std::string>> ParseEtcdOrdererUrl(const std::string& url) {
  constexpr std::string_view kScheme = "etcd://";
  if (url.rfind(kScheme, 0) != 0) return InvalidArgument("orderer must be solo or etcd://HOST:PORT,...");
  std::vector<std::string> out;
  std::string rest = url.substr(kScheme.size());
  size_t start = 0;
  while (start <= rest.size()) {
    size_t comma = rest.find(',', start);
    std::string ep = rest.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (!ep.empty()) {
      size_t colon = ep.rfind(':');
      if (colon == std::string::npos || colon == 0 || colon + 1 == ep.size())
        return InvalidArgument("etcd endpoint '" + ep + "' is not HOST:PORT");
      int port = 0;
      auto [p, ec] = std::from_chars(ep.data() + colon + 1, ep.data() + ep.size(), port);
      if (ec != std::errc() || p != ep.data() + ep.size() || port <= 0 || port > 65535)
        return InvalidArgument("etcd endpoint '" + ep + "' has a bad port");
      out.push_back(ep);
    }
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  if (out.empty()) return InvalidArgument("etcd:// needs at least one HOST:PORT");
  return out;
}

std::string EtcdBlockKey(const std::string& chain_id, uint64_t height) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%020llu", static_cast<unsigned long long>(height));
  return "/medledger/" + chain_id + "/blocks/" + buf;
}

Result<uint64_t> ReadEtcdHead(EtcdClient& etcd, const std::string& chain_id, uint64_t local) {
  const std::string prefix = "/medledger/" + chain_id + "/blocks/";
  auto last = etcd.LastKey(EtcdBlockKey(chain_id, local + 1), EtcdClient::PrefixEnd(prefix));
  if (!last.ok()) return last.status();
  if (!*last) return local;  // nothing ordered above what this node has
  auto h = ParseHeightSuffix(**last, prefix);
  if (!h) return DataLoss("unexpected etcd key " + **last);
  return *h;
}

EtcdOrderer::EtcdOrderer(Chain* chain, Mempool* pool, crypto::KeyPair key, EtcdOrdererOptions opts)
    : chain_(chain), pool_(pool), key_(std::move(key)), opts_(std::move(opts)) {
  chain_id_ = chain_->params().chain_id;
  auto make = [&] {
    EtcdClient::Options o;
    o.endpoints = opts_.endpoints;
    o.timeout = std::chrono::milliseconds(5000);
    o.max_request_bytes = opts_.etcd_max_request_bytes;
    // Keep watching through a long outage: the loop re-establishes it anyway.
    o.watch_reconnect_budget = std::chrono::milliseconds(10000);
    return std::make_unique<EtcdClient>(o);
  };
  etcd_ = make();
  watch_etcd_ = make();
  roots_etcd_ = make();
  {
    EtcdClient::Options o;
    o.endpoints = opts_.endpoints;
    o.timeout = kHeadReadTimeout;
    o.attempt_timeout = kHeadReadTimeout / 2;
    o.max_request_bytes = opts_.etcd_max_request_bytes;
    head_etcd_ = std::make_unique<EtcdClient>(o);
  }
  barrier_ = std::make_unique<HeadBarrier>(
      [this](uint64_t local) { return ReadEtcdHead(*head_etcd_, chain_id_, local); },
      [this] { return chain_->Meta().height; });
  size_t etcd_max = etcd_->MaxValueBytes(EtcdBlockKey(chain_id_, 0));
  if (opts_.max_block_bytes == 0 || opts_.max_block_bytes > etcd_max) opts_.max_block_bytes = etcd_max;
  max_block_bytes_ = opts_.max_block_bytes;
}

EtcdOrderer::~EtcdOrderer() { Stop(); }

std::string EtcdOrderer::Prefix(const char* what) const {
  return "/medledger/" + chain_id_ + "/" + what + "/";
}

std::string EtcdOrderer::PrunedBelowKey() const { return "/medledger/" + chain_id_ + "/pruned_below"; }

Status EtcdOrderer::Start() {
  // One answer from the cluster before serving, so a wrong --orderer fails
  // at start rather than silently never committing.
  auto rev = etcd_->CurrentRevision();
  if (!rev.ok())
    return Unavailable("etcd orderer: no etcd endpoint answered (" + rev.status().message() + ")");
  spdlog::info("etcd orderer: chain {} at height {}, etcd revision {}, block cap {} bytes", chain_id_,
               chain_->Meta().height, *rev, size_t(max_block_bytes_));
  barrier_->Start();
  apply_thread_ = std::thread([this] { ApplyLoop(); });
  propose_thread_ = std::thread([this] { ProposeLoop(); });
  agreement_thread_ = std::thread([this] { AgreementLoop(); });
  return Status::Ok();
}

void EtcdOrderer::Stop() {
  stop_ = true;
  barrier_->Stop();
  NotifyApplied();
  if (propose_thread_.joinable()) propose_thread_.join();
  if (apply_thread_.joinable()) apply_thread_.join();
  if (agreement_thread_.joinable()) agreement_thread_.join();
}

void EtcdOrderer::NotifyApplied() {
  { std::lock_guard lock(applied_mu_); }
  applied_cv_.notify_all();
}

bool EtcdOrderer::WaitForHeight(uint64_t height) {
  std::unique_lock lock(applied_mu_);
  while (!stop_ && !halted_ && chain_->Meta().height < height)
    applied_cv_.wait_for(lock, std::chrono::milliseconds(100));
  return chain_->Meta().height >= height;
}

bool EtcdOrderer::WaitForHeightFor(uint64_t height, uint32_t ms) {
  auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
  std::unique_lock lock(applied_mu_);
  while (!stop_ && !halted_ && chain_->Meta().height < height && std::chrono::steady_clock::now() < until)
    applied_cv_.wait_until(lock, std::min(until, std::chrono::steady_clock::now() + std::chrono::milliseconds(100)));
  return chain_->Meta().height >= height;
}

bool EtcdOrderer::MyTurn(uint64_t height) {
  if (opts_.turn_wait_ms == 0) return true;
  auto now = std::chrono::steady_clock::now();
  if (turn_nodes_.empty() || now - turn_refreshed_ > std::chrono::seconds(5)) {
    try {
      turn_nodes_ = ActiveNodeIds(chain_->state());
    } catch (const std::exception&) {
      turn_nodes_.clear();
    }
    std::sort(turn_nodes_.begin(), turn_nodes_.end());
    turn_refreshed_ = now;
  }
  if (turn_nodes_.size() < 2) return true;
  return turn_nodes_[height % turn_nodes_.size()] == key_.id();
}

void EtcdOrderer::Halt(const std::string& why) {
  {
    std::lock_guard lock(status_mu_);
    if (halted_) return;
    halt_reason_ = why;
    halted_ = true;
  }
  spdlog::critical("HALTED: this node stopped applying and proposing blocks: {}. It will not fork; an "
                   "operator must investigate (GET /v1/status shows halt_reason).",
                   why);
  NotifyApplied();
  barrier_->Halt(why);
}

void EtcdOrderer::AwaitHead(std::function<void(Status)> done, std::chrono::milliseconds bound) {
  barrier_->Await(std::move(done), bound);
}

// ---- proposing ----

void EtcdOrderer::ProposeLoop() {
  std::vector<model::Transaction> txs, rest_txs;
  std::vector<Hash32> ids, rest_ids;
  while (!stop_) {
    if (halted_) {
      SleepMs(100);
      continue;
    }
    txs.clear();
    ids.clear();
    if (pool_->Take(opts_.max_txs_per_block, std::chrono::milliseconds(opts_.block_interval_ms), &txs, &ids) == 0)
      continue;

    // Cut the candidate to the etcd size budget; the rest waits for the next.
    rest_txs.clear();
    rest_ids.clear();
    size_t cap = max_block_bytes_;
    size_t budget = cap > kBlockOverhead ? cap - kBlockOverhead : 0;
    // A transaction that alone cannot fit in any block is rejected here.
    while (!txs.empty() && TxBudgetBytes(txs.front()) > budget) {
      pool_->Forget({ids.front()});
      pool_->RecordRejection(ids.front(), model::Verdict::No(model::Reject::kOversized,
                                                             "too large for one block under the etcd request limit"));
      spdlog::warn("transaction {} dropped: larger than the block size cap ({} bytes)", ToHex(ids.front()), cap);
      txs.erase(txs.begin());
      ids.erase(ids.begin());
    }
    size_t used = 0, keep = 0;
    for (; keep < txs.size(); ++keep) {
      size_t c = TxBudgetBytes(txs[keep]);
      if (used + c > budget) break;
      used += c;
    }
    if (keep < txs.size()) {
      split_blocks_++;
      rest_txs.assign(std::make_move_iterator(txs.begin() + keep), std::make_move_iterator(txs.end()));
      rest_ids.assign(ids.begin() + keep, ids.end());
      txs.resize(keep);
      ids.resize(keep);
      pool_->Requeue(std::move(rest_txs), std::move(rest_ids));
      rest_txs.clear();
      rest_ids.clear();
    }
    if (txs.empty()) continue;

    if (!MyTurn(chain_->Meta().height + 1) &&
        WaitForHeightFor(chain_->Meta().height + 1, opts_.turn_wait_ms)) {
      // The owner of the turn claimed it: build on top of its block instead.
      pool_->Requeue(std::move(txs), std::move(ids));
      continue;
    }
    auto block = chain_->BuildBlock(txs, ids, key_, NowMs());
    if (!block.ok()) {
      spdlog::error("etcd orderer: building a block failed: {}", block.status().ToString());
      pool_->Requeue(std::move(txs), std::move(ids));
      SleepMs(200);
      continue;
    }
    uint64_t height = block->header.height;
    Bytes enc = block->Encode();
    std::string key = EtcdBlockKey(chain_id_, height);
    proposed_++;
    bool won = false, decided = false;
    while (!stop_ && !halted_) {
      auto r = PutBlock(height, key, enc);
      if (r.ok()) {
        won = decided = true;
        break;
      }
      if (r.status().code() == StatusCode::kAborted) {
        decided = true;
        break;
      }
      etcd_errors_++;
      {
        std::lock_guard lock(status_mu_);
        etcd_error_ = r.status().ToString();
      }
      if (r.status().code() == StatusCode::kInvalidArgument) {
        // etcd refused the size (a lower server limit than configured):
        // halve the cap and give every transaction back.
        spdlog::error("etcd refused block {} of {} bytes: {}; halving the block cap", height, enc.size(),
                      r.status().message());
        max_block_bytes_ = std::max<size_t>(enc.size() / 2, 4096);
        decided = true;
        break;
      }
      // Unavailable: the outcome may be unknown. PutIfAbsent is idempotent,
      // so retry the same bytes until etcd answers one way or the other.
      spdlog::warn("etcd orderer: proposing block {} failed ({}); retrying", height, r.status().message());
      SleepMs(250);
    }
    if (decided) {
      std::lock_guard lock(status_mu_);
      etcd_error_.clear();
    }
    if (won) won_++;
    else if (decided) lost_++;
    if (!decided) {
      // Stopping or halted: the transactions stay pending and unacknowledged.
      pool_->Requeue(std::move(txs), std::move(ids));
      continue;
    }
    // Winner or not, the block at `height` comes back through the watch.
    if (!WaitForHeight(height)) {
      pool_->Requeue(std::move(txs), std::move(ids));
      continue;
    }
    // Fairness: let the other nodes, still validating this block, claim the
    // next height before this node races them for it again.
    if (won && opts_.yield_after_win_ms > 0) WaitForHeightFor(height + 1, opts_.yield_after_win_ms);
    // Transactions that a committed block included were resolved by the
    // commit listener; give the others back for the next block.
    std::vector<model::Transaction> back;
    std::vector<Hash32> back_ids;
    for (size_t i = 0; i < ids.size(); ++i) {
      if (pool_->Lookup(ids[i]).state == TxState::kPending) {
        back.push_back(std::move(txs[i]));
        back_ids.push_back(ids[i]);
      }
    }
    if (!back.empty()) {
      requeued_ += back.size();
      pool_->Requeue(std::move(back), std::move(back_ids));
    }
  }
}

Result<int64_t> EtcdOrderer::PutBlock(uint64_t height, const std::string& key, const Bytes& enc) {
  // Guarded by the pruning floor, so that a node that lags behind cannot
  // re-create a pruned height with a block of its own: a height below the
  // floor is lost (the apply thread will fetch it), and a floor that moves
  // between our read and the put fails the put (kFailedPrecondition).
  const std::string floor_key = PrunedBelowKey();
  for (int attempt = 0; attempt < 3; ++attempt) {
    if (floor_mod_ < 0) {
      auto g = etcd_->Get(floor_key);
      if (!g.ok()) return g.status();
      floor_height_ = 0;
      floor_mod_ = 0;
      if (*g) {
        auto h = ParseHeightSuffix(AsStringView((*g)->value), "");
        floor_height_ = h.value_or(0);
        floor_mod_ = (*g)->mod_revision;
      }
    }
    if (height < floor_height_) return Aborted("height " + std::to_string(height) + " is below the pruning floor");
    auto r = etcd_->PutIfAbsentGuarded(key, enc, floor_key, floor_mod_);
    if (r.ok() || r.status().code() != StatusCode::kFailedPrecondition) return r;
    floor_mod_ = -1;
  }
  return Unavailable("the pruning floor kept moving");
}

// ---- applying ----

Status EtcdOrderer::HandleBlock(uint64_t height, const Bytes& value) {
  auto local = chain_->Meta().height;
  auto decoded = model::DecodeBlock(value);
  if (height <= local) {
    // Already committed here: it must be the very same block.
    auto mine = chain_->store().GetBlock(height);
    if (!mine.ok()) return mine.status();
    auto mh = model::DecodeHeader(*mine);
    if (!decoded.ok() || !mh.ok() || decoded->header.Hash() != mh->Hash()) {
      Halt("etcd holds a different block " + std::to_string(height) +
           " than the one this node committed: the histories diverge");
      return DataLoss("fork at block " + std::to_string(height));
    }
    return Status::Ok();
  }
  if (height > local + 1) {
    // A gap: fetch the missing heights first, in order.
    auto r = watch_etcd_->Range(EtcdBlockKey(chain_id_, local + 1), EtcdBlockKey(chain_id_, height));
    if (!r.ok()) return r.status();
    uint64_t next = local + 1;
    for (const auto& kv : r->kvs) {
      auto h = ParseHeightSuffix(kv.key, Prefix("blocks"));
      if (!h || *h != next) break;
      ML_RETURN_IF_ERROR(HandleBlock(*h, kv.value));
      next++;
    }
    if (next != height) {
      // Pruned from etcd (or never there): peers, up to a checkpoint.
      ML_RETURN_IF_ERROR(CatchUpFromPeers(next, height));
      return HandleBlock(height, value);
    }
  }
  if (!decoded.ok()) {
    Halt("block " + std::to_string(height) + " from etcd cannot be decoded: " + decoded.status().message());
    return DataLoss("undecodable block");
  }
  if (decoded->header.height != height) {
    Halt("etcd key of block " + std::to_string(height) + " holds a block of height " +
         std::to_string(decoded->header.height));
    return DataLoss("misplaced block");
  }
  return ApplyChecked(*decoded, "etcd");
}

Status EtcdOrderer::ApplyChecked(const model::Block& block, const std::string& from) {
  uint64_t height = block.header.height;
  for (int attempt = 0;; ++attempt) {
    Status st = chain_->ApplyBlock(block);
    if (st.ok()) break;
    if (st.code() == StatusCode::kDataLoss) {
      Halt("block " + std::to_string(height) + " from " + from + " (proposer " +
           crypto::PublicId(block.header.proposer) + ") is invalid: " + st.message());
      return st;
    }
    // Local trouble (I/O, execution): retry; the block itself may be fine.
    spdlog::error("applying block {} failed: {}; retrying", height, st.ToString());
    if (stop_) return st;
    SleepMs(std::min(2000, 100 * (attempt + 1)));
  }
  applied_++;
  NotifyApplied();
  barrier_->OnApplied();
  return Status::Ok();
}

Result<std::optional<Checkpoint>> EtcdOrderer::FindCheckpoint(EtcdClient& etcd, uint64_t min_height, bool lowest) {
  const std::string prefix = EtcdCheckpointPrefix(chain_id_);
  auto r = etcd.Range(EtcdCheckpointHeightPrefix(chain_id_, min_height), EtcdClient::PrefixEnd(prefix));
  if (!r.ok()) return r.status();
  std::map<uint64_t, std::vector<RootReport>> by_height;
  for (const auto& kv : r->kvs) {
    auto k = ParseCheckpointKey(kv.key, prefix);
    if (!k) continue;
    auto rep = RootReport::FromJson(AsStringView(kv.value));
    // A report filed under another signer's key does not count for it.
    if (!rep.ok() || rep->node_id != k->second) continue;
    by_height[k->first].push_back(std::move(*rep));
  }
  if (by_height.empty()) return std::optional<Checkpoint>();
  std::vector<std::string> electorate = ActiveNodeIds(chain_->state());
  auto try_one = [&](uint64_t h, const std::vector<RootReport>& reps) -> std::optional<Checkpoint> {
    auto c = VerifyCheckpoint(chain_id_, h, reps, electorate);
    if (c.ok()) return *c;
    spdlog::debug("checkpoint {}: {}", h, c.status().message());
    return std::nullopt;
  };
  if (lowest) {
    for (const auto& [h, reps] : by_height)
      if (auto c = try_one(h, reps)) return c;
  } else {
    for (auto it = by_height.rbegin(); it != by_height.rend(); ++it)
      if (auto c = try_one(it->first, it->second)) return c;
  }
  return std::optional<Checkpoint>();
}

Status EtcdOrderer::CatchUpFromPeers(uint64_t next, uint64_t first_in_etcd) {
  const std::string gap = std::to_string(next) + ".." + std::to_string(first_in_etcd - 1);
  auto cp = FindCheckpoint(*watch_etcd_, first_in_etcd - 1, /*lowest=*/true);
  if (!cp.ok()) return cp.status();
  if (!*cp || !peer_source_) {
    Halt("blocks " + gap + " are missing from etcd and " +
         (peer_source_ ? std::string("no majority checkpoint this node can verify reaches block ") +
                             std::to_string(first_in_etcd - 1)
                       : std::string("this node has no peer source to fetch them from")) +
         ", so it cannot catch up (block keys deleted without a checkpoint, or the chain moved from solo "
         "ordering without this node's blocks)");
    return DataLoss("gap before block " + std::to_string(first_in_etcd));
  }
  const Checkpoint c = **cp;
  auto m = chain_->Meta();
  SegmentTarget t;
  t.head_height = m.height;
  t.head_hash = m.last_block_hash;
  t.height = c.height;
  t.block_hash = c.block_hash;
  spdlog::info("catch-up: blocks {} are not in etcd; fetching {}..{} from peers up to checkpoint {} (signed by {} "
               "of {} node keys)",
               gap, m.height + 1, c.height, c.height, c.signers.size(), c.electorate);
  std::vector<std::string> errors;
  auto seg = FetchSegment(*peer_source_, t, &errors);
  for (const auto& e : errors) spdlog::error("catch-up: {}", e);
  peer_failures_ += errors.size();
  if (!errors.empty()) {
    std::lock_guard lock(status_mu_);
    last_peer_failure_ = errors.back();
  }
  if (!seg.ok()) {
    if (seg.status().code() == StatusCode::kDataLoss) {
      Halt("catch-up from peers: " + seg.status().message());
      return seg.status();
    }
    std::lock_guard lock(status_mu_);
    catchup_error_ = seg.status().message();
    return seg.status();
  }
  for (const auto& b : *seg) {
    if (stop_) return Unavailable("stopping");
    ML_RETURN_IF_ERROR(ApplyChecked(b, "a peer (checkpoint " + std::to_string(c.height) + ")"));
    blocks_from_peers_++;
  }
  {
    std::lock_guard lock(status_mu_);
    catchup_error_.clear();
  }
  spdlog::info("catch-up: applied blocks {}..{} from peers; continuing from etcd", m.height + 1, c.height);
  return Status::Ok();
}

Result<int64_t> EtcdOrderer::CatchUp() {
  const std::string prefix = Prefix("blocks");
  const std::string end = EtcdClient::PrefixEnd(prefix);
  uint64_t local = chain_->Meta().height;
  int64_t rev = 0;
  // Start by checking that etcd agrees with the local head, if it has it.
  if (local > 0) {
    auto r = watch_etcd_->Range(EtcdBlockKey(chain_id_, local), end, 1);
    if (!r.ok()) return r.status();
    rev = r->revision;
    if (!r->kvs.empty()) {
      auto h = ParseHeightSuffix(r->kvs[0].key, prefix);
      if (h && *h == local) ML_RETURN_IF_ERROR(HandleBlock(*h, r->kvs[0].value));
    }
  }
  std::string from = EtcdBlockKey(chain_id_, local + 1);
  while (!stop_ && !halted_) {
    auto r = watch_etcd_->Range(from, end, 32, rev);
    if (!r.ok()) return r.status();
    rev = r->revision;
    for (const auto& kv : r->kvs) {
      auto h = ParseHeightSuffix(kv.key, prefix);
      if (!h) {
        spdlog::warn("ignoring unexpected etcd key {}", kv.key);
        continue;
      }
      ML_RETURN_IF_ERROR(HandleBlock(*h, kv.value));
    }
    if (!r->more || r->kvs.empty()) break;
    from = r->kvs.back().key + '\0';
  }
  return rev;
}

void EtcdOrderer::ApplyLoop() {
  const std::string prefix = Prefix("blocks");
  while (!stop_) {
    if (halted_) {
      SleepMs(200);
      continue;
    }
    auto rev = CatchUp();
    if (!rev.ok()) {
      if (!halted_) {
        etcd_errors_++;
        std::lock_guard lock(status_mu_);
        etcd_error_ = rev.status().ToString();
        spdlog::warn("etcd orderer: catch-up failed: {}", rev.status().ToString());
      }
      SleepMs(500);
      continue;
    }
    {
      std::lock_guard lock(status_mu_);
      etcd_error_.clear();
    }
    Status st = watch_etcd_->Watch(
        prefix, *rev + 1,
        [&](const etcd::WatchEvent& ev) {
          if (ev.type == etcd::WatchEvent::Type::kDelete) {
            // Pruning (keep_blocks) deletes old block keys; a node that
            // needs them fetches them from peers against a checkpoint.
            spdlog::debug("block key {} was deleted from etcd", ev.kv.key);
            return true;
          }
          auto h = ParseHeightSuffix(ev.kv.key, prefix);
          if (!h) {
            spdlog::warn("ignoring unexpected etcd key {}", ev.kv.key);
            return true;
          }
          Status s = HandleBlock(*h, ev.kv.value);
          if (!s.ok()) {
            if (!halted_) spdlog::warn("etcd orderer: block {}: {}", *h, s.ToString());
            return false;  // catch up again from the local head
          }
          return !halted_;
        },
        &stop_);
    if (!st.ok() && !stop_) {
      etcd_errors_++;
      std::lock_guard lock(status_mu_);
      etcd_error_ = st.ToString();
      spdlog::warn("etcd orderer: watch ended: {}", st.ToString());
    }
    if (!stop_) SleepMs(100);
  }
}

// ---- agreement ----

void EtcdOrderer::AgreementLoop() {
  const std::string prefix = Prefix("roots");
  const std::string my_key = prefix + key_.id();
  while (!stop_) {
    auto m = chain_->Meta();
    RootReport mine;
    mine.node_id = key_.id();
    mine.height = m.height;
    mine.state_root = m.state_root;
    mine.block_hash = m.last_block_hash;
    mine.time_ms = NowMs();
    Bytes sb = mine.SigningBytes(chain_id_);
    mine.sig = key_.Sign(sb);
    // A plain Put: an ambiguous outcome is harmless, the next round rewrites it.
    (void)roots_etcd_->Put(my_key, ToBytes(mine.ToJson()));

    auto r = roots_etcd_->Range(prefix, EtcdClient::PrefixEnd(prefix));
    if (r.ok()) {
      std::vector<RootReport> reports;
      for (const auto& kv : r->kvs) {
        auto rep = RootReport::FromJson(AsStringView(kv.value));
        if (!rep.ok()) {
          spdlog::warn("ignoring malformed root report at {}", kv.key);
          continue;
        }
        auto pk = crypto::ParsePublicId(rep->node_id);
        if (!pk.ok() || kv.key != prefix + rep->node_id ||
            !crypto::Verify(*pk, rep->SigningBytes(chain_id_), rep->sig)) {
          spdlog::warn("ignoring root report at {}: bad signature or key", kv.key);
          continue;
        }
        auto id = state::LoadIdentity(chain_->state(), *pk);
        auto org = id ? state::LoadOrg(chain_->state(), id->org) : std::nullopt;
        // A revoked key, or one of a removed organisation, is no peer.
        if (!id || !id->Has(model::kRoleNode) || !id->active() || !org || !org->active) {
          spdlog::debug("ignoring root report at {}: not an active node key of an active member", kv.key);
          continue;
        }
        reports.push_back(std::move(*rep));
      }
      CheckPeers(reports);
    }
    SignCheckpoints(chain_->Meta().height);
    if (opts_.keep_blocks > 0) Prune();
    for (uint32_t waited = 0; waited < opts_.root_report_interval_ms && !stop_; waited += 50) SleepMs(50);
  }
}

void EtcdOrderer::SignCheckpoints(uint64_t height) {
  const uint64_t every = opts_.checkpoint_interval;
  if (every == 0 || height < every) return;
  uint64_t top = height / every * every;
  if (top <= last_signed_checkpoint_) return;
  // Every multiple passed since the last round, so that nodes that sample
  // their height at different moments still sign the same heights; but only
  // the last few, so a node far behind does not write reports for heights
  // already pruned.
  uint64_t from = std::max(last_signed_checkpoint_ + every, top >= 4 * every ? top - 3 * every : every);
  for (uint64_t h = from; h <= top; h += every) {
    auto bytes = chain_->store().GetBlock(h);
    if (!bytes.ok()) return;
    auto hdr = model::DecodeHeader(*bytes);
    if (!hdr.ok()) return;
    RootReport r;
    r.height = h;
    r.state_root = hdr->state_root;
    r.block_hash = hdr->Hash();
    r.time_ms = NowMs();
    r.Sign(chain_id_, key_);
    auto put = roots_etcd_->Put(EtcdCheckpointKey(chain_id_, h, key_.id()), ToBytes(r.ToJson()));
    if (!put.ok()) return;  // next round
    checkpoint_reports_++;
    last_signed_checkpoint_ = h;
  }
}

void EtcdOrderer::Prune() {
  auto cp = FindCheckpoint(*roots_etcd_, latest_checkpoint_, /*lowest=*/false);
  if (!cp.ok() || !*cp) return;
  latest_checkpoint_ = (*cp)->height;
  if ((*cp)->height <= opts_.keep_blocks) return;
  uint64_t below = (*cp)->height - opts_.keep_blocks;
  if (below <= pruned_below_) return;
  // Raise the floor first (compare-and-swap, never lowered): from then on no
  // proposer can re-create a height below it (PutBlock).
  const std::string floor_key = PrunedBelowKey();
  auto g = roots_etcd_->Get(floor_key);
  if (!g.ok()) return;
  uint64_t floor = 0;
  int64_t mod = 0;
  if (*g) {
    floor = ParseHeightSuffix(AsStringView((*g)->value), "").value_or(0);
    mod = (*g)->mod_revision;
  }
  if (below > floor) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%020llu", static_cast<unsigned long long>(below));
    if (!roots_etcd_->PutIfModRevision(floor_key, ToBytes(std::string(buf)), mod).ok()) return;  // next round
  }
  // Then blocks, then checkpoint reports: a reader that still finds the
  // reports of a height can always use them. The checkpoint itself (>=
  // below) stays.
  auto d = roots_etcd_->DeleteRange(EtcdBlockKey(chain_id_, 0), EtcdBlockKey(chain_id_, below));
  if (!d.ok()) return;
  (void)roots_etcd_->DeleteRange(EtcdCheckpointPrefix(chain_id_), EtcdCheckpointHeightPrefix(chain_id_, below));
  spdlog::info("pruned etcd: block keys below {} deleted (checkpoint {} signed by {} of {} node keys, keeping {})",
               below, (*cp)->height, (*cp)->signers.size(), (*cp)->electorate, opts_.keep_blocks);
  pruned_below_ = below;
}

void EtcdOrderer::CheckPeers(const std::vector<RootReport>& reports) {
  uint64_t local = chain_->Meta().height;
  {
    // Peers no longer reporting as active nodes (key revoked, organisation
    // removed, report deleted) leave the list.
    std::set<std::string> now;
    for (const auto& rep : reports) now.insert(rep.node_id);
    std::lock_guard lock(status_mu_);
    std::erase_if(peers_, [&](const auto& kv) { return !now.count(kv.first); });
  }
  for (const auto& rep : reports) {
    std::optional<bool> verdict;
    if (rep.height <= local) {
      auto bytes = chain_->store().GetBlock(rep.height);
      if (bytes.ok()) {
        auto h = model::DecodeHeader(*bytes);
        verdict = h.ok() && h->Hash() == rep.block_hash && h->state_root == rep.state_root;
      }
    }
    std::lock_guard lock(status_mu_);
    PeerView& v = peers_[rep.node_id];
    v.report = rep;
    if (!verdict) continue;
    if (!*verdict && v.agrees.value_or(true)) {
      divergences_++;
      spdlog::error("DIVERGENCE: node {} reports block_hash {} / state_root {} at height {}, which differs "
                    "from this node's block {}",
                    rep.node_id, ToHex(rep.block_hash), ToHex(rep.state_root), rep.height, rep.height);
    }
    if (*verdict && v.agrees.has_value() && !*v.agrees)
      spdlog::info("node {} agrees again at height {}", rep.node_id, rep.height);
    v.agrees = verdict;
    v.checked_height = rep.height;
  }
}

std::vector<Orderer::Metric> EtcdOrderer::Metrics() const {
  return {{"medledger_orderer_halted", "1 if this node stopped applying blocks to avoid a fork.", "gauge", halted_ ? 1u : 0u},
          {"medledger_orderer_divergences_total", "Peer state-root reports that disagree with ours.", "counter", divergences_.load()},
          {"medledger_orderer_etcd_errors_total", "Failed etcd calls (retried).", "counter", etcd_errors_.load()},
          {"medledger_orderer_blocks_from_peers_total", "Blocks applied from peers during catch-up.", "counter", blocks_from_peers_.load()},
          {"medledger_orderer_peer_failures_total", "Peer block fetches that failed or did not check out.", "counter", peer_failures_.load()},
          {"medledger_orderer_head_reads_total", "Linearizable etcd head reads for AwaitHead.", "counter", barrier_->reads()},
          {"medledger_orderer_head_read_failures_total", "Head reads that failed (requests answered 503).", "counter", barrier_->read_failures()},
          {"medledger_orderer_head_timeouts_total", "AwaitHead callers answered 503 at their bound.", "counter", barrier_->timeouts()}};
}

nlohmann::json EtcdOrderer::StatusJson() const {
  nlohmann::json peers = nlohmann::json::array();
  nlohmann::json j;
  std::lock_guard lock(status_mu_);
  size_t divergent = 0;
  uint64_t now = NowMs();
  for (const auto& [id, v] : peers_) {
    nlohmann::json p = {{"node_id", id},
                        {"height", v.report.height},
                        {"state_root", ToHex(v.report.state_root)},
                        {"agrees", v.agrees ? nlohmann::json(*v.agrees) : nlohmann::json(nullptr)},
                        {"checked_height", v.checked_height},
                        {"report_age_ms", now > v.report.time_ms ? now - v.report.time_ms : 0},
                        {"self", id == key_.id()}};
    if (v.agrees && !*v.agrees) divergent++;
    peers.push_back(std::move(p));
  }
  j["peers"] = std::move(peers);
  j["divergent_peers"] = divergent;
  j["halted"] = bool(halted_);
  if (halted_) j["halt_reason"] = halt_reason_;
  j["etcd"] = {{"endpoints", opts_.endpoints},
               {"current_endpoint", etcd_->CurrentEndpoint()},
               {"last_error", etcd_error_.empty() ? nlohmann::json(nullptr) : nlohmann::json(etcd_error_)}};
  j["ordering"] = {{"blocks_proposed", uint64_t(proposed_)},   {"blocks_won", uint64_t(won_)},
                   {"blocks_lost", uint64_t(lost_)},           {"txs_requeued", uint64_t(requeued_)},
                   {"blocks_applied", uint64_t(applied_)},     {"blocks_split", uint64_t(split_blocks_)},
                   {"etcd_errors", uint64_t(etcd_errors_)},    {"divergences_total", uint64_t(divergences_)},
                   {"max_block_bytes", size_t(max_block_bytes_)},
                   {"head_reads", barrier_->reads()},          {"head_read_failures", barrier_->read_failures()},
                   {"head_timeouts", barrier_->timeouts()}};
  j["catchup"] = {{"checkpoint_interval", opts_.checkpoint_interval},
                  {"keep_blocks", opts_.keep_blocks},
                  {"checkpoint_reports_signed", uint64_t(checkpoint_reports_)},
                  {"latest_checkpoint", uint64_t(latest_checkpoint_)},
                  {"pruned_below", uint64_t(pruned_below_)},
                  {"blocks_from_peers", uint64_t(blocks_from_peers_)},
                  {"peer_failures", uint64_t(peer_failures_)},
                  {"last_error", catchup_error_.empty() ? nlohmann::json(nullptr) : nlohmann::json(catchup_error_)},
                  {"last_peer_failure",
                   last_peer_failure_.empty() ? nlohmann::json(nullptr) : nlohmann::json(last_peer_failure_)}};
  return j;
}

}  // namespace medledger::node
