// The ledger's HTTP/JSON API (/v1/...) and Prometheus metrics (/metrics).
// Statuses and verdicts become HTTP statuses through api/http_status.h.
//
//   GET  /v1/status             chain_id, org, height, last_block_hash, state_root, committed_txs, ...
//   POST /v1/tx                 one transaction: JSON, or binary (application/octet-stream)
//   POST /v1/txs                a batch: JSON array, or binary (u32 length + tx bytes, repeated)
//                               ?wait=1 answers once every transaction is resolved
//   GET  /v1/tx/{id}            pending | committed (height, index, inclusion proof) | rejected (reason)
//                               ?wait_ms=N long-polls while pending
//   GET  /v1/blocks/{height}    the block as JSON; ?format=binary for its canonical bytes
//
// The two reads above need an RFC 9421 signed request (api/http_signature.h):
// 401 unsigned or badly signed; 403 unless the signer is a registered, active
// key of an active organisation with role member, org_admin, node, auditor or
// regulator. Other registered keys (patients) may read a transaction they
// signed themselves, and the state (no payload) of one not yet in a block.
//   GET  /v1/identities/{id}    an identity record: signed, by a member key or the key itself
//   GET  /metrics               Prometheus text format
#pragma once

#include <atomic>
#include <string>

#include "http/server.h"
#include "node/admission.h"
#include "node/chain.h"
#include "node/mempool.h"
#include "node/orderer.h"

namespace medledger::api {

struct Metrics {
  std::atomic<uint64_t> blocks_committed{0};
  std::atomic<uint64_t> block_txs{0};
  std::atomic<uint64_t> commit_latency_us_sum{0};
};

class Authenticator;  // api/auth.h: verifies every signed request

struct LedgerContext {
  node::Chain* chain = nullptr;
  Authenticator* auth = nullptr;
  node::Mempool* pool = nullptr;
  node::Admission* admission = nullptr;
  node::Orderer* orderer = nullptr;
  http::Server* server = nullptr;
  std::string node_id;  // the node key's public id
  std::string org;      // the organisation that registered the node key
  Metrics* metrics = nullptr;
};

void RegisterLedgerRoutes(http::Server& server, LedgerContext* ctx);

// Decodes the body of POST /v1/tx or /v1/txs into transactions. Binary
// bodies: one encoded tx (single) or repeated u32 length + tx (batch).
Result<std::vector<model::Transaction>> ParseTxBody(const http::Request& req, bool batch);

}  // namespace medledger::api
