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
    // --help and --version end parsing with a ParseError too; app.exit
    // prints them and returns 0. Every real parse error is a usage error.
    int rc = app.exit(e);
    return rc == 0 ? 0 : static_cast<int>(medledger::cli::Exit::kUsage);
  } catch (const std::exception& e) {
    // A bug (an answer of an unexpected shape, say) ends with one line and
    // exit 1 rather than std::terminate's abort.
    medledger::cli::Fail(std::string("internal error: ") + e.what(), medledger::cli::Exit::kFailure);
  }
  return medledger::cli::ExitCode();
}
