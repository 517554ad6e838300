// `medledger bench`: a load generator. It registers its own signing
// identities with the chain's admin key, signs every transaction before the
// timed phase, then submits them in binary batches over several connections
// and waits for each batch to commit (POST /v1/txs?wait=1), so the latency
// it reports is submission-to-durable-commit. `committed` is read from the
// node's own committed_txs counter, never counted by the client.
// batch_verify_tps is this machine's rate of the batch Ed25519 verification
// the node itself uses (crypto/ed25519_batch.h), measured in the same run
// with as many threads as the node verifies with: the node's floor cost per
// transaction, so tps_over_batch_verify is the ratio to read first, and it
// does not depend on how busy the host is. verify_tps is the raw rate of
// libsodium's one-signature-at-a-time check, the yardstick of the original
// targets (tps_over_verify).
// If the node stops answering during a run, bench says so on stderr and
// exits 8 (unavailable, cli/exit_codes.h).
#include <sodium.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <functional>
#include <iostream>
#include <mutex>
#include <thread>

#include "cli/api_client.h"
#include "cli/commands.h"
#include "crypto/ed25519_batch.h"
#include "crypto/keyfile.h"
#include "crypto/sha256.h"
#include "model/tx_json.h"
#include "model/tx_types.h"
#include "node/parallel.h"

namespace medledger::cli {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

// Runs `step` (which verifies some signatures and returns how many) on
// `threads` threads for `seconds`, over a sample of up to 4,096 of the
// transactions, encoded beforehand; returns signatures per second.
using VerifyStep = std::function<size_t(const std::vector<model::Transaction>& txs,
                                        const std::vector<Bytes>& signing, size_t at)>;
double MeasureRate(const std::vector<model::Transaction>& all, int threads, double seconds, const VerifyStep& step) {
  std::vector<model::Transaction> txs(all.begin(), all.begin() + std::min<size_t>(all.size(), 4096));
  std::vector<Bytes> signing;
  for (const auto& tx : txs) signing.push_back(tx.SigningBytes());
  std::atomic<uint64_t> done{0};
  std::atomic<bool> stop{false};
  std::vector<std::thread> pool;
  auto t0 = Clock::now();
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      size_t i = size_t(t) * 7919 % txs.size();
      uint64_t n = 0;
      while (!stop.load(std::memory_order_relaxed)) {
        size_t k = step(txs, signing, i);
        n += k;
        i = (i + k) % txs.size();
      }
      done += n;
    });
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  stop = true;
  for (auto& th : pool) th.join();
  double el = std::chrono::duration<double>(Clock::now() - t0).count();
  return double(done) / el;
}

}  // namespace

double MeasureVerifyRate(const std::vector<model::Transaction>& txs, int threads, double seconds) {
  // The raw rate: libsodium's own check, one signature at a time.
  return MeasureRate(txs, threads, seconds, [](const auto& txs, const auto& signing, size_t i) -> size_t {
    if (crypto_sign_verify_detached(txs[i].signature.data(), signing[i].data(), signing[i].size(),
                                    txs[i].signer.data()) != 0)
      std::abort();
    return 1;
  });
}

double MeasureBatchVerifyRate(const std::vector<model::Transaction>& txs, int threads, double seconds) {
  // medledger's own: batches of 64 through crypto::VerifyMany, as the node
  // verifies a submitted batch (crypto/ed25519_batch.h).
  return MeasureRate(txs, threads, seconds, [](const auto& txs, const auto& signing, size_t i) -> size_t {
    std::vector<crypto::SigItem> items;
    for (size_t k = i; k < std::min(txs.size(), i + 64); ++k)
      items.push_back({txs[k].signer.data(), signing[k].data(), signing[k].size(), txs[k].signature.data()});
    uint8_t ok[64];
    crypto::VerifyMany(items, ok);
    for (size_t k = 0; k < items.size(); ++k)
      if (!ok[k]) std::abort();
    return items.size();
  });
}

namespace {

// The node's status during a run. A node that stopped answering (it died,
// or it is wedged) ends the run with exit 8 and one line saying when.
Result<json> NodeStatus(ApiClient& api, const char* when) {
  auto st = api.Status();
  if (!st.ok())
    return Unavailable(std::string("the node stopped answering ") + when + ": " + st.status().message());
  if (!st->is_object() || !st->contains("committed_txs") || !(*st)["committed_txs"].is_number_unsigned())
    return Internal(std::string("the node's status ") + when + " has no committed_txs");
  return st;
}

double Percentile(std::vector<double>& v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t idx = std::min(v.size() - 1, size_t(p * double(v.size() - 1) + 0.5));
  return v[idx];
}

void RunBench(const std::string& url, const std::vector<std::string>& also_urls, const std::string& data_dir,
              uint64_t n, double rate, int conns, int batch, int signers, double verify_seconds) {
  auto admin = crypto::ReadKeyFile(data_dir + "/keys/admin.key");
  if (!admin.ok()) return Fail("bench needs the chain's admin key: " + admin.status().message());
  ApiClient api(url);
  auto st = NodeStatus(api, "before the run");
  if (!st.ok()) return Fail(st.status());
  std::string chain_id = st->value("chain_id", "");
  uint64_t height = st->value("height", uint64_t(0));

  // 1. Identities to sign with, registered through the chain.
  std::vector<crypto::KeyPair> keys;
  std::vector<model::Transaction> regs;
  uint64_t nonce_base = uint64_t(Clock::now().time_since_epoch().count());
  for (int i = 0; i < signers; ++i) {
    keys.push_back(crypto::KeyPair::Generate());
    auto t = model::MakeTransaction(chain_id, *admin, model::tx::kIdentityRegister,
                                    {{"pubkey", keys.back().id()}, {"roles", {"practitioner"}}, {"label", "bench"}},
                                    nonce_base + i, height + 1000);
    if (!t.ok()) return Fail(t.status());
    regs.push_back(std::move(*t));
  }
  {
    Bytes body;
    ByteWriter w(&body);
    for (const auto& t : regs) w.Var(t.Encode());
    auto r = api.Raw("POST", "/v1/txs?wait=1", AsStringView(body), "application/octet-stream");
    if (!r.ok()) return Fail(r.status());
    json j = json::parse(r->body, nullptr, false);
    if (j.is_discarded() || j.value("committed", 0) != signers)
      return Fail("registering bench identities failed: " + r->body.substr(0, 300));
  }
  st = NodeStatus(api, "after registering the bench identities");
  if (!st.ok()) return Fail(st.status());
  height = st->value("height", uint64_t(0));
  // Expiry as far ahead as the chain allows: a long run spans many blocks.
  uint64_t window = st->value("params", json::object()).value("max_expiry_window", uint64_t(10000));

  // 2. Sign everything before the timed phase.
  std::cerr << "bench: signing " << n << " transactions..." << std::endl;
  std::vector<model::Transaction> txs(n);
  node::ParallelFor(n, node::DefaultThreads(), [&](size_t i) {
    const auto& k = keys[i % keys.size()];
    Hash32 h = crypto::Sha256("bench/" + std::to_string(nonce_base) + "/" + std::to_string(i));
    auto t = model::MakeTransaction(chain_id, k, model::tx::kAnchorPut, {{"hash", ToHex(h)}, {"tag", "bench"}},
                                    nonce_base + signers + i, height + window - 1);
    txs[i] = std::move(*t);
  });
  std::vector<std::string> bodies;
  for (size_t s = 0; s < n; s += size_t(batch)) {
    Bytes body;
    ByteWriter w(&body);
    for (size_t i = s; i < std::min<size_t>(n, s + size_t(batch)); ++i) w.Var(txs[i].Encode());
    bodies.emplace_back(AsStringView(body));
  }

  // 3. This machine's verify rate, same process, as many threads as the node.
  int threads = node::DefaultThreads();
  std::cerr << "bench: measuring Ed25519 verify rate on " << threads << " threads..." << std::endl;
  double verify_tps = MeasureVerifyRate(txs, threads, verify_seconds);
  double batch_verify_tps = MeasureBatchVerifyRate(txs, threads, verify_seconds);

  // 4. Load.
  auto before = NodeStatus(api, "before the load");
  if (!before.ok()) return Fail(before.status());
  uint64_t committed0 = (*before)["committed_txs"].get<uint64_t>();
  std::cerr << "bench: submitting " << bodies.size() << " batches of " << batch << " over " << conns
            << " connections" << (rate > 0 ? " at " + std::to_string(int(rate)) + " tx/s" : "") << std::endl;
  std::atomic<size_t> next{0};
  std::mutex lat_mu;
  std::vector<double> lat_ms;
  lat_ms.reserve(n);
  std::atomic<uint64_t> errors{0};
  std::string first_error;
  auto start = Clock::now();
  double batch_interval_s = rate > 0 ? double(batch) / rate : 0;  // time between batch starts, all connections
  std::vector<std::thread> workers;
  // Connection c goes to node c mod N: one generator, one verify baseline
  // and one latency distribution for a whole network.
  std::vector<std::string> urls{url};
  urls.insert(urls.end(), also_urls.begin(), also_urls.end());
  for (int c = 0; c < conns; ++c) {
    workers.emplace_back([&, c] {
      http::Client cl(urls[size_t(c) % urls.size()], std::chrono::seconds(120));
      for (;;) {
        size_t b = next.fetch_add(1);
        if (b >= bodies.size()) return;
        auto scheduled = start;
        if (rate > 0) {
          // Open loop: batch b is due at b * interval; latency counts from then,
          // so a slow node cannot hide its queueing (no coordinated omission).
          scheduled = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(double(b) * batch_interval_s));
          std::this_thread::sleep_until(scheduled);
        }
        auto t0 = rate > 0 ? scheduled : Clock::now();
        auto r = cl.Post("/v1/txs?wait_ms=60000", bodies[b], "application/octet-stream");
        double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
        size_t count = std::min<size_t>(n - b * size_t(batch), size_t(batch));
        if (!r.ok() || r->status != 200) {
          errors += count;
          std::lock_guard l(lat_mu);
          if (first_error.empty()) first_error = r.ok() ? r->body.substr(0, 200) : r.status().ToString();
          continue;
        }
        std::lock_guard l(lat_mu);
        for (size_t i = 0; i < count; ++i) lat_ms.push_back(ms);
      }
    });
  }
  for (auto& w : workers) w.join();
  double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  // Every batch was acknowledged by the node it was sent to; on a network the
  // node asked here may apply the last blocks a moment later.
  uint64_t want = committed0 + (n - errors.load());
  uint64_t now_committed = 0;
  for (auto until = Clock::now() + std::chrono::seconds(10);;) {
    auto after = NodeStatus(api, "after the load");
    if (!after.ok()) {
      if (!first_error.empty()) std::cerr << "bench: first error: " << first_error << std::endl;
      return Fail(after.status());
    }
    now_committed = (*after)["committed_txs"].get<uint64_t>();
    if (now_committed >= want || Clock::now() > until) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  uint64_t committed = now_committed - committed0;
  double tps = double(committed) / elapsed;
  json out = {{"txs", n},
              {"committed", committed},
              {"errors", errors.load()},
              {"seconds", elapsed},
              {"tps", tps},
              {"p50_ms", Percentile(lat_ms, 0.50)},
              {"p99_ms", Percentile(lat_ms, 0.99)},
              {"verify_tps", verify_tps},
              {"tps_over_verify", verify_tps > 0 ? tps / verify_tps : 0},
              {"batch_verify_tps", batch_verify_tps},
              {"tps_over_batch_verify", batch_verify_tps > 0 ? tps / batch_verify_tps : 0},
              {"threads", threads},
              {"connections", conns},
              {"nodes", urls.size()},
              {"batch", batch},
              {"rate", rate}};
  if (!first_error.empty()) std::cerr << "bench: first error: " << first_error << std::endl;
  std::cout << out.dump() << std::endl;
}

}  // namespace

void RegisterBenchCommand(CLI::App& app) {
  auto* cmd = app.add_subcommand("bench", "Load-test a node; prints one JSON line of results last");
  static std::string url, dir;
  static std::vector<std::string> also_urls;
  static uint64_t n = 100000;
  static double rate = 0, verify_seconds = 2.0;
  static int conns = 8, batch = 250, signers = 64;
  cmd->add_option("--url", url, "Node URL")->envname("MEDLEDGER_URL")->required();
  cmd->add_option("--also-url", also_urls,
                  "Other nodes of the same network (repeatable): connections are spread over all of them");
  cmd->add_option("--data-dir", dir, "The node's data directory (for keys/admin.key)")->required();
  cmd->add_option("--txs", n, "Transactions to submit")->check(CLI::Range(uint64_t(1), uint64_t(10000000)));
  cmd->add_option("--rate", rate, "Offered load in tx/s (default: as much as the node takes)");
  cmd->add_option("--connections", conns, "Concurrent connections")->check(CLI::Range(1, 256));
  cmd->add_option("--batch", batch, "Transactions per request")->check(CLI::Range(1, 10000));
  cmd->add_option("--signers", signers, "Distinct signing identities")->check(CLI::Range(1, 10000));
  cmd->add_option("--verify-seconds", verify_seconds, "How long to measure the verify rate");
  cmd->callback([] { RunBench(url, also_urls, dir, n, rate, conns, batch, signers, verify_seconds); });
}

}  // namespace medledger::cli
