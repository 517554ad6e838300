// Supply-chain load generators (bench/README.md, "Supply chain"; issue 15's
// targets): `epcis bench-capture` and `product bench-verify`. Each prints
// one JSON line last, with its baseline measured in the same run.
//
// bench-capture registers its own manufacturer identities and a fresh GS1
// company prefix with the chain's admin key (a development chain: one
// organisation, where the manufacturer alone binds a prefix), builds every
// capture document before the timed phases, then posts them flat out over
// several connections (POST /epcis/capture, each signed by its party) and
// stops the clock once the node's committed_txs shows all of them
// committed. Two phases, each timed and reported on its own:
//   lifecycle: per case of --packs-per-case packs, three events: their
//     commissioning, packing them into an SSCC, shipping the SSCC;
//   moves: each of those cases received, then shipped on and received
//     along --moves-per-case locations, each event naming only the SSCC
//     (its packs move with it: docs/SUPPLY.md, "Aggregation").
// `events_per_s` counts events; `epcs_per_s` the EPCs they name (epcList,
// parentID, childEPCs: 2 x packs + 2 per case in the lifecycle, 1 per move);
// `packs_per_s` the packs commissioned (lifecycle) or carried by the moved
// cases (moves). The baseline is the node's own floor, as `medledger bench`
// prints it: batch_verify_tps, this machine's rate of the batch Ed25519
// verification the node performs, measured in the same process with as
// many threads.
//
// bench-verify is open loop at a fixed rate (request i is due at start +
// i/rate, latency counts from then, so a stalled node is not hidden), first
// for a baseline read through the same authentication (a signed GET of the
// caller's own identity: signature, nonce, head barrier, one state read),
// then for GET /v1/products/verify over the identifiers of a file (one
// Digital Link or element string a line, as bench-capture --codes-out
// writes them). p99_ratio is the verification's p99 over the baseline's.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <cmath>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <sstream>
#include <thread>

#include "api/epcis_api.h"
#include "cli/api_client.h"
#include "cli/commands.h"
#include "cli/supply_events.h"
#include "crypto/aead.h"
#include "crypto/keyfile.h"
#include "crypto/sha256.h"
#include "http/url.h"
#include "model/tx_json.h"
#include "model/tx_types.h"
#include "node/parallel.h"

namespace medledger::cli {

// cli/bench_cmd.cc: the verification rates `medledger bench` prints.
double MeasureVerifyRate(const std::vector<model::Transaction>& txs, int threads, double seconds);
double MeasureBatchVerifyRate(const std::vector<model::Transaction>& txs, int threads, double seconds);

using nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

double Percentile(std::vector<double>& v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t i = static_cast<size_t>(std::ceil(p / 100.0 * double(v.size()))) - 1;
  return v[std::min(i, v.size() - 1)];
}

json Latencies(std::vector<double>& ms) {
  return {{"p50_ms", Percentile(ms, 50)},
          {"p90_ms", Percentile(ms, 90)},
          {"p99_ms", Percentile(ms, 99)},
          {"max_ms", ms.empty() ? 0.0 : *std::max_element(ms.begin(), ms.end())}};
}

// --- bench-capture ---------------------------------------------------------

struct CaptureOpts {
  std::string url, data_dir, prefix, codes_out;
  int docs = 400, cases_per_doc = 5, packs_per_case = 100, connections = 4, signers = 8;
  int moves_per_case = 10, move_cases_per_doc = 8;
  int node_pid = 0;  // when given, the node's CPU time per phase (/proc/PID/stat)
  size_t codes_max = 10000;
  double verify_seconds = 2;
};

// Documents of one phase, each distinct (serials, SSCCs, times), so that no
// event is a duplicate and each does its full work on the node.
struct Workload {
  std::vector<std::string> docs;
  size_t events = 0, epcs = 0, packs = 0, bytes = 0;
  std::vector<std::string> codes;  // a sample of the packs, as Digital Links
};

Status AddDoc(Workload& w, const json& events, int64_t created_ms, const char* lower) {
  for (const auto& e : events) w.epcs += EpcCount(e);
  w.events += events.size();
  w.docs.push_back(EpcisDocument(events, created_ms));
  w.bytes += w.docs.back().size();
  if (w.docs.back().size() > api::kMaxCaptureDocumentBytes)
    return InvalidArgument("a document is " + std::to_string(w.docs.back().size()) +
                           " bytes, over the capture limit of " + std::to_string(api::kMaxCaptureDocumentBytes) +
                           ": lower " + lower);
  return Status::Ok();
}

std::string Sscc(const CaptureOpts& o, uint64_t case_index) { return SsccUrn(o.prefix, case_index + 1); }
// Location j of the chain the cases travel along (a prefix nobody holds).
std::string Hop(int j) { return SglnUrn("0860001", std::to_string(j + 1)); }

// Lifecycle: per case, commissioning its packs, packing them into the SSCC
// and shipping the SSCC to Hop(0).
Result<Workload> LifecycleWorkload(const CaptureOpts& o, int64_t t0) {
  Workload w;
  const std::string item = "1", mfr = SglnUrn(o.prefix, "1");
  const std::string gtin = Gtin14(o.prefix, '0', item);
  const std::string expiry = std::to_string(std::stoi(IsoUtc(t0).substr(0, 4)) + 2) + "-12-31";
  const std::string yymmdd = expiry.substr(2, 2) + "1231";
  const uint64_t total_packs = uint64_t(o.docs) * o.cases_per_doc * o.packs_per_case;
  const uint64_t code_every = std::max<uint64_t>(1, total_packs / std::max<size_t>(1, o.codes_max));
  uint64_t serial = 0, ms = 0;
  for (int d = 0; d < o.docs; ++d) {
    const std::string lot = "L" + std::to_string(d + 1);
    json events = json::array();
    for (int c = 0; c < o.cases_per_doc; ++c) {
      std::vector<std::string> packs;
      for (int p = 0; p < o.packs_per_case; ++p, ++serial) {
        packs.push_back(SgtinUrn(o.prefix, '0', item, std::to_string(serial + 1)));
        if (serial % code_every == 0 && w.codes.size() < o.codes_max)
          w.codes.push_back("https://id.gs1.org/01/" + gtin + "/10/" + lot + "/21/" + std::to_string(serial + 1) +
                            "?17=" + yymmdd);
      }
      const std::string sscc = Sscc(o, uint64_t(d) * o.cases_per_doc + c);
      events.push_back(CommissionEvent(packs, t0 + int64_t(ms++), mfr, lot, expiry));
      events.push_back(PackEvent(sscc, packs, t0 + int64_t(ms++), mfr));
      events.push_back(ShipEvent({sscc}, t0 + int64_t(ms++), mfr, Hop(0)));
    }
    ML_RETURN_IF_ERROR(AddDoc(w, events, t0, "--cases-per-doc"));
  }
  w.packs = size_t(total_packs);
  return w;
}

// Moves of the packed cases: each case is received at Hop(0), then shipped
// on and received at each next hop, naming only its SSCC (its packs move
// with it). A document holds whole journeys of its own cases, so documents
// committed in any order are all in order for each case.
Result<Workload> MovesWorkload(const CaptureOpts& o, int64_t t0) {
  Workload w;
  const uint64_t cases = uint64_t(o.docs) * o.cases_per_doc;
  uint64_t ms = 0;
  for (uint64_t first = 0; first < cases; first += o.move_cases_per_doc) {
    json events = json::array();
    for (uint64_t c = first; c < std::min<uint64_t>(cases, first + o.move_cases_per_doc); ++c) {
      const std::string sscc = Sscc(o, c);
      events.push_back(ObserveEvent({sscc}, t0 + int64_t(ms++), Hop(0), "receiving", "in_progress"));
      for (int j = 1; j < o.moves_per_case; ++j) {
        events.push_back(ShipEvent({sscc}, t0 + int64_t(ms++), Hop(j - 1), Hop(j)));
        events.push_back(ObserveEvent({sscc}, t0 + int64_t(ms++), Hop(j), "receiving", "in_progress"));
      }
      w.packs += size_t(o.packs_per_case) * (2 * o.moves_per_case - 1);  // carried, per event
    }
    ML_RETURN_IF_ERROR(AddDoc(w, events, t0, "--move-cases-per-doc or --moves-per-case"));
  }
  return w;
}

// utime + stime of a process on this machine, in seconds; -1 when unknown.
double ProcessCpuSeconds(int pid) {
  if (pid <= 0) return -1;
  std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  size_t rp = stat.rfind(')');
  if (rp == std::string::npos) return -1;
  std::istringstream in(stat.substr(rp + 2));
  std::string field;
  double ticks = 0;
  for (int i = 3; i <= 15 && in >> field; ++i)  // fields 14 and 15: utime, stime
    if (i >= 14) ticks += std::stod(field);
  return ticks / double(sysconf(_SC_CLK_TCK));
}

Result<uint64_t> CommittedTxs(ApiClient& api) {
  ML_ASSIGN_OR_RETURN(json st, api.Status());
  if (!st.contains("committed_txs") || !st["committed_txs"].is_number_unsigned())
    return Internal("the node's status has no committed_txs");
  return st["committed_txs"].get<uint64_t>();
}

// Posts every document flat out over the connections; the clock stops
// once the node's committed_txs shows all of them committed. Then, untimed,
// every event's outcome from the capture jobs.
Result<json> RunCapture(const CaptureOpts& o, const Workload& w, const std::vector<crypto::KeyPair>& parties,
                        double batch_verify_tps) {
  ApiClient api(o.url);
  ML_ASSIGN_OR_RETURN(uint64_t c0, CommittedTxs(api));
  const double cpu0 = ProcessCpuSeconds(o.node_pid);
  std::atomic<size_t> next{0};
  std::mutex mu;
  std::vector<std::string> locations(w.docs.size());
  std::vector<double> post_ms;
  size_t errors = 0;
  std::string first_error;
  const auto start = Clock::now();
  std::vector<std::thread> ts;
  for (int t = 0; t < o.connections; ++t) {
    ts.emplace_back([&] {
      ApiClient c(o.url, std::chrono::seconds(120));
      for (;;) {
        size_t i = next++;
        if (i >= w.docs.size()) return;
        auto t1 = Clock::now();
        auto loc = PostCapture(c, parties[i % parties.size()], w.docs[i]);
        double ms = std::chrono::duration<double, std::milli>(Clock::now() - t1).count();
        std::lock_guard l(mu);
        if (!loc.ok()) {
          ++errors;
          if (first_error.empty()) first_error = loc.status().message();
          continue;
        }
        locations[i] = *loc;
        post_ms.push_back(ms);
      }
    });
  }
  for (auto& t : ts) t.join();
  const double posted_s = std::chrono::duration<double>(Clock::now() - start).count();
  const uint64_t want = c0 + (w.docs.size() - errors);
  uint64_t committed = 0;
  for (auto until = Clock::now() + std::chrono::seconds(300);;) {
    ML_ASSIGN_OR_RETURN(committed, CommittedTxs(api));
    if (committed >= want || Clock::now() > until) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  const double cpu = cpu0 < 0 ? -1 : ProcessCpuSeconds(o.node_pid) - cpu0;
  std::map<std::string, size_t> outcomes;
  size_t events = 0, docs = 0;
  for (size_t i = 0; i < locations.size(); ++i) {
    if (locations[i].empty()) continue;
    auto r = AwaitCapture(api, parties[i % parties.size()], locations[i], std::chrono::seconds(30));
    if (!r.ok()) {
      ++outcomes["refused"];
      if (first_error.empty()) first_error = r.status().message();
      continue;
    }
    for (const auto& e : *r) ++outcomes[e.value("outcome", "?")];
    events += r->size();
    ++docs;
  }
  // Every document of a phase has the same shape, so the recorded share of
  // its EPCs and packs is the recorded share of its documents.
  const double share = w.docs.empty() ? 0 : double(docs) / double(w.docs.size());
  const double events_per_s = double(events) / seconds, epcs_per_s = share * double(w.epcs) / seconds;
  json out = {{"docs", w.docs.size()},
              {"recorded_docs", docs},
              {"events", events},
              {"epcs", size_t(share * double(w.epcs))},
              {"packs", size_t(share * double(w.packs))},
              {"doc_bytes_avg", w.docs.empty() ? 0 : w.bytes / w.docs.size()},
              {"errors", errors},
              {"committed", committed - c0},
              {"outcomes", outcomes},
              {"posted_seconds", posted_s},
              {"seconds", seconds},
              {"docs_per_s", double(docs) / seconds},
              {"events_per_s", events_per_s},
              {"epcs_per_s", epcs_per_s},
              {"packs_per_s", share * double(w.packs) / seconds},
              {"post", Latencies(post_ms)},
              {"events_over_batch_verify", batch_verify_tps > 0 ? events_per_s / batch_verify_tps : 0},
              {"epcs_over_batch_verify", batch_verify_tps > 0 ? epcs_per_s / batch_verify_tps : 0}};
  if (cpu >= 0) {
    out["node_cpu_s"] = cpu;
    out["node_us_per_event"] = events ? 1e6 * cpu / double(events) : 0;
    out["node_us_per_epc"] = w.epcs ? 1e6 * cpu / (share * double(w.epcs)) : 0;
  }
  if (!first_error.empty()) out["first_error"] = first_error;
  return out;
}

void BenchCapture(CaptureOpts o) {
  auto admin = crypto::ReadKeyFile(o.data_dir + "/keys/admin.key");
  if (!admin.ok()) return Fail("bench-capture needs the chain's admin key: " + admin.status().message());
  ApiClient api(o.url);
  auto st = api.Status();
  if (!st.ok()) return Fail(st.status());
  // 1. Parties and a prefix of this run's own, so runs never collide.
  if (o.prefix.empty()) {
    std::string h = ToHex(crypto::Sha256(crypto::RandomHexId()));
    o.prefix = "0";
    for (size_t i = 0; o.prefix.size() < 9; ++i) o.prefix += char('0' + (h[i] % 10));
  }
  std::vector<crypto::KeyPair> parties;
  for (int i = 0; i < o.signers; ++i) {
    parties.push_back(crypto::KeyPair::Generate());
    auto r = api.Submit(*admin, model::tx::kIdentityRegister,
                        {{"pubkey", parties.back().id()}, {"roles", {"manufacturer"}}, {"label", "bench-capture"}});
    if (!r.ok()) return Fail(r.status());
  }
  if (auto r = api.Submit(parties[0], model::tx::kGs1RegisterPrefix, {{"prefix", o.prefix}}); !r.ok())
    return Fail("registering the GS1 prefix " + o.prefix + ": " + r.status().message());

  // 2. Every document before the timed phases.
  std::cerr << "bench-capture: building " << o.docs << " documents of " << o.cases_per_doc << " cases of "
            << o.packs_per_case << " packs (prefix " << o.prefix << ")..." << std::endl;
  const int64_t t0 = UnixMs() - 86'400'000;
  auto life = LifecycleWorkload(o, t0);
  if (!life.ok()) return Fail(life.status(), Exit::kUsage);
  Workload moves;
  if (o.moves_per_case > 0) {
    auto m = MovesWorkload(o, t0 + 3'600'000);
    if (!m.ok()) return Fail(m.status(), Exit::kUsage);
    moves = std::move(*m);
  }
  if (!o.codes_out.empty()) {
    std::ofstream f(o.codes_out);
    for (const auto& c : life->codes) f << c << "\n";
    if (!f) return Fail("cannot write " + o.codes_out);
  }

  // 3. The node's floor on this machine, now.
  const int threads = node::DefaultThreads();
  std::vector<model::Transaction> sample;
  for (int i = 0; i < 4096; ++i) {
    auto t =
        model::MakeTransaction(st->value("chain_id", ""), parties[size_t(i) % parties.size()], model::tx::kAnchorPut,
                               {{"hash", ToHex(crypto::Sha256(std::to_string(i)))}, {"tag", "bench"}}, i, 1000);
    if (!t.ok()) return Fail(t.status());
    sample.push_back(std::move(*t));
  }
  std::cerr << "bench-capture: measuring Ed25519 verify rates on " << threads << " threads..." << std::endl;
  const double verify_tps = MeasureVerifyRate(sample, threads, o.verify_seconds);
  const double batch_verify_tps = MeasureBatchVerifyRate(sample, threads, o.verify_seconds);

  // 4. The phases, each timed on its own.
  json out = {{"cases_per_doc", o.cases_per_doc},
              {"packs_per_case", o.packs_per_case},
              {"moves_per_case", o.moves_per_case},
              {"move_cases_per_doc", o.move_cases_per_doc},
              {"verify_tps", verify_tps},
              {"batch_verify_tps", batch_verify_tps},
              {"threads", threads},
              {"connections", o.connections},
              {"prefix", o.prefix}};
  std::cerr << "bench-capture: lifecycle, " << life->docs.size() << " documents over " << o.connections
            << " connections" << std::endl;
  auto l = RunCapture(o, *life, parties, batch_verify_tps);
  if (!l.ok()) return Fail(l.status());
  out["lifecycle"] = *l;
  if (!moves.docs.empty()) {
    std::cerr << "bench-capture: moves, " << moves.docs.size() << " documents" << std::endl;
    auto m = RunCapture(o, moves, parties, batch_verify_tps);
    if (!m.ok()) return Fail(m.status());
    out["moves"] = *m;
  }
  std::cout << out.dump() << std::endl;
  if ((*l)["events"] == 0) Fail("no capture was recorded");
}

// --- bench-verify ----------------------------------------------------------

struct VerifyBenchOpts {
  ClientOpts c;
  std::string codes_file, baseline;
  double rate = 1000, seconds = 20;
  int threads = 16;
  int node_pid = 0;
};

struct Phase {
  std::vector<double> lat_ms;
  size_t errors = 0;
  std::string first_error;
  double elapsed = 0;
  std::map<std::string, size_t> statuses;  // verification answers
};

// Open loop: request i is due at start + i/rate; its latency counts from
// then (no coordinated omission).
Phase OpenLoop(const VerifyBenchOpts& o, const crypto::KeyPair& key, const std::function<std::string(size_t)>& target,
               bool count_status) {
  Phase ph;
  const auto total = static_cast<size_t>(o.rate * o.seconds);
  const auto interval = std::chrono::nanoseconds(static_cast<int64_t>(1e9 / o.rate));
  std::mutex mu;
  std::atomic<size_t> next{0};
  const auto start = Clock::now() + std::chrono::milliseconds(200);
  std::vector<std::thread> ts;
  for (int t = 0; t < std::max(1, o.threads); ++t) {
    ts.emplace_back([&] {
      ApiClient c(o.c.url, std::chrono::seconds(30));
      std::vector<double> mine;
      std::map<std::string, size_t> statuses;
      for (;;) {
        size_t i = next++;
        if (i >= total) break;
        auto due = start + i * interval;
        std::this_thread::sleep_until(due);
        auto r = c.SignedRequest(key, "GET", target(i));
        double ms = std::chrono::duration<double, std::milli>(Clock::now() - due).count();
        if (!r.ok() || r->status != 200) {
          std::lock_guard l(mu);
          ++ph.errors;
          if (ph.first_error.empty()) ph.first_error = r.ok() ? ErrorText(*r) : r.status().message();
          continue;
        }
        mine.push_back(ms);
        if (count_status) {
          // The answer's first "status" is the verification's (product_api.cc).
          auto at = r->body.find("\"status\":\"");
          auto end = at == std::string::npos ? at : r->body.find('"', at + 10);
          ++statuses[end == std::string::npos ? "?" : r->body.substr(at + 10, end - at - 10)];
        }
      }
      std::lock_guard l(mu);
      ph.lat_ms.insert(ph.lat_ms.end(), mine.begin(), mine.end());
      for (const auto& [k, n] : statuses) ph.statuses[k] += n;
    });
  }
  for (auto& t : ts) t.join();
  ph.elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  return ph;
}

json PhaseJson(Phase& ph, double rate, double node_cpu_s) {
  json j = Latencies(ph.lat_ms);
  j["target_rate"] = rate;
  j["ok"] = ph.lat_ms.size();
  j["errors"] = ph.errors;
  j["achieved_rate"] = double(ph.lat_ms.size()) / ph.elapsed;
  if (!ph.statuses.empty()) j["statuses"] = ph.statuses;
  if (!ph.first_error.empty()) j["first_error"] = ph.first_error;
  if (node_cpu_s >= 0) {
    j["node_cpu_s"] = node_cpu_s;
    j["node_us_per_request"] = 1e6 * node_cpu_s / double(std::max<size_t>(1, ph.lat_ms.size() + ph.errors));
  }
  return j;
}

void BenchVerify(const VerifyBenchOpts& o) {
  auto key = LoadKey(o.c.key);
  if (!key.ok()) return Fail(key.status());
  std::ifstream f(o.codes_file);
  if (!f) return Fail("cannot read " + o.codes_file);
  std::vector<std::string> targets;
  for (std::string line; std::getline(f, line);)
    if (!line.empty()) targets.push_back("/v1/products/verify?code=" + http::PercentEncode(line));
  if (targets.empty()) return Fail(o.codes_file + " holds no identifier", Exit::kUsage);
  const std::string base = o.baseline.empty() ? "/v1/identities/" + key->id() : o.baseline;
  json out = {{"threads", o.threads}, {"identifiers", targets.size()}, {"baseline_target", base}};
  std::cerr << "bench-verify: baseline GET " << base << " at " << o.rate << "/s for " << o.seconds << " s" << std::endl;
  double cpu0 = ProcessCpuSeconds(o.node_pid);
  Phase b = OpenLoop(
      o, *key, [&](size_t) { return base; }, false);
  out["baseline"] = PhaseJson(b, o.rate, cpu0 < 0 ? -1 : ProcessCpuSeconds(o.node_pid) - cpu0);
  std::cerr << "bench-verify: GET /v1/products/verify at " << o.rate << "/s for " << o.seconds << " s" << std::endl;
  cpu0 = ProcessCpuSeconds(o.node_pid);
  Phase v = OpenLoop(
      o, *key, [&](size_t i) { return targets[i % targets.size()]; }, true);
  out["verify"] = PhaseJson(v, o.rate, cpu0 < 0 ? -1 : ProcessCpuSeconds(o.node_pid) - cpu0);
  const double bp99 = out["baseline"]["p99_ms"].get<double>(), vp99 = out["verify"]["p99_ms"].get<double>();
  out["p99_ratio"] = bp99 > 0 ? vp99 / bp99 : 0;
  std::cout << out.dump() << std::endl;
  if (v.lat_ms.empty()) Fail("no verification answered");
}

CLI::App* Subcommand(CLI::App& app, const char* name) {
  try {
    return app.get_subcommand(name);
  } catch (const CLI::OptionNotFound&) {
    return app.add_subcommand(name);
  }
}

}  // namespace

void RegisterSupplyBenchCommands(CLI::App& app) {
  {
    static CaptureOpts o;
    auto* cmd = Subcommand(app, "epcis")
                    ->add_subcommand(
                        "bench-capture",
                        "Capture throughput: commissioning, packing and shipping cases; prints one JSON line last");
    cmd->add_option("--url", o.url, "Node URL")->envname("MEDLEDGER_URL")->required();
    cmd->add_option("--data-dir", o.data_dir, "The node's data directory (for keys/admin.key)")->required();
    cmd->add_option("--docs", o.docs, "Capture documents to post")->check(CLI::Range(1, 1000000));
    cmd->add_option("--cases-per-doc", o.cases_per_doc, "Cases per document (3 events each)")
        ->check(CLI::Range(1, 500));
    cmd->add_option("--packs-per-case", o.packs_per_case, "Packs aggregated per case")->check(CLI::Range(1, 10000));
    cmd->add_option("--connections", o.connections, "Concurrent connections")->check(CLI::Range(1, 256));
    cmd->add_option("--signers", o.signers, "Manufacturer identities signing the captures")->check(CLI::Range(1, 1000));
    cmd->add_option("--prefix", o.prefix, "GS1 company prefix to register (default: a random 9-digit one)");
    cmd->add_option("--moves-per-case", o.moves_per_case,
                    "Then move each case along this many locations (receiving, then shipping and receiving at each "
                    "next one), naming only its SSCC; 0 skips this phase")
        ->check(CLI::Range(0, 1000));
    cmd->add_option("--move-cases-per-doc", o.move_cases_per_doc, "Cases whose moves one document holds")
        ->check(CLI::Range(1, 10000));
    cmd->add_option("--codes-out", o.codes_out, "Write a sample of the packs as Digital Links, one a line");
    cmd->add_option("--node-pid", o.node_pid, "The node's PID on this machine: report its CPU time per phase");
    cmd->add_option("--codes-max", o.codes_max, "At most this many packs in --codes-out");
    cmd->add_option("--verify-seconds", o.verify_seconds, "How long to measure the verify rates");
    cmd->callback([] { BenchCapture(o); });
  }
  {
    static VerifyBenchOpts o;
    auto* cmd = Subcommand(app, "product")
                    ->add_subcommand(
                        "bench-verify",
                        "Verification latency at a fixed rate, against a baseline read; prints one JSON line last");
    AddClientOptions(cmd, &o.c, true);
    cmd->add_option("--codes", o.codes_file, "Identifiers to verify, one a line (bench-capture --codes-out)")
        ->required();
    cmd->add_option("--rate", o.rate, "Requests per second (open loop)")->check(CLI::PositiveNumber);
    cmd->add_option("--seconds", o.seconds, "Duration of each phase")->check(CLI::PositiveNumber);
    cmd->add_option("--threads", o.threads, "Client threads (connections)")->check(CLI::Range(1, 256));
    cmd->add_option("--node-pid", o.node_pid, "The node's PID on this machine: report its CPU time per phase");
    cmd->add_option("--baseline", o.baseline, "Signed GET target of the baseline (default: /v1/identities/<own id>)");
    cmd->callback([] { BenchVerify(o); });
  }
}

}  // namespace medledger::cli
