// The peer directory: where the nodes of a network find each other, for
// cross-organisation reads (api/fhir_forward.h) and for catch-up from peers
// (node/peer_sync.h). Every node publishes, in the etcd cluster that orders
// the chain, an entry signed with its node key:
//   /medledger/<chain_id>/nodes/<node public id>
//   {"node_id","org","url","time_ms","sig"}
// and republishes it periodically. A reader trusts an entry only if its
// signature verifies with node_id, node_id is an active identity with role
// node registered by `org`, and `org` is an active member, all in this
// node's latest committed state: a key revoked on chain drops out of the
// directory at once.
//
// Thread safety: Peers may be called from any thread; Start and Stop from one.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "common/status.h"
#include "crypto/ed25519.h"
#include "node/chain.h"

namespace medledger::etcd {
class EtcdClient;
}

namespace medledger::node {

struct PeerEntry {
  std::string node_id;  // public id of the node key that signed it
  std::string org;
  std::string url;  // "http://host:port"
  int64_t time_ms = 0;
  crypto::Signature sig{};

  // "medledger-peer-v1\n" chain_id "\n" node_id "\n" org "\n" url "\n" time_ms
  Bytes SigningBytes(const std::string& chain_id) const;
  std::string ToJson() const;
  static Result<PeerEntry> FromJson(std::string_view text);
};

std::string PeerDirectoryPrefix(const std::string& chain_id);  // "/medledger/<chain_id>/nodes/"

// A node key registered on chain with role node, by `org` when given, of an
// active organisation. Returns the org, or the reason it is not.
Result<std::string> RegisteredNode(const state::StateReader& st, const crypto::PublicKey& pk,
                                   std::string_view org = {});

class PeerDirectory {
 public:
  PeerDirectory(const Chain* chain, std::vector<std::string> etcd_endpoints,
                std::chrono::milliseconds etcd_timeout = std::chrono::seconds(5));
  ~PeerDirectory();

  // The verified entries, most recently published first: of `org`'s nodes
  // when given, without the node `skip_node` when given.
  Result<std::vector<PeerEntry>> Peers(std::string_view org = {}, std::string_view skip_node = {}) const;

  // Publishes this node's entry now and every `interval` (every second
  // after a failure) until Stop.
  void StartPublishing(crypto::KeyPair node_key, std::string org, std::string url, std::chrono::milliseconds interval);
  void Stop();

 private:
  void PublishLoop(crypto::KeyPair node_key, std::string org, std::string url, std::chrono::milliseconds interval);

  const Chain* chain_;
  mutable std::mutex read_mu_;
  std::unique_ptr<etcd::EtcdClient> read_etcd_;
  std::unique_ptr<etcd::EtcdClient> publish_etcd_;
  // Only pace the publisher and wake it to stop.
  std::mutex mu_;
  std::condition_variable cv_;
  std::atomic<bool> stop_{false};
  std::thread publisher_;
};

}  // namespace medledger::node
