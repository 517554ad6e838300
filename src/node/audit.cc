#include "node/audit.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "common/large_alloc.h"
#include "crypto/ed25519_batch.h"
#include "crypto/sha256.h"
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

// One block on its way through the audit. The reader fills everything above
// `next`; the signature workers fill ids and sig_ok in place; the replay
// takes the block once every item is done.
struct InFlight {
  uint64_t height = 0;
  Bytes bytes;  // the block as stored; spans point into it
  model::Block block;
  std::vector<model::TxSpan> spans;
  std::vector<Hash32> ids;
  std::vector<uint8_t> sig_ok;
  Hash32 hash{};
  bool proposer_ok = false;
  std::string error;  // a problem found before replay (read, decode, height)
  // Work items: one per transaction, plus one for the header (hash and
  // proposer signature). Guarded by Audit::mu_.
  size_t items = 0;
  size_t next = 0;
  size_t done = 0;
  bool complete() const { return done == items; }
};

// Ed25519 verification is most of the audit's work, so the pipeline is
// built to keep every core verifying all the time:
//   reader thread: reads and decodes blocks ahead (bounded),
//   `threads` workers: hash and verify signatures in place, one batch of 64
//     at a time, taken from the oldest block with work left, so no core
//     waits at the tail of a block,
//   the calling thread: replays completed blocks in height order.
// The reader and the replay are light; they share the cores with the workers.
class Pipeline {
 public:
  explicit Pipeline(int workers) {
    for (int i = 0; i < workers; ++i) workers_.emplace_back([this] { Work(); });
  }
  ~Pipeline() { Stop(); }

  // Reader side. Blocks while too much is in flight; false once stopped.
  bool Push(std::unique_ptr<InFlight> b) {
    std::unique_lock l(mu_);
    room_cv_.wait(l, [&] { return stop_ || (q_.size() < kMaxBlocks && in_flight_txs_ < kMaxTxs); });
    if (stop_) return false;
    in_flight_txs_ += b->block.txs.size();
    bool has_work = b->next < b->items;
    q_.push_back(std::move(b));
    if (has_work) work_cv_.notify_all();
    if (q_.front()->complete()) done_cv_.notify_one();
    return true;
  }

  // Replay side: the next block in order once all its items are done, or
  // null after the reader's last block (Finish) or Stop.
  std::unique_ptr<InFlight> Pop() {
    std::unique_lock l(mu_);
    done_cv_.wait(l, [&] { return stop_ || (!q_.empty() && q_.front()->complete()) || (finished_ && q_.empty()); });
    if (q_.empty() || !q_.front()->complete()) return nullptr;
    auto b = std::move(q_.front());
    q_.pop_front();
    in_flight_txs_ -= b->block.txs.size();
    room_cv_.notify_one();
    return b;
  }

  // A block's worth of buffers, recycled: the replay hands back each block
  // it is done with and the reader decodes the next one into it, so the
  // audit does not allocate, fault in and free ~330 MB of blocks and
  // transactions over a 1M-transaction chain (that was ~2% of its CPU).
  std::unique_ptr<InFlight> Take() {
    std::lock_guard l(mu_);
    if (pool_.empty()) return std::make_unique<InFlight>();
    auto b = std::move(pool_.back());
    pool_.pop_back();
    return b;
  }
  void Recycle(std::unique_ptr<InFlight> b) {
    b->error.clear();
    b->proposer_ok = false;
    b->items = b->next = b->done = 0;
    std::lock_guard l(mu_);
    pool_.push_back(std::move(b));
  }

  void Finish() {  // the reader pushed its last block
    std::lock_guard l(mu_);
    finished_ = true;
    done_cv_.notify_all();
  }

  void Stop() {
    {
      std::lock_guard l(mu_);
      stop_ = true;
      room_cv_.notify_all();
      work_cv_.notify_all();
      done_cv_.notify_all();
    }
    for (auto& t : workers_)
      if (t.joinable()) t.join();
  }

  bool stopped() {
    std::lock_guard l(mu_);
    return stop_;
  }

 private:
  // One verification batch per chunk (crypto/ed25519_batch.h): about 1 ms
  // of work, long enough that the lock is noise, short enough that all
  // cores finish a block together.
  static constexpr size_t kChunk = 64;
  static constexpr size_t kMaxBlocks = 256;
  static constexpr size_t kMaxTxs = 32768;

  void Work() {
    for (;;) {
      InFlight* b = nullptr;
      size_t from = 0, to = 0;
      {
        std::unique_lock l(mu_);
        work_cv_.wait(l, [&] {
          if (stop_) return true;
          for (auto& q : q_)
            if (q->next < q->items) return true;
          return false;
        });
        if (stop_) return;
        for (auto& q : q_) {
          if (q->next < q->items) {
            b = q.get();
            break;
          }
        }
        from = b->next;
        to = std::min(b->items, from + kChunk);
        b->next = to;
      }
      CheckRange(*b, from, to);
      std::lock_guard l(mu_);
      b->done += to - from;
      if (b->complete() && q_.front().get() == b) done_cv_.notify_one();
    }
  }

  // Hashes and verifies items [from, to) of a block in place, the
  // transactions' signatures as one batch (crypto::VerifyMany, which gives
  // each signature the same verdict as checking it alone).
  static void CheckRange(InFlight& b, size_t from, size_t to) {
    thread_local std::vector<crypto::SigItem> items;
    items.clear();
    const size_t ntx = b.block.txs.size();
    const size_t end = std::min(to, ntx);
    for (size_t i = from; i < end; ++i) {
      // The signing bytes are hashed and verified where they lie in the block.
      const uint8_t* p = b.bytes.data() + b.spans[i].offset;
      size_t n = b.spans[i].signing_len;
      const model::Transaction& tx = b.block.txs[i];
      b.ids[i] = crypto::Sha256(p, n);
      items.push_back({tx.signer.data(), p, n, tx.signature.data()});
    }
    crypto::VerifyMany(items, b.sig_ok.data() + from);
    if (to > ntx) {  // the last item: the header's hash and proposer signature
      Bytes hb = b.block.header.SigningBytes();
      b.hash = crypto::Sha256(hb);
      b.proposer_ok = crypto::Verify(b.block.header.proposer, hb, b.block.header.proposer_sig);
    }
  }

  std::mutex mu_;
  std::condition_variable room_cv_, work_cv_, done_cv_;
  std::deque<std::unique_ptr<InFlight>> q_;
  std::vector<std::unique_ptr<InFlight>> pool_;
  size_t in_flight_txs_ = 0;
  bool finished_ = false;
  bool stop_ = false;
  std::vector<std::thread> workers_;
};

// What the tx index must hold for one transaction. A transaction id seen in
// two blocks (the later copy rejected as a replay) is indexed at its last
// occurrence, since the store overwrites.
struct IndexEntry {
  Hash32 id;
  uint64_t height;
  uint32_t index;
};

struct Finding {
  uint64_t height;
  std::string what;
};

struct IndexFindings {
  std::optional<Finding> in_chain;  // about a block the replay got through
  std::optional<Finding> past_end;  // an entry naming a block after the last one
};

// Compares the whole tx index with the entries the replay expects, in one
// ordered pass: one sequential scan instead of a random lookup per
// transaction. `want` covers blocks 1 .. replayed_to - 1. If the replay
// stopped early, entries that point at or beyond where it stopped cannot be
// judged and are skipped; if it reached the end, every entry must be wanted.
IndexFindings CheckTxIndex(const ledger::Store& store, std::vector<IndexEntry, LargeAllocator<IndexEntry>>& want,
                           uint64_t replayed_to, bool replay_complete) {
  std::sort(want.begin(), want.end(), [](const IndexEntry& a, const IndexEntry& b) {
    if (a.id != b.id) return a.id < b.id;
    return a.height != b.height ? a.height < b.height : a.index < b.index;
  });
  IndexFindings out;
  auto note = [](std::optional<Finding>& f, uint64_t h, std::string what) {
    if (!f || h < f->height) f = Finding{h, std::move(what)};
  };
  auto missing = [&](const IndexEntry& e) {
    note(out.in_chain, e.height, "transaction index entry for transaction " + std::to_string(e.index) + " is missing or wrong");
  };
  size_t j = 0;
  auto last_of = [&](size_t k) {  // the last occurrence of want[k].id
    while (k + 1 < want.size() && want[k + 1].id == want[k].id) ++k;
    return k;
  };
  Status s = store.ForEachTx([&](const Hash32& id, const ledger::TxLocation& loc) {
    while (j < want.size() && want[j].id < id) {
      j = last_of(j);
      missing(want[j]);
      ++j;
    }
    bool judged = replay_complete || loc.height < replayed_to;
    if (j < want.size() && want[j].id == id) {
      j = last_of(j);
      if (judged && (loc.height != want[j].height || loc.index != want[j].index)) missing(want[j]);
      ++j;
    } else if (loc.height < replayed_to) {
      note(out.in_chain, loc.height, "transaction index has an entry for a transaction that is not in this block");
    } else if (replay_complete) {
      note(out.past_end, loc.height, "transaction index has an entry for a block after the last one");
    }
    return true;
  });
  if (!s.ok()) note(out.in_chain, replayed_to > 0 ? replayed_to - 1 : 0, "transaction index unreadable: " + s.message());
  for (; j < want.size(); ++j) {
    j = last_of(j);
    missing(want[j]);
  }
  return out;
}

// Checks stored state entries against the replayed state. Entries are
// copied out of the scan in batches and looked up together
// (MemState::FindMany): one at a time, each lookup waited on two cache
// misses, and they were a third of the audit's tail.
class StateComparer {
 public:
  explicit StateComparer(const state::MemState& st) : st_(st) {}

  // False once a difference is found (in `problem`).
  bool Add(std::string_view k, std::string_view v) {
    entries_.push_back({buf_.size(), k.size(), v.size()});
    buf_.append(k).append(v);
    return entries_.size() < kBatch || Flush();
  }

  bool Flush() {
    const size_t n = entries_.size();
    keys_.resize(n);
    found_.resize(n);
    for (size_t i = 0; i < n; ++i) keys_[i] = std::string_view(buf_).substr(entries_[i].off, entries_[i].klen);
    st_.FindMany(keys_.data(), n, found_.data());
    for (size_t i = 0; i < n && !problem; ++i) {
      if (!found_[i]) {
        problem = "stored state has an unexpected or missing key";
      } else if (*found_[i] != std::string_view(buf_).substr(entries_[i].off + entries_[i].klen, entries_[i].vlen)) {
        problem = "stored state value differs from the replayed state";
      } else {
        ++matched;
      }
    }
    entries_.clear();
    buf_.clear();
    return !problem;
  }

  std::optional<std::string> problem;
  size_t matched = 0;

 private:
  static constexpr size_t kBatch = 256;
  struct Stored {
    size_t off, klen, vlen;
  };
  const state::MemState& st_;
  std::string buf_;
  std::vector<Stored> entries_;
  std::vector<std::string_view> keys_;
  std::vector<std::optional<std::string_view>> found_;
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

  // The reader and the signature workers start first: they need nothing
  // from the replay state, so its set-up overlaps their work.
  Pipeline pipe(threads);
  uint64_t expect = 1;
  Status scan = Status::Ok();
  std::thread reader([&] {
    scan = store->ForEachBlock(1, [&](uint64_t height, std::span<const uint8_t> bytes) {
      auto c = pipe.Take();
      c->height = height;
      if (height != expect) {
        c->error = "block " + std::to_string(expect) + " is missing";
        c->height = expect;
        pipe.Push(std::move(c));
        return false;
      }
      expect++;
      c->bytes.assign(bytes.begin(), bytes.end());
      if (Status d = model::DecodeBlockInto(c->bytes.data(), c->bytes.size(), &c->block, &c->spans); !d.ok()) {
        c->error = "block does not decode: " + d.message();
        pipe.Push(std::move(c));
        return false;
      }
      if (c->block.header.height != height) {
        c->error = "block stored at height " + std::to_string(height) + " says it is " +
                   std::to_string(c->block.header.height);
        pipe.Push(std::move(c));
        return false;
      }
      size_t n = c->block.txs.size();
      c->ids.resize(n);
      c->sig_ok.resize(n);
      c->items = n + 1;
      return pipe.Push(std::move(c));
    });
    pipe.Finish();
  });

  state::MemState st;
  // A size hint only: most transactions write one new key.
  st.Reserve(meta.committed_txs + genesis->writes.size() + 1024);
  st.Apply(genesis->writes);
  auto exec = MakeExecutor();
  state::ReplayGuard replay(genesis->params.max_expiry_window);
  // The window holds at most max_expiry_window blocks of ids (every id of a
  // young chain); sized once rather than regrown through the replay.
  replay.Reserve(std::min<uint64_t>(meta.committed_txs, genesis->params.max_expiry_window *
                                                           uint64_t(genesis->params.max_txs_per_block)) + 1024);
  Hash32 prev_hash = genesis->block.header.Hash();
  Hash32 root = genesis->block.header.state_root;
  uint64_t prev_ts = genesis->block.header.timestamp_ms;
  // Signer records carried across blocks: the replay applies every block it
  // executes and stops at the first bad one, as Execute requires.
  state::Executor::SignerCache signers;
  std::vector<IndexEntry, LargeAllocator<IndexEntry>> want_index;  // ~48 bytes a transaction
  want_index.reserve(meta.committed_txs + 1024);

  // The replay, in height order, on this thread.
  std::optional<Finding> finding;
  uint64_t last_h = 0;
  for (;;) {
    auto c = pipe.Pop();
    if (!c) break;
    auto report = [&](std::string what) { finding = Finding{c->height, std::move(what)}; };
    if (!c->error.empty()) {
      report(c->error);
      break;
    }
    const auto& h = c->block.header;
    if (h.tx_count != c->block.txs.size()) { report("transaction count mismatch"); break; }
    if (h.tx_root != model::MerkleRoot(c->ids)) { report("Merkle root of transactions does not match"); break; }
    if (h.results_root != model::ResultsRoot(c->block.results)) { report("results root does not match the verdicts"); break; }
    if (!c->proposer_ok) { report("proposer signature does not verify"); break; }
    if (h.prev_hash != prev_hash) { report("previous block hash does not match block " + std::to_string(c->height - 1)); break; }
    if (h.timestamp_ms < prev_ts) { report("timestamp goes backwards"); break; }
    auto prop = state::LoadIdentity(st, h.proposer);
    if (!prop || !prop->Has(model::kRoleNode) || !prop->active()) { report("proposer is not an active node key"); break; }
    if (auto org = state::LoadOrg(st, prop->org); !org || !org->active) {
      report("proposer's organisation '" + prop->org + "' is not an active member");
      break;
    }
    replay.Prefetch(c->ids);
    auto ex = exec->Execute(st, root, c->height, h.timestamp_ms, c->block.txs, c->ids, c->sig_ok, replay, signers);
    bool bad = false;
    uint64_t valid = 0;
    for (size_t i = 0; i < c->block.txs.size(); ++i) {
      if (ex.verdicts[i].reason != c->block.results[i].reason) {
        report("transaction " + std::to_string(i) + " (" + ToHex(c->ids[i]) + "): block records " +
               model::RejectName(c->block.results[i].reason) + ", replay gives " +
               model::RejectName(ex.verdicts[i].reason) +
               (ex.verdicts[i].ok() ? "" : " (" + ex.verdicts[i].detail + ")"));
        bad = true;
        break;
      }
      if (ex.verdicts[i].ok()) valid++;
    }
    if (bad) break;
    if (ex.state_root != h.state_root) { report("state root does not match the replayed state transition"); break; }
    st.Apply(ex.writes);
    replay.AddBlock(c->height, c->ids);
    for (size_t i = 0; i < c->ids.size(); ++i) want_index.push_back(IndexEntry{c->ids[i], c->height, uint32_t(i)});
    root = ex.state_root;
    prev_hash = c->hash;
    prev_ts = h.timestamp_ms;
    rep.valid_txs += valid;
    rep.txs += c->block.txs.size();
    last_h = c->height;
    if (opts.progress && c->height % 100 == 0) opts.progress(c->height);
    pipe.Recycle(std::move(c));
  }
  pipe.Stop();
  reader.join();

  // The tx index is checked for every block the replay got through; a bad
  // entry in an earlier block is the first problem, even if the replay
  // stopped later. It runs on its own thread while this one compares the
  // stored state, so the tail of the audit also uses two cores.
  uint64_t replayed_to = finding ? finding->height : last_h + 1;
  bool replay_complete = !finding && scan.ok();
  IndexFindings index;
  std::thread index_thread([&] { index = CheckTxIndex(*store, want_index, replayed_to, replay_complete); });

  // Stored state vs replayed state, key by key: every stored key must be a
  // replayed key with the same value, and the counts must agree.
  std::optional<std::string> state_problem;
  Status ss = Status::Ok();
  if (replay_complete) {
    StateComparer cmp(st);
    ss = store->ScanState("", [&](std::string_view k, std::string_view v) { return cmp.Add(k, v); });
    if (ss.ok()) cmp.Flush();
    state_problem = cmp.problem;
    if (ss.ok() && !state_problem && cmp.matched != st.size()) state_problem = "stored state is missing keys";
  }
  index_thread.join();

  if (index.in_chain && (!finding || index.in_chain->height < finding->height)) finding = index.in_chain;
  if (finding) return fail(finding->height, finding->what);
  if (!scan.ok()) return fail(expect, "cannot read block: " + scan.message());
  // The chain replayed cleanly; now the stored summary and state must match it.
  rep.height = last_h;
  if (meta.height != last_h) return fail(meta.height, "chain metadata says height " + std::to_string(meta.height) + " but blocks end at " + std::to_string(last_h));
  if (meta.last_block_hash != prev_hash) return fail(last_h, "chain metadata's last block hash does not match");
  if (meta.state_root != root) return fail(last_h, "chain metadata's state root does not match");
  if (meta.committed_txs != rep.valid_txs) return fail(last_h, "chain metadata's committed transaction count does not match");
  if (index.past_end) return fail(index.past_end->height, index.past_end->what);
  if (!ss.ok()) return ss;
  if (state_problem) return fail(last_h, *state_problem);
  rep.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return rep;
}

}  // namespace medledger::node
