#include "cli/api_client.h"

#include <algorithm>
#include <functional>
#include <thread>

#include "api/http_signature.h"
#include "crypto/aead.h"
#include "model/block.h"
#include "model/tx_json.h"

namespace medledger::cli {

using nlohmann::json;

std::string ErrorText(const http::ClientResponse& r) {
  json j = json::parse(r.body, nullptr, false);
  if (!j.is_discarded()) {
    if (j.contains("issue") && j["issue"].is_array() && !j["issue"].empty())
      return j["issue"][0].value("diagnostics", "HTTP " + std::to_string(r.status));
    if (j.contains("error") && j["error"].is_object())
      return j["error"].value("code", "") + ": " + j["error"].value("message", "");
    // RFC 7807 problem details (the EPCIS routes).
    if (j.contains("type") && j.contains("detail") && j["detail"].is_string())
      return j.value("type", "") + ": " + j["detail"].get<std::string>();
  }
  return "HTTP " + std::to_string(r.status);
}

ApiClient::ApiClient(std::string url, std::chrono::milliseconds timeout) : url_(url), http_(url, timeout) {}

namespace {
Result<json> Decode(const Result<http::ClientResponse>& r) {
  if (!r.ok()) return r.status();
  json j = json::parse(r->body, nullptr, false);
  if (r->status >= 200 && r->status < 300) {
    if (j.is_discarded()) return Internal("node answered with invalid JSON");
    return j;
  }
  std::string msg = "HTTP " + std::to_string(r->status);
  if (!j.is_discarded() && j.contains("error")) {
    const auto& e = j["error"];
    if (e.is_object()) msg = e.value("code", msg) + ": " + e.value("message", "");
  } else if (!j.is_discarded() && j.contains("issue")) {
    msg += ": " + j["issue"][0].value("diagnostics", "");
  } else if (!j.is_discarded() && j.contains("detail") && j["detail"].is_string()) {
    msg += ": " + j.value("type", "") + ": " + j["detail"].get<std::string>();
  }
  StatusCode c = r->status == 404 ? StatusCode::kNotFound
                 : r->status == 403 ? StatusCode::kPermissionDenied
                 : r->status == 401 ? StatusCode::kUnauthenticated
                 : r->status == 410 ? StatusCode::kGone
                 : r->status >= 500 ? StatusCode::kUnavailable
                                    : StatusCode::kInvalidArgument;
  return medledger::Status(c, msg);
}

// Sends what `attempt` sends until the node stops answering "not now": a
// 503 or 429 that carries Retry-After. A 503 with Retry-After means the node
// neither admitted nor refused the request and recorded nothing (it could
// not confirm the chain head, node::Orderer::AwaitHead, or restarted after a
// crash, api/auth.h), so trying again after the delay it asks for (capped)
// is safe. Up to 10 tries.
Result<http::ClientResponse> Retrying(const std::function<Result<http::ClientResponse>()>& attempt) {
  constexpr int kAttempts = 10;
  for (int n = 1;; ++n) {
    auto r = attempt();
    if (!r.ok() || (r->status != 503 && r->status != 429) || n == kAttempts) return r;
    auto after = r->Header("retry-after");
    if (!after) return r;
    int secs = 1;
    if (!after->empty() && after->size() <= 3 && after->find_first_not_of("0123456789") == std::string::npos)
      secs = std::clamp(std::stoi(*after), 0, 10);
    std::this_thread::sleep_for(std::chrono::seconds(secs));
  }
}
}  // namespace

Result<http::ClientResponse> ApiClient::Raw(std::string_view method, const std::string& target, std::string_view body,
                                            std::string_view content_type, const http::HeaderList& headers) {
  http::HeaderList h = headers;
  bool typed = std::any_of(h.begin(), h.end(), [](const auto& kv) {
    std::string l = kv.first;
    for (char& ch : l) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    return l == "content-type";
  });
  if (!body.empty() && !typed) h.emplace_back("Content-Type", std::string(content_type));
  return http_.Request(method, target, body, h);
}

Result<http::ClientResponse> ApiClient::SignedRequest(const crypto::KeyPair& key, std::string_view method,
                                                      const std::string& target, std::string_view body,
                                                      http::HeaderList headers) {
  if (method != "GET" && method != "HEAD") {
    // Writes name the node they are for, so a capture cannot be replayed at
    // a sibling node (api/auth.h).
    ML_ASSIGN_OR_RETURN(std::string node, node_id());
    headers.emplace_back(std::string(api::kNodeHeader), node);
  }
  // A fresh signature each try: a node that restarted after a crash
  // refuses signatures made before it came back (Retry-After says when).
  return Retrying([&] { return http_.Request(method, target, body, api::SignRequest(key, method, target, body, headers)); });
}

Result<std::string> ApiClient::node_id() {
  if (node_id_.empty()) {
    ML_ASSIGN_OR_RETURN(auto s, Status());
    node_id_ = s.value("node_id", "");
    if (node_id_.empty()) return Internal("the node's status names no node_id");
  }
  return node_id_;
}

Result<json> ApiClient::GetJson(const std::string& target) { return Decode(http_.Get(target)); }

Result<json> ApiClient::GetSignedJson(const crypto::KeyPair& key, const std::string& target) {
  return Decode(SignedRequest(key, "GET", target));
}

Result<json> ApiClient::PostJson(const std::string& target, const json& body) {
  return Decode(Retrying([&] { return http_.Post(target, body.dump()); }));
}

Result<json> ApiClient::Status() { return GetJson("/v1/status"); }

const std::string& ApiClient::chain_id() {
  if (chain_id_.empty()) {
    auto s = Status();
    if (s.ok()) chain_id_ = s->value("chain_id", "");
  }
  return chain_id_;
}

Result<model::Transaction> ApiClient::Build(const crypto::KeyPair& key, uint16_t type, const json& payload) {
  ML_ASSIGN_OR_RETURN(json st, Status());
  chain_id_ = st.value("chain_id", "");
  uint64_t height = st.value("height", uint64_t(0));
  // Half the chain's expiry window: long enough for a busy node, short
  // enough that a lost transaction stops being valid soon.
  uint64_t window = st.contains("params") ? st["params"].value("max_expiry_window", uint64_t(10000)) : 10000;
  uint64_t nonce;
  crypto::RandomBytes(reinterpret_cast<uint8_t*>(&nonce), sizeof nonce);
  return model::MakeTransaction(chain_id_, key, type, payload, nonce, height + std::max<uint64_t>(1, window / 2));
}

Result<json> ApiClient::WaitTx(const crypto::KeyPair& key, const std::string& id, std::chrono::seconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    auto r = GetSignedJson(key, "/v1/tx/" + id + "?wait_ms=10000");
    if (r.ok() && r->value("status", "") != "pending") return r;
    if (!r.ok() && r.status().code() != StatusCode::kNotFound) return r.status();
    if (std::chrono::steady_clock::now() > deadline)
      return Unavailable("transaction " + id + " not committed within " + std::to_string(timeout.count()) + " s");
  }
}

Result<json> ApiClient::Submit(const crypto::KeyPair& key, uint16_t type, const json& payload, bool wait) {
  ML_ASSIGN_OR_RETURN(model::Transaction tx, Build(key, type, payload));
  std::string id = ToHex(tx.Id());
  const std::string body = model::TxToJson(tx).dump();
  auto r = Retrying([&] { return http_.Post(wait ? "/v1/tx?wait_ms=30000" : "/v1/tx", body); });
  if (!r.ok()) return r.status();
  json j = json::parse(r->body, nullptr, false);
  if (j.is_discarded()) return Internal("node answered with invalid JSON");
  if (j.value("status", "") == "rejected") {
    std::string reason, msg;
    if (j.contains("error")) {
      reason = j["error"].value("code", "");
      msg = j["error"].value("message", "");
    } else {
      reason = j.value("reason", "");
      msg = j.value("message", "");
    }
    return medledger::Status(StatusCode::kFailedPrecondition, "transaction " + id + " rejected: " + reason + ": " + msg);
  }
  if (r->status >= 400) return Decode(r).status();
  if (!wait) return j;
  ML_ASSIGN_OR_RETURN(json done, WaitTx(key, id, std::chrono::seconds(120)));
  if (done.value("status", "") == "rejected")
    return medledger::Status(StatusCode::kFailedPrecondition,
                             "transaction " + id + " rejected: " + done.value("reason", "") + ": " + done.value("message", ""));
  return done;
}

}  // namespace medledger::cli
