#include "crypto/ed25519_batch.h"

#include <gtest/gtest.h>
#include <sodium.h>

#include <string>
#include <vector>

#include "crypto/ed25519.h"

namespace medledger::crypto {
namespace {

// A set of signatures with their own storage, to corrupt and check.
struct Batch {
  std::vector<PublicKey> keys;
  std::vector<Bytes> msgs;
  std::vector<Signature> sigs;

  Batch(size_t n, size_t nkeys) {
    std::vector<KeyPair> kps;
    for (size_t k = 0; k < nkeys; ++k) kps.push_back(KeyPair::Generate());
    for (size_t i = 0; i < n; ++i) {
      const KeyPair& kp = kps[i % nkeys];
      msgs.push_back(ToBytes("message " + std::to_string(i) + std::string(i % 300, 'x')));
      sigs.push_back(kp.Sign(msgs.back()));
      keys.push_back(kp.public_key());
    }
  }
  std::vector<SigItem> Items() const {
    std::vector<SigItem> v;
    for (size_t i = 0; i < sigs.size(); ++i) v.push_back({keys[i].data(), msgs[i].data(), msgs[i].size(), sigs[i].data()});
    return v;
  }
  // VerifyMany's answers, each checked against a single check (the rule) and
  // against libsodium's, which may only be stricter.
  std::vector<uint8_t> Check() const {
    auto items = Items();
    std::vector<uint8_t> ok(items.size(), 7);
    VerifyMany(items, ok.data());
    for (size_t i = 0; i < items.size(); ++i) {
      EXPECT_EQ(ok[i], VerifyOne(items[i]) ? 1 : 0) << "signature " << i;
      if (Libsodium(items[i])) EXPECT_EQ(ok[i], 1) << "signature " << i;
    }
    return ok;
  }
  static bool Libsodium(const SigItem& s) {
    return crypto_sign_verify_detached(s.signature, s.message, s.message_len, s.pubkey) == 0;
  }
};

size_t CountOk(const std::vector<uint8_t>& ok) {
  size_t n = 0;
  for (uint8_t v : ok) n += v;
  return n;
}

TEST(Ed25519Batch, ValidSignaturesPassAtEverySize) {
  // Across the 64-signature batch boundary, with one key and with many.
  for (size_t n : {1, 2, 63, 64, 65, 200}) {
    for (size_t nkeys : {size_t(1), size_t(7)}) {
      Batch b(n, nkeys);
      EXPECT_EQ(CountOk(b.Check()), n) << n << " signatures, " << nkeys << " keys";
    }
  }
  std::vector<uint8_t> none;
  VerifyMany({}, none.data());
}

TEST(Ed25519Batch, MoreKeysThanTheKeyCacheHolds) {
  // 5,000 distinct signers in one call: the per-thread key cache is trimmed
  // between batches (never while a batch holds pointers into it).
  Batch b(5000, 5000);
  b.sigs[4500][40] ^= 1;
  auto ok = b.Check();
  EXPECT_EQ(CountOk(ok), 4999u);
  EXPECT_EQ(ok[4500], 0);
}

TEST(Ed25519Batch, EachCorruptionFailsOnlyItsSignature) {
  // One bad signature in a batch of valid ones: the batch fails, and the
  // one-by-one recheck must blame exactly that one.
  const std::vector<std::pair<std::string, std::function<void(Batch&, size_t)>>> corruptions = {
      {"message byte", [](Batch& b, size_t i) { b.msgs[i][0] ^= 1; }},
      {"R byte", [](Batch& b, size_t i) { b.sigs[i][3] ^= 0x10; }},
      {"S byte", [](Batch& b, size_t i) { b.sigs[i][40] ^= 1; }},
      {"other key", [](Batch& b, size_t i) { b.keys[i] = KeyPair::Generate().public_key(); }},
      {"S + L (not canonical)",
       [](Batch& b, size_t i) {
         // L = 2^252 + 27742317777372353535851937790883648493, little-endian.
         static const uint8_t kL[32] = {0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7,
                                        0xa2, 0xde, 0xf9, 0xde, 0x14, 0,    0,    0,    0,    0,    0,
                                        0,    0,    0,    0,    0,    0,    0,    0,    0,    0x10};
         unsigned carry = 0;
         for (int k = 0; k < 32; ++k) {
           unsigned v = b.sigs[i][32 + k] + kL[k] + carry;
           b.sigs[i][32 + k] = uint8_t(v);
           carry = v >> 8;
         }
       }},
      {"R the identity (small order)",
       [](Batch& b, size_t i) {
         std::fill(b.sigs[i].begin(), b.sigs[i].begin() + 32, 0);
         b.sigs[i][0] = 1;
       }},
      {"key the identity (small order)",
       [](Batch& b, size_t i) {
         b.keys[i].fill(0);
         b.keys[i][0] = 1;
       }},
      {"R not on the curve", [](Batch& b, size_t i) { std::fill(b.sigs[i].begin(), b.sigs[i].begin() + 32, 0xff); }},
  };
  for (const auto& [name, corrupt] : corruptions) {
    for (size_t where : {size_t(0), size_t(40), size_t(99)}) {
      Batch b(100, 5);
      corrupt(b, where);
      auto ok = b.Check();
      EXPECT_EQ(ok[where], 0) << name << " at " << where;
      EXPECT_FALSE(Batch::Libsodium(b.Items()[where])) << name;
      EXPECT_EQ(CountOk(ok), 99u) << name << " at " << where;
    }
  }
}

// An order-8 point (libsodium's small-order blacklist has it).
Bytes Order8Point() { return *FromHex("26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05"); }

// t times the point p (t small), by repeated addition from the identity.
std::array<uint8_t, 32> Times(const Bytes& p, int t) {
  std::array<uint8_t, 32> acc{};
  acc[0] = 1;
  for (int i = 0; i < t; ++i) EXPECT_EQ(crypto_core_ed25519_add(acc.data(), acc.data(), p.data()), 0);
  return acc;
}

// A signature with secret scalar `a` on m, published under `pk` (aB, or aB
// plus a small-order point), whose R is rB + t_r for the small-order point
// t_r (the identity's encoding for none): S = r + h a, as a signer computes.
struct Crafted {
  PublicKey pk;
  Bytes msg;
  Signature sig;
};

Crafted Craft(const uint8_t a[32], const PublicKey& pk, const std::array<uint8_t, 32>& t_r, const std::string& m) {
  Crafted c{pk, ToBytes(m), {}};
  uint8_t r[32], rb[32];
  crypto_core_ed25519_scalar_random(r);
  EXPECT_EQ(crypto_scalarmult_ed25519_base_noclamp(rb, r), 0);
  EXPECT_EQ(crypto_core_ed25519_add(c.sig.data(), rb, t_r.data()), 0);
  uint8_t h64[64], h[32], ha[32];
  crypto_hash_sha512_state hs;
  crypto_hash_sha512_init(&hs);
  crypto_hash_sha512_update(&hs, c.sig.data(), 32);
  crypto_hash_sha512_update(&hs, pk.data(), 32);
  crypto_hash_sha512_update(&hs, c.msg.data(), c.msg.size());
  crypto_hash_sha512_final(&hs, h64);
  crypto_core_ed25519_scalar_reduce(h, h64);
  crypto_core_ed25519_scalar_mul(ha, h, a);
  crypto_core_ed25519_scalar_add(c.sig.data() + 32, r, ha);
  return c;
}

struct Signer {
  uint8_t a[32];
  PublicKey pk;
  Signer() {
    crypto_core_ed25519_scalar_random(a);
    EXPECT_EQ(crypto_scalarmult_ed25519_base_noclamp(pk.data(), a), 0);
  }
};

TEST(Ed25519Batch, TorsionInRIsValidByTheRuleAndNotByLibsodium) {
  // R = rB + T with S = r + h a: [S]B - [h]A - R = -T, which the cofactor
  // clears. libsodium (no cofactor) rejects it; the rule accepts it, alone
  // and in every batch, whatever the batch's random weights.
  Signer s;
  for (int order : {2, 4, 8}) {
    auto t = Times(Order8Point(), 8 / order);
    Crafted c = Craft(s.a, s.pk, t, "torsion of order " + std::to_string(order));
    SigItem item{c.pk.data(), c.msg.data(), c.msg.size(), c.sig.data()};
    EXPECT_FALSE(Batch::Libsodium(item)) << order;
    EXPECT_TRUE(VerifyOne(item)) << order;
    EXPECT_TRUE(Verify(c.pk, c.msg, c.sig)) << order;
    Batch b(70, 4);
    b.keys[33] = c.pk;
    b.msgs[33] = c.msg;
    b.sigs[33] = c.sig;
    for (int i = 0; i < 8; ++i) EXPECT_EQ(CountOk(b.Check()), 70u) << order;
    // Tampered, it fails like any other.
    b.msgs[33][0] ^= 1;
    EXPECT_EQ(CountOk(b.Check()), 69u) << order;
  }
}

TEST(Ed25519Batch, KeyWithATorsionComponent) {
  // libsodium accepts keys A' = A + T (T of order 8); a signature by such a
  // key satisfies the rule however its R is chosen, and libsodium's check
  // only when R carries the matching torsion.
  Signer s;
  PublicKey mixed;
  Bytes t8 = Order8Point();
  ASSERT_EQ(crypto_core_ed25519_add(mixed.data(), s.pk.data(), t8.data()), 0);
  std::array<uint8_t, 32> none{};
  none[0] = 1;
  Crafted c = Craft(s.a, mixed, none, "signed under a mixed-order key");
  SigItem item{c.pk.data(), c.msg.data(), c.msg.size(), c.sig.data()};
  EXPECT_TRUE(VerifyOne(item));
  Batch b(20, 3);
  b.keys[7] = c.pk;
  b.msgs[7] = c.msg;
  b.sigs[7] = c.sig;
  EXPECT_EQ(CountOk(b.Check()), 20u);
  b.sigs[7][40] ^= 1;
  EXPECT_EQ(CountOk(b.Check()), 19u);
}

TEST(Ed25519Batch, RfcVectorAndSingleChecksAgreeWithLibsodiumOnOrdinarySignatures) {
  // RFC 8032 section 7.1, TEST 2 (one-byte message), through the rule.
  auto pk = FromHexFixed<32>("3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c");
  auto sig = FromHexFixed<64>(
      "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00");
  ASSERT_TRUE(pk.ok() && sig.ok());
  const uint8_t m = 0x72;
  EXPECT_TRUE(Verify(*pk, &m, 1, *sig));
  const uint8_t other = 0x73;
  EXPECT_FALSE(Verify(*pk, &other, 1, *sig));
}

}  // namespace
}  // namespace medledger::crypto
