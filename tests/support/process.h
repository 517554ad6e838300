// Child processes for integration tests: spawn a command with its stdout and
// stderr captured to files, wait with a bounded timeout, signal or kill it by
// PID, and always reap it.
//
// A Process owns its child: the destructor SIGKILLs a child that is still
// running and reaps it, so a failing test (an ASSERT that returns early, an
// exception) leaves no orphan. Children are also started with
// PR_SET_PDEATHSIG = SIGKILL, so they die if the test process itself dies;
// note that Linux ties this to the spawning *thread*, so spawn from the test's
// main thread (or from a thread that outlives the child).
//
// Thread safety: none; drive one Process from one thread at a time. Spawning
// from a multi-threaded test is safe: everything the child needs is prepared
// before fork, and the child calls only async-signal-safe functions.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"

namespace medledger::test {

struct ProcessOptions {
  // Where the child's stdout and stderr go (created or truncated, mode 0644).
  // Empty: /dev/null.
  std::string stdout_path;
  std::string stderr_path;
  // Working directory of the child; empty: the test's own.
  std::string cwd;
  // Environment changes on top of the test process's environment:
  // "NAME=VALUE" sets, "NAME" alone removes.
  std::vector<std::string> env;
};

class Process {
 public:
  // argv[0] is the path of the executable (no PATH search). kInvalidArgument
  // for an empty argv, kUnavailable when the output files cannot be opened or
  // fork fails. An exec failure shows up as exit code 127.
  static Result<std::unique_ptr<Process>> Spawn(const std::vector<std::string>& argv,
                                                const ProcessOptions& options = {});
  ~Process();  // SIGKILLs a running child and reaps it
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  pid_t pid() const { return pid_; }
  // True while the child has not exited; reaps it (without blocking) if it has.
  bool Running();
  // Waits up to `timeout` for the child to exit. Returns its exit code
  // (128 + signal number when a signal ended it), or nullopt on timeout
  // (the child keeps running).
  std::optional<int> Wait(std::chrono::milliseconds timeout);
  // Sends `sig` to the child by PID; a no-op once it has been reaped.
  void Signal(int sig);
  // SIGKILL, then reap. Returns the exit code (137 when the kill ended it).
  int Kill();
  // SIGTERM, wait up to `grace`, then SIGKILL. Returns the exit code; a clean
  // shutdown within the grace period gives the program's own exit code.
  int Terminate(std::chrono::milliseconds grace = std::chrono::seconds(30));
  // The exit code once the child has been reaped.
  std::optional<int> exit_code() const { return exit_code_; }

  const std::string& stdout_path() const { return options_.stdout_path; }
  const std::string& stderr_path() const { return options_.stderr_path; }

 private:
  Process() = default;
  bool Reap(bool block);  // true once the child is reaped

  pid_t pid_ = -1;
  std::optional<int> exit_code_;
  ProcessOptions options_;
};

// Whole file contents, or "" if it cannot be read.
std::string ReadFileOrEmpty(const std::string& path);
// The last `bytes` of a file, for failure messages.
std::string FileTail(const std::string& path, size_t bytes = 4000);

// A fresh directory under $TMPDIR (or /tmp), removed by the destructor unless
// MEDLEDGER_KEEP_TEST_DIRS is set or (with keep_on_failure) the current gtest
// test failed; a kept directory's path is printed so its logs can be read.
class TempDir {
 public:
  explicit TempDir(const std::string& prefix = "medledger-it", bool keep_on_failure = true);
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  bool keep_on_failure_;
};

// The outcome of a command run to completion.
struct CommandResult {
  int exit_code = -1;  // 128 + signal when a signal ended it
  bool timed_out = false;  // it was killed at the deadline
  std::string out;
  std::string err;
  // "exit N; stderr: ..." for assertion messages.
  std::string Describe() const;
};

// Runs argv to completion (killing it at `timeout`) and returns its exit code
// and output. Errors (fork, temp files) are reported as exit_code -1 with the
// reason in err.
CommandResult RunCommand(const std::vector<std::string>& argv, const ProcessOptions& options = {},
                         std::chrono::milliseconds timeout = std::chrono::seconds(120));

// Connections to 127.0.0.1:`port` whose request the server has received but
// not read yet (server side, bytes waiting in the receive queue), from
// /proc/net/tcp. A stopped (SIGSTOP) server still completes handshakes and
// receives bytes, so this counts the requests it will find when it resumes:
// how a test knows a request reached a paused node without sleeping.
int QueuedRequests(int port);

// Sends SIGSTOP to `pid` and returns once every thread of it is stopped
// (/proc/<pid>/task/*/stat state T), false if that takes longer than
// `timeout`. kill() only queues the signal: a busy multi-threaded process
// (etcd) can run on for a moment, long enough to answer a request that a test
// sends right after pausing it.
bool StopProcess(pid_t pid, std::chrono::milliseconds timeout = std::chrono::seconds(10));

}  // namespace medledger::test
