// Argon2id (libsodium crypto_pwhash, version 1.3, one lane): a 32-byte key
// from a passphrase, for wrapping keys at rest (the vault's master key file).
// Pure and thread-safe; the memory it asks for is allocated and freed inside.
#pragma once

#include <cstdint>
#include <string_view>

#include "common/bytes.h"
#include "common/status.h"
#include "crypto/aead.h"

namespace medledger::crypto {

inline constexpr size_t kKdfSaltBytes = 16;
// libsodium's lower bounds for Argon2id: passes over memory, memory in bytes.
inline constexpr uint64_t kKdfMinOps = 1;
inline constexpr uint64_t kKdfMinMemBytes = 8192;

// kInvalidArgument when the salt is not kKdfSaltBytes long or ops / mem_bytes
// are below the minimums (callers bound the maximums: the cost is theirs to
// cap); kResourceExhausted when the memory cannot be had.
Result<AeadKey> DeriveKeyArgon2id(std::string_view passphrase, const Bytes& salt, uint64_t ops,
                                  uint64_t mem_bytes);

}  // namespace medledger::crypto
