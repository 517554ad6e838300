#include "tests/support/etcd_cluster.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

#include "etcd/etcd_client.h"

namespace medledger::test {

namespace {

using Clock = std::chrono::steady_clock;

// Picks n distinct free loopback ports: bind them all to port 0 at once, read
// the ports back, release them. etcd binds them a moment later; a port taken
// in between makes the start fail, and Start retries with fresh ports.
Result<std::vector<int>> FreePorts(int n) {
  std::vector<int> fds, ports;
  Status st;
  for (int i = 0; i < n && st.ok(); ++i) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      st = Internal("socket() failed");
      break;
    }
    fds.push_back(fd);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    socklen_t len = sizeof(addr);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      st = Internal("bind to a free loopback port failed");
      break;
    }
    ports.push_back(ntohs(addr.sin_port));
  }
  for (int fd : fds) ::close(fd);
  if (!st.ok()) return st;
  return ports;
}

}  // namespace

Result<std::unique_ptr<EtcdCluster>> EtcdCluster::Start(EtcdClusterOptions options) {
  if (options.members < 1) return InvalidArgument("etcd cluster: need at least one member");
  if (::access(options.etcd_binary.c_str(), X_OK) != 0) {
    return FailedPrecondition("etcd binary not found at " + options.etcd_binary +
                              " (install it with scripts/setup.sh)");
  }
  Status last;
  for (int attempt = 0; attempt < 3; ++attempt) {
    std::unique_ptr<EtcdCluster> c(new EtcdCluster(options));
    std::string tmpl = (std::filesystem::temp_directory_path() / "medledger-etcd-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) return Internal("mkdtemp failed");
    c->dir_ = tmpl;
    ML_ASSIGN_OR_RETURN(std::vector<int> ports, FreePorts(2 * options.members));

    std::vector<std::pair<std::string, std::string>> initial;
    for (int i = 0; i < options.members; ++i) {
      initial.emplace_back("m" + std::to_string(i), "http://127.0.0.1:" + std::to_string(ports[2 * i + 1]));
    }
    for (int i = 0; i < options.members; ++i) {
      etcd::EtcdMemberConfig cfg;
      cfg.etcd_binary = options.etcd_binary;
      cfg.name = initial[i].first;
      cfg.data_dir = c->dir_ + "/" + cfg.name + ".data";
      cfg.client_port = ports[2 * i];
      cfg.peer_port = ports[2 * i + 1];
      cfg.initial_cluster = initial;
      cfg.cluster_token = "medledger-test-" + std::to_string(::getpid()) + "-" + std::to_string(attempt);
      cfg.heartbeat_ms = options.heartbeat_ms;
      cfg.election_ms = options.election_ms;
      cfg.quota_backend_bytes = options.quota_backend_bytes;
      cfg.max_request_bytes = options.max_request_bytes;
      cfg.auto_compaction_revisions = options.auto_compaction_revisions;
      cfg.log_level = "warn";
      cfg.log_outputs = "stderr";  // redirected into the member's log file
      Member m;
      m.name = cfg.name;
      m.endpoint = "127.0.0.1:" + std::to_string(cfg.client_port);
      m.log_path = c->dir_ + "/" + cfg.name + ".log";
      ML_ASSIGN_OR_RETURN(m.args, etcd::EtcdMemberArgs(cfg));
      c->members_.push_back(std::move(m));
    }
    Status st;
    for (int i = 0; i < c->size() && st.ok(); ++i) st = c->Spawn(i);
    for (int i = 0; i < c->size() && st.ok(); ++i) st = c->WaitReady(i);
    if (st.ok()) return c;
    last = st;
    bool port_race = false;
    for (int i = 0; i < c->size(); ++i) {
      if (c->LogTail(i, 1 << 20).find("address already in use") != std::string::npos) port_race = true;
    }
    if (!port_race) return last;
    // ~EtcdCluster kills the members; try again with new ports.
  }
  return last;
}

EtcdCluster::~EtcdCluster() {
  KillAll();
  if (dir_.empty()) return;
  const bool failed = ::testing::UnitTest::GetInstance()->current_test_info() != nullptr &&
                      ::testing::Test::HasFailure();
  if (failed || std::getenv("MEDLEDGER_KEEP_ETCD_DIR") != nullptr) {
    std::fprintf(stderr, "etcd cluster files kept in %s\n", dir_.c_str());
    return;
  }
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

std::vector<std::string> EtcdCluster::endpoints() const {
  std::vector<std::string> out;
  for (const auto& m : members_) out.push_back(m.endpoint);
  return out;
}

int EtcdCluster::IndexOf(const std::string& endpoint) const {
  for (int i = 0; i < size(); ++i) {
    if (members_[i].endpoint == endpoint) return i;
  }
  return -1;
}

Status EtcdCluster::Spawn(int i) {
  Member& m = members_.at(i);
  if (m.pid > 0) return FailedPrecondition("etcd member " + m.name + " is running");
  // Everything the child needs is prepared before fork: after it, only
  // async-signal-safe calls.
  std::vector<char*> argv;
  for (auto& a : m.args) argv.push_back(a.data());
  argv.push_back(nullptr);
  int log_fd = ::open(m.log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log_fd < 0) return Internal("cannot open " + m.log_path);
  int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  const pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid < 0) {
    ::close(log_fd);
    if (null_fd >= 0) ::close(null_fd);
    return Internal("fork failed");
  }
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(1);  // the parent died before prctl
    if (null_fd >= 0) ::dup2(null_fd, 0);
    ::dup2(log_fd, 1);
    ::dup2(log_fd, 2);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  ::close(log_fd);
  if (null_fd >= 0) ::close(null_fd);
  m.pid = pid;
  return Status::Ok();
}

bool EtcdCluster::Exited(int i) {
  Member& m = members_.at(i);
  if (m.pid <= 0) return true;
  int wstatus = 0;
  if (::waitpid(m.pid, &wstatus, WNOHANG) == m.pid) {
    m.pid = -1;
    return true;
  }
  return false;
}

Status EtcdCluster::Kill(int i) {
  Member& m = members_.at(i);
  if (m.pid <= 0) return Status::Ok();
  ::kill(m.pid, SIGKILL);
  int wstatus = 0;
  while (::waitpid(m.pid, &wstatus, 0) < 0 && errno == EINTR) {
  }
  m.pid = -1;
  return Status::Ok();
}

void EtcdCluster::KillAll() {
  for (int i = 0; i < size(); ++i) (void)Kill(i);
}

Status EtcdCluster::Restart(int i, bool wait) {
  ML_RETURN_IF_ERROR(Spawn(i));
  return wait ? WaitReady(i) : Status::Ok();
}

Status EtcdCluster::WaitReady(int i) {
  const Member& m = members_.at(i);
  etcd::EtcdClient client({m.endpoint}, std::chrono::milliseconds(2000));
  const auto deadline = Clock::now() + options_.ready_timeout;
  Status last;
  while (Clock::now() < deadline) {
    if (Exited(i)) {
      return Internal("etcd member " + m.name + " exited during start; log:\n" + LogTail(i));
    }
    auto rev = client.CurrentRevision();
    if (rev.ok()) return Status::Ok();
    last = rev.status();
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return Unavailable("etcd member " + m.name + " not ready after " +
                     std::to_string(options_.ready_timeout.count()) + " ms: " + last.message() +
                     "; log:\n" + LogTail(i));
}

std::string EtcdCluster::LogTail(int i, size_t bytes) const {
  std::ifstream in(members_.at(i).log_path, std::ios::binary);
  if (!in) return "(no log)";
  std::stringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  return s.size() > bytes ? s.substr(s.size() - bytes) : s;
}

}  // namespace medledger::test
