#include "crypto/aead.h"

#include <sodium.h>

#include "crypto/ed25519.h"

namespace medledger::crypto {

void RandomBytes(uint8_t* out, size_t n) {
  InitCrypto();
  randombytes_buf(out, n);
}

std::string RandomHexId() {
  uint8_t raw[16];
  RandomBytes(raw, sizeof raw);
  return ToHex(raw, sizeof raw);
}

AeadKey RandomKey() {
  AeadKey k;
  RandomBytes(k.data(), k.size());
  return k;
}

Bytes Seal(const AeadKey& key, const uint8_t* plain, size_t len, std::string_view ad) {
  InitCrypto();
  Bytes out(crypto_aead_xchacha20poly1305_ietf_NPUBBYTES + len +
            crypto_aead_xchacha20poly1305_ietf_ABYTES);
  uint8_t* nonce = out.data();
  randombytes_buf(nonce, crypto_aead_xchacha20poly1305_ietf_NPUBBYTES);
  unsigned long long clen = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(
      out.data() + crypto_aead_xchacha20poly1305_ietf_NPUBBYTES, &clen, plain, len,
      reinterpret_cast<const uint8_t*>(ad.data()), ad.size(), nullptr, nonce, key.data());
  return out;
}

Result<Bytes> Open(const AeadKey& key, const Bytes& sealed, std::string_view ad) {
  constexpr size_t kNonce = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
  if (sealed.size() < kNonce + crypto_aead_xchacha20poly1305_ietf_ABYTES)
    return DataLoss("ciphertext too short");
  Bytes out(sealed.size() - kNonce - crypto_aead_xchacha20poly1305_ietf_ABYTES);
  unsigned long long mlen = 0;
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(
          out.data(), &mlen, nullptr, sealed.data() + kNonce, sealed.size() - kNonce,
          reinterpret_cast<const uint8_t*>(ad.data()), ad.size(), sealed.data(),
          key.data()) != 0) {
    return DataLoss("authentication failed: ciphertext was tampered with or the key is wrong");
  }
  out.resize(mlen);
  return out;
}

void Wipe(void* p, size_t n) { sodium_memzero(p, n); }

}  // namespace medledger::crypto
