// A consortium started by `medledger network up` (real etcd members and
// real nodes on loopback) for integration tests: the JSON `network up`
// printed, accessors for its nodes and etcd members, and every PID it has
// reported, so that TearDown stops each of them by PID even when a test
// fails half-way.
//
// Thread safety: once Up has returned, the const accessors may be called
// from several client threads at once; Up, Track, AddNode and TearDown may
// not run concurrently with anything.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/status.h"
#include "model/block.h"

namespace medledger::test {

class Network {
 public:
  // Makes the consortium's directory, /tmp/PREFIX-XXXXXX; false if it cannot.
  bool MakeDir(const std::string& prefix);

  // Runs `network up --dir DIR ARGS` and tracks every PID it prints. The
  // first success becomes info(), which the accessors read; a later call
  // (`network up` again restarts only what is not running) is returned
  // without replacing it. kUnavailable, with the command's output, when it
  // exits non-zero or prints something other than JSON.
  Result<nlohmann::json> Up(const std::string& args = "");

  // Adds the node and etcd PIDs in a `network up` JSON to those TearDown
  // kills if `network down` left them running.
  void Track(const nlohmann::json& net);

  // A node the test started itself, outside `network up`: Url, Status and
  // Height index it after the consortium's own nodes. Returns its index.
  int AddNode(const std::string& url);

  // `network down` by PID, then SIGKILL for any tracked PID still alive; the
  // directory is kept when the test failed (see test::TearDownNetwork).
  void TearDown(bool failed);

  const std::string& dir() const { return dir_; }
  const nlohmann::json& info() const { return info_; }

  std::string Url(int i) const;
  std::string DataDir(int i) const { return Node(i, "data_dir"); }
  std::string AdminKeyFile(int i) const { return Node(i, "key"); }
  std::string NodeKeyFile(int i) const { return Node(i, "node_key"); }
  pid_t NodePid(int i) const { return info_["nodes"][i]["pid"].get<pid_t>(); }
  pid_t EtcdPid(int i) const { return info_["etcd"][i]["pid"].get<pid_t>(); }
  std::vector<std::string> EtcdEndpoints() const;
  // "etcd://HOST:PORT,...": the --orderer flag of a node of this network.
  std::string OrdererUrl() const;

  // GET /v1/status at node i; null when it does not answer within `timeout`.
  nlohmann::json Status(int i, std::chrono::milliseconds timeout = std::chrono::seconds(5)) const;
  // True when nodes 0..count-1 all answer with the same height and state root.
  bool Converged(int count) const;
  // Its height, 0 when it does not answer.
  uint64_t Height(int i, std::chrono::milliseconds timeout = std::chrono::seconds(5)) const;
  // True when nodes 0..count-1 all report that they have halted.
  bool AllHalted(int count) const;

  // For blocks no honest node would order: block h+1 on top of node `via`'s
  // block h (read with that node's node key), with height, previous hash,
  // timestamp and state root filled in, neither sealed nor signed, so that a
  // test can change it and sign it with the key of its choice.
  Result<model::Block> NextBlock(int via, uint64_t h) const;
  // Puts a sealed, signed block into etcd at its height, as if it had been
  // ordered, so every node fetches and checks it.
  ::medledger::Status PutBlock(const std::string& chain_id, const model::Block& block) const;

 private:
  std::string Node(int i, const char* field) const { return info_["nodes"][i][field].get<std::string>(); }

  std::string dir_;
  nlohmann::json info_;
  std::vector<std::string> extra_urls_;
  std::vector<pid_t> pids_;
};

}  // namespace medledger::test
