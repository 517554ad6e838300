// The JSON forms of transactions, block headers, blocks and inclusion proofs,
// used by the API, the CLI and tests. Kept out of model/transaction.h and
// model/block.h so that the code which only encodes, decodes and verifies
// (state, ledger, node) compiles without nlohmann/json.hpp.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "common/status.h"
#include "crypto/ed25519.h"
#include "model/block.h"
#include "model/merkle.h"
#include "model/transaction.h"

namespace medledger::model {

// The JSON form of a transaction. Lossless both ways:
// {"version":1,"chain_id":"...","signer":HEX,"nonce":N,"expiry_height":N,
//  "type":"identity.register","payload":{...},"signature":HEX}
// nonce and expiry_height are JSON integers (or decimal strings, accepted on
// input for clients whose JSON numbers are doubles).
nlohmann::json TxToJson(const Transaction& tx);
Result<Transaction> TxFromJson(const nlohmann::json& j);

// Builds and signs a transaction from a JSON payload.
Result<Transaction> MakeTransaction(const std::string& chain_id, const crypto::KeyPair& signer,
                                    uint16_t type, const nlohmann::json& payload,
                                    uint64_t nonce, uint64_t expiry_height);

nlohmann::json HeaderToJson(const BlockHeader& h);
nlohmann::json BlockToJson(const Block& b, bool with_txs);
nlohmann::json ProofToJson(const InclusionProof& p);
Result<InclusionProof> ProofFromJson(const nlohmann::json& j);

}  // namespace medledger::model
