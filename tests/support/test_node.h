// TestNode: one real `medledger node` process on 127.0.0.1 with a port the
// node picks itself, on a development chain initialised in a fresh temp dir;
// and RunCli, which runs any medledger subcommand to completion.
//
// The binary is $MEDLEDGER_BIN (CTest sets it to build/medledger). A node is
// stopped by PID only: Stop() sends SIGTERM and expects a clean exit, Kill()
// sends SIGKILL (a crash), and the destructor SIGKILLs and reaps a node that
// is still running, so a failing test leaves no process behind. Each start
// writes its own stdout/stderr files (node-N.out, node-N.err) in the temp
// dir, which is kept (and printed) when the test fails.
//
// Not thread-safe: start, stop and restart from the test's main thread
// (the child's parent-death signal is tied to the spawning thread). url() and
// data_dir() may be read from any thread while the node runs.
#pragma once

#include <nlohmann/json.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "tests/support/process.h"

namespace medledger::test {

// $MEDLEDGER_BIN; empty if it is not set.
std::string MedledgerBin();

// Runs `medledger ARGS...` to completion. The test's own MEDLEDGER_URL and
// MEDLEDGER_KEY are not passed on; `env` ("NAME=VALUE") is applied after.
CommandResult RunCli(const std::vector<std::string>& args, const std::vector<std::string>& env = {},
                     std::chrono::milliseconds timeout = std::chrono::seconds(180));

struct TestNodeOptions {
  std::vector<std::string> init_args;  // added to `medledger init --data-dir DIR`
  std::vector<std::string> node_args;  // added to `medledger node --data-dir DIR --listen 127.0.0.1:0`
  // How long to wait for the node to print its URL.
  std::chrono::milliseconds start_timeout{std::chrono::seconds(60)};
};

class TestNode {
 public:
  // Creates the temp dir, runs `init` there and starts the node.
  // kFailedPrecondition when MEDLEDGER_BIN is unset or init fails;
  // kUnavailable when the node exits or prints no URL in time (with its log).
  static Result<std::unique_ptr<TestNode>> Start(TestNodeOptions options = {});
  ~TestNode();
  TestNode(const TestNode&) = delete;
  TestNode& operator=(const TestNode&) = delete;

  // Starts the node again on the same data dir (after Stop or Kill). Its URL
  // (and port) is the new one it prints.
  Status Restart();
  // SIGTERM, then waits; kAborted unless it exits 0 within `grace` (it is
  // SIGKILLed at the deadline).
  Status Stop(std::chrono::milliseconds grace = std::chrono::seconds(60));
  // SIGKILL and reap: a crash, as far as the node can tell.
  void Kill();
  bool running() { return process_ && process_->Running(); }
  pid_t pid() const { return process_ ? process_->pid() : -1; }

  const std::string& url() const { return url_; }
  const std::string& data_dir() const { return data_dir_; }
  std::string admin_key() const { return data_dir_ + "/keys/admin.key"; }
  std::string node_key() const { return data_dir_ + "/keys/node.key"; }
  // The JSON that `init` printed (chain_id, admin_id, admin_key, ...).
  const nlohmann::json& init_info() const { return init_info_; }
  const std::string& dir() const { return dir_.path(); }
  // The end of the current (or last) run's stderr, for failure messages.
  std::string LogTail(size_t bytes = 4000) const;

 private:
  explicit TestNode(TestNodeOptions options) : options_(std::move(options)), dir_("medledger-node") {}
  Status Launch();

  TestNodeOptions options_;
  TempDir dir_;
  std::string data_dir_;
  nlohmann::json init_info_;
  std::unique_ptr<Process> process_;
  std::string url_;
  int starts_ = 0;
};

}  // namespace medledger::test
