#include "api/peer_blocks.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "api/fhir_forward.h"
#include "api/http_signature.h"
#include "etcd/etcd_client.h"
#include "http/client.h"
#include "model/tx_types.h"
#include "state/identity_record.h"

namespace medledger::api {

HttpPeerBlockSource::HttpPeerBlockSource(std::vector<std::string> etcd_endpoints, const node::Chain* chain,
                                         crypto::KeyPair node_key, std::chrono::milliseconds fetch_timeout)
    : chain_(chain), key_(std::move(node_key)), timeout_(fetch_timeout) {
  etcd::EtcdClient::Options o;
  o.endpoints = std::move(etcd_endpoints);
  o.timeout = std::chrono::milliseconds(5000);
  etcd_ = std::make_unique<etcd::EtcdClient>(o);
}

HttpPeerBlockSource::~HttpPeerBlockSource() = default;

Result<std::vector<node::PeerRef>> HttpPeerBlockSource::Peers() {
  const std::string& chain_id = chain_->params().chain_id;
  const std::string prefix = PeerDirectoryPrefix(chain_id);
  auto r = etcd_->Range(prefix, etcd::EtcdClient::PrefixEnd(prefix));
  if (!r.ok()) return Unavailable("peer directory: " + r.status().message());
  std::vector<PeerEntry> entries;
  const auto& st = chain_->state();
  for (const auto& kv : r->kvs) {
    auto e = PeerEntry::FromJson(AsStringView(kv.value));
    if (!e.ok() || kv.key != prefix + e->node_id || e->node_id == key_.id()) continue;
    auto pk = crypto::ParsePublicId(e->node_id);
    if (!pk.ok() || !crypto::Verify(*pk, e->SigningBytes(chain_id), e->sig)) {
      spdlog::warn("peer directory: entry {} does not verify; not used for catch-up", kv.key);
      continue;
    }
    auto rec = state::LoadIdentity(st, *pk);
    auto org = rec ? state::LoadOrg(st, rec->org) : std::nullopt;
    if (!rec || !rec->active() || !rec->Has(model::kRoleNode) || rec->org != e->org || !org || !org->active) {
      spdlog::warn("peer directory: node {} is not an active node of an active member; not used for catch-up",
                   e->node_id.substr(0, 16));
      continue;
    }
    entries.push_back(std::move(*e));
  }
  std::sort(entries.begin(), entries.end(), [](const PeerEntry& a, const PeerEntry& b) { return a.time_ms > b.time_ms; });
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
