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
// a query; every header of kCoveredHeaders that the request carries (the
// headers some handler acts on); and Content-Digest itself (RFC 9530,
// sha-256) whenever there is a body, checked against the body.
// Parameters: created (at most max_age old and at most max_skew, 30 s, in
// the future), nonce (8 to 128 characters), keyid (the signer's public id),
// alg "ed25519"; expires, when present, in the future. Nonces are spent by
// api/auth.h, once the signer is known to be registered.
//
// Thread safety: the functions are pure.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"
#include "crypto/ed25519.h"
#include "http/client.h"
#include "http/message.h"

namespace medledger::api {

inline constexpr std::string_view kPurposeHeader = "X-Purpose-Of-Use";
inline constexpr std::string_view kBreakGlassHeader = "X-Break-Glass-Reason";
// Names the node a write or an erasure is meant for (its public id, from
// GET /v1/status), so that a captured request cannot be replayed at another
// node of the organisation, whose nonces are its own.
inline constexpr std::string_view kNodeHeader = "X-Medledger-Node";
// The patient a new Patient resource is bound to (public id), on FHIR writes.
inline constexpr const char* kPatientHeader = "X-Medledger-Patient";

// Request headers that some handler acts on. A signature must cover each one
// the request carries, or a proxy could change what the signed request
// does (swap the patient of a write, drop a precondition). Lower-case.
inline constexpr std::array<std::string_view, 10> kCoveredHeaders = {
    "content-type",        "content-digest", "x-purpose-of-use", "x-break-glass-reason", "x-medledger-patient",
    "x-medledger-custodian", "x-medledger-node", "if-none-exist", "if-match",            "prefer"};

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

// What a valid signature says: who signed, when, and the nonce to spend.
// Checking a signature spends nothing: api/auth.h decides whether the signer
// may use the node before a nonce is stored for it.
struct SignatureCheck {
  crypto::PublicKey pk{};
  std::string keyid;
  std::string nonce;
  int64_t created = 0;
};

// The components a client signature must cover on `req`: "@method" and every
// header of kCoveredHeaders that the request carries ("@path"/"@target-uri",
// "@query" and Content-Digest are checked separately).
std::vector<std::string> RequiredClientComponents(const http::Request& req);

// Which signature of a request to check, and how strictly. The defaults are
// a client's signature (any label) under medledger's rules.
struct SignatureRules {
  std::string_view input_field = "Signature-Input";
  std::string_view signature_field = "Signature";
  std::string_view label;                   // empty: the first member
  std::chrono::seconds max_age{300};        // how old `created` may be
  std::chrono::seconds max_skew{30};        // how far in the future `created` may be
  std::vector<std::string> (*required)(const http::Request&) = &RequiredClientComponents;
};

// Verifies one signature of `req` and its coverage (see the top of this
// file) at time now_s (seconds since the epoch). kUnauthenticated for a
// missing, malformed, stale, future, insufficiently covering or wrong
// signature, with a message saying which (no request content is quoted).
Result<SignatureCheck> CheckSignature(const http::Request& req, const SignatureRules& rules, int64_t now_s);
// The client's signature under the default rules.
Result<SignatureCheck> CheckRequestSignature(const http::Request& req, int64_t now_s);

// The client side: returns `headers` plus Content-Digest and Content-Type
// (application/json unless given; both when the body is not empty),
// Signature-Input and Signature, covering "@method", "@path", "@query", and
// every header of kCoveredHeaders present. `target` is the request target as sent (path and query).
// created defaults to now; nonce to 16 random bytes in hex.
http::HeaderList SignRequest(const crypto::KeyPair& key, std::string_view method, std::string_view target,
                             std::string_view body, http::HeaderList headers,
                             std::optional<int64_t> created = std::nullopt, std::string nonce = {});

}  // namespace medledger::api
