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
  // VerifyMany's answers, each checked against libsodium's own.
  std::vector<uint8_t> Check() const {
    auto items = Items();
    std::vector<uint8_t> ok(items.size(), 7);
    VerifyMany(items, ok.data());
    for (size_t i = 0; i < items.size(); ++i)
      EXPECT_EQ(ok[i], Verify(keys[i], msgs[i], sigs[i]) ? 1 : 0) << "signature " << i;
    return ok;
  }
};

size_t CountOk(const std::vector<uint8_t>& ok) {
  size_t n = 0;
  for (uint8_t v : ok) n += v;
  return n;
}

TEST(Ed25519Batch, SelfTestPassesWithThisLibsodium) { EXPECT_TRUE(BatchVerifyAvailable()); }

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

TEST(Ed25519Batch, KeyWithATorsionComponentGetsLibsodiumsVerdict) {
  // libsodium accepts keys A' = A + T (T of order 8), and signatures under
  // them whose R carries the matching torsion. The batch cannot judge those,
  // so VerifyMany must send them to libsodium: same answers, both ways.
  uint8_t a[32], abytes[32];
  crypto_core_ed25519_scalar_random(a);
  ASSERT_EQ(crypto_scalarmult_ed25519_base_noclamp(abytes, a), 0);
  Bytes t8 = Order8Point();
  PublicKey mixed;
  ASSERT_EQ(crypto_core_ed25519_add(mixed.data(), abytes, t8.data()), 0);
  Bytes msg = ToBytes("signed under a mixed-order key");
  Signature sig{};
  bool made = false;
  for (int attempt = 0; attempt < 200 && !made; ++attempt) {
    // R = rB + tT works when -h = t (mod 8): [S]B - [h]A' = rB - hT = R.
    uint8_t r[32], rb[32];
    crypto_core_ed25519_scalar_random(r);
    ASSERT_EQ(crypto_scalarmult_ed25519_base_noclamp(rb, r), 0);
    int t = attempt % 8;
    auto tt = Times(t8, t);
    ASSERT_EQ(crypto_core_ed25519_add(sig.data(), rb, tt.data()), 0);
    uint8_t h64[64], h[32];
    crypto_hash_sha512_state hs;
    crypto_hash_sha512_init(&hs);
    crypto_hash_sha512_update(&hs, sig.data(), 32);
    crypto_hash_sha512_update(&hs, mixed.data(), 32);
    crypto_hash_sha512_update(&hs, msg.data(), msg.size());
    crypto_hash_sha512_final(&hs, h64);
    crypto_core_ed25519_scalar_reduce(h, h64);
    if ((h[0] + t) % 8 != 0) continue;
    uint8_t ha[32];
    crypto_core_ed25519_scalar_mul(ha, h, a);
    crypto_core_ed25519_scalar_add(sig.data() + 32, r, ha);
    made = Verify(mixed, msg, sig);
  }
  ASSERT_TRUE(made) << "could not make a valid signature under a mixed-order key";
  Batch b(20, 3);
  b.keys[7] = mixed;
  b.msgs[7] = msg;
  b.sigs[7] = sig;
  EXPECT_EQ(CountOk(b.Check()), 20u);
  b.msgs[7][0] ^= 1;
  EXPECT_EQ(CountOk(b.Check()), 19u);
}

TEST(Ed25519Batch, TorsionInRIsCaughtOftenButNotAlways) {
  // The documented limit: R = rB + T2 (T2 of order 2) with S = r + h a is
  // rejected by libsodium, and by the batch unless its random weight for
  // that signature is even. Over 40 tries it must be caught at least once
  // (a false failure here has probability 2^-40).
  uint8_t a[32], abytes[32];
  crypto_core_ed25519_scalar_random(a);
  ASSERT_EQ(crypto_scalarmult_ed25519_base_noclamp(abytes, a), 0);
  PublicKey pk;
  std::copy(abytes, abytes + 32, pk.begin());
  auto t2 = Times(Order8Point(), 4);  // 4 * (order 8) = the point of order 2
  Bytes msg = ToBytes("torsion in R");
  Signature sig{};
  uint8_t r[32], rb[32];
  crypto_core_ed25519_scalar_random(r);
  ASSERT_EQ(crypto_scalarmult_ed25519_base_noclamp(rb, r), 0);
  ASSERT_EQ(crypto_core_ed25519_add(sig.data(), rb, t2.data()), 0);
  uint8_t h64[64], h[32], ha[32];
  crypto_hash_sha512_state hs;
  crypto_hash_sha512_init(&hs);
  crypto_hash_sha512_update(&hs, sig.data(), 32);
  crypto_hash_sha512_update(&hs, pk.data(), 32);
  crypto_hash_sha512_update(&hs, msg.data(), msg.size());
  crypto_hash_sha512_final(&hs, h64);
  crypto_core_ed25519_scalar_reduce(h, h64);
  crypto_core_ed25519_scalar_mul(ha, h, a);
  crypto_core_ed25519_scalar_add(sig.data() + 32, r, ha);
  ASSERT_FALSE(Verify(pk, msg, sig));

  Batch b(10, 2);
  b.keys[5] = pk;
  b.msgs[5] = msg;
  b.sigs[5] = sig;
  auto items = b.Items();
  int caught = 0;
  for (int i = 0; i < 40; ++i) {
    std::vector<uint8_t> ok(items.size());
    VerifyMany(items, ok.data());
    for (size_t j = 0; j < items.size(); ++j)
      if (j != 5) EXPECT_EQ(ok[j], 1);
    caught += ok[5] == 0;
  }
  EXPECT_GT(caught, 0);
}

}  // namespace
}  // namespace medledger::crypto
