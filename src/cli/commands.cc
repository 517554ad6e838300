#include "cli/commands.h"

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>

#include "crypto/keyfile.h"

namespace medledger::cli {

namespace {
int g_exit = 0;
}

int ExitCode() { return g_exit; }
void SetExit(Exit code) { g_exit = static_cast<int>(code); }

void Fail(const std::string& message, Exit code) {
  std::cerr << "medledger: " << message << std::endl;
  SetExit(code);
}

void Fail(const Status& st, Exit code) { Fail(st.message().empty() ? st.ToString() : st.message(), code); }
void Fail(const Status& st) { Fail(st, ExitForStatus(st)); }

void PrintJson(const nlohmann::json& j) { std::cout << j.dump(2) << std::endl; }

void AddClientOptions(CLI::App* cmd, ClientOpts* o, bool needs_key) {
  cmd->add_option("--url", o->url, "Node URL, e.g. http://127.0.0.1:8740")->envname("MEDLEDGER_URL")->required();
  auto* k = cmd->add_option("--key", o->key, "Signing key file")->envname("MEDLEDGER_KEY");
  if (needs_key) k->required();
  cmd->add_flag("--no-wait", o->no_wait, "Return once the node accepted the transaction, without waiting for its block");
}

Result<crypto::KeyPair> LoadKey(const std::string& path) {
  if (path.empty()) return InvalidArgument("--key (or MEDLEDGER_KEY) is required");
  return crypto::ReadKeyFile(path);
}

std::vector<std::string> SplitComma(const std::vector<std::string>& in) {
  std::vector<std::string> out;
  for (const auto& s : in) {
    size_t start = 0;
    for (;;) {
      size_t comma = s.find(',', start);
      std::string part = s.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
      if (!part.empty()) out.push_back(part);
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
  }
  return out;
}

std::string ToPurposeCode(const std::string& p) {
  std::string l;
  for (char c : p) l.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  if (l == "treatment") return "TREAT";
  if (l == "payment") return "HPAYMT";
  if (l == "operations") return "HOPERAT";
  if (l == "research") return "HRESCH";
  if (l == "emergency") return "ETREAT";
  std::string u;
  for (char c : p) u.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  return u;
}


std::string AssetDir() {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    // build/medledger -> repository root
    for (fs::path p = exe.parent_path(); !p.empty() && p != p.root_path(); p = p.parent_path())
      if (fs::exists(p / "demo" / "README.md")) return p.string();
  }
  return MEDLEDGER_SOURCE_DIR;
}

void RegisterCommands(CLI::App& app) {
  RegisterLedgerCommands(app);
  RegisterBenchCommand(app);
  RegisterDemoCommand(app);
  RegisterGovernanceCommands(app);
  RegisterContractCommands(app);
  RegisterClaimCommands(app);
  RegisterTrialCommands(app);
  RegisterNetworkCommand(app);
  RegisterAccessCommands(app);
  RegisterRecordPutCommand(app);
  RegisterPatientCommands(app);
  RegisterSupplyCommands(app);
  RegisterSupplyBenchCommands(app);  // after the epcis and product commands it extends
}

}  // namespace medledger::cli
