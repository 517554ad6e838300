// Small helpers for tests that drive the medledger binary through a shell
// command line (network up/down/status and friends) and poll for a state.
#pragma once

#include <sys/wait.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

namespace medledger::test {

// $MEDLEDGER_BIN (CTest sets it to build/medledger), else "medledger".
inline std::string MedledgerBin() {
  const char* b = std::getenv("MEDLEDGER_BIN");
  return b ? b : "medledger";
}

struct CmdResult {
  int rc = -1;
  std::string out;
};

// Runs `medledger ARGS` through the shell and captures stdout (stderr goes
// to the test log). rc is the exit code, or 128 + signal.
inline CmdResult Medledger(const std::string& args) {
  CmdResult r;
  std::string cmd = MedledgerBin() + " " + args;
  FILE* f = ::popen(cmd.c_str(), "r");
  if (!f) return r;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, f)) > 0) r.out.append(buf, n);
  int st = ::pclose(f);
  r.rc = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
  return r;
}

// Polls cond every 100 ms until it holds or `limit` passes (a bound against
// hangs, never a pass/fail criterion on speed); returns its last value.
template <typename F>
bool WaitUntil(F cond, std::chrono::seconds limit = std::chrono::seconds(120)) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (cond()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return cond();
}

}  // namespace medledger::test
