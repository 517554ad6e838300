// Access-side health-record subcommands: record get, record bench-read,
// consent grant|revoke|list, audit, disclose, erase, legal-hold. Every call
// to the FHIR read API is an RFC 9421 signed request (api/http_signature.h).
// Exit codes: cli/exit_codes.h (3 denied, 4 erased, 5 refused under legal
// hold, 6 bytes that do not match their anchor or a receipt whose signature
// does not verify).
#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <cmath>
#include <ctime>
#include <iostream>
#include <mutex>
#include <thread>

#include "api/http_signature.h"
#include "cli/api_client.h"
#include "cli/commands.h"
#include "cli/patient_keys.h"
#include "crypto/aead.h"
#include "crypto/sha256.h"
#include "model/tx_json.h"
#include "model/tx_types.h"

namespace medledger::cli {

using nlohmann::json;

namespace {

Result<http::ClientResponse> Signed(ApiClient& c, const crypto::KeyPair& key, const std::string& method,
                                    const std::string& target, const std::string& body = {},
                                    http::HeaderList headers = {}) {
  return c.SignedRequest(key, method, target, body, std::move(headers));
}

struct ReadOpts {
  ClientOpts c;
  std::string purpose;
  std::string break_glass;
  std::string reference;
  std::string version;
  std::string custodian;  // another organisation's record, read through this node
  std::string seed;       // the patient's seed: the key derived for `custodian` signs
};

http::HeaderList PurposeHeaders(const ReadOpts& o) {
  http::HeaderList h;
  std::string code = ToPurposeCode(o.purpose);
  if (!o.break_glass.empty()) code = "ETREAT";
  h.emplace_back(std::string(api::kPurposeHeader), code);
  if (!o.break_glass.empty()) h.emplace_back(std::string(api::kBreakGlassHeader), o.break_glass);
  return h;
}

void RecordGet(const ReadOpts& o) {
  PatientKeyOpts p{.seed = o.seed, .custodians = {}, .custodian_urls = {}};
  if (!o.seed.empty()) {
    if (o.custodian.empty()) return Fail("--seed needs --custodian: the organisation whose key to derive", Exit::kUsage);
    p.custodians = {o.custodian};
  }
  // Sent to --url: a record at another custodian is forwarded (below).
  auto keys = ResolvePatientKeys(o.c, p, false);
  if (!keys.ok()) return Fail(keys.status());
  const crypto::KeyPair* key = &keys->front().key;
  if (o.reference.find('/') == std::string::npos) return Fail("TYPE/ID expected, e.g. Observation/123", Exit::kUsage);
  ApiClient c(o.c.url);
  std::string target = "/fhir/" + o.reference + (o.version.empty() ? "" : "/_history/" + o.version);
  // Cross-organisation read: the node forwards it to the custodian's node
  // (docs/RECORDS.md); the query is covered by the signature.
  if (!o.custodian.empty()) target += "?custodian=" + o.custodian;
  auto r = Signed(c, *key, "GET", target, {}, PurposeHeaders(o));
  if (!r.ok()) return Fail(r.status());
  if (r->status != 200) return Fail(o.reference + ": " + ErrorText(*r), ExitForHttp(r->status));
  auto rid = r->Header("X-Medledger-Record-Id");
  auto ver = r->Header("X-Medledger-Version");
  if (!rid || !ver) return Fail("the node did not name the record's anchor; refusing unverified bytes", Exit::kIntegrity);
  auto a = Signed(c, *key, "GET", "/v1/records/" + *rid + "/" + *ver);
  if (!a.ok()) return Fail(a.status());
  if (a->status != 200) return Fail("anchor lookup failed: " + ErrorText(*a), Exit::kIntegrity);
  json anchor = json::parse(a->body, nullptr, false);
  std::string got = ToHex(crypto::Sha256(r->body));
  if (!anchor.is_discarded() && !o.custodian.empty() && anchor.value("org", "") != o.custodian)
    return Fail("record " + *rid + " is anchored by " + anchor.value("org", "") + ", not " + o.custodian +
                    "; nothing printed",
                Exit::kIntegrity);
  if (anchor.is_discarded() || anchor.value("hash", "") != got)
    return Fail("SHA-256 of the returned bytes does not match the on-chain anchor of record " + *rid + " version " +
                    *ver + "; nothing printed",
                Exit::kIntegrity);
  std::cout << r->body;
  if (r->body.empty() || r->body.back() != '\n') std::cout << '\n';
  std::cout.flush();
  std::cerr << "verified: SHA-256 " << got << " matches the on-chain anchor of record " << *rid << " version " << *ver
            << " (block " << anchor.value("height", uint64_t(0)) << ", tx " << anchor.value("tx", "") << ")";
  if (r->Header("X-Medledger-Break-Glass")) std::cerr << "; BREAK-GLASS access, recorded on chain";
  std::cerr << std::endl;
}

struct BenchOpts {
  ReadOpts r;
  double rate = 500;
  double seconds = 10;
  int threads = 16;
};

void BenchRead(const BenchOpts& o) {
  auto key = LoadKey(o.r.c.key);
  if (!key.ok()) return Fail(key.status());
  std::string target = "/fhir/" + o.r.reference;
  const auto headers = PurposeHeaders(o.r);
  const int n = std::max(1, o.threads);
  const auto total = static_cast<int64_t>(o.rate * o.seconds);
  const auto interval = std::chrono::nanoseconds(static_cast<int64_t>(1e9 / o.rate));
  std::mutex mu;
  std::vector<double> lat_ms;
  std::atomic<int64_t> next{0}, errors{0}, denied{0};
  std::string first_error;
  const auto start = std::chrono::steady_clock::now() + std::chrono::milliseconds(200);
  std::vector<std::thread> ts;
  for (int t = 0; t < n; ++t) {
    ts.emplace_back([&] {
      ApiClient c(o.r.c.url, std::chrono::seconds(30));
      std::vector<double> mine;
      for (;;) {
        int64_t i = next++;
        if (i >= total) break;
        // Open loop: request i is due at start + i*interval; latency counts
        // from then, so a stalled server is not hidden (coordinated omission).
        auto due = start + i * interval;
        std::this_thread::sleep_until(due);
        auto r = Signed(c, *key, "GET", target, {}, headers);
        double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - due).count();
        if (!r.ok() || r->status != 200) {
          (r.ok() && r->status == 403 ? denied : errors)++;
          std::lock_guard l(mu);
          if (first_error.empty()) first_error = r.ok() ? ErrorText(*r) : r.status().message();
          continue;
        }
        mine.push_back(ms);
      }
      std::lock_guard l(mu);
      lat_ms.insert(lat_ms.end(), mine.begin(), mine.end());
    });
  }
  for (auto& t : ts) t.join();
  double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::sort(lat_ms.begin(), lat_ms.end());
  auto pct = [&](double p) {
    if (lat_ms.empty()) return 0.0;
    size_t i = static_cast<size_t>(std::ceil(p / 100.0 * lat_ms.size())) - 1;
    return lat_ms[std::min(i, lat_ms.size() - 1)];
  };
  json out = {{"target_rate", o.rate},         {"requests", total},
              {"ok", lat_ms.size()},           {"denied", denied.load()},
              {"errors", errors.load()},       {"achieved_rate", lat_ms.size() / elapsed},
              {"p50_ms", pct(50)},             {"p90_ms", pct(90)},
              {"p99_ms", pct(99)},             {"max_ms", lat_ms.empty() ? 0.0 : lat_ms.back()},
              {"threads", n}};
  if (!first_error.empty()) out["first_error"] = first_error;
  PrintJson(out);
  if (lat_ms.empty()) Fail("no successful read");
}

CLI::App* RecordCommand(CLI::App& app) {
  try {
    return app.get_subcommand("record");
  } catch (const CLI::OptionNotFound&) {
    auto* rec = app.add_subcommand("record", "Health records: put, get, bench-read");
    rec->require_subcommand(1);
    return rec;
  }
}

void VerifyReceipt(const json& receipt) {
  json body = receipt;
  body.erase("signature");
  std::string bytes = "medledger-erasure-receipt-v1\n" + body.dump();
  auto pk = crypto::ParsePublicId(receipt.value("node_key", ""));
  auto sig = FromHexFixed<64>(receipt.value("signature", ""));
  if (!pk.ok() || !sig.ok() ||
      !crypto::Verify(*pk, reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), *sig))
    return Fail("the receipt's signature does not verify", Exit::kIntegrity);
  std::cerr << "receipt signature verifies (custodian node key " << receipt.value("node_key", "") << ")" << std::endl;
}

}  // namespace

void RegisterAccessCommands(CLI::App& app) {
  // record get / bench-read
  {
    auto* rec = RecordCommand(app);
    auto* get = rec->add_subcommand("get", "Read a resource with a signed request; checks it against its on-chain anchor");
    static ReadOpts ro;
    AddClientOptions(get, &ro.c, true);
    get->add_option("--purpose", ro.purpose, "treatment, payment, operations, research, or an ActReason code")->required();
    get->add_option("--break-glass", ro.break_glass, "Emergency access (ETREAT) with this reason; always audited");
    get->add_option("--version", ro.version, "A version (_history) instead of the latest");
    get->add_option("--custodian", ro.custodian,
                    "The organisation holding the record, when it is not this node's (a cross-organisation read)");
    get->add_option("--seed", ro.seed, "The patient's seed key file: signs with the key derived for --custodian");
    get->get_option("--key")->required(false);
    get->add_option("reference", ro.reference, "TYPE/ID")->required();
    get->callback([] { RecordGet(ro); });

    auto* bench = rec->add_subcommand("bench-read", "Signed consented reads at a fixed rate; prints latency percentiles");
    static BenchOpts bo;
    AddClientOptions(bench, &bo.r.c, true);
    bench->add_option("--purpose", bo.r.purpose, "Purpose of use")->required();
    bench->add_option("--break-glass", bo.r.break_glass, "Break-glass reason");
    bench->add_option("--rate", bo.rate, "Reads per second (open loop)");
    bench->add_option("--seconds", bo.seconds, "Duration");
    bench->add_option("--threads", bo.threads, "Client threads (connections)");
    bench->add_option("reference", bo.r.reference, "TYPE/ID")->required();
    bench->callback([] { BenchRead(bo); });
  }
  // disclose
  {
    auto* d = app.add_subcommand("disclose", "Record a disclosure made outside the system (custodian staff)");
    static ClientOpts o;
    static std::string patient, name, address, description, purpose;
    static std::vector<std::string> recs;
    AddClientOptions(d, &o, true);
    d->add_option("--patient", patient, "Patient/ID (the FHIR id at this custodian)")->required();
    d->add_option("--recipient-name", name, "Recipient name (kept off chain)")->required();
    d->add_option("--recipient-address", address, "Recipient address (kept off chain)");
    d->add_option("--description", description, "A code, e.g. lab-results")->required();
    d->add_option("--purpose", purpose, "A code, e.g. PUBHLTH, JUDICIAL, HOVERSIGHT")->required();
    d->add_option("--records", recs, "Type/id of the records disclosed (comma-separated)");
    d->callback([] {
      auto key = LoadKey(o.key);
      if (!key.ok()) return Fail(key.status());
      json body = {{"patient", patient}, {"recipient_name", name}, {"recipient_address", address},
                   {"description", description}, {"purpose", purpose}};
      auto rs = SplitComma(recs);
      if (!rs.empty()) body["records"] = rs;
      ApiClient c(o.url);
      auto r = Signed(c, *key, "POST", "/v1/disclosures", body.dump());
      if (!r.ok()) return Fail(r.status());
      if (r->status / 100 != 2) return Fail(ErrorText(*r), ExitForHttp(r->status));
      std::cout << r->body << std::endl;
    });
  }
  // erase
  {
    auto* e = app.add_subcommand("erase", "Ask the custodian to erase a record (GDPR Art. 17); prints the signed receipt");
    static ClientOpts o;
    static PatientKeyOpts po;
    static std::string reference, patient;
    AddClientOptions(e, &o, true);
    AddPatientKeyOptions(e, &po, false);
    e->add_option("--patient", patient, "The patient's public id, when a representative asks");
    e->add_option("reference", reference, "TYPE/ID")->required();
    e->callback([] {
      // The custodian's own node decides the erasure and holds the FHIR id.
      auto keys = ResolvePatientKeys(o, po, true);
      if (!keys.ok()) return Fail(keys.status());
      if (keys->size() != 1) return Fail("an erasure is asked of one custodian", Exit::kUsage);
      const crypto::KeyPair* key = &keys->front().key;
      ApiClient c(keys->front().url);
      auto look = Signed(c, *key, "GET", "/v1/records?reference=" + reference);
      if (!look.ok()) return Fail(look.status());
      if (look->status != 200) return Fail(ErrorText(*look), ExitForHttp(look->status));
      json l = json::parse(look->body, nullptr, false);
      if (l.is_discarded()) return Fail("the node answered with invalid JSON");
      if (l.value("erased", false)) return Fail(reference + " is already erased", Exit::kGone);
      json p = {{"request_id", crypto::RandomHexId()}, {"record_id", l.value("record_id", "")}};
      if (!patient.empty()) p["patient"] = patient;
      auto tx = c.Build(*key, model::tx::kErasureRequest, p);
      if (!tx.ok()) return Fail(tx.status());
      std::string body = model::TxToJson(*tx).dump();
      auto r = Signed(c, *key, "POST", "/fhir/" + reference + "/$erase", body);
      if (!r.ok()) return Fail(r.status());
      if (r->status != 200) return Fail(reference + ": " + ErrorText(*r), ExitForHttp(r->status));
      json receipt = json::parse(r->body, nullptr, false);
      if (receipt.is_discarded()) return Fail("the node answered with invalid JSON");
      PrintJson(receipt);
      VerifyReceipt(receipt);
    });
  }
  // legal-hold: a record.legal_hold transaction signed by the org admin's
  // key, so the hold is on chain and binds every node of the organisation.
  {
    auto* h = app.add_subcommand("legal-hold", "Set or release a legal hold on a record (custodian org admin)");
    static ClientOpts o;
    static std::string reference, reason;
    static bool release = false;
    AddClientOptions(h, &o, true);
    h->add_option("--reason", reason,
                  "Kind of proceeding, goes on chain: litigation, investigation, regulatory, court-order, audit, other");
    h->add_flag("--release", release, "Release the hold");
    h->add_option("reference", reference, "TYPE/ID")->required();
    h->callback([] {
      if (release != reason.empty()) return Fail("a hold needs --reason; a release takes none", Exit::kUsage);
      auto key = LoadKey(o.key);
      if (!key.ok()) return Fail(key.status());
      ApiClient c(o.url);
      auto look = Signed(c, *key, "GET", "/v1/records?reference=" + reference);
      if (!look.ok()) return Fail(look.status());
      if (look->status != 200) return Fail(ErrorText(*look), ExitForHttp(look->status));
      json l = json::parse(look->body, nullptr, false);
      if (l.is_discarded()) return Fail("the node answered with invalid JSON");
      json p = {{"record_id", l.value("record_id", "")}, {"hold", !release}};
      if (!release) p["reason"] = reason;
      auto r = c.Submit(*key, model::tx::kRecordLegalHold, p, !o.no_wait);
      if (!r.ok()) return Fail(r.status());
      json out = {{"reference", reference}, {"record_id", p["record_id"]}, {"hold", !release},
                  {"tx", r->value("id", "")}, {"status", r->value("status", "")}};
      if (r->contains("height")) out["height"] = (*r)["height"];
      PrintJson(out);
    });
  }
}

}  // namespace medledger::cli
