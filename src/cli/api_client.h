// The CLI's view of a node: JSON calls, and signed transaction submission
// that waits for the commit. Used by every client subcommand and by bench.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "crypto/ed25519.h"
#include "http/client.h"
#include "model/transaction.h"

namespace medledger::cli {

// The diagnostics of an OperationOutcome, or the {"error":...} message, of
// a non-2xx answer.
std::string ErrorText(const http::ClientResponse& r);

class ApiClient {
 public:
  explicit ApiClient(std::string url, std::chrono::milliseconds timeout = std::chrono::seconds(60));

  // Non-2xx answers become a Status carrying the server's error message.
  Result<nlohmann::json> GetJson(const std::string& target);
  // The same, signed with `key` (RFC 9421): blocks and transactions are
  // readable only by member organisations' keys, and a transaction also by
  // the key that signed it (src/api/ledger_api.h).
  Result<nlohmann::json> GetSignedJson(const crypto::KeyPair& key, const std::string& target);
  Result<nlohmann::json> PostJson(const std::string& target, const nlohmann::json& body);
  Result<http::ClientResponse> Raw(std::string_view method, const std::string& target, std::string_view body,
                                   std::string_view content_type = "application/json",
                                   const http::HeaderList& headers = {});

  // Signs the request (RFC 9421, api/http_signature.h) and sends it: the one
  // way the CLI talks to signed routes. A request other than GET names this
  // node (X-Medledger-Node). A 503 or 429 with Retry-After is tried again
  // after the delay, newly signed, up to 10 times.
  Result<http::ClientResponse> SignedRequest(const crypto::KeyPair& key, std::string_view method,
                                             const std::string& target, std::string_view body = {},
                                             http::HeaderList headers = {});
  // The public id of the node's key (GET /v1/status), fetched once.
  Result<std::string> node_id();

  Result<nlohmann::json> Status();
  // Builds, signs and submits a transaction (expiry: current height + 1000,
  // random nonce). With wait, returns once it is committed or rejected:
  // the JSON of GET /v1/tx/{id}, read with the same key; a rejection comes
  // back as a Status whose message is "reason: detail".
  Result<nlohmann::json> Submit(const crypto::KeyPair& key, uint16_t type, const nlohmann::json& payload,
                                bool wait = true);
  Result<model::Transaction> Build(const crypto::KeyPair& key, uint16_t type, const nlohmann::json& payload);
  // Polls GET /v1/tx/{id}, signed with `key`, until it is no longer pending.
  Result<nlohmann::json> WaitTx(const crypto::KeyPair& key, const std::string& id, std::chrono::seconds timeout);

  const std::string& chain_id();

 private:
  std::string url_;
  http::Client http_;
  std::string chain_id_;
  std::string node_id_;
};

}  // namespace medledger::cli
