#include "node/audit.h"

#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include "model/block.h"
#include "model/tx_types.h"
#include "model/value.h"
#include "node/chain.h"
#include "node/modules.h"
#include "node/parallel.h"
#include "state/executor.h"
#include "state/genesis.h"
#include "state/identity_record.h"

namespace medledger::node {

namespace {

struct Checked {
  uint64_t height = 0;
  model::Block block;
  std::vector<Hash32> ids;
  std::vector<uint8_t> sig_ok;
  Hash32 hash{};
  std::string error;  // stateless problem, if any
  bool end = false;
};

// A bounded queue between the decoding/signature stage and the sequential
// execution stage, so both run at once.
class Pipe {
 public:
  explicit Pipe(size_t capacity = 4) : capacity_(capacity) {}
  void Push(Checked c) {
    std::unique_lock l(mu_);
    cv_.wait(l, [&] { return q_.size() < capacity_ || abort_; });
    q_.push_back(std::move(c));
    cv_.notify_all();
  }
  Checked Pop() {
    std::unique_lock l(mu_);
    cv_.wait(l, [&] { return !q_.empty(); });
    Checked c = std::move(q_.front());
    q_.pop_front();
    cv_.notify_all();
    return c;
  }
  void Abort() {
    std::lock_guard l(mu_);
    abort_ = true;
    cv_.notify_all();
  }
  bool aborted() {
    std::lock_guard l(mu_);
    return abort_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Checked> q_;
  bool abort_ = false;
  size_t capacity_;
};

}  // namespace

Result<AuditReport> AuditChain(const std::string& data_dir, AuditOptions opts) {
  auto t0 = std::chrono::steady_clock::now();
  int threads = opts.threads > 0 ? opts.threads : DefaultThreads();
  ledger::StoreOptions so;
  so.create_if_missing = false;
  so.sync = false;
  auto store_r = ledger::Store::Open(data_dir + "/ledger", so);
  if (!store_r.ok()) return store_r.status();
  auto& store = *store_r;
  AuditReport rep;
  auto fail = [&](uint64_t h, std::string what) {
    rep.ok = false;
    rep.bad_block = h;
    rep.problem = std::move(what);
    return rep;
  };

  ML_ASSIGN_OR_RETURN(auto meta, store->Meta());
  if (!meta.initialized) return NotFound("no chain in " + data_dir);
  ML_ASSIGN_OR_RETURN(auto gbytes, store->GetMeta("genesis"));
  if (!gbytes) return fail(0, "genesis document missing");
  auto gdoc = model::DecodeValue(*gbytes);
  if (!gdoc.ok()) return fail(0, "genesis document corrupt");
  auto genesis = state::BuildGenesis(*gdoc);
  if (!genesis.ok()) return fail(0, "genesis document invalid: " + genesis.status().message());
  auto b0 = store->GetBlock(0);
  if (!b0.ok()) return fail(0, "genesis block missing");
  if (*b0 != genesis->block.Encode()) return fail(0, "genesis block does not match the genesis document");

  state::MemState st;
  st.Apply(genesis->writes);
  auto exec = MakeExecutor();
  state::ReplayGuard replay(genesis->params.max_expiry_window);
  Hash32 prev_hash = genesis->block.header.Hash();
  Hash32 root = genesis->block.header.state_root;
  uint64_t prev_ts = genesis->block.header.timestamp_ms;

  // Stage 1 (this thread + workers): read, decode, stateless checks and
  // signatures in parallel. Stage 2 (executor thread): sequential replay.
  Pipe pipe(64);
  std::optional<AuditReport> finding;
  std::mutex finding_mu;
  uint64_t last_h = 0;
  std::thread executor_thread([&] {
    for (;;) {
      Checked c = pipe.Pop();
      if (c.end) return;
      auto report = [&](std::string what) {
        std::lock_guard l(finding_mu);
        if (!finding) {
          AuditReport r = rep;
          r.ok = false;
          r.bad_block = c.height;
          r.problem = std::move(what);
          finding = r;
        }
        pipe.Abort();
      };
      if (!c.error.empty()) return report(c.error);
      const auto& h = c.block.header;
      if (h.prev_hash != prev_hash) return report("previous block hash does not match block " + std::to_string(c.height - 1));
      if (h.timestamp_ms < prev_ts) return report("timestamp goes backwards");
      auto prop = state::LoadIdentity(st, h.proposer);
      if (!prop || !prop->Has(model::kRoleNode) || !prop->active())
        return report("proposer is not an active node key");
      if (auto org = state::LoadOrg(st, prop->org); !org || !org->active)
        return report("proposer's organisation '" + prop->org + "' is not an active member");
      auto ex = exec->Execute(st, root, c.height, h.timestamp_ms, c.block.txs, c.ids, c.sig_ok, replay);
      for (size_t i = 0; i < c.block.txs.size(); ++i) {
        if (ex.verdicts[i].reason != c.block.results[i].reason)
          return report("transaction " + std::to_string(i) + " (" + ToHex(c.ids[i]) + "): block records " +
                        model::RejectName(c.block.results[i].reason) + ", replay gives " +
                        model::RejectName(ex.verdicts[i].reason) +
                        (ex.verdicts[i].ok() ? "" : " (" + ex.verdicts[i].detail + ")"));
        if (ex.verdicts[i].ok()) rep.valid_txs++;
      }
      if (ex.state_root != h.state_root) return report("state root does not match the replayed state transition");
      st.Apply(ex.writes);
      replay.AddBlock(c.height, c.ids);
      root = ex.state_root;
      prev_hash = c.hash;
      prev_ts = h.timestamp_ms;
      rep.txs += c.block.txs.size();
      last_h = c.height;
      if (opts.progress && c.height % 100 == 0) opts.progress(c.height);
    }
  });

  // Signatures are checked over batches of several blocks at once: blocks
  // are often small, and one parallel pass per block left a core idle at
  // the tail of every block.
  constexpr size_t kBatchTxs = 2048;
  std::vector<Checked> batch;
  size_t batch_txs = 0;
  bool stop_scan = false;
  auto flush = [&]() {
    std::vector<std::pair<size_t, size_t>> work;  // (block in batch, tx index)
    work.reserve(batch_txs);
    for (size_t b = 0; b < batch.size(); ++b) {
      auto& c = batch[b];
      c.ids.resize(c.block.txs.size());
      c.sig_ok.resize(c.block.txs.size());
      for (size_t i = 0; i < c.block.txs.size(); ++i) work.emplace_back(b, i);
    }
    std::vector<std::vector<uint8_t>> index_ok(batch.size());
    for (size_t b = 0; b < batch.size(); ++b) index_ok[b].resize(batch[b].block.txs.size());
    ParallelFor(work.size(), threads, [&](size_t w) {
      auto [b, i] = work[w];
      Checked& c = batch[b];
      c.ids[i] = c.block.txs[i].Id();
      c.sig_ok[i] = c.block.txs[i].VerifySignature();
      auto loc = store->FindTx(c.ids[i]);
      index_ok[b][i] = loc.ok() && loc->has_value() && (*loc)->height == c.height && (*loc)->index == i;
    });
    for (size_t b = 0; b < batch.size(); ++b) {
      Checked& c = batch[b];
      if (c.error.empty()) {
        const auto& h = c.block.header;
        if (h.tx_count != c.block.txs.size()) c.error = "transaction count mismatch";
        else if (h.tx_root != model::MerkleRoot(c.ids)) c.error = "Merkle root of transactions does not match";
        else if (h.results_root != model::ResultsRoot(c.block.results)) c.error = "results root does not match the verdicts";
        else if (!crypto::Verify(h.proposer, h.SigningBytes(), h.proposer_sig)) c.error = "proposer signature does not verify";
      }
      if (c.error.empty()) {
        for (size_t i = 0; i < c.ids.size(); ++i) {
          if (!index_ok[b][i]) {
            c.error = "transaction index entry for transaction " + std::to_string(i) + " is missing or wrong";
            break;
          }
        }
      }
      bool bad = !c.error.empty();
      pipe.Push(std::move(c));
      if (bad) {
        stop_scan = true;
        break;
      }
    }
    batch.clear();
    batch_txs = 0;
  };

  // Stage 0 (reader thread): read and decode blocks, so the signature
  // workers never wait for RocksDB or the decoder.
  Pipe decoded(64);
  uint64_t expect = 1;
  Status scan = Status::Ok();
  std::thread reader([&] {
    scan = store->ForEachBlock(1, [&](uint64_t height, const Bytes& bytes) {
      if (pipe.aborted()) return false;
      Checked c;
      c.height = height;
      if (height != expect) {
        c.error = "block " + std::to_string(expect) + " is missing";
        c.height = expect;
        decoded.Push(std::move(c));
        return false;
      }
      expect++;
      auto b = model::DecodeBlock(bytes);
      if (!b.ok()) {
        c.error = "block does not decode: " + b.status().message();
        decoded.Push(std::move(c));
        return false;
      }
      c.block = std::move(*b);
      c.hash = c.block.header.Hash();
      if (c.block.header.height != height)
        c.error = "block stored at height " + std::to_string(height) + " says it is " + std::to_string(c.block.header.height);
      bool bad = !c.error.empty();
      decoded.Push(std::move(c));
      return !bad;
    });
    Checked end;
    end.end = true;
    decoded.Push(std::move(end));
  });
  for (;;) {
    Checked c = decoded.Pop();
    if (c.end) break;
    if (stop_scan || pipe.aborted()) continue;  // drain until the reader ends
    if (!c.error.empty() && c.block.txs.empty()) {
      flush();
      if (!stop_scan) pipe.Push(std::move(c));
      stop_scan = true;
      continue;
    }
    batch_txs += c.block.txs.size();
    batch.push_back(std::move(c));
    if (batch_txs >= kBatchTxs) flush();
  }
  if (!stop_scan && !pipe.aborted()) flush();
  decoded.Abort();
  reader.join();
  Checked end;
  end.end = true;
  pipe.Push(std::move(end));
  executor_thread.join();
  if (finding) return *finding;
  if (!scan.ok()) return fail(expect, "cannot read block: " + scan.message());

  // The chain replayed cleanly; now the stored summary and state must match it.
  rep.height = last_h;
  if (meta.height != last_h) return fail(meta.height, "chain metadata says height " + std::to_string(meta.height) + " but blocks end at " + std::to_string(last_h));
  if (meta.last_block_hash != prev_hash) return fail(last_h, "chain metadata's last block hash does not match");
  if (meta.state_root != root) return fail(last_h, "chain metadata's state root does not match");
  if (meta.committed_txs != rep.valid_txs) return fail(last_h, "chain metadata's committed transaction count does not match");
  // Stored state vs replayed state, key by key.
  std::optional<std::string> state_problem;
  const auto& replayed = st.entries();
  auto it = replayed.begin();
  size_t i = 0;
  Status ss = store->ScanState("", [&](std::string_view k, std::string_view v) {
    if (it == replayed.end() || it->first != k) {
      state_problem = "stored state has an unexpected or missing key";
      return false;
    }
    if (AsStringView(it->second) != v) {
      state_problem = "stored state value differs from the replayed state";
      return false;
    }
    ++it;
    ++i;
    return true;
  });
  if (!ss.ok()) return ss;
  if (!state_problem && i != replayed.size()) state_problem = "stored state is missing keys";
  if (state_problem) return fail(last_h, *state_problem);
  rep.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return rep;
}

}  // namespace medledger::node
