// The medledger command: one executable, one subcommand per task. Client
// subcommands talk to a node through its HTTP API; node, init and verify
// work on a data directory.
#include <signal.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <filesystem>
#include <iostream>

#include "cli/commands.h"
#include "crypto/ed25519.h"

int main(int argc, char** argv) {
  medledger::crypto::InitCrypto();
  spdlog::set_default_logger(spdlog::stderr_color_mt("medledger"));
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");

  CLI::App app{"medledger: a permissioned ledger for health data"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "medledger 0.1.0");
  medledger::cli::RegisterCommands(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  return medledger::cli::ExitCode();
}
