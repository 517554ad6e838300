// A local consortium on loopback, as `medledger network up|down` runs it
// (cli/network_cmd.cc has the directory layout): N etcd members and N
// organisation nodes (org1..orgN) sharing one genesis, started as detached
// processes whose PIDs are kept in pid files. `medledger demo` runs one in
// its data directory through these functions.
//
// Not thread-safe: one call at a time per directory.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "common/status.h"

namespace medledger::cli {

struct NetworkOptions {
  // Organisations, each with one node and one etcd member (1 to 16). Used
  // when the network is created; 0 then means 3. For an existing network,
  // 0 accepts any size and another number must match it.
  int nodes = 0;
  // The chain id of a new network.
  std::string chain_id = "medledger-net";
  // Node flags kept in network.json and given to every node started from
  // now on: "checkpoint_interval", "etcd_keep_blocks" (unsigned numbers).
  nlohmann::json node_options = nlohmann::json::object();
  // "127.0.0.1:PORT": the port node1 listens on, kept in network.json (when
  // node1 is not running already, so that it can move); the other nodes and
  // the etcd members get free ports. Empty or port 0: a free port, chosen
  // once when the network is created.
  std::string first_listen;
};

// Creates the network in `dir` the first time, then starts whatever of it
// is not running and waits until the etcd cluster and every node it started
// answer. Returns what `network up` prints: {"nodes": [{name, org, url,
// data_dir, key (the organisation's admin key file), node_key, pid}],
// "etcd": [{name, endpoint, pid}]}.
// kInvalidArgument: a bad size or first_listen; kFailedPrecondition: `dir`
// holds a network of another size; kUnavailable: a process did not start or
// answer (the message ends with its log). What it started before failing
// keeps running: NetworkDown stops it.
Result<nlohmann::json> NetworkUp(const std::string& dir, const NetworkOptions& options);

// Stops every node, then every etcd member, of the network in `dir` by the
// PIDs in its pid files (SIGTERM, then SIGKILL after a grace period; a PID
// whose command line no longer names its data dir is left alone), removes
// the pid files, and returns {"stopped": [names]}. kNotFound: no network.
Result<nlohmann::json> NetworkDown(const std::string& dir);

}  // namespace medledger::cli
