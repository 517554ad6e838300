// `medledger claim bench` (bench/README.md, "Claims"; issue 16's target of
// 5,000 claims/s adjudicated through a Lua policy). On a development chain
// (one organisation, provider and insurer at once, whose admin key holds
// every role) it deploys the policy, registers patients, anchors their
// Encounters and the Claim records, and registers coverage, all before the
// timed phase. Then it posts the signed claims.submit transactions in binary
// batches over several connections and stops the clock once the node's
// committed_txs shows them all committed: each one ran the policy in its
// block. The baseline, measured in the same run, is the node's own floor:
// batch_verify_tps, the batch Ed25519 verification rate of this machine
// (as `medledger bench` prints it).
#include <CLI/CLI.hpp>
#include <atomic>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include "cli/api_client.h"
#include "cli/commands.h"
#include "crypto/aead.h"
#include "crypto/keyfile.h"
#include "crypto/sha256.h"
#include "model/tx_json.h"
#include "model/tx_types.h"

namespace medledger::cli {

double MeasureBatchVerifyRate(const std::vector<model::Transaction>& txs, int threads, double seconds);

using nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

struct BenchOpts {
  std::string url, data_dir, policy, plan = "gold";
  int claims = 20000, patients = 200, items = 3, connections = 4, batch = 500, signers = 8;
  double verify_seconds = 2;
};

std::string RandomHex(size_t bytes) {
  auto b = crypto::RandomArray<32>();
  return ToHex(b.data(), bytes);
}

// Posts binary batches (POST /v1/txs, waiting for their commit) over the
// connections; the error of the first failed batch, if any.
Status PostAll(const std::string& url, const std::vector<std::string>& bodies, int connections) {
  std::atomic<size_t> next{0};
  std::mutex mu;
  Status first = Status::Ok();
  std::vector<std::thread> workers;
  for (int c = 0; c < connections; ++c)
    workers.emplace_back([&] {
      http::Client cl(url, std::chrono::seconds(300));
      for (size_t b; (b = next.fetch_add(1)) < bodies.size();) {
        auto r = cl.Post("/v1/txs?wait_ms=120000", bodies[b], "application/octet-stream");
        json j = r.ok() ? json::parse(r->body, nullptr, false) : json();
        if (r.ok() && r->status == 200 && j.value("rejected", 1) == 0) continue;
        std::lock_guard l(mu);
        if (first.ok())
          first = Internal("a batch failed: " + (r.ok() ? r->body.substr(0, 300) : r.status().ToString()));
      }
    });
  for (auto& w : workers) w.join();
  return first;
}

std::vector<std::string> Batches(const std::vector<model::Transaction>& txs, size_t batch) {
  std::vector<std::string> bodies;
  for (size_t i = 0; i < txs.size(); i += batch) {
    Bytes body;
    ByteWriter w(&body);
    for (size_t j = i; j < std::min(txs.size(), i + batch); ++j) w.Var(txs[j].Encode());
    bodies.emplace_back(AsStringView(body));
  }
  return bodies;
}

void RunClaimBench(const BenchOpts& o) {
  auto admin = crypto::ReadKeyFile(o.data_dir + "/keys/admin.key");
  if (!admin.ok()) return Fail("claim bench needs the chain's admin key: " + admin.status().message());
  std::ifstream in(o.policy, std::ios::binary);
  if (!in) return Fail("cannot read the policy " + o.policy, Exit::kUsage);
  std::stringstream src;
  src << in.rdbuf();
  ApiClient api(o.url);
  auto st = api.Status();
  if (!st.ok()) return Fail(st.status());
  const std::string chain_id = st->value("chain_id", "");
  const std::string org = st->value("org", "dev");
  uint64_t nonce = uint64_t(Clock::now().time_since_epoch().count());
  auto make = [&](const crypto::KeyPair& k, uint16_t type, const json& p) {
    return model::MakeTransaction(chain_id, k, type, p, nonce++, st->value("height", uint64_t(0)) + 9000);
  };

  // 1. Untimed: the policy, the signers, the patients, their records and coverage.
  const std::string policy = "bench-" + RandomHex(6);
  auto d = api.Submit(*admin, model::tx::kContractDeploy, {{"proposal_id", RandomHex(16)}, {"name", policy}, {"source", src.str()}});
  if (!d.ok()) return Fail(d.status());
  std::vector<crypto::KeyPair> signers, patients;
  std::vector<model::Transaction> setup;
  for (int i = 0; i < o.signers; ++i) {
    signers.push_back(crypto::KeyPair::Generate());
    auto t = make(*admin, model::tx::kIdentityRegister, {{"pubkey", signers.back().id()}, {"roles", {"practitioner"}}, {"label", "bench"}});
    if (!t.ok()) return Fail(t.status());
    setup.push_back(std::move(*t));
  }
  for (int i = 0; i < o.patients; ++i) {
    patients.push_back(crypto::KeyPair::Generate());
    auto t = make(*admin, model::tx::kIdentityRegister, {{"pubkey", patients.back().id()}, {"roles", {"patient"}}});
    if (!t.ok()) return Fail(t.status());
    setup.push_back(std::move(*t));
  }
  if (Status s = PostAll(o.url, Batches(setup, size_t(o.batch)), o.connections); !s.ok()) return Fail(s);
  setup.clear();

  std::vector<std::string> pseudonyms, encounters, coverages;
  json anchors = json::array();
  auto flush = [&](bool force) -> Status {
    // 100 anchors keep a transaction under the payload limit, patient keys included.
    if (anchors.empty() || (!force && anchors.size() < 100)) return Status::Ok();
    ML_ASSIGN_OR_RETURN(auto t, make(*admin, model::tx::kRecordAnchorBatch, {{"anchors", anchors}}));
    setup.push_back(std::move(t));
    anchors = json::array();
    return Status::Ok();
  };
  auto anchor = [&](const std::string& record, const std::string& pseudonym, const char* type, const json& key) {
    json a = {{"record_id", record}, {"patient", pseudonym}, {"resource_type", type}, {"version", 1},
              {"hash", ToHex(crypto::Sha256(record))}, {"labels", json::array()}};
    if (!key.is_null()) a["patient_key"] = key;
    anchors.push_back(std::move(a));
    return flush(false);
  };
  for (int i = 0; i < o.patients; ++i) {
    pseudonyms.push_back(RandomHex(16));
    encounters.push_back(RandomHex(16));
    coverages.push_back(RandomHex(16));
    if (Status s = anchor(encounters.back(), pseudonyms.back(), "Encounter", patients[size_t(i)].id()); !s.ok()) return Fail(s);
  }
  if (Status s = flush(true); !s.ok()) return Fail(s);
  // The encounters bind the pseudonyms: committed before the claims' anchors.
  if (Status s = PostAll(o.url, Batches(setup, 1), 1); !s.ok()) return Fail(s);
  setup.clear();
  std::vector<std::string> claim_records;
  for (int i = 0; i < o.claims; ++i) {
    claim_records.push_back(RandomHex(16));
    if (Status s = anchor(claim_records.back(), pseudonyms[size_t(i % o.patients)], "Claim", json()); !s.ok()) return Fail(s);
  }
  if (Status s = flush(true); !s.ok()) return Fail(s);
  if (Status s = PostAll(o.url, Batches(setup, 4), o.connections); !s.ok()) return Fail(s);
  setup.clear();
  for (int i = 0; i < o.patients; ++i) {
    auto t = make(*admin, model::tx::kClaimCoverage,
                  {{"coverage_id", coverages[size_t(i)]}, {"patient", pseudonyms[size_t(i)]}, {"provider", org},
                   {"plan", o.plan}, {"policy", policy}, {"period_days", 365}});
    if (!t.ok()) return Fail(t.status());
    setup.push_back(std::move(*t));
  }
  if (Status s = PostAll(o.url, Batches(setup, size_t(o.batch)), o.connections); !s.ok()) return Fail(s);

  // 2. Untimed: every claim signed. Office visits, a lab panel and a chest
  // x-ray, on distinct services (no duplicates), each for an anchored
  // encounter: every claim runs the whole policy.
  static const char* kCodes[] = {"99213", "80053", "71046", "85025", "99214"};
  static const int64_t kCharges[] = {12500, 1800, 5200, 1400, 17000};
  std::vector<model::Transaction> claims;
  for (int i = 0; i < o.claims; ++i) {
    const size_t p = size_t(i % o.patients);
    json items = json::array();
    for (int k = 0; k < o.items; ++k)
      items.push_back({{"sequence", k + 1}, {"system", "http://www.ama-assn.org/go/cpt"}, {"code", kCodes[(i + k) % 5]},
                       {"modifiers", json::array()}, {"units", 1}, {"charge", kCharges[(i + k) % 5]},
                       {"dup", ToHex(crypto::Sha256("bench-service " + std::to_string(i) + "/" + std::to_string(k) + policy))}});
    auto t = make(signers[size_t(i) % signers.size()], model::tx::kClaimSubmit,
                  {{"claim_key", ToHex(crypto::Sha256("bench-claim " + std::to_string(i) + policy))},
                   {"content", ToHex(crypto::Sha256("bench-content " + std::to_string(i)))},
                   {"record", {{"id", claim_records[size_t(i)]}, {"version", 1}}},
                   {"coverage", coverages[p]}, {"patient", pseudonyms[p]}, {"use", "claim"},
                   {"service_day", 10 + i % 300}, {"currency", "USD"},
                   {"encounter", {{"id", encounters[p]}, {"version", 1}}}, {"items", items}});
    if (!t.ok()) return Fail(t.status());
    claims.push_back(std::move(*t));
  }
  const std::vector<std::string> bodies = Batches(claims, size_t(o.batch));
  const int threads = int(std::max(1u, std::thread::hardware_concurrency()));
  const double batch_verify_tps = MeasureBatchVerifyRate(claims, threads, o.verify_seconds);

  // 3. Timed: post everything, stop when the node has committed it all.
  auto before = api.Status();
  if (!before.ok()) return Fail(before.status());
  const uint64_t committed0 = before->value("committed_txs", uint64_t(0));
  auto t0 = Clock::now();
  Status posted = PostAll(o.url, bodies, o.connections);
  uint64_t committed = 0;
  for (auto until = Clock::now() + std::chrono::seconds(60); Clock::now() < until;) {
    auto s = api.Status();
    if (s.ok()) committed = s->value("committed_txs", uint64_t(0)) - committed0;
    if (committed >= claims.size()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  const double elapsed = std::chrono::duration<double>(Clock::now() - t0).count();
  if (!posted.ok()) return Fail(posted);
  if (committed < claims.size()) return Fail(Unavailable("only " + std::to_string(committed) + " claims committed"));
  const double cps = double(claims.size()) / elapsed;
  PrintJson({{"claims", claims.size()},
             {"items_per_claim", o.items},
             {"policy", o.policy},
             {"plan", o.plan},
             {"seconds", elapsed},
             {"claims_per_s", cps},
             {"batch_verify_tps", batch_verify_tps},
             {"claims_over_batch_verify", batch_verify_tps > 0 ? cps / batch_verify_tps : 0.0}});
}

}  // namespace

void RegisterClaimBench(CLI::App* claim) {
  auto* cmd = claim->add_subcommand("bench", "Claims adjudicated through a Lua policy, per second, on a development "
                                             "node (bench/README.md, \"Claims\")");
  static BenchOpts o;
  cmd->add_option("--url", o.url, "The node")->required();
  cmd->add_option("--data-dir", o.data_dir, "The node's data directory (its admin key signs the set-up)")->required();
  cmd->add_option("--policy", o.policy, "The policy's Lua source (default policies/managed.lua)");
  cmd->add_option("--plan", o.plan, "The plan the coverage names (default gold)");
  cmd->add_option("--claims", o.claims, "Claims in the timed phase (default 20000)");
  cmd->add_option("--patients", o.patients, "Patients, each with one coverage (default 200)");
  cmd->add_option("--items", o.items, "Items per claim (default 3)");
  cmd->add_option("--connections", o.connections, "Connections posting batches (default 4)");
  cmd->add_option("--batch", o.batch, "Transactions per batch (default 500)");
  cmd->callback([] {
    if (o.policy.empty()) o.policy = AssetDir() + "/policies/managed.lua";
    RunClaimBench(o);
  });
}

}  // namespace medledger::cli
