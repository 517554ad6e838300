#include "etcd/etcd_process.h"

namespace medledger::etcd {

namespace {
bool ValidPort(int p) { return p > 0 && p < 65536; }
}  // namespace

Result<std::vector<std::string>> EtcdMemberArgs(const EtcdMemberConfig& c) {
  if (c.name.empty()) return InvalidArgument("etcd member: empty name");
  if (c.data_dir.empty()) return InvalidArgument("etcd member: empty data dir");
  if (c.host.empty()) return InvalidArgument("etcd member: empty host");
  if (!ValidPort(c.client_port) || !ValidPort(c.peer_port) ||
      c.client_port == c.peer_port) {
    return InvalidArgument("etcd member: bad client/peer port");
  }
  if (c.heartbeat_ms <= 0 || c.election_ms < 5 * c.heartbeat_ms) {
    return InvalidArgument("etcd member: election timeout must be >= 5x heartbeat");
  }
  if (c.quota_backend_bytes <= 0 || c.max_request_bytes <= 0 ||
      c.auto_compaction_revisions < 0) {
    return InvalidArgument("etcd member: limits must be positive");
  }
  const std::string peer_url = "http://" + c.host + ":" + std::to_string(c.peer_port);
  const std::string client_url = "http://" + c.host + ":" + std::to_string(c.client_port);
  std::string cluster;
  bool self_listed = false;
  for (const auto& [name, url] : c.initial_cluster) {
    if (name.empty() || url.empty()) return InvalidArgument("etcd member: bad initial cluster entry");
    if (name == c.name) {
      if (url != peer_url) return InvalidArgument("etcd member: own peer URL differs in initial cluster");
      self_listed = true;
    }
    if (!cluster.empty()) cluster += ',';
    cluster += name + "=" + url;
  }
  if (!self_listed) return InvalidArgument("etcd member: not listed in its initial cluster");

  std::vector<std::string> args = {
      c.etcd_binary,
      "--name=" + c.name,
      "--data-dir=" + c.data_dir,
      "--listen-client-urls=" + client_url,
      "--advertise-client-urls=" + client_url,
      "--listen-peer-urls=" + peer_url,
      "--initial-advertise-peer-urls=" + peer_url,
      "--initial-cluster=" + cluster,
      "--initial-cluster-token=" + c.cluster_token,
      std::string("--initial-cluster-state=") + (c.new_cluster ? "new" : "existing"),
      "--heartbeat-interval=" + std::to_string(c.heartbeat_ms),
      "--election-timeout=" + std::to_string(c.election_ms),
      "--quota-backend-bytes=" + std::to_string(c.quota_backend_bytes),
      "--max-request-bytes=" + std::to_string(c.max_request_bytes),
      "--logger=zap",
      "--log-level=" + c.log_level,
      "--log-outputs=" + c.log_outputs,
  };
  if (c.auto_compaction_revisions > 0) {
    args.push_back("--auto-compaction-mode=revision");
    args.push_back("--auto-compaction-retention=" + std::to_string(c.auto_compaction_revisions));
  }
  return args;
}

}  // namespace medledger::etcd
