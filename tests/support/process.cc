#include "tests/support/process.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

extern char** environ;

namespace medledger::test {

namespace {

int ExitCodeOf(int wstatus) {
  if (WIFEXITED(wstatus)) return WEXITSTATUS(wstatus);
  if (WIFSIGNALED(wstatus)) return 128 + WTERMSIG(wstatus);
  return -1;
}

int OpenOutput(const std::string& path) {
  if (path.empty()) return ::open("/dev/null", O_WRONLY | O_CLOEXEC);
  return ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
}

std::vector<std::string> BuildEnv(const std::vector<std::string>& changes) {
  std::vector<std::string> env;
  for (char** e = environ; e && *e; ++e) env.emplace_back(*e);
  for (const auto& change : changes) {
    size_t eq = change.find('=');
    std::string name = change.substr(0, eq);
    std::erase_if(env, [&](const std::string& kv) { return kv.compare(0, name.size() + 1, name + "=") == 0; });
    if (eq != std::string::npos) env.push_back(change);
  }
  return env;
}

}  // namespace

Result<std::unique_ptr<Process>> Process::Spawn(const std::vector<std::string>& argv,
                                                const ProcessOptions& options) {
  if (argv.empty()) return InvalidArgument("empty command line");
  std::unique_ptr<Process> p(new Process());
  p->options_ = options;

  // Everything the child needs is prepared before fork: after it, only
  // async-signal-safe calls (the test may be multi-threaded).
  std::vector<std::string> env = BuildEnv(options.env);
  std::vector<char*> argv_c, env_c;
  for (const auto& a : argv) argv_c.push_back(const_cast<char*>(a.c_str()));
  argv_c.push_back(nullptr);
  for (const auto& e : env) env_c.push_back(const_cast<char*>(e.c_str()));
  env_c.push_back(nullptr);
  int out_fd = OpenOutput(options.stdout_path);
  if (out_fd < 0) return Unavailable("cannot open " + options.stdout_path + ": " + std::strerror(errno));
  int err_fd = OpenOutput(options.stderr_path);
  if (err_fd < 0) {
    ::close(out_fd);
    return Unavailable("cannot open " + options.stderr_path + ": " + std::strerror(errno));
  }
  int in_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  const char* cwd = options.cwd.empty() ? nullptr : options.cwd.c_str();
  pid_t parent = ::getpid();

  pid_t pid = ::fork();
  if (pid < 0) {
    int e = errno;
    ::close(out_fd);
    ::close(err_fd);
    if (in_fd >= 0) ::close(in_fd);
    return Unavailable(std::string("fork failed: ") + std::strerror(e));
  }
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(126);  // the parent died before prctl
    // A test may have blocked signals in its threads; the child starts clean.
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    if (in_fd >= 0) ::dup2(in_fd, 0);
    ::dup2(out_fd, 1);
    ::dup2(err_fd, 2);
    // Sockets and files of the test must not leak into the child (a leaked
    // client socket would keep a connection open after the test closed it).
    ::close_range(3, ~0U, 0);
    if (cwd && ::chdir(cwd) != 0) ::_exit(127);
    ::execve(argv_c[0], argv_c.data(), env_c.data());
    ::_exit(127);
  }
  ::close(out_fd);
  ::close(err_fd);
  if (in_fd >= 0) ::close(in_fd);
  p->pid_ = pid;
  return p;
}

Process::~Process() {
  if (pid_ > 0 && !exit_code_) Kill();
}

bool Process::Reap(bool block) {
  if (exit_code_) return true;
  if (pid_ <= 0) return true;
  int wstatus = 0;
  for (;;) {
    pid_t r = ::waitpid(pid_, &wstatus, block ? 0 : WNOHANG);
    if (r == pid_) {
      exit_code_ = ExitCodeOf(wstatus);
      return true;
    }
    if (r == 0) return false;
    if (errno == EINTR) continue;
    // ECHILD: someone else reaped it; nothing left to wait for.
    exit_code_ = -1;
    return true;
  }
}

bool Process::Running() { return !Reap(false); }

std::optional<int> Process::Wait(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  auto pause = std::chrono::milliseconds(1);
  while (!Reap(false)) {
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::milliseconds(20));
  }
  return exit_code_;
}

void Process::Signal(int sig) {
  // Never signal a reaped PID: it may belong to another process by now.
  if (pid_ > 0 && !Reap(false)) ::kill(pid_, sig);
}

int Process::Kill() {
  Signal(SIGKILL);
  Reap(true);
  return *exit_code_;
}

int Process::Terminate(std::chrono::milliseconds grace) {
  Signal(SIGTERM);
  if (auto code = Wait(grace)) return *code;
  return Kill();
}

std::string ReadFileOrEmpty(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "";
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string FileTail(const std::string& path, size_t bytes) {
  std::string s = ReadFileOrEmpty(path);
  return s.size() > bytes ? s.substr(s.size() - bytes) : s;
}

TempDir::TempDir(const std::string& prefix, bool keep_on_failure) : keep_on_failure_(keep_on_failure) {
  const char* base = std::getenv("TMPDIR");
  std::string tmpl = std::string(base && *base ? base : "/tmp") + "/" + prefix + "-XXXXXX";
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  if (::mkdtemp(buf.data()) == nullptr) {
    ADD_FAILURE() << "mkdtemp " << tmpl << ": " << std::strerror(errno);
    return;
  }
  path_ = buf.data();
}

TempDir::~TempDir() {
  if (path_.empty()) return;
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  bool failed = keep_on_failure_ && info && info->result() && info->result()->Failed();
  if (failed || std::getenv("MEDLEDGER_KEEP_TEST_DIRS")) {
    std::cerr << "kept test directory " << path_ << std::endl;
    return;
  }
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::string CommandResult::Describe() const {
  std::string s = "exit " + std::to_string(exit_code) + (timed_out ? " (timed out)" : "");
  s += "; stdout: " + (out.size() > 2000 ? out.substr(0, 2000) + "..." : out);
  s += "; stderr: " + (err.size() > 2000 ? err.substr(err.size() - 2000) : err);
  return s;
}

CommandResult RunCommand(const std::vector<std::string>& argv, const ProcessOptions& options,
                         std::chrono::milliseconds timeout) {
  CommandResult res;
  TempDir scratch("medledger-cmd", /*keep_on_failure=*/false);
  if (scratch.path().empty()) {
    res.err = "cannot create a scratch directory";
    return res;
  }
  ProcessOptions o = options;
  o.stdout_path = scratch.path() + "/stdout";
  o.stderr_path = scratch.path() + "/stderr";
  auto p = Process::Spawn(argv, o);
  if (!p.ok()) {
    res.err = p.status().ToString();
    return res;
  }
  auto code = (*p)->Wait(timeout);
  if (!code) {
    res.timed_out = true;
    code = (*p)->Kill();
  }
  res.exit_code = *code;
  res.out = ReadFileOrEmpty(o.stdout_path);
  res.err = ReadFileOrEmpty(o.stderr_path);
  return res;
}

bool StopProcess(pid_t pid, std::chrono::milliseconds timeout) {
  if (::kill(pid, SIGSTOP) != 0) return false;
  const std::string tasks = "/proc/" + std::to_string(pid) + "/task";
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    bool all_stopped = true, any = false;
    std::error_code ec;
    for (const auto& t : std::filesystem::directory_iterator(tasks, ec)) {
      std::string stat = ReadFileOrEmpty(t.path().string() + "/stat");
      // "tid (comm) S ...": the state follows the last ')'.
      auto paren = stat.rfind(')');
      if (paren == std::string::npos || paren + 2 >= stat.size()) continue;
      any = true;
      char state = stat[paren + 2];
      if (state != 'T' && state != 't') all_stopped = false;
    }
    if (ec) return false;
    if (any && all_stopped) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

int QueuedRequests(int port) {
  std::ifstream f("/proc/net/tcp");
  std::string line;
  std::getline(f, line);  // header
  int n = 0;
  while (std::getline(f, line)) {
    std::istringstream in(line);
    std::string sl, local, remote, st, queues;
    in >> sl >> local >> remote >> st >> queues;
    auto colon = local.find(':'), q = queues.find(':');
    if (colon == std::string::npos || q == std::string::npos) continue;
    if (std::stoi(local.substr(colon + 1), nullptr, 16) != port || st != "01") continue;  // ESTABLISHED
    if (std::stoul(queues.substr(q + 1), nullptr, 16) > 0) n++;
  }
  return n;
}

}  // namespace medledger::test
