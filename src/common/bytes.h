// Byte strings, hex, and the big-endian writer/reader that every canonical
// binary encoding in medledger (transactions, blocks, state keys) is built on.
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace medledger {

using Bytes = std::vector<uint8_t>;
using Hash32 = std::array<uint8_t, 32>;

std::string ToHex(const uint8_t* data, size_t len);
inline std::string ToHex(const Bytes& b) { return ToHex(b.data(), b.size()); }
template <size_t N>
std::string ToHex(const std::array<uint8_t, N>& a) { return ToHex(a.data(), N); }

// Lower- or upper-case hex; fails on odd length or a non-hex character.
Result<Bytes> FromHex(std::string_view hex);
// Decodes exactly N bytes of hex.
template <size_t N>
Result<std::array<uint8_t, N>> FromHexFixed(std::string_view hex) {
  if (hex.size() != 2 * N) return InvalidArgument("expected " + std::to_string(2 * N) + " hex characters");
  auto b = FromHex(hex);
  if (!b.ok()) return b.status();
  std::array<uint8_t, N> out;
  std::memcpy(out.data(), b->data(), N);
  return out;
}

std::string Base64Encode(const uint8_t* data, size_t len);
inline std::string Base64Encode(const Bytes& b) { return Base64Encode(b.data(), b.size()); }
inline std::string Base64Encode(std::string_view s) {
  return Base64Encode(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}
Result<Bytes> Base64Decode(std::string_view s);

inline std::string_view AsStringView(const Bytes& b) {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}
inline Bytes ToBytes(std::string_view s) { return Bytes(s.begin(), s.end()); }

// Appends big-endian integers and length-prefixed fields. Big-endian so that
// encoded integers sort in numeric order as RocksDB keys.
class ByteWriter {
 public:
  explicit ByteWriter(Bytes* out) : out_(out) {}
  void U8(uint8_t v) { out_->push_back(v); }
  void U16(uint16_t v) { for (int i = 1; i >= 0; --i) out_->push_back(uint8_t(v >> (8 * i))); }
  void U32(uint32_t v) { for (int i = 3; i >= 0; --i) out_->push_back(uint8_t(v >> (8 * i))); }
  void U64(uint64_t v) { for (int i = 7; i >= 0; --i) out_->push_back(uint8_t(v >> (8 * i))); }
  void Raw(const uint8_t* p, size_t n) { out_->insert(out_->end(), p, p + n); }
  void Raw(const Bytes& b) { Raw(b.data(), b.size()); }
  template <size_t N>
  void Raw(const std::array<uint8_t, N>& a) { Raw(a.data(), N); }
  // u32 length, then the bytes.
  void Var(const uint8_t* p, size_t n) { U32(uint32_t(n)); Raw(p, n); }
  void Var(const Bytes& b) { Var(b.data(), b.size()); }
  void Var(std::string_view s) { Var(reinterpret_cast<const uint8_t*>(s.data()), s.size()); }

 private:
  Bytes* out_;
};

// Reads what ByteWriter wrote. Every read is bounds-checked; after the first
// failure ok() is false and every later read returns zeros, so a decoder can
// read a whole structure and check once at the end.
class ByteReader {
 public:
  ByteReader(const uint8_t* p, size_t n) : p_(p), end_(p + n) {}
  explicit ByteReader(const Bytes& b) : ByteReader(b.data(), b.size()) {}
  explicit ByteReader(std::string_view s)
      : ByteReader(reinterpret_cast<const uint8_t*>(s.data()), s.size()) {}

  bool ok() const { return ok_; }
  size_t remaining() const { return size_t(end_ - p_); }
  bool AtEnd() const { return p_ == end_; }
  const uint8_t* pos() const { return p_; }

  uint8_t U8() { return uint8_t(Int(1)); }
  uint16_t U16() { return uint16_t(Int(2)); }
  uint32_t U32() { return uint32_t(Int(4)); }
  uint64_t U64() { return Int(8); }
  bool Raw(uint8_t* out, size_t n) {
    if (!Need(n)) { std::memset(out, 0, n); return false; }
    std::memcpy(out, p_, n);
    p_ += n;
    return true;
  }
  bool Skip(size_t n) {
    if (!Need(n)) return false;
    p_ += n;
    return true;
  }
  template <size_t N>
  std::array<uint8_t, N> Fixed() { std::array<uint8_t, N> a{}; Raw(a.data(), N); return a; }
  // A u32-length-prefixed field of at most max_len bytes, as a view into
  // the input (empty, and the reader failed, if it is too long or cut off).
  std::string_view VarView(size_t max_len) {
    uint32_t n = U32();
    if (!ok_ || n > max_len || !Need(n)) { ok_ = false; return {}; }
    std::string_view v(reinterpret_cast<const char*>(p_), n);
    p_ += n;
    return v;
  }
  Bytes Var(size_t max_len) {
    std::string_view v = VarView(max_len);
    return Bytes(v.begin(), v.end());
  }
  std::string VarString(size_t max_len) { return std::string(VarView(max_len)); }

 private:
  bool Need(size_t n) {
    if (!ok_ || remaining() < n) { ok_ = false; return false; }
    return true;
  }
  uint64_t Int(int n) {
    if (!Need(size_t(n))) return 0;
    uint64_t v = 0;
    for (int i = 0; i < n; ++i) v = (v << 8) | p_[i];
    p_ += n;
    return v;
  }
  const uint8_t* p_;
  const uint8_t* end_;
  bool ok_ = true;
};

}  // namespace medledger
