// The HTTP side of catch-up from peers (node/peer_sync.h): peers are the
// verified entries of the peer directory in etcd (node/peer_directory.h), and a
// block is `GET /v1/blocks/{height}?format=binary` at the peer, signed
// (RFC 9421, api/http_signature.h) with this node's key, which counts as a
// member identity wherever block reads require one.
//
// A directory entry is used only if its signature verifies with its node_id
// and that key is an active node key of an active member organisation in
// this node's committed state; this node's own entry is skipped. Nothing a
// peer serves is trusted here: peer_sync.h checks every block.
//
// Thread safety: one caller at a time (the orderer's apply thread).
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "crypto/ed25519.h"
#include "node/chain.h"
#include "node/peer_directory.h"
#include "node/peer_sync.h"

namespace medledger::api {

class HttpPeerBlockSource : public node::PeerBlockSource {
 public:
  HttpPeerBlockSource(std::vector<std::string> etcd_endpoints, const node::Chain* chain, crypto::KeyPair node_key,
                      std::chrono::milliseconds fetch_timeout = std::chrono::seconds(20));
  ~HttpPeerBlockSource() override;

  // Most recently published first.
  Result<std::vector<node::PeerRef>> Peers() override;
  // 200: the bytes; 404: kNotFound; anything else, or no answer: kUnavailable
  // with the HTTP status or the transport error.
  Result<Bytes> FetchBlock(const node::PeerRef& peer, uint64_t height) override;

 private:
  std::unique_ptr<node::PeerDirectory> directory_;
  crypto::KeyPair key_;
  std::chrono::milliseconds timeout_;
};

}  // namespace medledger::api
