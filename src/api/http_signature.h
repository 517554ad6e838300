// RFC 9421 HTTP Message Signatures with Ed25519, as medledger uses them to
// authenticate FHIR reads, consent/audit searches and erasure requests.
//
// A signed request carries two headers (one signature, any label):
//   Signature-Input: sig1=("@method" "@path" "@query" "x-purpose-of-use");
//                    created=1700000000;keyid="<64-hex public id>";
//                    alg="ed25519";nonce="<random>"
//   Signature: sig1=:<base64 Ed25519 signature of the signature base>:
// The signature base (RFC 9421 §2.5) is one line per covered component,
// `"<name>": <value>`, then `"@signature-params": <the inner list above>`,
// joined by "\n" with no trailing newline.
//
// The verifier insists on coverage, not just a valid signature: "@method";
// "@path" or "@target-uri"; "@query" (or "@target-uri") when the request has
// a query; every one of X-Purpose-Of-Use, X-Break-Glass-Reason and
// Content-Digest that the request carries; and Content-Digest itself
// (RFC 9530, sha-256) whenever there is a body, checked against the body.
// Parameters: created (within max_age of now, and not more than max_age in
// the future), nonce (8 to 128 characters, never seen before for this key
// within the window), keyid (the signer's public id), alg "ed25519";
// expires, when present, in the future.
//
// Thread safety: the functions are pure; NonceCache is thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <vector>

#include "common/status.h"
#include "crypto/ed25519.h"
#include "http/client.h"
#include "http/message.h"

namespace medledger::api {

inline constexpr std::string_view kPurposeHeader = "X-Purpose-Of-Use";
inline constexpr std::string_view kBreakGlassHeader = "X-Break-Glass-Reason";

// One parameter of the signature parameters. RFC 9421 defines integers
// (created, expires) and strings (nonce, alg, keyid, tag); tokens and
// booleans are parsed too so that unknown parameters re-serialise exactly.
struct SigParam {
  enum class Kind { kInt, kString, kToken, kBool };
  std::string name;
  Kind kind = Kind::kString;
  int64_t int_value = 0;  // kInt; kBool: 0 or 1
  std::string str_value;  // kString, kToken
};

struct SignatureParams {
  std::vector<std::string> components;  // lower-case identifiers, e.g. "@method", "x-purpose-of-use"
  std::vector<SigParam> params;         // in the order they are serialised

  const SigParam* Find(std::string_view name) const;
  // `("@method" "@path");created=1;keyid="k"` (RFC 8941 inner list).
  std::string Serialize() const;
};

// The value of one covered component for a request (RFC 9421 §2.1, §2.2):
// header fields (values trimmed, repeated fields joined with ", "), and
// "@method", "@path", "@query", "@authority" (the Host header, lower-case),
// "@target-uri" ("http://" + Host + request target), "@request-target".
// kInvalidArgument for a component the request lacks or one not supported.
Result<std::string> ComponentValue(const http::Request& req, std::string_view component);

// The signature base of RFC 9421 §2.5 for `req` and `params`.
Result<std::string> SignatureBase(const http::Request& req, const SignatureParams& params);

// Parses the member `label` (or the first member when label is empty) of a
// Signature-Input field value. Returns the label with the parameters.
Result<std::pair<std::string, SignatureParams>> ParseSignatureInput(std::string_view field,
                                                                    std::string_view label = {});
// The byte sequence of member `label` of a Signature field value.
Result<Bytes> ParseSignature(std::string_view field, std::string_view label);

// "sha-256=:<base64 SHA-256 of body>:" (RFC 9530).
std::string ContentDigest(std::string_view body);

// 16 random bytes as 32 hex characters: signature nonces and fresh ids.
std::string RandomHexId();

// Replay protection: remembers (keyid, nonce) pairs until `created +
// max_age` has passed. At most `capacity` entries; when full (after dropping
// expired ones) Insert answers kResourceExhausted rather than forget a nonce
// that is still inside the window.
class NonceCache {
 public:
  explicit NonceCache(size_t capacity = 1 << 20) : capacity_(capacity) {}
  // kAlreadyExists if seen; expire_at_s is when the pair may be forgotten.
  Status Insert(std::string_view keyid, std::string_view nonce, int64_t expire_at_s, int64_t now_s);
  size_t size() const;

 private:
  size_t capacity_;
  mutable std::mutex mu_;
  std::unordered_set<std::string> seen_;
  std::deque<std::pair<int64_t, std::string>> order_;  // (expire_at_s, key), roughly ascending
};

// Verifies the request's signature and its coverage (see the top of this
// file) and returns the signer's public key. kUnauthenticated for a missing,
// malformed, stale, replayed, insufficiently covering or wrong signature,
// with a message saying which (no request content is quoted).
Result<crypto::PublicKey> VerifyRequestSignature(const http::Request& req, std::chrono::seconds max_age,
                                                 NonceCache& nonces);
// Same, with the current time given (seconds since the epoch), for tests.
Result<crypto::PublicKey> VerifyRequestSignatureAt(const http::Request& req, std::chrono::seconds max_age,
                                                   NonceCache& nonces, int64_t now_s);

// The client side: returns `headers` plus Content-Digest (when the body is
// not empty), Signature-Input and Signature, covering "@method", "@path",
// "@query", and X-Purpose-Of-Use, X-Break-Glass-Reason and Content-Digest
// when present. `target` is the request target as sent (path and query).
// created defaults to now; nonce to 16 random bytes in hex.
http::HeaderList SignRequest(const crypto::KeyPair& key, std::string_view method, std::string_view target,
                             std::string_view body, http::HeaderList headers,
                             std::optional<int64_t> created = std::nullopt, std::string nonce = {});

}  // namespace medledger::api
