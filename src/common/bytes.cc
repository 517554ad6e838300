#include "common/bytes.h"

#include <sodium.h>

namespace medledger {

std::string ToHex(const uint8_t* data, size_t len) {
  static const char kDigits[] = "0123456789abcdef";
  std::string s(len * 2, '0');
  for (size_t i = 0; i < len; ++i) {
    s[2 * i] = kDigits[data[i] >> 4];
    s[2 * i + 1] = kDigits[data[i] & 15];
  }
  return s;
}

namespace {
// Hex digit values, -1 for anything else: one load per character instead of
// a chain of range tests (payload hashes are parsed twice per transaction).
struct HexTable {
  int8_t v[256];
  constexpr HexTable() : v() {
    for (int i = 0; i < 256; ++i) v[i] = -1;
    for (int i = 0; i < 10; ++i) v['0' + i] = int8_t(i);
    for (int i = 0; i < 6; ++i) {
      v['a' + i] = int8_t(10 + i);
      v['A' + i] = int8_t(10 + i);
    }
  }
};
constexpr HexTable kHex;
}  // namespace

Result<Bytes> FromHex(std::string_view hex) {
  if (hex.size() % 2) return InvalidArgument("hex string has odd length");
  Bytes out(hex.size() / 2);
  int bad = 0;
  for (size_t i = 0; i < out.size(); ++i) {
    int hi = kHex.v[uint8_t(hex[2 * i])], lo = kHex.v[uint8_t(hex[2 * i + 1])];
    bad |= hi | lo;  // negative once any digit was invalid
    out[i] = uint8_t(hi << 4 | lo);
  }
  if (bad < 0) return InvalidArgument("invalid hex character");
  return out;
}

std::string Base64Encode(const uint8_t* data, size_t len) {
  std::string out(sodium_base64_encoded_len(len, sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(out.data(), out.size(), data, len, sodium_base64_VARIANT_ORIGINAL);
  out.resize(std::strlen(out.c_str()));
  return out;
}

Result<Bytes> Base64Decode(std::string_view s) {
  Bytes out(s.size() / 4 * 3 + 3);
  size_t len = 0;
  if (sodium_base642bin(out.data(), out.size(), s.data(), s.size(), nullptr, &len,
                        nullptr, sodium_base64_VARIANT_ORIGINAL) != 0) {
    return InvalidArgument("invalid base64");
  }
  out.resize(len);
  return out;
}

}  // namespace medledger
