// `medledger demo`: a consortium of two organisations with demo data, run in
// the foreground. Used by `make demo`.
//
// DIR (--data-dir) holds a `network up` network (cli/network.h: two etcd
// members, nodes node1 and node2 of organisations org1 and org2, their data
// dirs, logs and pid files); node1 listens on --listen. Besides:
// DIR/keys/       key files of the demo's users, made by the first run
// DIR/demo.json   written once the demo data is loaded; later runs only
//                 start the network and print the summary again from it
// DIR/demo.lock   locked (flock) while a demo runs in DIR
//
// The first run loads, at org1: an identity for each role, three anchors,
// the Synthea organisation and practitioner bundles, two patients with one
// key each, a consent and three reads (granted, denied, break-glass). Then a
// patient with records at both organisations: one seed key
// (keys/patient-seed.key) from which the demo derives the patient's key at
// org1 and the one at org2 (crypto/derive.h); each organisation's admin
// registers its own derived key, and each node stores part of one Synthea
// bundle under it. Only the derived public ids reach the nodes. Last, a
// medicine supply chain across both organisations, with a counterfeit and a
// recalled lot to find (cli/demo_supply.h), a small clinical trial
// (cli/demo_trials.h) and insurance claims under both example policies
// (cli/demo_claims.h).
//
// SIGINT or SIGTERM stops every process of the network by PID
// (NetworkDown), including any that an earlier, killed run left behind.
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <numeric>
#include <sstream>

#include "api/http_signature.h"
#include "cli/api_client.h"
#include "cli/commands.h"
#include "cli/daemon.h"
#include "cli/demo_claims.h"
#include "cli/demo_supply.h"
#include "cli/demo_trials.h"
#include "cli/network.h"
#include "crypto/derive.h"
#include "crypto/keyfile.h"
#include "crypto/sha256.h"
#include "model/tx_types.h"

namespace medledger::cli {

// cli/record_cmds.cc
Result<nlohmann::json> RecordPut(const std::string& url, const crypto::KeyPair& key, const std::string& patient_id,
                                 const std::string& body);

using nlohmann::json;
namespace fs = std::filesystem;

namespace {

constexpr const char* kChainId = "medledger-demo";
constexpr int kOrgs = 2;

// One organisation of the demo network, as NetworkUp describes its node.
struct Org {
  std::string id;  // org1, org2
  std::string url;
  crypto::KeyPair admin;
};

Result<std::vector<Org>> Orgs(const json& net) {
  std::vector<Org> orgs;
  for (const auto& n : net["nodes"]) {
    if (!n["org"].is_string()) return DataLoss("the genesis names no organisation for " + n.value("name", "a node"));
    ML_ASSIGN_OR_RETURN(crypto::KeyPair admin, crypto::ReadKeyFile(n["key"].get<std::string>()));
    orgs.push_back({n["org"].get<std::string>(), n["url"].get<std::string>(), std::move(admin)});
  }
  if (orgs.size() != kOrgs) return DataLoss("the demo network has " + std::to_string(orgs.size()) + " organisations");
  return orgs;
}

std::string ReadText(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::ostringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// A path for printing: relative to the current directory when under it.
std::string Show(const std::string& path) {
  std::error_code ec;
  fs::path rel = fs::relative(path, fs::current_path(ec), ec);
  if (ec || rel.empty() || *rel.begin() == "..") return path;
  return rel.string();
}

// SIGINT and SIGTERM are blocked until WaitForShutdownSignal takes them; a
// pending one stops the loading early, so that Ctrl-C is not ignored while
// the demo data loads.
Status CheckNotInterrupted() {
  sigset_t pending;
  sigemptyset(&pending);
  ::sigpending(&pending);
  if (sigismember(&pending, SIGINT) == 1 || sigismember(&pending, SIGTERM) == 1)
    return Aborted("interrupted before the demo data was loaded");
  return Status::Ok();
}

// Consents and accesses, so the audit log has something to show: patient-1
// consents to dr-grey for treatment; dr-grey reads (granted), the insurer
// reads (denied: no consent), and dr-grey reads patient-2's record by
// declaring an emergency (break-glass, flagged on chain).
Status DemoAccesses(const std::string& url, const std::string& dir,
                    const std::vector<std::pair<crypto::KeyPair, std::string>>& patients) {
  if (patients.size() < 2) return Status::Ok();
  ML_ASSIGN_OR_RETURN(auto grey, crypto::ReadKeyFile(dir + "/keys/dr-grey.key"));
  ML_ASSIGN_OR_RETURN(auto insurer, crypto::ReadKeyFile(dir + "/keys/insurer.key"));
  ApiClient c(url);
  Hash32 cid = crypto::Sha256("demo consent " + patients[0].first.id());
  ML_ASSIGN_OR_RETURN(auto g, c.Submit(patients[0].first, model::tx::kConsentGrant,
                                       {{"consent_id", ToHex(cid).substr(0, 32)},
                                        {"patient_org", "*"},
                                        {"grantee", grey.id()},
                                        {"types", {"*"}},
                                        {"purposes", {"TREAT"}}}));
  std::cout << "  patient-1 consents to dr-grey for treatment (tx " << g.value("id", "") << ")" << std::endl;
  auto read = [&](const crypto::KeyPair& who, const std::string& ref, const std::string& purpose,
                  const std::string& reason) -> Result<int> {
    http::HeaderList h = {{std::string(api::kPurposeHeader), purpose}};
    if (!reason.empty()) h.emplace_back(std::string(api::kBreakGlassHeader), reason);
    std::string target = "/fhir/" + ref;
    ML_ASSIGN_OR_RETURN(auto r, c.SignedRequest(who, "GET", target, "", h));
    return r.status;
  };
  ML_ASSIGN_OR_RETURN(int s1, read(grey, patients[0].second, "TREAT", ""));
  std::cout << "  dr-grey reads " << patients[0].second << " for treatment: HTTP " << s1 << std::endl;
  ML_ASSIGN_OR_RETURN(int s2, read(insurer, patients[0].second, "HPAYMT", ""));
  std::cout << "  insurer reads " << patients[0].second << " for payment without consent: HTTP " << s2 << std::endl;
  ML_ASSIGN_OR_RETURN(int s3, read(grey, patients[1].second, "ETREAT", "unconscious-in-emergency-department"));
  std::cout << "  dr-grey reads " << patients[1].second << " by break-glass: HTTP " << s3 << std::endl;
  return Status::Ok();
}

// Splits a Synthea patient bundle (a FHIR transaction) in two, as if the
// patient had been seen at two hospitals. The Patient, Organization and
// Practitioner entries go into both halves; every other entry stays with
// the entries it references by fullUrl (an encounter with its
// observations, claims and so on), the first half of those groups, in
// bundle order, going into the first bundle and the rest into the second.
// Every entry of `bundle` holds a resource object.
std::pair<json, json> SplitBundle(const json& bundle) {
  const json& entries = bundle["entry"];
  const size_t n = entries.size();
  std::map<std::string, size_t> by_url;
  std::vector<bool> shared(n);
  for (size_t i = 0; i < n; ++i) {
    by_url[entries[i].value("fullUrl", "")] = i;
    std::string type = entries[i]["resource"].value("resourceType", "");
    shared[i] = type == "Patient" || type == "Organization" || type == "Practitioner";
  }
  std::vector<size_t> parent(n);
  std::iota(parent.begin(), parent.end(), size_t(0));
  std::function<size_t(size_t)> root = [&](size_t i) { return parent[i] == i ? i : parent[i] = root(parent[i]); };
  std::function<void(const json&, size_t)> link = [&](const json& v, size_t i) {
    if (v.is_object()) {
      for (const auto& [k, w] : v.items()) {
        if (k != "reference" || !w.is_string()) {
          link(w, i);
          continue;
        }
        auto it = by_url.find(w.get<std::string>());
        if (it != by_url.end() && !shared[it->second]) parent[root(i)] = root(it->second);
      }
    } else if (v.is_array()) {
      for (const auto& w : v) link(w, i);
    }
  };
  for (size_t i = 0; i < n; ++i)
    if (!shared[i]) link(entries[i]["resource"], i);
  std::vector<size_t> groups;  // group roots, in order of their first entry
  for (size_t i = 0; i < n; ++i)
    if (!shared[i] && std::find(groups.begin(), groups.end(), root(i)) == groups.end()) groups.push_back(root(i));
  const size_t first_half = (groups.size() + 1) / 2;
  json a = bundle, b = bundle;
  a["entry"] = json::array();
  b["entry"] = json::array();
  for (size_t i = 0; i < n; ++i) {
    if (shared[i]) {
      a["entry"].push_back(entries[i]);
      b["entry"].push_back(entries[i]);
      continue;
    }
    size_t g = std::find(groups.begin(), groups.end(), root(i)) - groups.begin();
    (g < first_half ? a : b)["entry"].push_back(entries[i]);
  }
  return {a, b};
}

// The patient at both organisations: a seed key, and per organisation the
// key derived from it, registered by that organisation's admin, with part
// of `bundle_path` stored under it. Returns what demo.json keeps of it.
Result<json> LoadSeedPatient(const std::vector<Org>& orgs, const std::string& dir, const std::string& bundle_path) {
  json bundle = json::parse(ReadText(bundle_path), nullptr, false);
  bool ok = !bundle.is_discarded() && bundle.contains("entry") && bundle["entry"].is_array();
  for (const auto& e : ok ? bundle["entry"] : json::array())
    ok = ok && e.is_object() && e.contains("resource") && e["resource"].is_object();
  if (!ok) return DataLoss(bundle_path + " is not a FHIR Bundle of resources");
  auto [first, second] = SplitBundle(bundle);
  const json* parts[kOrgs] = {&first, &second};
  ML_ASSIGN_OR_RETURN(json status, ApiClient(orgs[0].url).Status());
  std::string chain_id = status.value("chain_id", "");
  std::string seed_file = dir + "/keys/patient-seed.key";
  // The seed stays here: only the keys derived from it are used below.
  crypto::KeyPair seed = crypto::KeyPair::Generate();
  ML_RETURN_IF_ERROR(crypto::WriteKeyFile(seed_file, seed));
  json out = {{"seed", seed_file}, {"custodians", json::array()}};
  for (int k = 0; k < kOrgs; ++k) {
    ML_RETURN_IF_ERROR(CheckNotInterrupted());
    const Org& org = orgs[k];
    ML_ASSIGN_OR_RETURN(crypto::KeyPair key, crypto::DeriveCustodianKey(seed, chain_id, org.id));
    ApiClient c(org.url);
    ML_ASSIGN_OR_RETURN(auto reg, c.Submit(org.admin, model::tx::kIdentityRegister,
                                           {{"pubkey", key.id()}, {"roles", {"patient"}}, {"label", "patient"}}));
    ML_ASSIGN_OR_RETURN(json r, RecordPut(org.url, org.admin, key.id(), parts[k]->dump()));
    std::string patient, resource;
    for (const auto& item : r) {
      std::string ref = item.value("reference", "");
      if (patient.empty() && ref.rfind("Patient/", 0) == 0) patient = ref;
      if (resource.empty() && ref.rfind("Observation/", 0) == 0) resource = ref;
    }
    if (patient.empty()) return DataLoss(org.id + " stored no Patient from " + bundle_path);
    out["custodians"].push_back(
        {{"org", org.id}, {"url", org.url}, {"id", key.id()}, {"patient", patient}, {"resource", resource},
         {"resources", r.size()}});
  }
  return out;
}

// Health records at org1: the Organization and Practitioner bundles, then
// one Synthea patient bundle per patient identity (keys/patient-N.key),
// through the FHIR API as `record put` does; the last patient bundle is
// the patient at both organisations (LoadSeedPatient).
Status LoadDemoRecords(const std::vector<Org>& orgs, const std::string& dir, json* demo) {
  const Org& org1 = orgs[0];
  std::string fhir_dir = AssetDir() + "/demo/fhir";
  std::vector<std::string> info, patients;
  std::error_code ec;
  for (const auto& de : fs::directory_iterator(fhir_dir, ec)) {
    if (de.path().extension() != ".json") continue;
    std::string name = de.path().filename().string();
    (name.find("Information") != std::string::npos ? info : patients).push_back(de.path().string());
  }
  if (patients.empty()) return NotFound("no demo patient bundles in " + fhir_dir);
  std::sort(info.begin(), info.end());
  std::sort(patients.begin(), patients.end());
  std::string two_orgs = patients.back();
  patients.pop_back();
  ApiClient c(org1.url);
  std::vector<std::pair<crypto::KeyPair, std::string>> patient_refs;
  for (const auto& f : info) {
    ML_RETURN_IF_ERROR(CheckNotInterrupted());
    ML_ASSIGN_OR_RETURN(auto r, RecordPut(org1.url, org1.admin, "", ReadText(f)));
    std::cout << "  stored " << r.size() << " resources from " << fs::path(f).filename().string() << std::endl;
  }
  int n = 0;
  for (const auto& f : patients) {
    ML_RETURN_IF_ERROR(CheckNotInterrupted());
    std::string path = dir + "/keys/patient-" + std::to_string(++n) + ".key";
    crypto::KeyPair kp = crypto::KeyPair::Generate();
    ML_RETURN_IF_ERROR(crypto::WriteKeyFile(path, kp));
    ML_ASSIGN_OR_RETURN(auto reg, c.Submit(org1.admin, model::tx::kIdentityRegister,
                                           {{"pubkey", kp.id()}, {"roles", {"patient"}}, {"label", "patient"}}));
    ML_ASSIGN_OR_RETURN(auto r, RecordPut(org1.url, org1.admin, kp.id(), ReadText(f)));
    std::string ref = r.empty() ? "" : r[0].value("reference", "");
    std::cout << "  patient-" << n << " (" << Show(path) << "): " << r.size() << " resources, " << ref << std::endl;
    patient_refs.emplace_back(kp, ref);
  }
  ML_RETURN_IF_ERROR(CheckNotInterrupted());
  ML_RETURN_IF_ERROR(DemoAccesses(org1.url, dir, patient_refs));
  std::cout << "Loading a patient with records at " << orgs[0].id << " and " << orgs[1].id << "..." << std::endl;
  ML_ASSIGN_OR_RETURN(json patient, LoadSeedPatient(orgs, dir, two_orgs));
  (*demo)["patient"] = std::move(patient);
  return Status::Ok();
}

Status LoadDemoData(const json& net, const std::string& dir, json* demo) {
  ML_ASSIGN_OR_RETURN(std::vector<Org> orgs, Orgs(net));
  const Org& org1 = orgs[0];
  std::error_code ec;
  fs::create_directories(dir + "/keys", ec);
  if (ec) return Unavailable("cannot create " + dir + "/keys: " + ec.message());
  fs::permissions(dir + "/keys", fs::perms::owner_all, ec);
  std::cout << "Loading demo data at " << org1.id << "..." << std::endl;
  ApiClient c(org1.url);
  // Identities for each role, with key files a user can sign with.
  std::vector<std::pair<std::string, std::string>> people = {
      {"practitioner", "dr-grey"}, {"auditor", "auditor"}, {"insurer", "insurer"}, {"dispenser", "pharmacy"}};
  for (const auto& [role, name] : people) {
    ML_RETURN_IF_ERROR(CheckNotInterrupted());
    std::string path = dir + "/keys/" + name + ".key";
    crypto::KeyPair kp = crypto::KeyPair::Generate();
    ML_RETURN_IF_ERROR(crypto::WriteKeyFile(path, kp));
    ML_ASSIGN_OR_RETURN(auto r, c.Submit(org1.admin, model::tx::kIdentityRegister,
                                         {{"pubkey", kp.id()}, {"roles", {role}}, {"label", name}}));
    std::cout << "  registered " << role << " " << name << " (" << Show(path) << ")" << std::endl;
  }
  ML_ASSIGN_OR_RETURN(auto grey, crypto::ReadKeyFile(dir + "/keys/dr-grey.key"));
  for (int i = 0; i < 3; ++i) {
    ML_ASSIGN_OR_RETURN(auto r, c.Submit(grey, model::tx::kAnchorPut,
                                         {{"hash", ToHex(crypto::Sha256("demo document " + std::to_string(i)))},
                                          {"tag", "demo"}}));
  }
  ML_RETURN_IF_ERROR(LoadDemoRecords(orgs, dir, demo));
  ML_ASSIGN_OR_RETURN((*demo)["supply"], LoadDemoSupply({orgs[0].id, orgs[0].url, &orgs[0].admin},
                                                        {orgs[1].id, orgs[1].url, &orgs[1].admin}, dir + "/keys",
                                                        CheckNotInterrupted));
  ML_ASSIGN_OR_RETURN((*demo)["trial"], LoadDemoTrial({orgs[0].id, orgs[0].url, &orgs[0].admin},
                                                      {orgs[1].id, orgs[1].url, &orgs[1].admin}, dir + "/keys",
                                                      CheckNotInterrupted));
  ML_ASSIGN_OR_RETURN((*demo)["claims"], LoadDemoClaims({orgs[0].id, orgs[0].url, &orgs[0].admin},
                                                        {orgs[1].id, orgs[1].url, &orgs[1].admin}, dir + "/keys",
                                                        CheckNotInterrupted));
  return crypto::WriteFileAtomic(dir + "/demo.json", demo->dump(2) + "\n", 0644);
}

void PrintRunning(const json& net, const std::string& dir, const json& demo) {
  const json& nodes = net["nodes"];
  std::error_code ec;
  std::string bin = Show(fs::read_symlink("/proc/self/exe", ec).string());
  if (bin.empty()) bin = "medledger";
  const std::string url1 = nodes[0]["url"].get<std::string>(), url2 = nodes[1]["url"].get<std::string>();
  std::ostringstream o;
  o << "\nmedledger demo is running: chain " << kChainId << ", organisations";
  for (const auto& n : nodes) o << " " << n["org"].get<std::string>();
  o << "\n";
  for (const auto& n : nodes)
    o << "  " << n["org"].get<std::string>() << " node  " << n["url"].get<std::string>() << "  (" << n["name"].get<std::string>()
      << ", pid " << n["pid"].dump() << "; admin key " << Show(n["key"].get<std::string>()) << ")\n";
  o << "  etcd      ";
  for (const auto& e : net["etcd"])
    o << " " << e["endpoint"].get<std::string>() << " (" << e["name"].get<std::string>() << ", pid " << e["pid"].dump() << ")";
  o << "\n  data directory: " << dir << " (each process logs to NAME.log there)\n";
  const json& p = demo["patient"];
  std::string seed = Show(p["seed"].get<std::string>());
  o << "\nA patient at two organisations, with one key per custodian derived from one seed:\n"
    << "  seed key: " << seed << " (stays with the patient: no node sees it or its public id)\n";
  std::string ref2, res2;
  for (const auto& c : p["custodians"]) {
    o << "  " << c["org"].get<std::string>() << ": key " << c["id"].get<std::string>() << ", "
      << c["patient"].get<std::string>() << " (" << c["resources"].dump() << " resources)\n";
    ref2 = c["patient"].get<std::string>();
    res2 = c["resource"].get<std::string>();
  }
  const std::string org2 = nodes[1]["org"].get<std::string>();
  const std::string all = nodes[0]["org"].get<std::string>() + "," + org2;
  o << "\ntry:\n"
    << "  " << bin << " status --url " << url1 << "\n"
    << "  " << bin << " keygen --derive --from " << seed << " --org " << org2 << " --out "
    << Show(dir + "/keys/patient-" + org2 + ".key") << " --url " << url1 << "\n"
    << "  " << bin << " consent grant --url " << url1 << " --seed " << seed << " --custodians " << all
    << " --to org:" << nodes[0]["org"].get<std::string>() << " --types all --purpose treatment   # prints a group id\n"
    << "  " << bin << " consent revoke --url " << url1 << " --seed " << seed << " --custodians " << all
    << " --group GROUP\n"
    << "  " << bin << " audit --url " << url1 << " --seed " << seed << " --custodians " << all
    << "   # one AuditEvent Bundle from both custodians\n"
    << "  " << bin << " record get --url " << url2 << " --seed " << seed << " --custodian " << org2
    << " --purpose treatment " << ref2 << "\n"
    << "  " << bin << " erase --url " << url2 << " --seed " << seed << " --custodian " << org2 << " "
    << (res2.empty() ? "TYPE/ID" : res2) << "\n";
  // A demo directory loaded before the supply chain existed has none.
  if (demo.contains("supply")) o << DemoSupplySummary(demo["supply"], bin, Show);
  if (demo.contains("trial")) o << DemoTrialSummary(demo["trial"], bin, Show);
  if (demo.contains("claims")) o << DemoClaimsSummary(demo["claims"], bin, Show);
  o << "Press Ctrl-C to stop every process of the demo.\n";
  std::cout << o.str() << std::flush;
}

// flock on DIR/demo.lock, held while this process runs: a second demo in
// the same directory would otherwise stop the first one's processes when
// it ends.
class DirLock {
 public:
  ~DirLock() {
    if (fd_ >= 0) ::close(fd_);
  }
  Status Acquire(const std::string& dir) {
    fd_ = ::open((dir + "/demo.lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ < 0) return Unavailable("cannot open " + dir + "/demo.lock");
    if (::flock(fd_, LOCK_EX | LOCK_NB) != 0)
      return FailedPrecondition("another 'medledger demo' is running in " + dir);
    return Status::Ok();
  }

 private:
  int fd_ = -1;
};

Status RunDemo(const std::string& data_dir, const std::string& listen) {
  std::error_code ec;
  const std::string dir = fs::absolute(data_dir, ec).lexically_normal().string();
  fs::create_directories(dir, ec);
  if (ec) return Unavailable("cannot create " + dir + ": " + ec.message());
  if (fs::exists(dir + "/ledger") && !fs::exists(dir + "/network.json"))
    return FailedPrecondition(dir + " holds a single-node demo chain of an earlier medledger; remove it or pick another --data-dir");
  DirLock lock;
  ML_RETURN_IF_ERROR(lock.Acquire(dir));
  const bool loaded = fs::exists(dir + "/demo.json");
  if (!loaded && fs::exists(dir + "/keys"))
    return FailedPrecondition("an earlier run in " + dir + " stopped before its demo data was loaded; remove the directory to start afresh");
  std::cout << "Starting etcd and the nodes of two organisations in " << Show(dir) << "..." << std::endl;
  NetworkOptions options;
  options.nodes = kOrgs;
  options.chain_id = kChainId;
  options.first_listen = listen;
  auto net = NetworkUp(dir, options);
  Status st = net.status();
  json demo;
  if (st.ok() && loaded) {
    demo = json::parse(ReadText(dir + "/demo.json"), nullptr, false);
    if (demo.is_discarded() || !demo.contains("patient")) st = DataLoss(dir + "/demo.json is not the demo's summary");
  } else if (st.ok()) {
    st = LoadDemoData(*net, dir, &demo);
  }
  if (st.ok()) {
    PrintRunning(*net, dir, demo);
    WaitForShutdownSignal();
  }
  // Whatever NetworkUp started, also when it or the loading failed.
  auto down = NetworkDown(dir);
  if (down.ok()) {
    std::cout << "Stopped";
    for (const auto& name : (*down)["stopped"]) std::cout << " " << name.get<std::string>();
    std::cout << std::endl;
  } else if (down.status().code() != StatusCode::kNotFound && st.ok()) {
    st = down.status();
  }
  return st;
}

}  // namespace

void RegisterDemoCommand(CLI::App& app) {
  auto* cmd = app.add_subcommand("demo", "Create (or reuse) a two-organisation consortium with demo data and run it");
  static std::string dir = "demo-data", listen = "127.0.0.1:8740";
  cmd->add_option("--data-dir", dir, "Data directory (a `network up` directory, plus the demo's keys)");
  cmd->add_option("--listen", listen, "127.0.0.1:PORT of org1's node (the other node and etcd take free ports)");
  cmd->callback([] {
    // Before any thread starts (daemon.h); the processes it spawns unblock
    // them again (cli/network_cmd.cc, SpawnDetached).
    BlockShutdownSignals();
    Status st = RunDemo(dir, listen);
    if (!st.ok()) Fail(st);
  });
}

}  // namespace medledger::cli
