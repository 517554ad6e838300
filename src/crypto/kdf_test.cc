#include "crypto/kdf.h"

#include <gtest/gtest.h>

namespace medledger::crypto {
namespace {

Bytes Salt(std::string_view s) { return Bytes(s.begin(), s.end()); }

// A vector from the reference implementation (Debian's `argon2` 0~20171227,
// independent of libsodium), with libsodium's fixed parameters (Argon2id v1.3,
// one lane, 32 bytes):
//   echo -n "correct horse battery staple" | argon2 medledger-salt16 -id -t 2 -m 13 -p 1 -l 32 -r
TEST(Argon2id, ReferenceImplementationVector) {
  auto k = DeriveKeyArgon2id("correct horse battery staple", Salt("medledger-salt16"), 2, uint64_t(8192) * 1024);
  ASSERT_TRUE(k.ok()) << k.status().ToString();
  EXPECT_EQ(ToHex(*k), "8791bd52efb848f84d94c12e7612adc364074cb87f94759009ff4721df502a90");
}

TEST(Argon2id, EveryInputChangesTheKey) {
  const Bytes salt = Salt("medledger-salt16");
  const uint64_t mem = uint64_t(8192) * 1024;
  auto base = DeriveKeyArgon2id("passphrase", salt, 2, mem);
  ASSERT_TRUE(base.ok());
  EXPECT_EQ(*DeriveKeyArgon2id("passphrase", salt, 2, mem), *base) << "deterministic";
  EXPECT_NE(*DeriveKeyArgon2id("passphrasf", salt, 2, mem), *base);
  EXPECT_NE(*DeriveKeyArgon2id("passphrase", Salt("medledger-salt17"), 2, mem), *base);
  EXPECT_NE(*DeriveKeyArgon2id("passphrase", salt, 3, mem), *base);
  EXPECT_NE(*DeriveKeyArgon2id("passphrase", salt, 2, mem * 2), *base);
}

TEST(Argon2id, RefusesBadParameters) {
  const uint64_t mem = uint64_t(8192) * 1024;
  EXPECT_EQ(DeriveKeyArgon2id("p", Salt("short"), 2, mem).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(DeriveKeyArgon2id("p", Salt("seventeen bytes!!"), 2, mem).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(DeriveKeyArgon2id("p", Salt("medledger-salt16"), 0, mem).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(DeriveKeyArgon2id("p", Salt("medledger-salt16"), 2, 1024).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace medledger::crypto
