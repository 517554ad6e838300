// XChaCha20-Poly1305 authenticated encryption (libsodium) and secure random
// bytes. Ciphertext layout: 24-byte random nonce || ciphertext || 16-byte tag.
#pragma once

#include <array>
#include <string>

#include "common/bytes.h"

namespace medledger::crypto {

using AeadKey = std::array<uint8_t, 32>;
inline constexpr size_t kAeadOverhead = 24 + 16;

AeadKey RandomKey();
void RandomBytes(uint8_t* out, size_t n);
// 16 random bytes as 32 hex characters: signature nonces and fresh ids.
std::string RandomHexId();
template <size_t N>
std::array<uint8_t, N> RandomArray() { std::array<uint8_t, N> a; RandomBytes(a.data(), N); return a; }

// `ad` is authenticated but not encrypted: bind ciphertexts to their identity
// (record id, version) so one cannot be swapped for another.
Bytes Seal(const AeadKey& key, const uint8_t* plain, size_t len, std::string_view ad);
inline Bytes Seal(const AeadKey& key, const Bytes& plain, std::string_view ad) {
  return Seal(key, plain.data(), plain.size(), ad);
}
// DataLoss when the tag does not verify (tampered, wrong key or wrong ad).
Result<Bytes> Open(const AeadKey& key, const Bytes& sealed, std::string_view ad);

// Overwrites memory that held a key.
void Wipe(void* p, size_t n);

}  // namespace medledger::crypto
