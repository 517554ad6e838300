#include "crypto/derive.h"

#include <gtest/gtest.h>

#include <set>

namespace medledger::crypto {
namespace {

KeyPair Seed(uint8_t b) {
  std::array<uint8_t, 32> s;
  s.fill(b);
  return KeyPair::FromSeed(s);
}

// RFC 5869 Appendix A.1 (SHA-256, basic test case): the HKDF we call is the
// standard one, so a patient's keys can be re-derived by any HKDF.
TEST(Hkdf, Rfc5869TestCase1) {
  Bytes ikm(22, 0x0b);
  std::string salt, info;
  for (int i = 0; i <= 0x0c; ++i) salt.push_back(char(i));
  for (int i = 0xf0; i <= 0xf9; ++i) info.push_back(char(i));
  auto okm = HkdfSha256(ikm, salt, info, 42);
  ASSERT_TRUE(okm.ok());
  EXPECT_EQ(ToHex(*okm), "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865");
  EXPECT_FALSE(HkdfSha256(ikm, salt, info, 0).ok());
  EXPECT_FALSE(HkdfSha256(ikm, salt, info, 255 * 32 + 1).ok());
}

TEST(DeriveCustodianKey, DeterministicAndSeparatedByChainOrgAndSeed) {
  KeyPair seed = Seed(7);
  auto a1 = DeriveCustodianKey(seed, "chain-1", "hospital");
  auto a2 = DeriveCustodianKey(seed, "chain-1", "hospital");
  ASSERT_TRUE(a1.ok() && a2.ok());
  EXPECT_EQ(a1->id(), a2->id());
  // Pinned (and checked with Python: hmac + cryptography's Ed25519): a change
  // of the scheme would orphan every registered patient key.
  EXPECT_EQ(a1->id(), "639c3191ac7ce352c0325faeb744db648e7ec4a5c4732937e02e659d116bc1a0");
  std::set<std::string> ids = {seed.id(), a1->id(), DeriveCustodianKey(seed, "chain-1", "lab")->id(),
                               DeriveCustodianKey(seed, "chain-2", "hospital")->id(),
                               DeriveCustodianKey(Seed(8), "chain-1", "hospital")->id(),
                               // "chain-1\nx" + "y" vs "chain-1" + "x\ny" cannot both be asked for.
                               DeriveCustodianKey(seed, "chain-1x", "hospital")->id()};
  EXPECT_EQ(ids.size(), 6u);
  // The derived key signs like any key.
  Bytes msg = {1, 2, 3};
  EXPECT_TRUE(Verify(a1->public_key(), msg, a1->Sign(msg)));
}

TEST(DeriveCustodianKey, RefusesNamesThatCouldCollide) {
  KeyPair seed = Seed(1);
  EXPECT_EQ(DeriveCustodianKey(seed, "", "org").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(DeriveCustodianKey(seed, "c", "").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(DeriveCustodianKey(seed, "c\nd", "org").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(DeriveCustodianKey(seed, "c", "org\nx").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(DeriveCustodianKey(seed, "c", "a/b").status().code(), StatusCode::kInvalidArgument);
}

TEST(ConsentGroupMemberId, OnePerCustodianRecomputableFromTheGroup) {
  KeyPair seed = Seed(3);
  auto x = ConsentGroupMemberId(seed, "c", "0011223344556677", "hospital");
  auto y = ConsentGroupMemberId(seed, "c", "0011223344556677", "lab");
  ASSERT_TRUE(x.ok() && y.ok());
  EXPECT_EQ(x->size(), 32u);
  EXPECT_NE(*x, *y);
  EXPECT_EQ(*x, *ConsentGroupMemberId(seed, "c", "0011223344556677", "hospital"));
  EXPECT_NE(*x, *ConsentGroupMemberId(seed, "c", "0011223344556678", "hospital"));
  EXPECT_NE(*x, *ConsentGroupMemberId(Seed(4), "c", "0011223344556677", "hospital"));
  EXPECT_FALSE(ConsentGroupMemberId(seed, "c", "", "hospital").ok());
}

}  // namespace
}  // namespace medledger::crypto
