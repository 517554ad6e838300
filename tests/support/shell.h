// Small helpers for tests that drive the medledger binary through a shell
// command line (network up/down/status and friends) and poll for a state.
#pragma once

#include <sys/wait.h>

#include <signal.h>
#include <stdlib.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

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

// 64 random hex characters (a fresh anchor hash, say). Safe to call from
// several client threads at once: they share one generator under a lock.
inline std::string RandomHex32() {
  static std::mutex mu;
  static std::mt19937_64 rng(std::random_device{}());
  std::lock_guard lock(mu);
  std::string s;
  char buf[17];
  for (int i = 0; i < 4; ++i) {
    std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(rng()));
    s += buf;
  }
  return s;
}

// Makes a fresh directory /tmp/PREFIX-XXXXXX and returns its path, or "" if
// mkdtemp fails. The caller removes it (TearDownNetwork does).
inline std::string MakeTempDir(const std::string& prefix) {
  std::string tmpl = "/tmp/" + prefix + "-XXXXXX";
  return ::mkdtemp(tmpl.data()) ? tmpl : std::string();
}

// Stops a `network up` consortium in `dir`: `network down` by PID, then
// SIGKILL for any PID in `extra` still alive (down checks PIDs against
// command lines and may leave a restarted one). Keeps the directory when the
// test failed or MEDLEDGER_KEEP_NET_DIR is set.
inline void TearDownNetwork(const std::string& dir, const std::vector<pid_t>& extra, bool failed) {
  Medledger("network down --dir " + dir + " >/dev/null 2>&1");
  for (pid_t pid : extra)
    if (::kill(pid, 0) == 0) ::kill(pid, SIGKILL);
  if (failed || std::getenv("MEDLEDGER_KEEP_NET_DIR")) {
    std::cerr << "network dir kept: " << dir << std::endl;
  } else {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
}

}  // namespace medledger::test
