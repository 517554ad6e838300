#include "cli/api_client.h"

#include "api/http_signature.h"
#include "crypto/aead.h"
#include "model/block.h"

namespace medledger::cli {

using nlohmann::json;

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
  }
  StatusCode c = r->status == 404 ? StatusCode::kNotFound
                 : r->status == 403 ? StatusCode::kPermissionDenied
                 : r->status == 401 ? StatusCode::kUnauthenticated
                 : r->status == 410 ? StatusCode::kGone
                 : r->status >= 500 ? StatusCode::kUnavailable
                                    : StatusCode::kInvalidArgument;
  return medledger::Status(c, msg);
}
}  // namespace

Result<http::ClientResponse> ApiClient::Raw(std::string_view method, const std::string& target, std::string_view body,
                                            std::string_view content_type, const http::HeaderList& headers) {
  http::HeaderList h = headers;
  if (!body.empty()) h.emplace_back("Content-Type", std::string(content_type));
  return http_.Request(method, target, body, h);
}

Result<json> ApiClient::GetJson(const std::string& target) { return Decode(http_.Get(target)); }

Result<json> ApiClient::GetSignedJson(const crypto::KeyPair& key, const std::string& target) {
  return Decode(http_.Get(target, api::SignRequest(key, "GET", target, "", {})));
}

Result<json> ApiClient::PostJson(const std::string& target, const json& body) {
  return Decode(http_.Post(target, body.dump()));
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
  auto r = http_.Post(wait ? "/v1/tx?wait_ms=30000" : "/v1/tx", model::TxToJson(tx).dump());
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
