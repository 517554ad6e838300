// Transactions and their canonical binary encoding (format version 1).
//
//   signing bytes = "mltx" | u8 version | var chain_id | signer[32] | u64 nonce
//                   | u64 expiry_height | u16 type | var payload
//   encoded tx    = signing bytes | signature[64]
//   tx id         = SHA-256(signing bytes)
//
// Integers big-endian, var = u32 length + bytes. The id covers everything but
// the signature, so it cannot be changed by re-signing (Ed25519 signatures are
// deterministic, but an id that excludes them removes malleability outright).
// The signature is over the signing bytes. Details: docs/SIGNING.md.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "common/bytes.h"
#include "crypto/ed25519.h"
#include "model/tx_types.h"

namespace medledger::model {

inline constexpr uint8_t kTxFormatVersion = 1;
inline constexpr size_t kMaxChainIdBytes = 64;
inline constexpr size_t kMaxPayloadBytes = 64 * 1024;
inline constexpr size_t kMaxTxBytes = kMaxPayloadBytes + 256;

struct Transaction {
  uint8_t version = kTxFormatVersion;
  std::string chain_id;
  crypto::PublicKey signer{};
  uint64_t nonce = 0;
  uint64_t expiry_height = 0;
  uint16_t type = 0;
  Bytes payload;  // canonical value encoding (model/value.h)
  crypto::Signature signature{};

  Bytes SigningBytes() const;
  Bytes Encode() const;
  void EncodeTo(Bytes* out) const;
  Hash32 Id() const;
  void Sign(const crypto::KeyPair& kp);
  bool VerifySignature() const;
};

// Encodes txs[i]'s signing bytes into (*signing)[i] and checks every
// signature in one crypto::VerifyMany call: ok[i] is txs[i]'s verdict, the
// same as txs[i].VerifySignature() gives. The bytes are left for the caller,
// which usually needs them for the ids as well.
void VerifyTxSignatures(std::span<const Transaction> txs, std::vector<Bytes>* signing, uint8_t* ok);

// Decodes one transaction; rejects trailing bytes, unknown versions and
// oversized fields. Never reads out of bounds on hostile input.
Result<Transaction> DecodeTransaction(const uint8_t* p, size_t n);
inline Result<Transaction> DecodeTransaction(const Bytes& b) { return DecodeTransaction(b.data(), b.size()); }
// Reads one transaction from a stream of them (batch bodies, blocks).
Result<Transaction> ReadTransaction(ByteReader& r);
// ReadTransaction into an existing transaction, reusing its buffers (a
// reader that decodes millions of them, as the audit does, allocates
// nothing per transaction). On error *tx holds an unspecified value.
Status ReadTransactionInto(ByteReader& r, Transaction* tx);

// The JSON form (TxToJson, TxFromJson, MakeTransaction) is in model/tx_json.h.

}  // namespace medledger::model
