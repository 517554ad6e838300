// Cross-organisation reads: a signed FHIR read at node A for a record whose
// custodian is organisation B is forwarded by A to a node of B, which decides
// it exactly as a local read by the original client (consent, durable access
// event on the shared ledger, 403 with reason). A returns the bytes only after
// checking their SHA-256 against the on-chain anchor, which A holds too.
// Contract: docs/RECORDS.md, "Cross-organisation reads". A finds B's nodes in
// the peer directory (node/peer_directory.h).
//
// Node-to-node authentication. A forwards the client's request with its
// Signature-Input / Signature and purpose headers byte for byte (the client
// covers @method, @path, @query and the purpose headers, none of which A
// changes; @authority and @target-uri are not covered by medledger clients,
// so the different Host does not matter). A adds a second RFC 9421 signature
// in its own fields, Medledger-Hop-Signature-Input / Medledger-Hop-Signature,
// label "hop", keyid = A's node id, covering "@method" "@path" "@query"
// "signature-input" "signature" and the purpose / custodian headers present:
// the hop is bound to this one client signature (RFC 9421 §4.3, a proxy
// signing over the signature it forwards). B checks both in api/auth.h: the
// hop (created at most 300 s old and 30 s ahead, coverage, a registered node
// of an active org, nonce unused) and the client's signature as usual.
//
// Thread safety: every function may be called from any thread.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/fhir_context.h"
#include "common/status.h"
#include "crypto/ed25519.h"
#include "http/client.h"
#include "http/message.h"
#include "node/peer_directory.h"
#include "state/state_view.h"

namespace medledger::api {

// The custodian a client names for a record it wants through its own node
// (the query parameter `custodian=<org>` works the same and is covered by
// the client's signature).
inline constexpr std::string_view kCustodianHeader = "X-Medledger-Custodian";
inline constexpr std::string_view kHopSignatureInputHeader = "Medledger-Hop-Signature-Input";
inline constexpr std::string_view kHopSignatureHeader = "Medledger-Hop-Signature";
// Response headers: the node of the custodian that served a forwarded read
// (at A), and the node that forwarded it (at B).
inline constexpr std::string_view kServedByHeader = "X-Medledger-Served-By";
inline constexpr std::string_view kForwardedByHeader = "X-Medledger-Forwarded-By";

struct ForwardOptions {
  std::vector<std::string> etcd_endpoints;  // "host:port"
  std::string advertise_url;                // what this node publishes
  std::chrono::milliseconds republish_interval{15000};
  std::chrono::milliseconds peer_timeout{30000};  // one forwarded call
  // How long A waits for its own ledger to hold the anchor B names (B may
  // be a block or two ahead).
  std::chrono::milliseconds anchor_wait{15000};
  int workers = 4;
};

// Publishes this node in the directory (at once, then every
// republish_interval) and lets its FHIR reads be forwarded. Without it a
// read naming another custodian answers 503. kInvalidArgument for no
// endpoints or URL.
Status EnableCrossOrgReads(FhirContext* ctx, ForwardOptions opts);
// Stops the publisher and the forwarding workers (replies still owed are
// answered 503). Safe to call when not enabled.
void DisableCrossOrgReads(FhirContext* ctx);

// The nodes of `org` in the peer directory, verified as for forwarding, the
// most recently published first: where a client finds a custodian's nodes
// (GET /v1/peers, a patient's audit gathered across custodians).
// kUnavailable on a node without a directory (solo ordering).
Result<std::vector<node::PeerEntry>> DirectoryPeers(const FhirContext* ctx, const std::string& org);

// --- hooks used by fhir_read.cc and api/auth.cc ---

inline constexpr std::string_view kHopLabel = "hop";

// The hop-signed components: the client's signature fields, the request
// line, and whichever purpose / custodian / node headers the request carries.
std::vector<std::string> HopComponents(const http::Request& req);

// At the client's node, after the client's signature and purpose checked
// out: when the request names a custodian other than ctx->org (and did not
// itself arrive through a hop), forwards it and answers through `reply` on a
// worker thread; returns true. False: serve it locally.
bool MaybeForwardRead(const FhirContext* ctx, const http::Request& req, const http::Reply& reply,
                      const std::optional<std::string>& vid);

// The hop headers (Medledger-Hop-Signature-Input and -Signature) for a
// request of `method` to `target` carrying `headers`. created defaults to
// now; nonce to 16 random bytes in hex.
http::HeaderList HopHeaders(const crypto::KeyPair& node_key, std::string_view method, std::string_view target,
                            const http::HeaderList& headers, std::optional<int64_t> created = std::nullopt,
                            std::string nonce = {});

}  // namespace medledger::api
