// Blocks and their canonical encoding (format version 1).
//
//   header bytes = "mlbk" | u8 version | u64 height | prev_hash[32] | tx_root[32]
//                  | results_root[32] | state_root[32] | u64 timestamp_ms
//                  | proposer[32] | u32 tx_count
//   block hash   = SHA-256(header bytes)
//   proposer_sig = Ed25519(proposer, header bytes)
//   encoded block = header bytes | proposer_sig[64] | tx_count x (var tx)
//                   | tx_count x (u8 reject reason | var detail)
//
// tx_root is the RFC 6962 Merkle root of the tx ids (model/merkle.h).
// results_root commits to every transaction's verdict, so "this transaction
// failed, and why" is as tamper-evident as the transaction itself.
// state_root commits to the world state after the block (state/state_root.h).
// Height 0 is the genesis block: no transactions, prev_hash all zero, and its
// state root commits to the genesis state.
#pragma once

#include <vector>

#include "common/bytes.h"
#include "crypto/ed25519.h"
#include "model/merkle.h"
#include "model/transaction.h"
#include "model/verdict.h"

namespace medledger::model {

inline constexpr uint8_t kBlockFormatVersion = 1;
inline constexpr size_t kMaxVerdictDetail = 256;

struct BlockHeader {
  uint8_t version = kBlockFormatVersion;
  uint64_t height = 0;
  Hash32 prev_hash{};
  Hash32 tx_root{};
  Hash32 results_root{};
  Hash32 state_root{};
  uint64_t timestamp_ms = 0;
  crypto::PublicKey proposer{};
  uint32_t tx_count = 0;
  crypto::Signature proposer_sig{};

  Bytes SigningBytes() const;
  Hash32 Hash() const;
};

struct Block {
  BlockHeader header;
  std::vector<Transaction> txs;
  std::vector<Verdict> results;  // one per tx, same order

  Bytes Encode() const;
  std::vector<Hash32> TxIds() const;
  // Fills tx_count, tx_root and results_root from txs/results. A proposer
  // that already holds the tx ids (computed at admission) passes them, one
  // per tx in order, to skip encoding and hashing every tx again.
  void Seal(const std::vector<Hash32>* ids = nullptr);
  void Sign(const crypto::KeyPair& proposer);
};

Hash32 ResultsRoot(const std::vector<Verdict>& results);
Result<Block> DecodeBlock(const Bytes& b);

// Where transaction i's signing bytes lie inside an encoded block: the
// encoding is canonical, so these bytes equal txs[i].SigningBytes(), and a
// verifier can hash and check them in place instead of re-encoding each one.
struct TxSpan {
  uint32_t offset = 0;  // from the start of the encoded block
  uint32_t signing_len = 0;
};
// DecodeBlock that also fills spans (one per transaction).
Result<Block> DecodeBlock(const Bytes& b, std::vector<TxSpan>* spans);
// DecodeBlock into an existing block, reusing its vectors and each
// transaction's buffers: the audit decodes every block of the chain through
// a few recycled ones, so it allocates (and faults in) almost nothing per
// block. On error *out holds an unspecified value.
Status DecodeBlockInto(const uint8_t* p, size_t n, Block* out, std::vector<TxSpan>* spans);
// Decodes just the header (for light clients and fast scans).
Result<BlockHeader> DecodeHeader(const Bytes& b);

// The JSON forms (HeaderToJson, BlockToJson, ProofToJson, ProofFromJson) are
// in model/tx_json.h.

}  // namespace medledger::model
