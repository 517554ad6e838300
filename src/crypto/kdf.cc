#include "crypto/kdf.h"

#include <sodium.h>

#include "crypto/ed25519.h"

namespace medledger::crypto {

static_assert(kKdfSaltBytes == crypto_pwhash_argon2id_SALTBYTES);
static_assert(kKdfMinOps == crypto_pwhash_argon2id_OPSLIMIT_MIN);
static_assert(kKdfMinMemBytes == crypto_pwhash_argon2id_MEMLIMIT_MIN);

Result<AeadKey> DeriveKeyArgon2id(std::string_view passphrase, const Bytes& salt, uint64_t ops,
                                  uint64_t mem_bytes) {
  InitCrypto();
  if (salt.size() != kKdfSaltBytes) return InvalidArgument("argon2id: the salt must be 16 bytes");
  if (ops < kKdfMinOps || mem_bytes < kKdfMinMemBytes || mem_bytes > SIZE_MAX)
    return InvalidArgument("argon2id: cost below libsodium's minimum");
  AeadKey k;
  if (crypto_pwhash(k.data(), k.size(), passphrase.data(), passphrase.size(), salt.data(), ops, size_t(mem_bytes),
                    crypto_pwhash_ALG_ARGON2ID13) != 0) {
    Wipe(k.data(), k.size());
    return ResourceExhausted("argon2id: not enough memory for the key derivation");
  }
  return k;
}

}  // namespace medledger::crypto
