#include "tests/support/network.h"

#include "api/http_signature.h"
#include "cli/api_client.h"
#include "crypto/keyfile.h"
#include "etcd/etcd_client.h"
#include "node/etcd_orderer.h"
#include "tests/support/shell.h"

namespace medledger::test {

using nlohmann::json;

bool Network::MakeDir(const std::string& prefix) {
  dir_ = MakeTempDir(prefix);
  return !dir_.empty();
}

Result<json> Network::Up(const std::string& args) {
  CmdResult r = Medledger("network up --dir " + dir_ + (args.empty() ? "" : " " + args));
  if (r.rc != 0) return Unavailable("network up exited " + std::to_string(r.rc) + ": " + r.out);
  json net = json::parse(r.out, nullptr, false);
  if (net.is_discarded()) return Unavailable("network up printed no JSON: " + r.out);
  Track(net);
  if (info_.is_null()) info_ = net;
  return net;
}

void Network::Track(const json& net) {
  if (!net.is_object()) return;
  for (const auto& n : net.value("nodes", json::array()))
    if (n["pid"].is_number()) pids_.push_back(n["pid"].get<pid_t>());
  for (const auto& e : net.value("etcd", json::array()))
    if (e["pid"].is_number()) pids_.push_back(e["pid"].get<pid_t>());
}

int Network::AddNode(const std::string& url) {
  extra_urls_.push_back(url);
  return static_cast<int>(info_["nodes"].size() + extra_urls_.size() - 1);
}

void Network::TearDown(bool failed) {
  if (!dir_.empty()) TearDownNetwork(dir_, pids_, failed);
}

std::string Network::Url(int i) const {
  const int own = static_cast<int>(info_["nodes"].size());
  return i < own ? Node(i, "url") : extra_urls_.at(i - own);
}

std::vector<std::string> Network::EtcdEndpoints() const {
  std::vector<std::string> eps;
  for (const auto& e : info_["etcd"]) eps.push_back(e["endpoint"].get<std::string>());
  return eps;
}

std::string Network::OrdererUrl() const {
  std::string orderer = "etcd://";
  for (const auto& ep : EtcdEndpoints()) orderer += (orderer.size() > 7 ? "," : "") + ep;
  return orderer;
}

json Network::Status(int i, std::chrono::milliseconds timeout) const {
  cli::ApiClient c(Url(i), timeout);
  auto s = c.Status();
  return s.ok() ? *s : json();
}

bool Network::Converged(int count) const {
  nlohmann::json first = Status(0);
  if (!first.is_object()) return false;
  for (int i = 1; i < count; ++i) {
    nlohmann::json s = Status(i);
    if (!s.is_object() || s["height"] != first["height"] || s["state_root"] != first["state_root"]) return false;
  }
  return true;
}

uint64_t Network::Height(int i, std::chrono::milliseconds timeout) const {
  json s = Status(i, timeout);
  return s.is_object() ? s.value("height", uint64_t(0)) : 0;
}

bool Network::AllHalted(int count) const {
  for (int i = 0; i < count; ++i)
    if (Status(i)["halted"] != true) return false;
  return true;
}

Result<model::Block> Network::NextBlock(int via, uint64_t h) const {
  ML_ASSIGN_OR_RETURN(crypto::KeyPair node_key, crypto::ReadKeyFile(NodeKeyFile(via)));
  cli::ApiClient c(Url(via));
  const std::string target = "/v1/blocks/" + std::to_string(h) + "?format=binary";
  ML_ASSIGN_OR_RETURN(http::ClientResponse head,
                      c.Raw("GET", target, "", "application/json", api::SignRequest(node_key, "GET", target, "", {})));
  if (head.status != 200) return Unavailable("GET " + target + ": HTTP " + std::to_string(head.status));
  ML_ASSIGN_OR_RETURN(model::BlockHeader prev, model::DecodeHeader(Bytes(head.body.begin(), head.body.end())));
  model::Block next;
  next.header.height = h + 1;
  next.header.prev_hash = prev.Hash();
  next.header.timestamp_ms = prev.timestamp_ms + 1;
  next.header.state_root = prev.state_root;
  return next;
}

::medledger::Status Network::PutBlock(const std::string& chain_id, const model::Block& block) const {
  etcd::EtcdClient etcd(EtcdEndpoints(), std::chrono::milliseconds(5000));
  return etcd.PutIfAbsent(node::EtcdBlockKey(chain_id, block.header.height), block.Encode()).status();
}

}  // namespace medledger::test
