// SHA-256 through OpenSSL's EVP interface, which uses the CPU's SHA
// instructions: measured on the 2-vCPU build machine, 7.7 M 64-byte hashes/s
// against 2.5 M for libsodium's portable code (3x; 4.4x at 4 KiB).
// Thread-safe: each thread reuses its own EVP context.
#pragma once

#include <string_view>

#include "common/bytes.h"

namespace medledger::crypto {

Hash32 Sha256(const uint8_t* data, size_t len);
inline Hash32 Sha256(const Bytes& b) { return Sha256(b.data(), b.size()); }
inline Hash32 Sha256(std::string_view s) {
  return Sha256(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}

// Incremental hashing over several pieces without concatenating them.
class Sha256Builder {
 public:
  Sha256Builder();
  ~Sha256Builder();
  Sha256Builder(const Sha256Builder&) = delete;
  Sha256Builder& operator=(const Sha256Builder&) = delete;
  Sha256Builder& Add(const uint8_t* data, size_t len);
  Sha256Builder& Add(const Bytes& b) { return Add(b.data(), b.size()); }
  Sha256Builder& Add(std::string_view s) {
    return Add(reinterpret_cast<const uint8_t*>(s.data()), s.size());
  }
  template <size_t N>
  Sha256Builder& Add(const std::array<uint8_t, N>& a) { return Add(a.data(), N); }
  Sha256Builder& AddU8(uint8_t v) { return Add(&v, 1); }
  Hash32 Finish();

 private:
  void* ctx_;
};

}  // namespace medledger::crypto
