// Ed25519 signatures (libsodium). A public key's printable id is its 64
// lower-case hex characters: stable, unambiguous, and usable in URLs and
// file names.
#pragma once

#include <array>
#include <string>
#include <string_view>

#include "common/bytes.h"

namespace medledger::crypto {

using PublicKey = std::array<uint8_t, 32>;
using Signature = std::array<uint8_t, 64>;
using SecretKey = std::array<uint8_t, 64>;  // libsodium's seed||pk form

// Must be called once before any crypto use (idempotent, thread-safe).
void InitCrypto();

class KeyPair {
 public:
  static KeyPair Generate();
  static KeyPair FromSeed(const std::array<uint8_t, 32>& seed);
  ~KeyPair();
  KeyPair(const KeyPair&) = default;
  KeyPair& operator=(const KeyPair&) = default;

  const PublicKey& public_key() const { return pk_; }
  std::array<uint8_t, 32> seed() const;
  std::string id() const;  // printable public id
  Signature Sign(const uint8_t* msg, size_t len) const;
  Signature Sign(const Bytes& msg) const { return Sign(msg.data(), msg.size()); }

 private:
  KeyPair() = default;
  PublicKey pk_{};
  SecretKey sk_{};
};

// medledger's signature rule (crypto/ed25519_batch.h): libsodium's check,
// with the cofactored equation, so that batches and single checks agree.
bool Verify(const PublicKey& pk, const uint8_t* msg, size_t len, const Signature& sig);
inline bool Verify(const PublicKey& pk, const Bytes& msg, const Signature& sig) {
  return Verify(pk, msg.data(), msg.size(), sig);
}

std::string PublicId(const PublicKey& pk);
Result<PublicKey> ParsePublicId(std::string_view id);

}  // namespace medledger::crypto
