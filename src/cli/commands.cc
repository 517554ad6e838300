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
  RegisterNetworkCommand(app);
  RegisterAccessCommands(app);
  RegisterRecordPutCommand(app);
}

}  // namespace medledger::cli
