// EtcdCluster: N real etcd members on 127.0.0.1, for tests that need the
// ordering service for real (Raft elections, SIGKILL, restarts).
//
// Each member gets free client and peer ports (found by binding port 0; a
// start that loses a port race is retried with new ports), its own data dir
// and log file under one temp dir, and the settings of
// etcd::EtcdMemberArgs. Members are started with PR_SET_PDEATHSIG so
// they die with the test process even if it crashes; the destructor SIGKILLs
// and reaps every member it started, by PID. The temp dir is removed unless
// the current test failed or MEDLEDGER_KEEP_ETCD_DIR is set; then its path is
// printed so the member logs can be read.
//
// etcd is a required dependency (scripts/setup.sh installs it): a missing
// binary is an error, not a skip. Not thread-safe: drive it from one thread.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "etcd/etcd_process.h"

namespace medledger::test {

struct EtcdClusterOptions {
  int members = 3;
  std::string etcd_binary = "/usr/bin/etcd";
  int heartbeat_ms = 100;   // see etcd::EtcdMemberConfig for why
  int election_ms = 1000;
  int64_t max_request_bytes = etcd::kDefaultEtcdMaxRequestBytes;
  int64_t quota_backend_bytes = int64_t{2} << 30;
  int64_t auto_compaction_revisions = 0;
  // How long Start/Restart wait for members to serve linearizable reads.
  std::chrono::milliseconds ready_timeout{60000};
};

class EtcdCluster {
 public:
  // Starts all members and waits until every one serves a linearizable read.
  static Result<std::unique_ptr<EtcdCluster>> Start(EtcdClusterOptions options = {});
  ~EtcdCluster();
  EtcdCluster(const EtcdCluster&) = delete;
  EtcdCluster& operator=(const EtcdCluster&) = delete;

  int size() const { return int(members_.size()); }
  // "127.0.0.1:port" client endpoints, member i at index i.
  std::vector<std::string> endpoints() const;
  const std::string& endpoint(int i) const { return members_.at(i).endpoint; }
  // Index of the member with this client endpoint, or -1.
  int IndexOf(const std::string& endpoint) const;
  bool running(int i) const { return members_.at(i).pid > 0; }
  const std::string& dir() const { return dir_; }

  // SIGKILLs member i and reaps it. Killing a stopped member is a no-op.
  Status Kill(int i);
  // Starts member i again on its data dir and ports. With wait, returns once
  // it serves linearizable reads (which needs a quorum of running members).
  Status Restart(int i, bool wait = true);
  // Waits until member i serves a linearizable read, or the ready timeout.
  Status WaitReady(int i);
  // The end of member i's log, for failure messages.
  std::string LogTail(int i, size_t bytes = 4000) const;

 private:
  struct Member {
    std::string name;
    std::string endpoint;
    std::string log_path;
    std::vector<std::string> args;
    pid_t pid = -1;
  };
  explicit EtcdCluster(EtcdClusterOptions options) : options_(std::move(options)) {}
  Status Spawn(int i);
  bool Exited(int i);  // reaps member i if it has exited
  void KillAll();

  EtcdClusterOptions options_;
  std::string dir_;
  std::vector<Member> members_;
};

}  // namespace medledger::test
