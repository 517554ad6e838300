#include "node/peer_directory.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "etcd/etcd_client.h"
#include "model/tx_types.h"
#include "state/identity_record.h"

namespace medledger::node {

using nlohmann::json;

namespace {
int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}
}  // namespace

Bytes PeerEntry::SigningBytes(const std::string& chain_id) const {
  return ToBytes("medledger-peer-v1\n" + chain_id + "\n" + node_id + "\n" + org + "\n" + url + "\n" +
                 std::to_string(time_ms));
}

std::string PeerEntry::ToJson() const {
  return json{{"node_id", node_id}, {"org", org}, {"url", url}, {"time_ms", time_ms}, {"sig", ToHex(sig)}}.dump();
}

Result<PeerEntry> PeerEntry::FromJson(std::string_view text) {
  auto j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return InvalidArgument("peer entry is not a JSON object");
  PeerEntry e;
  auto str = [&](const char* k) -> const json* {
    auto it = j.find(k);
    return it != j.end() && it->is_string() ? &*it : nullptr;
  };
  const json *node_id = str("node_id"), *org = str("org"), *url = str("url"), *sig = str("sig");
  auto t = j.find("time_ms");
  if (!node_id || !org || !url || !sig || t == j.end() || !t->is_number_integer())
    return InvalidArgument("peer entry: node_id, org, url, sig (strings) and time_ms (integer) are required");
  e.node_id = node_id->get<std::string>();
  e.org = org->get<std::string>();
  e.url = url->get<std::string>();
  e.time_ms = t->get<int64_t>();
  ML_ASSIGN_OR_RETURN(e.sig, FromHexFixed<64>(sig->get<std::string>()));
  if (e.url.rfind("http://", 0) != 0 && e.url.rfind("https://", 0) != 0)
    return InvalidArgument("peer entry: url must be http(s)://");
  return e;
}

std::string PeerDirectoryPrefix(const std::string& chain_id) { return "/medledger/" + chain_id + "/nodes/"; }

Result<std::string> RegisteredNode(const state::StateReader& st, const crypto::PublicKey& pk, std::string_view org) {
  auto rec = state::LoadIdentity(st, pk);
  if (!rec || !rec->active()) return PermissionDenied("not a registered, active key");
  if (!rec->Has(model::kRoleNode)) return PermissionDenied("not a node key");
  if (!org.empty() && rec->org != org) return PermissionDenied("a node key of another organisation");
  auto o = state::LoadOrg(st, rec->org);
  if (!o || !o->active) return PermissionDenied("its organisation is not an active member");
  return rec->org;
}

PeerDirectory::PeerDirectory(const Chain* chain, std::vector<std::string> etcd_endpoints,
                             std::chrono::milliseconds etcd_timeout)
    : chain_(chain) {
  etcd::EtcdClient::Options eo;
  eo.endpoints = std::move(etcd_endpoints);
  eo.timeout = etcd_timeout;
  read_etcd_ = std::make_unique<etcd::EtcdClient>(eo);
  publish_etcd_ = std::make_unique<etcd::EtcdClient>(eo);
}

PeerDirectory::~PeerDirectory() { Stop(); }

Result<std::vector<PeerEntry>> PeerDirectory::Peers(std::string_view org, std::string_view skip_node) const {
  const std::string& chain_id = chain_->params().chain_id;
  const std::string prefix = PeerDirectoryPrefix(chain_id);
  Result<etcd::RangeResult> r = Unavailable("not read");
  {
    std::lock_guard l(read_mu_);
    r = read_etcd_->Range(prefix, etcd::EtcdClient::PrefixEnd(prefix));
  }
  if (!r.ok()) return Unavailable("peer directory: " + r.status().message());
  std::vector<PeerEntry> out;
  const auto& st = chain_->state();
  for (const auto& kv : r->kvs) {
    auto e = PeerEntry::FromJson(AsStringView(kv.value));
    if (!e.ok() || kv.key != prefix + e->node_id) continue;
    if ((!org.empty() && e->org != org) || (!skip_node.empty() && e->node_id == skip_node)) continue;
    auto pk = crypto::ParsePublicId(e->node_id);
    if (!pk.ok() || !crypto::Verify(*pk, e->SigningBytes(chain_id), e->sig)) {
      spdlog::warn("peer directory: entry {} does not verify; ignored", kv.key);
      continue;
    }
    if (auto reg = RegisteredNode(st, *pk, e->org); !reg.ok()) {
      spdlog::warn("peer directory: node {} of {} ignored: {}", e->node_id.substr(0, 16), e->org,
                   reg.status().message());
      continue;
    }
    out.push_back(std::move(*e));
  }
  std::sort(out.begin(), out.end(), [](const PeerEntry& a, const PeerEntry& b) { return a.time_ms > b.time_ms; });
  return out;
}

void PeerDirectory::StartPublishing(crypto::KeyPair node_key, std::string org, std::string url,
                                    std::chrono::milliseconds interval) {
  publisher_ = std::thread([this, k = std::move(node_key), o = std::move(org), u = std::move(url), interval]() mutable {
    PublishLoop(std::move(k), std::move(o), std::move(u), interval);
  });
}

void PeerDirectory::Stop() {
  {
    std::lock_guard l(mu_);  // so the publisher cannot miss the wakeup
    stop_ = true;
  }
  cv_.notify_all();
  if (publisher_.joinable()) publisher_.join();
}

void PeerDirectory::PublishLoop(crypto::KeyPair node_key, std::string org, std::string url,
                                std::chrono::milliseconds interval) {
  const std::string& chain_id = chain_->params().chain_id;
  const std::string key = PeerDirectoryPrefix(chain_id) + node_key.id();
  std::unique_lock l(mu_);
  while (!stop_) {
    l.unlock();
    PeerEntry e;
    e.node_id = node_key.id();
    e.org = org;
    e.url = url;
    e.time_ms = NowMs();
    e.sig = node_key.Sign(e.SigningBytes(chain_id));
    // A plain Put: an ambiguous outcome is harmless, the next round rewrites it.
    auto r = publish_etcd_->Put(key, ToBytes(e.ToJson()));
    if (!r.ok()) spdlog::warn("peer directory: publishing {} failed: {}", key, r.status().message());
    l.lock();
    cv_.wait_for(l, r.ok() ? interval : std::chrono::milliseconds(1000), [&] { return stop_.load(); });
  }
}

}  // namespace medledger::node
