// The genesis document and the genesis block.
//
// {
//   "chain_id": "medledger-dev",
//   "timestamp_ms": 1764000000000,
//   "governance_threshold": 2,
//   "block": {"max_txs": 5000, "interval_ms": 50, "max_expiry_window": 10000},
//   "organisations": [
//     {"id": "hospital-a", "name": "Hospital A", "admin": "<public id>",
//      "admin_roles": ["member","org_admin"],          // optional; default shown
//      "nodes": ["<public id>"]}                       // node keys (role node)
//   ],
//   "identities": [{"key": "<public id>", "org": "hospital-a", "roles": ["auditor"]}]
// }
//
// The genesis block is height 0: no transactions, prev_hash = SHA-256 of the
// document's canonical encoding (so the block commits to the exact genesis),
// state_root over the initial state. Every node builds the same block 0.
#pragma once

#include <nlohmann/json_fwd.hpp>

#include "crypto/ed25519.h"
#include "model/block.h"
#include "state/params.h"
#include "state/state_view.h"

namespace medledger::state {

// No json member: node/chain.h holds a Genesis, and a json value here would
// bring nlohmann/json.hpp into every file that includes chain.h. The
// document is DecodeValue(canonical).
struct Genesis {
  Bytes canonical;  // model/value.h encoding of the genesis document
  ChainParams params;
  WriteSet writes;  // the initial state
  model::Block block;
};

Result<Genesis> BuildGenesis(const nlohmann::json& doc);
// A development genesis: one organisation whose admin key holds every role,
// governance threshold 1, plus the node key.
nlohmann::json DevGenesisDoc(const std::string& chain_id, const crypto::PublicKey& admin,
                             const crypto::PublicKey& node, uint64_t timestamp_ms);

}  // namespace medledger::state
