// Micro-benchmarks of the ledger core's hot paths: Ed25519 sign and verify,
// transaction encode/decode, Merkle roots, and a full block commit (execute,
// encode, fsync'd RocksDB write). Run: build/bench/core_bench
#include <benchmark/benchmark.h>

#include <filesystem>

#include "crypto/ed25519_batch.h"
#include "crypto/sha256.h"
#include "model/block.h"
#include "model/merkle.h"
#include "model/transaction.h"
#include "model/tx_json.h"
#include "model/tx_types.h"
#include "node/chain.h"
#include "node/orderer.h"
#include "state/genesis.h"

namespace ml = medledger;

static ml::model::Transaction SampleTx(const ml::crypto::KeyPair& k, uint64_t i, uint64_t expiry = 1000) {
  auto t = ml::model::MakeTransaction(
      "bench", k, ml::model::tx::kAnchorPut,
      {{"hash", ml::ToHex(ml::crypto::Sha256("doc" + std::to_string(i)))}, {"tag", "bench"}}, i, expiry);
  return *t;
}

static void BM_Sign(benchmark::State& st) {
  auto k = ml::crypto::KeyPair::Generate();
  ml::Bytes msg(200, 7);
  for (auto _ : st) benchmark::DoNotOptimize(k.Sign(msg));
}
BENCHMARK(BM_Sign);

static void BM_Verify(benchmark::State& st) {
  auto k = ml::crypto::KeyPair::Generate();
  ml::Bytes msg(200, 7);
  auto sig = k.Sign(msg);
  for (auto _ : st) benchmark::DoNotOptimize(ml::crypto::Verify(k.public_key(), msg, sig));
}
BENCHMARK(BM_Verify)->Threads(1)->Threads(2)->UseRealTime();

// Batch verification (crypto/ed25519_batch.h) of 256 signatures by 16 keys,
// per signature: compare with BM_Verify in the same run.
static void BM_VerifyBatch(benchmark::State& st) {
  std::vector<ml::crypto::KeyPair> keys;
  for (int i = 0; i < 16; ++i) keys.push_back(ml::crypto::KeyPair::Generate());
  std::vector<ml::Bytes> msgs;
  std::vector<ml::crypto::Signature> sigs;
  for (int i = 0; i < 256; ++i) {
    msgs.push_back(ml::Bytes(200, uint8_t(i)));
    sigs.push_back(keys[i % 16].Sign(msgs.back()));
  }
  std::vector<ml::crypto::SigItem> items;
  for (int i = 0; i < 256; ++i)
    items.push_back({keys[i % 16].public_key().data(), msgs[i].data(), msgs[i].size(), sigs[i].data()});
  std::vector<uint8_t> ok(items.size());
  for (auto _ : st) {
    ml::crypto::VerifyMany(items, ok.data());
    benchmark::DoNotOptimize(ok.data());
  }
  st.SetItemsProcessed(int64_t(st.iterations()) * int64_t(items.size()));
}
BENCHMARK(BM_VerifyBatch)->Threads(1)->Threads(2)->UseRealTime();

// What invalid signatures cost: one alone (libsodium rejects it, then the
// cofactored check decides), and 256 in batches where every fourth is bad
// (each batch fails and is re-checked one by one). Per signature.
static void BM_VerifyInvalid(benchmark::State& st) {
  auto k = ml::crypto::KeyPair::Generate();
  ml::Bytes msg(200, 7);
  auto sig = k.Sign(msg);
  sig[40] ^= 1;
  for (auto _ : st) benchmark::DoNotOptimize(ml::crypto::Verify(k.public_key(), msg, sig));
}
BENCHMARK(BM_VerifyInvalid);

static void BM_VerifyBatchQuarterInvalid(benchmark::State& st) {
  auto k = ml::crypto::KeyPair::Generate();
  std::vector<ml::Bytes> msgs;
  std::vector<ml::crypto::Signature> sigs;
  for (int i = 0; i < 256; ++i) {
    msgs.push_back(ml::Bytes(200, uint8_t(i)));
    sigs.push_back(k.Sign(msgs.back()));
    if (i % 4 == 0) sigs.back()[40] ^= 1;
  }
  std::vector<ml::crypto::SigItem> items;
  for (int i = 0; i < 256; ++i) items.push_back({k.public_key().data(), msgs[i].data(), msgs[i].size(), sigs[i].data()});
  std::vector<uint8_t> ok(items.size());
  for (auto _ : st) {
    ml::crypto::VerifyMany(items, ok.data());
    benchmark::DoNotOptimize(ok.data());
  }
  st.SetItemsProcessed(int64_t(st.iterations()) * int64_t(items.size()));
}
BENCHMARK(BM_VerifyBatchQuarterInvalid);

static void BM_TxVerifySignature(benchmark::State& st) {
  auto tx = SampleTx(ml::crypto::KeyPair::Generate(), 1);
  for (auto _ : st) benchmark::DoNotOptimize(tx.VerifySignature());
}
BENCHMARK(BM_TxVerifySignature);

static void BM_TxEncode(benchmark::State& st) {
  auto tx = SampleTx(ml::crypto::KeyPair::Generate(), 1);
  for (auto _ : st) benchmark::DoNotOptimize(tx.Encode());
}
BENCHMARK(BM_TxEncode);

static void BM_TxDecode(benchmark::State& st) {
  auto bytes = SampleTx(ml::crypto::KeyPair::Generate(), 1).Encode();
  for (auto _ : st) benchmark::DoNotOptimize(ml::model::DecodeTransaction(bytes));
  st.SetBytesProcessed(int64_t(st.iterations() * bytes.size()));
}
BENCHMARK(BM_TxDecode);

static void BM_TxId(benchmark::State& st) {
  auto tx = SampleTx(ml::crypto::KeyPair::Generate(), 1);
  for (auto _ : st) benchmark::DoNotOptimize(tx.Id());
}
BENCHMARK(BM_TxId);

static void BM_TxJsonRoundTrip(benchmark::State& st) {
  auto tx = SampleTx(ml::crypto::KeyPair::Generate(), 1);
  for (auto _ : st) benchmark::DoNotOptimize(ml::model::TxFromJson(ml::model::TxToJson(tx)));
}
BENCHMARK(BM_TxJsonRoundTrip);

static void BM_MerkleRoot(benchmark::State& st) {
  std::vector<ml::Hash32> leaves;
  for (int64_t i = 0; i < st.range(0); ++i) leaves.push_back(ml::crypto::Sha256(std::to_string(i)));
  for (auto _ : st) benchmark::DoNotOptimize(ml::model::MerkleRoot(leaves));
  st.SetItemsProcessed(st.iterations() * st.range(0));
}
BENCHMARK(BM_MerkleRoot)->Arg(1000)->Arg(5000);

// Execute + encode + durable commit of a block of N anchor transactions on a
// real RocksDB store with fsync, signatures already checked (as at admission).
static void BM_BlockCommit(benchmark::State& st) {
  namespace fs = std::filesystem;
  std::string dir = (fs::temp_directory_path() / ("mlbench-" + std::to_string(::getpid()))).string();
  fs::remove_all(dir);
  auto admin = ml::crypto::KeyPair::Generate();
  auto node_key = ml::crypto::KeyPair::Generate();
  auto doc = ml::state::DevGenesisDoc("bench", admin.public_key(), node_key.public_key(), 0);
  if (!ml::node::Chain::Init(dir, doc).ok()) return st.SkipWithError("init failed");
  auto chain = ml::node::Chain::Open(dir, {});
  if (!chain.ok()) return st.SkipWithError("open failed");
  uint64_t i = 0;
  const int64_t n = st.range(0);
  for (auto _ : st) {
    st.PauseTiming();
    std::vector<ml::model::Transaction> txs;
    std::vector<ml::Hash32> ids;
    for (int64_t k = 0; k < n; ++k) {
      // Within the expiry window, or every transaction would be rejected
      // and the benchmark would time commits without state writes.
      txs.push_back(SampleTx(admin, i++, (*chain)->Meta().height + 100));
      ids.push_back(txs.back().Id());
    }
    st.ResumeTiming();
    auto b = (*chain)->ProduceBlock(txs, ids, node_key, ml::node::NowMs());
    if (!b.ok()) return st.SkipWithError(b.status().ToString().c_str());
    for (const auto& r : b->results)
      if (!r.ok()) return st.SkipWithError("a sample transaction was rejected");
  }
  st.SetItemsProcessed(st.iterations() * n);
  chain->reset();
  fs::remove_all(dir);
}
BENCHMARK(BM_BlockCommit)->Arg(100)->Arg(1000)->Unit(benchmark::kMillisecond)->UseRealTime();

BENCHMARK_MAIN();
