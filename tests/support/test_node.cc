#include "tests/support/test_node.h"

#include <signal.h>

#include <cstdlib>
#include <thread>

namespace medledger::test {

using nlohmann::json;

std::string MedledgerBin() {
  const char* bin = std::getenv("MEDLEDGER_BIN");
  return bin ? bin : "";
}

CommandResult RunCli(const std::vector<std::string>& args, const std::vector<std::string>& env,
                     std::chrono::milliseconds timeout) {
  std::vector<std::string> argv = {MedledgerBin()};
  argv.insert(argv.end(), args.begin(), args.end());
  ProcessOptions o;
  o.env = {"MEDLEDGER_URL", "MEDLEDGER_KEY"};
  o.env.insert(o.env.end(), env.begin(), env.end());
  if (argv[0].empty()) {
    CommandResult r;
    r.err = "MEDLEDGER_BIN is not set";
    return r;
  }
  return RunCommand(argv, o, timeout);
}

Result<std::unique_ptr<TestNode>> TestNode::Start(TestNodeOptions options) {
  if (MedledgerBin().empty()) return FailedPrecondition("MEDLEDGER_BIN is not set (run through ctest)");
  std::unique_ptr<TestNode> n(new TestNode(std::move(options)));
  if (n->dir_.path().empty()) return Unavailable("cannot create a temp dir");
  n->data_dir_ = n->dir_.path() + "/data";
  std::vector<std::string> args = {"init", "--data-dir", n->data_dir_};
  args.insert(args.end(), n->options_.init_args.begin(), n->options_.init_args.end());
  CommandResult init = RunCli(args);
  if (init.exit_code != 0) return FailedPrecondition("medledger init failed: " + init.Describe());
  n->init_info_ = json::parse(init.out, nullptr, false);
  if (n->init_info_.is_discarded()) return FailedPrecondition("medledger init printed no JSON: " + init.out);
  ML_RETURN_IF_ERROR(n->Launch());
  return n;
}

Status TestNode::Launch() {
  if (running()) return FailedPrecondition("node is already running");
  process_.reset();
  url_.clear();
  int run = ++starts_;
  ProcessOptions o;
  o.stdout_path = dir_.path() + "/node-" + std::to_string(run) + ".out";
  o.stderr_path = dir_.path() + "/node-" + std::to_string(run) + ".err";
  std::vector<std::string> argv = {MedledgerBin(), "node", "--data-dir", data_dir_, "--listen", "127.0.0.1:0"};
  argv.insert(argv.end(), options_.node_args.begin(), options_.node_args.end());
  ML_ASSIGN_OR_RETURN(process_, Process::Spawn(argv, o));

  // The node prints one JSON line, {"url":...,"pid":...}, once it serves.
  auto deadline = std::chrono::steady_clock::now() + options_.start_timeout;
  for (;;) {
    std::string out = ReadFileOrEmpty(o.stdout_path);
    size_t nl = out.find('\n');
    if (nl != std::string::npos) {
      json j = json::parse(out.substr(0, nl), nullptr, false);
      if (j.is_discarded() || !j.contains("url") || !j["url"].is_string())
        return Unavailable("node printed no URL line: " + out.substr(0, nl));
      if (j.value("pid", -1) != process_->pid())
        return Unavailable("node printed pid " + j["pid"].dump() + ", expected " + std::to_string(process_->pid()));
      url_ = j["url"].get<std::string>();
      if (url_.rfind("http://127.0.0.1:", 0) != 0) return Unavailable("node does not serve on loopback: " + url_);
      return Status::Ok();
    }
    if (!process_->Running())
      return Unavailable("node exited with code " + std::to_string(*process_->exit_code()) +
                         " before serving; stderr: " + LogTail());
    if (std::chrono::steady_clock::now() >= deadline) {
      process_->Kill();
      return Unavailable("node printed no URL within the start timeout; stderr: " + LogTail());
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

Status TestNode::Restart() { return Launch(); }

Status TestNode::Stop(std::chrono::milliseconds grace) {
  if (!process_) return FailedPrecondition("node was never started");
  if (!process_->Running()) return Aborted("node had already exited with code " + std::to_string(*process_->exit_code()));
  int code = process_->Terminate(grace);
  if (code != 0) return Aborted("node exited with code " + std::to_string(code) + " on SIGTERM; stderr: " + LogTail());
  return Status::Ok();
}

void TestNode::Kill() {
  if (process_) process_->Kill();
}

std::string TestNode::LogTail(size_t bytes) const {
  return process_ ? FileTail(process_->stderr_path(), bytes) : "";
}

TestNode::~TestNode() {
  // The Process destructor SIGKILLs and reaps a node still running; do it
  // before the temp dir (holding its data dir) goes away.
  process_.reset();
}

}  // namespace medledger::test
