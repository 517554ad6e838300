#include "node/chain.h"

#include <chrono>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "contracts/sandbox.h"
#include "crypto/sha256.h"
#include "model/tx_types.h"
#include "model/value.h"
#include "node/modules.h"
#include "node/parallel.h"
#include "state/identity_record.h"

namespace medledger::node {

namespace {
constexpr const char* kGenesisMetaKey = "genesis";

std::string LedgerDir(const std::string& data_dir) { return data_dir + "/ledger"; }
}  // namespace

namespace {
// Only small, hot records are worth caching: identities, organisations,
// parameters. Anchors and record indexes are read once.
bool Cacheable(std::string_view key) {
  return key.rfind("id/", 0) == 0 || key.rfind("org/", 0) == 0 || key.rfind("params/", 0) == 0;
}
constexpr size_t kMaxCacheEntries = 100000;
}  // namespace

void StoreState::Invalidate(const state::WriteSet& writes) {
  std::unique_lock lock(mu_);
  epoch_++;
  for (const auto& [k, v] : writes) cache_.erase(k);
}

std::optional<Bytes> StoreState::Get(std::string_view key) const {
  bool cacheable = Cacheable(key);
  uint64_t epoch = 0;
  if (cacheable) {
    std::shared_lock lock(mu_);
    auto it = cache_.find(std::string(key));
    if (it != cache_.end()) return it->second;
    epoch = epoch_;
  }
  auto r = store_->GetState(key);
  // A read error of committed state cannot be turned into a verdict without
  // breaking determinism; stop loudly instead of guessing.
  if (!r.ok()) throw std::runtime_error("state read failed: " + r.status().ToString());
  if (cacheable) {
    std::unique_lock lock(mu_);
    if (epoch == epoch_) {
      if (cache_.size() >= kMaxCacheEntries) cache_.clear();
      cache_.emplace(std::string(key), *r);
    }
  }
  return std::move(*r);
}

void StoreState::Scan(std::string_view prefix,
                      const std::function<bool(std::string_view, const Bytes&)>& fn) const {
  Bytes tmp;
  Status st = store_->ScanState(prefix, [&](std::string_view k, std::string_view v) {
    tmp.assign(v.begin(), v.end());
    return fn(k, tmp);
  });
  if (!st.ok()) throw std::runtime_error("state scan failed: " + st.ToString());
}

Status Chain::Init(const std::string& data_dir, const nlohmann::json& genesis_doc) {
  ML_ASSIGN_OR_RETURN(state::Genesis g, state::BuildGenesis(genesis_doc));
  std::error_code ec;
  std::filesystem::create_directories(data_dir, ec);
  if (ec) return Unavailable("cannot create " + data_dir + ": " + ec.message());
  ledger::StoreOptions so;
  ML_ASSIGN_OR_RETURN(auto store, ledger::Store::Open(LedgerDir(data_dir), so));
  ML_ASSIGN_OR_RETURN(auto meta, store->Meta());
  if (meta.initialized) return FailedPrecondition("a chain already exists in " + data_dir);
  ML_RETURN_IF_ERROR(store->PutMeta(kGenesisMetaKey, g.canonical));
  ledger::BlockCommit c;
  c.height = 0;
  c.block = g.block.Encode();
  c.block_hash = g.block.header.Hash();
  c.state_writes = g.writes;
  c.meta.height = 0;
  c.meta.last_block_hash = c.block_hash;
  c.meta.state_root = g.block.header.state_root;
  c.meta.committed_txs = 0;
  c.meta.initialized = true;
  return store->Commit(c);
}

Result<std::unique_ptr<Chain>> Chain::Open(const std::string& data_dir, ChainOptions opts) {
  std::unique_ptr<Chain> c(new Chain());
  c->opts_ = opts;
  if (c->opts_.verify_threads <= 0) c->opts_.verify_threads = DefaultThreads();
  c->executor_ = MakeExecutor();
  ledger::StoreOptions so;
  so.sync = opts.sync;
  so.create_if_missing = false;
  so.point_state_prefixes = c->executor_->PointKeyPrefixes();
  so.testing = opts.store_testing;
  auto store = ledger::Store::Open(LedgerDir(data_dir), so);
  if (!store.ok()) {
    if (store.status().code() == StatusCode::kNotFound)
      return NotFound("no chain in " + data_dir + " (run 'medledger init --data-dir " + data_dir + "')");
    return store.status();
  }
  c->store_ = std::move(*store);
  c->state_ = std::make_unique<StoreState>(c->store_.get());
  ML_ASSIGN_OR_RETURN(auto meta, c->store_->Meta());
  if (!meta.initialized) return NotFound("no chain in " + data_dir);
  ML_ASSIGN_OR_RETURN(auto gbytes, c->store_->GetMeta(kGenesisMetaKey));
  if (!gbytes) return DataLoss("genesis document missing from " + data_dir);
  auto gdoc = model::DecodeValue(*gbytes);
  if (!gdoc.ok()) return DataLoss("stored genesis document is corrupt");
  ML_ASSIGN_OR_RETURN(c->genesis_, state::BuildGenesis(*gdoc));
  // Gas counts and allocation sizes can differ between Lua releases: a node
  // on another one would fail or pass contract calls differently.
  if (uint32_t want = c->genesis_.params.lua_release; want != 0 && int(want) != contracts::LuaRelease())
    return FailedPrecondition("this chain runs contracts on Lua release " + std::to_string(want) +
                              "; this binary embeds " + std::to_string(contracts::LuaRelease()));
  ML_ASSIGN_OR_RETURN(Bytes b0, c->store_->GetBlock(0));
  auto h0 = model::DecodeHeader(b0);
  if (!h0.ok() || h0->Hash() != c->genesis_.block.header.Hash())
    return DataLoss("block 0 does not match the genesis document");
  c->meta_ = meta;
  c->replay_ = std::make_unique<state::ReplayGuard>(c->genesis_.params.max_expiry_window);
  ML_RETURN_IF_ERROR(c->LoadReplayWindow());
  return c;
}

Status Chain::LoadReplayWindow() {
  uint64_t h = meta_.height;
  uint64_t w = genesis_.params.max_expiry_window;
  uint64_t from = h > w ? h - w : 1;
  Status inner = Status::Ok();
  model::Block b;
  Status st = store_->ForEachBlock(from, [&](uint64_t height, std::span<const uint8_t> bytes) {
    if (Status d = model::DecodeBlockInto(bytes.data(), bytes.size(), &b, nullptr); !d.ok()) {
      inner = DataLoss("block " + std::to_string(height) + " undecodable: " + d.message());
      return false;
    }
    replay_->AddBlock(height, b.TxIds());
    return true;
  });
  ML_RETURN_IF_ERROR(st);
  return inner;
}

ledger::ChainMeta Chain::Meta() const {
  std::lock_guard lock(meta_mu_);
  return meta_;
}

Result<model::Verdict> Chain::Check(const model::Transaction& tx, const Hash32& id) const {
  auto m = Meta();
  // No block exists yet at admission; the next one will be stamped about
  // now, so time-bounded payload rules (access.event at_ms, expiries) are
  // checked against the wall clock rather than against time zero.
  const auto now_ms = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                                std::chrono::system_clock::now().time_since_epoch())
                                                .count());
  try {
    return executor_->Check(*state_, m.height + 1, now_ms, tx, id, *replay_, admission_);
  } catch (const std::exception& e) {
    // The state store failed (StateReader throws): block execution turns the
    // same failure into Unavailable, and so does admission.
    return Unavailable(std::string("the node's state could not be read: ") + e.what());
  }
}

Result<std::pair<model::Block, state::WriteSet>> Chain::Build(
    const std::vector<model::Transaction>& txs, const std::vector<Hash32>& ids,
    const crypto::KeyPair& proposer, uint64_t timestamp_ms) {
  // A node whose key or organisation was removed must not propose: every
  // other node would refuse the block (ApplyBlock), and under etcd ordering
  // an invalid block halts them.
  auto self = state::LoadIdentity(*state_, proposer.public_key());
  auto self_org = self ? state::LoadOrg(*state_, self->org) : std::nullopt;
  if (!self || !self->Has(model::kRoleNode) || !self->active() || !self_org || !self_org->active)
    return FailedPrecondition("this node's key is not an active node key of an active member organisation");
  auto m = Meta();
  ML_ASSIGN_OR_RETURN(Bytes prev_bytes, store_->GetBlock(m.height));
  ML_ASSIGN_OR_RETURN(model::BlockHeader prev, model::DecodeHeader(prev_bytes));
  std::vector<uint8_t> sig_ok(txs.size(), 1);
  model::Block b;
  b.header.height = m.height + 1;
  b.header.prev_hash = m.last_block_hash;
  b.header.timestamp_ms = std::max(timestamp_ms, prev.timestamp_ms);
  state::BlockExecution ex;
  try {
    ex = executor_->Execute(*state_, m.state_root, b.header.height, b.header.timestamp_ms, txs, ids, sig_ok, *replay_);
  } catch (const std::exception& e) {
    return Unavailable(std::string("block execution failed: ") + e.what());
  }
  b.header.state_root = ex.state_root;
  b.txs = txs;
  b.results = std::move(ex.verdicts);
  b.Seal(&ids);  // ids: computed from these txs at admission
  b.Sign(proposer);
  return std::make_pair(std::move(b), std::move(ex.writes));
}

Result<model::Block> Chain::BuildBlock(const std::vector<model::Transaction>& txs,
                                       const std::vector<Hash32>& ids,
                                       const crypto::KeyPair& proposer, uint64_t timestamp_ms) {
  std::lock_guard lock(commit_mu_);
  ML_ASSIGN_OR_RETURN(auto built, Build(txs, ids, proposer, timestamp_ms));
  built_ = Built{built.first.header.Hash(), crypto::Sha256(built.first.Encode()), built.first.header.height,
                 built.first.header.prev_hash, ids, std::move(built.second)};
  return std::move(built.first);
}

Result<model::Block> Chain::ProduceBlock(const std::vector<model::Transaction>& txs,
                                         const std::vector<Hash32>& ids,
                                         const crypto::KeyPair& proposer, uint64_t timestamp_ms) {
  std::lock_guard lock(commit_mu_);
  ML_ASSIGN_OR_RETURN(auto built, Build(txs, ids, proposer, timestamp_ms));
  ML_RETURN_IF_ERROR(Commit(built.first, ids, std::move(built.second)));
  return std::move(built.first);
}

std::optional<std::string> CheckBlockStateless(const model::Block& b, const Hash32& prev_hash,
                                               uint64_t expected_height) {
  const auto& h = b.header;
  if (h.height != expected_height)
    return "height is " + std::to_string(h.height) + ", expected " + std::to_string(expected_height);
  if (h.prev_hash != prev_hash) return "previous block hash does not match the chain";
  if (h.tx_count != b.txs.size() || b.results.size() != b.txs.size()) return "transaction count mismatch";
  if (h.tx_root != model::MerkleRoot(b.TxIds())) return "Merkle root of transactions does not match";
  if (h.results_root != model::ResultsRoot(b.results)) return "results root does not match the verdicts";
  if (!crypto::Verify(h.proposer, h.SigningBytes(), h.proposer_sig)) return "proposer signature does not verify";
  return std::nullopt;
}

Status Chain::ApplyBlock(const model::Block& b) {
  std::lock_guard lock(commit_mu_);
  auto m = Meta();
  if (built_ && built_->height == m.height + 1 && built_->prev_hash == m.last_block_hash &&
      b.header.height == built_->height && b.header.Hash() == built_->hash) {
    // Tx ids leave out signatures, so compare the whole encoding: the same
    // bytes are the same transactions, signatures and verdicts as the build.
    if (crypto::Sha256(b.Encode()) == built_->digest) {
      Built mine = std::move(*built_);
      built_.reset();
      return Commit(b, mine.ids, std::move(mine.writes));
    }
  }
  std::string where = "block " + std::to_string(b.header.height) + ": ";
  if (auto err = CheckBlockStateless(b, m.last_block_hash, m.height + 1)) return DataLoss(where + *err);
  auto prop = state::LoadIdentity(*state_, b.header.proposer);
  if (!prop || !prop->Has(model::kRoleNode) || !prop->active())
    return DataLoss(where + "proposer is not an active node key");
  if (auto org = state::LoadOrg(*state_, prop->org); !org || !org->active)
    return DataLoss(where + "proposer's organisation '" + prop->org + "' is not an active member");
  ML_ASSIGN_OR_RETURN(Bytes prev_bytes, store_->GetBlock(m.height));
  ML_ASSIGN_OR_RETURN(model::BlockHeader prev, model::DecodeHeader(prev_bytes));
  if (b.header.timestamp_ms < prev.timestamp_ms) return DataLoss(where + "timestamp goes backwards");
  std::vector<Hash32> ids = b.TxIds();
  std::vector<uint8_t> sig_ok = VerifySignatures(b.txs, opts_.verify_threads);
  state::BlockExecution ex;
  try {
    ex = executor_->Execute(*state_, m.state_root, b.header.height, b.header.timestamp_ms, b.txs, ids, sig_ok, *replay_);
  } catch (const std::exception& e) {
    return Unavailable(std::string("block execution failed: ") + e.what());
  }
  for (size_t i = 0; i < b.txs.size(); ++i) {
    if (ex.verdicts[i].reason != b.results[i].reason)
      return DataLoss(where + "transaction " + std::to_string(i) + " verdict differs: block says " +
                      model::RejectName(b.results[i].reason) + ", re-execution says " +
                      model::RejectName(ex.verdicts[i].reason));
  }
  if (ex.state_root != b.header.state_root) return DataLoss(where + "state root differs from re-execution");
  return Commit(b, ids, std::move(ex.writes));
}

Status Chain::Commit(const model::Block& b, const std::vector<Hash32>& ids, state::WriteSet writes) {
  auto m = Meta();
  ledger::BlockCommit c;
  c.height = b.header.height;
  c.block = b.Encode();
  c.block_hash = b.header.Hash();
  c.txs.reserve(ids.size());
  uint64_t valid = 0;
  for (size_t i = 0; i < ids.size(); ++i) {
    c.txs.emplace_back(ids[i], ledger::TxLocation{c.height, uint32_t(i)});
    if (b.results[i].ok()) valid++;
  }
  c.state_writes = std::move(writes);
  // Invalidate before and after: before so no read racing the commit can
  // fill the cache with the old value (epoch bump), after to drop any that did.
  state_->Invalidate(c.state_writes);
  c.meta.height = c.height;
  c.meta.last_block_hash = c.block_hash;
  c.meta.state_root = b.header.state_root;
  c.meta.committed_txs = m.committed_txs + valid;
  c.meta.initialized = true;
  ML_RETURN_IF_ERROR(store_->Commit(c));
  state_->Invalidate(c.state_writes);
  for (const auto& [k, v] : c.state_writes) {
    if (k.rfind("id/", 0) == 0 || k.rfind("org/", 0) == 0 || k.rfind("params/", 0) == 0) {
      admission_.Reset();
      break;
    }
  }
  if (built_ && built_->height <= c.height) built_.reset();
  replay_->AddBlock(c.height, ids);
  {
    std::lock_guard lock(meta_mu_);
    meta_ = c.meta;
  }
  CommittedBlock cb{b, c.block_hash, ids};
  for (auto& l : listeners_) l(cb);
  return Status::Ok();
}

void Chain::AddCommitListener(std::function<void(const CommittedBlock&)> fn) {
  std::lock_guard lock(commit_mu_);
  listeners_.push_back(std::move(fn));
}

}  // namespace medledger::node
