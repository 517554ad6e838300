#include "crypto/sha256.h"

#include <openssl/evp.h>

#include <stdexcept>

namespace medledger::crypto {

namespace {
struct CtxHolder {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  ~CtxHolder() { EVP_MD_CTX_free(ctx); }
};

// Fetched once: with EVP_sha256() OpenSSL 3 looks the implementation up
// under a process-wide read lock on every init, which two threads hashing
// small inputs (tx ids, Merkle nodes) contend on.
const EVP_MD* Sha256Md() {
  static const EVP_MD* md = [] {
    const EVP_MD* m = EVP_MD_fetch(nullptr, "SHA2-256", nullptr);
    return m ? m : EVP_sha256();
  }();
  return md;
}
}  // namespace

Hash32 Sha256(const uint8_t* data, size_t len) {
  thread_local CtxHolder holder;
  Hash32 out;
  unsigned int n = 0;
  // EVP failures here mean an out-of-memory or a broken OpenSSL: not recoverable.
  if (EVP_DigestInit_ex(holder.ctx, Sha256Md(), nullptr) != 1 ||
      EVP_DigestUpdate(holder.ctx, data, len) != 1 ||
      EVP_DigestFinal_ex(holder.ctx, out.data(), &n) != 1) {
    throw std::runtime_error("OpenSSL SHA-256 failed");
  }
  return out;
}

Sha256Builder::Sha256Builder() : ctx_(EVP_MD_CTX_new()) {
  if (!ctx_ || EVP_DigestInit_ex(static_cast<EVP_MD_CTX*>(ctx_), Sha256Md(), nullptr) != 1)
    throw std::runtime_error("OpenSSL SHA-256 init failed");
}
Sha256Builder::~Sha256Builder() { EVP_MD_CTX_free(static_cast<EVP_MD_CTX*>(ctx_)); }

Sha256Builder& Sha256Builder::Add(const uint8_t* data, size_t len) {
  EVP_DigestUpdate(static_cast<EVP_MD_CTX*>(ctx_), data, len);
  return *this;
}

Hash32 Sha256Builder::Finish() {
  Hash32 out;
  unsigned int n = 0;
  EVP_DigestFinal_ex(static_cast<EVP_MD_CTX*>(ctx_), out.data(), &n);
  return out;
}

}  // namespace medledger::crypto
