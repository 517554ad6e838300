// `medledger demo`: a development chain with demo data, served in the
// foreground. Used by `make demo`.
#include <signal.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <iostream>

#include "api/http_signature.h"
#include "cli/api_client.h"
#include "cli/commands.h"
#include "cli/daemon.h"
#include "crypto/keyfile.h"
#include "crypto/sha256.h"
#include "model/tx_types.h"
#include "node/chain.h"
#include "node/orderer.h"
#include "state/genesis.h"

namespace medledger::cli {

// cli/record_cmds.cc
Result<nlohmann::json> RecordPut(const std::string& url, const crypto::KeyPair& key, const std::string& patient_id,
                                 const std::string& body);

using nlohmann::json;

namespace {

// Health records: the Organization and Practitioner bundles, then one
// Synthea patient bundle per patient identity (keys/patient-N.key), through
// the FHIR API as `record put` does.
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

Status LoadDemoRecords(const std::string& url, const std::string& dir, const crypto::KeyPair& admin) {
  namespace fs = std::filesystem;
  std::string fhir_dir = AssetDir() + "/demo/fhir";
  std::vector<std::string> info, patients;
  std::error_code ec;
  for (const auto& de : fs::directory_iterator(fhir_dir, ec)) {
    if (de.path().extension() != ".json") continue;
    std::string name = de.path().filename().string();
    (name.find("Information") != std::string::npos ? info : patients).push_back(de.path().string());
  }
  std::sort(info.begin(), info.end());
  std::sort(patients.begin(), patients.end());
  auto read = [](const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    std::ostringstream ss;
    ss << f.rdbuf();
    return ss.str();
  };
  ApiClient c(url);
  std::vector<std::pair<crypto::KeyPair, std::string>> patient_refs;
  for (const auto& f : info) {
    ML_ASSIGN_OR_RETURN(auto r, RecordPut(url, admin, "", read(f)));
    std::cout << "  stored " << r.size() << " resources from " << fs::path(f).filename().string() << std::endl;
  }
  int n = 0;
  for (const auto& f : patients) {
    std::string path = dir + "/keys/patient-" + std::to_string(++n) + ".key";
    crypto::KeyPair kp = crypto::KeyPair::Generate();
    ML_RETURN_IF_ERROR(crypto::WriteKeyFile(path, kp));
    ML_ASSIGN_OR_RETURN(auto reg, c.Submit(admin, model::tx::kIdentityRegister,
                                           {{"pubkey", kp.id()}, {"roles", {"patient"}}, {"label", "patient"}}));
    ML_ASSIGN_OR_RETURN(auto r, RecordPut(url, admin, kp.id(), read(f)));
    std::string ref = r.empty() ? "" : r[0].value("reference", "");
    std::cout << "  patient-" << n << " (" << path << "): " << r.size() << " resources, " << ref << std::endl;
    patient_refs.emplace_back(kp, ref);
  }
  return DemoAccesses(url, dir, patient_refs);
}

Status LoadDemoData(const std::string& url, const std::string& dir) {
  ML_ASSIGN_OR_RETURN(auto admin, crypto::ReadKeyFile(dir + "/keys/admin.key"));
  ApiClient c(url);
  // Identities for each role, with key files a user can sign with.
  std::vector<std::pair<std::string, std::string>> people = {
      {"practitioner", "dr-grey"}, {"auditor", "auditor"},
      {"insurer", "insurer"}, {"dispenser", "pharmacy"}};
  for (const auto& [role, name] : people) {
    std::string path = dir + "/keys/" + name + ".key";
    crypto::KeyPair kp = crypto::KeyPair::Generate();
    ML_RETURN_IF_ERROR(crypto::WriteKeyFile(path, kp));
    ML_ASSIGN_OR_RETURN(auto r, c.Submit(admin, model::tx::kIdentityRegister,
                                         {{"pubkey", kp.id()}, {"roles", {role}}, {"label", name}}));
    std::cout << "  registered " << role << " " << name << " (" << path << ")" << std::endl;
  }
  ML_ASSIGN_OR_RETURN(auto grey, crypto::ReadKeyFile(dir + "/keys/dr-grey.key"));
  for (int i = 0; i < 3; ++i) {
    ML_ASSIGN_OR_RETURN(auto r, c.Submit(grey, model::tx::kAnchorPut,
                                         {{"hash", ToHex(crypto::Sha256("demo document " + std::to_string(i)))},
                                          {"tag", "demo"}}));
  }
  return LoadDemoRecords(url, dir, admin);
}

}  // namespace

void RegisterDemoCommand(CLI::App& app) {
  auto* cmd = app.add_subcommand("demo", "Create (or reuse) a development chain with demo data and serve it");
  static std::string dir = "demo-data", listen = "127.0.0.1:8740";
  cmd->add_option("--data-dir", dir, "Data directory");
  cmd->add_option("--listen", listen, "HOST:PORT");
  cmd->callback([] {
    BlockShutdownSignals();
    namespace fs = std::filesystem;
    bool fresh = !fs::exists(dir + "/ledger");
    if (fresh) {
      std::error_code ec;
      fs::create_directories(dir + "/keys", ec);
      auto admin = crypto::KeyPair::Generate();
      auto node = crypto::KeyPair::Generate();
      Status st = crypto::WriteKeyFile(dir + "/keys/admin.key", admin);
      if (st.ok()) st = crypto::WriteKeyFile(dir + "/keys/node.key", node);
      if (st.ok()) st = node::Chain::Init(dir, state::DevGenesisDoc("medledger-demo", admin.public_key(), node.public_key(), node::NowMs()));
      if (!st.ok()) return Fail(st);
    }
    DaemonConfig cfg;
    cfg.data_dir = dir;
    cfg.listen = listen;
    auto d = Daemon::Start(cfg);
    if (!d.ok()) return Fail(d.status());
    std::string url = (*d)->url();
    if (fresh) {
      std::cout << "Loading demo data..." << std::endl;
      Status st = LoadDemoData(url, dir);
      if (!st.ok()) return Fail(st);
    }
    std::cout << "\nmedledger demo node is running at " << url << "\n"
              << "  data directory: " << fs::absolute(dir).string() << "\n"
              << "  admin key:      " << fs::absolute(dir + "/keys/admin.key").string() << "\n"
              << "  try:            build/medledger status --url " << url << "\n"
              << "Press Ctrl-C to stop." << std::endl;
    WaitForShutdownSignal();
    (*d)->Stop();
  });
}

}  // namespace medledger::cli
