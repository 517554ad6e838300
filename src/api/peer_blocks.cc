#include "api/peer_blocks.h"

#include "api/http_signature.h"
#include "http/client.h"

namespace medledger::api {

HttpPeerBlockSource::HttpPeerBlockSource(std::vector<std::string> etcd_endpoints, const node::Chain* chain,
                                         crypto::KeyPair node_key, std::chrono::milliseconds fetch_timeout)
    : directory_(std::make_unique<node::PeerDirectory>(chain, std::move(etcd_endpoints))),
      key_(std::move(node_key)),
      timeout_(fetch_timeout) {}

HttpPeerBlockSource::~HttpPeerBlockSource() = default;

Result<std::vector<node::PeerRef>> HttpPeerBlockSource::Peers() {
  ML_ASSIGN_OR_RETURN(auto entries, directory_->Peers({}, key_.id()));
  std::vector<node::PeerRef> out;
  for (auto& e : entries) out.push_back({std::move(e.node_id), std::move(e.url)});
  return out;
}

Result<Bytes> HttpPeerBlockSource::FetchBlock(const node::PeerRef& peer, uint64_t height) {
  http::Client c(peer.url, timeout_);
  std::string target = "/v1/blocks/" + std::to_string(height) + "?format=binary";
  auto resp = c.Get(target, SignRequest(key_, "GET", target, "", {}));
  if (!resp.ok()) return Unavailable("unreachable: " + resp.status().message());
  if (resp->status == 404) return NotFound("HTTP 404");
  if (resp->status != 200) return Unavailable("HTTP " + std::to_string(resp->status));
  return Bytes(resp->body.begin(), resp->body.end());
}

}  // namespace medledger::api
