// `medledger record put` (store a FHIR resource or Bundle at the custodian)
// and `medledger record bench-ingest` (ingest throughput). Writes are signed
// with RFC 9421 (api/http_signature.h) by an org_admin or practitioner key of
// the custodian org.
#include <CLI/CLI.hpp>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include "api/http_signature.h"
#include "cli/api_client.h"
#include "cli/commands.h"
#include "crypto/keyfile.h"
#include "custodian/fhir_index.h"
#include "fhir/json.h"
#include "model/tx_types.h"

namespace medledger::cli {

using nlohmann::json;

namespace {

constexpr const char* kExtTx = "https://medledger.dev/fhir/StructureDefinition/anchor-tx";
constexpr const char* kExtHash = "https://medledger.dev/fhir/StructureDefinition/anchor-hash";

Result<std::string> ReadFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return NotFound("cannot read " + path);
  std::ostringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

std::string ExtValue(const json& response, const char* url) {
  if (!response.contains("extension")) return "";
  for (const auto& e : response["extension"])
    if (e.value("url", "") == url) return e.value("valueString", "");
  return "";
}

// "Type/id/_history/v" → {"Type/id", v}
std::pair<std::string, int64_t> SplitLocation(const std::string& loc) {
  auto h = loc.find("/_history/");
  if (h == std::string::npos) return {loc, 0};
  return {loc.substr(0, h), std::stoll(loc.substr(h + 10))};
}

// Registers the node's custodian subject key (binds the pseudonym of
// resources without a patient) with the patient role. Needs an org admin key.
// Writes started together on a new node all find it unregistered: one
// registration commits and the others are rejected "already registered",
// which is the state they asked for, so that is success (a key registered
// with other roles, or revoked, makes the retried write fail with the
// node's 412). Within one process (bench-ingest's threads) one registration
// runs at a time and a later caller finds the key done.
Status RegisterCustodianSubject(const std::string& url, const crypto::KeyPair& admin) {
  static std::mutex mu;
  static std::set<std::string> done;  // url + " " + subject id
  std::lock_guard<std::mutex> l(mu);
  ApiClient c(url);
  ML_ASSIGN_OR_RETURN(auto j, c.GetJson("/fhir/$custodian-subject"));
  std::string id = j.value("custodian_subject", "");
  if (done.count(url + " " + id)) return Status::Ok();
  auto r = c.Submit(admin, model::tx::kIdentityRegister,
                    {{"pubkey", id}, {"roles", {"patient"}}, {"label", "fhir-custodian-subject"}});
  if (!r.ok() && r.status().message().find("conflict: key is already registered") == std::string::npos)
    return FailedPrecondition("registering the custodian subject key " + id + ": " + r.status().message());
  done.insert(url + " " + id);
  return Status::Ok();
}

}  // namespace

std::string OutcomeMessage(const std::string& body) {
  json j = json::parse(body, nullptr, false);
  if (!j.is_discarded() && j.value("resourceType", "") == "OperationOutcome" && j.contains("issue") &&
      !j["issue"].empty())
    return j["issue"][0].value("diagnostics", j["issue"][0].value("code", "error"));
  return body.substr(0, 300);
}

Result<http::ClientResponse> SignedSend(ApiClient& c, const crypto::KeyPair& key, const std::string& method,
                                        const std::string& target, const std::string& body,
                                        const std::string& patient) {
  http::HeaderList h = {{"Content-Type", "application/fhir+json"}, {"Accept", "application/fhir+json"}};
  if (!patient.empty()) h.push_back({api::kPatientHeader, patient});
  return c.SignedRequest(key, method, target, body, std::move(h));
}


// Stores `body` (a resource or a transaction/batch Bundle) at the node and
// returns [{reference, version, anchor, tx}] for what was stored. Used by
// `record put`, `record bench-ingest` and `demo`.
Result<json> RecordPut(const std::string& url, const crypto::KeyPair& key, const std::string& patient_id,
                       const std::string& body) {
  json doc = json::parse(body, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) return InvalidArgument("the file is not a JSON object");
  std::string type = doc.value("resourceType", "");
  if (type.empty()) return InvalidArgument("the file has no resourceType");
  std::string method = "POST", target = "/fhir";
  if (type != "Bundle") {
    target = "/fhir/" + type;
    if (doc.contains("id") && doc["id"].is_string()) {
      method = "PUT";
      target += "/" + doc["id"].get<std::string>();
    }
  }
  ApiClient c(url, std::chrono::minutes(5));
  ML_ASSIGN_OR_RETURN(auto r, SignedSend(c, key, method, target, body, patient_id));
  if (r.status == 412 && OutcomeMessage(r.body).find("custodian subject key") != std::string::npos) {
    ML_RETURN_IF_ERROR(RegisterCustodianSubject(url, key));
    ML_ASSIGN_OR_RETURN(r, SignedSend(c, key, method, target, body, patient_id));
  }
  if (r.status >= 400)
    return Status(StatusCodeForHttp(r.status), "HTTP " + std::to_string(r.status) + ": " + OutcomeMessage(r.body));
  json out = json::array();
  if (type != "Bundle") {
    auto loc = r.Header("Location").value_or("");
    if (loc.rfind("/fhir/", 0) == 0) loc = loc.substr(6);
    auto [ref, v] = SplitLocation(loc);
    out.push_back({{"reference", ref}, {"version", v}, {"anchor", r.Header("X-Medledger-Anchor-Hash").value_or("")},
                   {"tx", r.Header("X-Medledger-Anchor-Tx").value_or("")}});
    return out;
  }
  json resp = json::parse(r.body, nullptr, false);
  if (resp.is_discarded() || !resp.contains("entry")) return Internal("the node answered with no response Bundle");
  std::vector<std::string> errors;
  for (const auto& e : resp["entry"]) {
    const json& rr = e["response"];
    std::string tx = ExtValue(rr, kExtTx);
    std::string status = rr.value("status", "");
    if (status.empty() || status[0] != '2') {
      std::string msg = status;
      if (rr.contains("outcome")) msg += ": " + OutcomeMessage(rr["outcome"].dump());
      errors.push_back(msg);
      continue;
    }
    if (tx.empty()) continue;  // a conditional create that matched: nothing stored
    auto [ref, v] = SplitLocation(rr.value("location", ""));
    out.push_back({{"reference", ref}, {"version", v}, {"anchor", ExtValue(rr, kExtHash)}, {"tx", tx}});
  }
  for (const auto& m : errors) std::cerr << "medledger: batch entry failed: " << m << std::endl;
  return out;
}

namespace {

CLI::App* RecordCommand(CLI::App& app) {
  try {
    return app.get_subcommand("record");
  } catch (const CLI::OptionNotFound&) {
    auto* rec = app.add_subcommand("record", "Health records: put, get, bench-ingest");
    rec->require_subcommand(1);
    return rec;
  }
}

void BenchIngest(const std::string& url, const std::string& key_path, const std::string& dir, int concurrency,
                 int rounds) {
  auto key = LoadKey(key_path);
  if (!key.ok()) return Fail(key.status());
  namespace fs = std::filesystem;
  std::vector<std::pair<std::string, std::string>> files;  // (name, body)
  std::error_code ec;
  for (const auto& de : fs::directory_iterator(dir, ec))
    if (de.path().extension() == ".json") {
      auto b = ReadFile(de.path().string());
      if (b.ok()) files.push_back({de.path().filename().string(), std::move(*b)});
    }
  if (files.empty()) return Fail("no .json bundles in " + dir);
  std::sort(files.begin(), files.end());
  // Untimed setup: one patient identity per bundle; the custodian subject.
  ApiClient c(url);
  std::vector<std::string> patients;
  for (size_t i = 0; i < files.size(); ++i) {
    auto kp = crypto::KeyPair::Generate();
    auto r = c.Submit(*key, model::tx::kIdentityRegister,
                      {{"pubkey", kp.id()}, {"roles", {"patient"}}, {"label", "bench-patient"}});
    if (!r.ok()) return Fail(r.status());
    patients.push_back(kp.id());
  }
  Status st = RegisterCustodianSubject(url, *key);
  if (!st.ok() && st.message().find("conflict") == std::string::npos &&
      st.message().find("already") == std::string::npos)
    std::cerr << "medledger: " << st.message() << std::endl;
  size_t total_resources = 0;
  for (const auto& [n, b] : files) {
    json j = json::parse(b, nullptr, false);
    if (!j.is_discarded() && j.contains("entry")) total_resources += j["entry"].size();
  }
  std::atomic<size_t> next{0}, stored{0}, failed{0};
  std::mutex err_mu;
  std::string first_error;
  size_t jobs = files.size() * size_t(rounds);
  auto t0 = std::chrono::steady_clock::now();
  std::vector<std::thread> ts;
  for (int t = 0; t < concurrency; ++t)
    ts.emplace_back([&] {
      for (size_t i; (i = next++) < jobs;) {
        size_t f = i % files.size();
        auto r = RecordPut(url, *key, patients[f], files[f].second);
        if (r.ok()) {
          stored += r->size();
        } else {
          failed++;
          std::lock_guard<std::mutex> l(err_mu);
          if (first_error.empty()) first_error = r.status().message();
        }
      }
    });
  for (auto& t : ts) t.join();
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  json out = {{"bundles", jobs},           {"bundle_files", files.size()},
              {"rounds", rounds},          {"concurrency", concurrency},
              {"resources_stored", stored.load()}, {"resources_in_files_per_round", total_resources},
              {"failed_bundles", failed.load()},  {"seconds", secs},
              {"resources_per_s", secs > 0 ? double(stored.load()) / secs : 0.0}};
  if (!first_error.empty()) out["first_error"] = first_error;
  PrintJson(out);
  if (failed.load() > 0) SetExit(Exit::kFailure);
}

}  // namespace

void RegisterRecordPutCommand(CLI::App& app) {
  CLI::App* rec = RecordCommand(app);
  {
    auto* cmd = rec->add_subcommand("put", "Store a FHIR resource or Bundle at the custodian and anchor it");
    static ClientOpts o;
    static std::string patient, file;
    AddClientOptions(cmd, &o, true);
    cmd->add_option("--patient", patient, "The patient's public id (as keygen prints it)");
    cmd->add_option("FILE", file, "A FHIR R4 resource or a transaction/batch Bundle (JSON)")->required();
    cmd->callback([] {
      auto key = LoadKey(o.key);
      if (!key.ok()) return Fail(key.status());
      auto body = ReadFile(file);
      if (!body.ok()) return Fail(body.status());
      auto r = RecordPut(o.url, *key, patient, *body);
      if (!r.ok()) return Fail(r.status());
      PrintJson(*r);
    });
  }
  {
    auto* cmd = rec->add_subcommand("bench-ingest", "Measure FHIR bundle ingest (resources/s) against a node");
    static ClientOpts o;
    static std::string dir;
    static int concurrency = 4, rounds = 1;
    AddClientOptions(cmd, &o, true);
    cmd->add_option("--dir", dir, "Directory of Bundle files (*.json)")->required();
    cmd->add_option("--concurrency", concurrency, "Bundles in flight");
    cmd->add_option("--rounds", rounds, "Times each bundle is posted (each post stores new resources)");
    cmd->callback([] { BenchIngest(o.url, o.key, dir, concurrency, rounds); });
  }
}

}  // namespace medledger::cli
