#include "crypto/ed25519.h"

#include "crypto/ed25519_batch.h"

#include <sodium.h>

#include <cstdlib>
#include <mutex>

namespace medledger::crypto {

void InitCrypto() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (sodium_init() < 0) std::abort();  // no entropy source: nothing safe to do
  });
}

KeyPair KeyPair::Generate() {
  InitCrypto();
  KeyPair kp;
  crypto_sign_keypair(kp.pk_.data(), kp.sk_.data());
  return kp;
}

KeyPair KeyPair::FromSeed(const std::array<uint8_t, 32>& seed) {
  InitCrypto();
  KeyPair kp;
  crypto_sign_seed_keypair(kp.pk_.data(), kp.sk_.data(), seed.data());
  return kp;
}

KeyPair::~KeyPair() { sodium_memzero(sk_.data(), sk_.size()); }

std::array<uint8_t, 32> KeyPair::seed() const {
  std::array<uint8_t, 32> s;
  crypto_sign_ed25519_sk_to_seed(s.data(), sk_.data());
  return s;
}

std::string KeyPair::id() const { return PublicId(pk_); }

Signature KeyPair::Sign(const uint8_t* msg, size_t len) const {
  Signature sig;
  crypto_sign_detached(sig.data(), nullptr, msg, len, sk_.data());
  return sig;
}

bool Verify(const PublicKey& pk, const uint8_t* msg, size_t len, const Signature& sig) {
  // The rule is in ed25519_batch.h: libsodium's check, plus the cofactored
  // equation for the few signatures libsodium's stricter one rejects.
  return VerifyOne(SigItem{pk.data(), msg, len, sig.data()});
}

std::string PublicId(const PublicKey& pk) { return ToHex(pk); }

Result<PublicKey> ParsePublicId(std::string_view id) {
  auto r = FromHexFixed<32>(id);
  if (!r.ok()) return InvalidArgument("public id must be 64 hex characters");
  return *r;
}

}  // namespace medledger::crypto
