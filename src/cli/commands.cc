#include "cli/commands.h"

#include <unistd.h>

#include <filesystem>
#include <iostream>

#include "crypto/keyfile.h"

namespace medledger::cli {

namespace {
int g_exit = 0;
}

int ExitCode() { return g_exit; }
void SetExit(int code) { g_exit = code; }

void Fail(const std::string& message, int code) {
  std::cerr << "medledger: " << message << std::endl;
  g_exit = code;
}

void Fail(const Status& st, int code) { Fail(st.message().empty() ? st.ToString() : st.message(), code); }

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
