// The command line of one etcd member, shared by the test harness
// (tests/support/etcd_cluster.h) and `medledger network up`. Building argv is
// pure: no process is started here.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"

namespace medledger::etcd {

// etcd's own default for --max-request-bytes (1.5 MiB). EtcdClient assumes
// this limit unless told otherwise; both sides must agree.
inline constexpr int64_t kDefaultEtcdMaxRequestBytes = 1572864;

struct EtcdMemberConfig {
  std::string etcd_binary = "/usr/bin/etcd";
  std::string name;      // unique in the cluster
  std::string data_dir;  // owned by this member alone
  std::string host = "127.0.0.1";  // both client and peer URLs bind here
  int client_port = 0;
  int peer_port = 0;
  // Every member, this one included: name -> peer URL ("http://host:port").
  std::vector<std::pair<std::string, std::string>> initial_cluster;
  std::string cluster_token = "medledger";
  bool new_cluster = true;  // --initial-cluster-state new | existing
  // Raft timing. etcd's defaults; the election timeout must cover the longest
  // heartbeat delay a loaded host produces (a CPU-starved member on a shared
  // 2-core machine, an fsync stall), and 10 heartbeats gives that margin
  // while keeping failover near a second. etcd refuses election < 5x heartbeat.
  int heartbeat_ms = 100;
  int election_ms = 1000;
  // The backend size at which etcd raises the NOSPACE alarm and refuses
  // writes (EtcdClient: kResourceExhausted). etcd's 2 GiB default, explicit:
  // blocks stay in etcd until compacted, so size it to the retention.
  int64_t quota_backend_bytes = int64_t{2} << 30;
  int64_t max_request_bytes = kDefaultEtcdMaxRequestBytes;
  // 0: no automatic compaction; otherwise keep this many revisions.
  int64_t auto_compaction_revisions = 0;
  std::string log_level = "warn";
  std::string log_outputs = "stderr";  // or a file path
};

// argv for execv, argv[0] being etcd_binary. kInvalidArgument when the
// configuration is inconsistent (missing name/dir, bad port, this member
// absent from initial_cluster, election < 5x heartbeat, non-positive limits).
Result<std::vector<std::string>> EtcdMemberArgs(const EtcdMemberConfig& config);

}  // namespace medledger::etcd
