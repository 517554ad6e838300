#include "crypto/ed25519_batch.h"

#include <sodium.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "crypto/ed25519.h"

namespace medledger::crypto {

namespace {

// libsodium's ref10 group elements (private/ed25519_ref10.h). This file never
// reads their fields, only passes them to libsodium, so their layout is
// libsodium's business; only the sizes must agree: a field element is 40
// bytes in both of libsodium's representations (5 x 64-bit or 10 x 32-bit).
struct Fe {
  uint64_t v[5];
};
struct GeP3 {
  Fe X, Y, Z, T;
};
struct GeP1P1 {
  Fe X, Y, Z, T;
};
struct GeCached {
  Fe YplusX, YminusX, Z, T2d;
};

}  // namespace

extern "C" {
// From libsodium.a (crypto_core/ed25519/ref10/ed25519_ref10.c); exported from
// the archive, though not from the shared library.
int ge25519_frombytes(GeP3* h, const unsigned char* s);
int ge25519_frombytes_negate_vartime(GeP3* h, const unsigned char* s);
void ge25519_p3_tobytes(unsigned char* s, const GeP3* h);
void ge25519_p3_to_cached(GeCached* r, const GeP3* p);
void ge25519_p1p1_to_p3(GeP3* r, const GeP1P1* p);
void ge25519_add(GeP1P1* r, const GeP3* p, const GeCached* q);
void ge25519_sub(GeP1P1* r, const GeP3* p, const GeCached* q);
int ge25519_is_canonical(const unsigned char* s);
int ge25519_has_small_order(const unsigned char s[32]);
int sc25519_is_canonical(const unsigned char s[32]);
void sc25519_reduce(unsigned char s[64]);
void sc25519_mul(unsigned char s[32], const unsigned char a[32], const unsigned char b[32]);
void sc25519_muladd(unsigned char s[32], const unsigned char a[32], const unsigned char b[32],
                    const unsigned char c[32]);
}

namespace {

// Odd multiples P, 3P, ..., 15P of a point: the table of a width-5 NAF.
constexpr int kWindow = 5;
struct Table {
  GeCached m[1 << (kWindow - 2)];
};

void BuildTable(Table* t, const GeP3& p) {
  GeP1P1 r;
  GeP3 twice, cur;
  ge25519_p3_to_cached(&t->m[0], &p);
  // ge25519_add is the unified (complete) Edwards addition, so P + P doubles.
  ge25519_add(&r, &p, &t->m[0]);
  ge25519_p1p1_to_p3(&twice, &r);
  for (size_t k = 1; k < std::size(t->m); ++k) {
    ge25519_add(&r, &twice, &t->m[k - 1]);
    ge25519_p1p1_to_p3(&cur, &r);
    ge25519_p3_to_cached(&t->m[k], &cur);
  }
}

// Width-5 NAF of a little-endian scalar below 2^256: digits in
// {0, +-1, +-3, ..., +-15}, any five consecutive holding at most one nonzero.
// Returns the index of the highest nonzero digit, or -1 for zero.
int Naf(int8_t naf[257], const uint8_t s[32]) {
  uint64_t k[5] = {0, 0, 0, 0, 0};
  for (int i = 0; i < 4; ++i)
    for (int j = 7; j >= 0; --j) k[i] = (k[i] << 8) | s[i * 8 + j];
  std::memset(naf, 0, 257);
  int top = -1;
  for (int pos = 0; pos < 257 && (k[0] | k[1] | k[2] | k[3] | k[4]); ++pos) {
    if (k[0] & 1) {
      int d = int(k[0] & 31);
      if (d > 15) d -= 32;
      naf[pos] = int8_t(d);
      top = pos;
      if (d > 0) {
        k[0] -= uint64_t(d);  // the low bits are d, so no borrow
      } else {
        uint64_t add = uint64_t(-d);
        for (int i = 0; i < 5 && add; ++i) {
          k[i] += add;
          add = k[i] < add ? 1 : 0;
        }
      }
    }
    for (int i = 0; i < 4; ++i) k[i] = (k[i] >> 1) | (k[i + 1] << 63);
    k[4] >>= 1;
  }
  return top;
}

void AddDigit(GeP3* acc, const Table& t, int8_t d) {
  GeP1P1 r;
  if (d > 0)
    ge25519_add(&r, acc, &t.m[d >> 1]);
  else
    ge25519_sub(&r, acc, &t.m[(-d) >> 1]);
  ge25519_p1p1_to_p3(acc, &r);
}

void Double(GeP3* acc) {
  GeCached c;
  GeP1P1 r;
  ge25519_p3_to_cached(&c, acc);
  ge25519_add(&r, acc, &c);
  ge25519_p1p1_to_p3(acc, &r);
}

constexpr uint8_t kIdentity[32] = {1};
// The base point's encoding (y = 4/5).
constexpr uint8_t kBase[32] = {0x58, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66,
                               0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66,
                               0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66};

const Table& BaseTable() {
  static const Table t = [] {
    Table x;
    GeP3 b;
    ge25519_frombytes(&b, kBase);
    BuildTable(&x, b);
    return x;
  }();
  return t;
}

// A public key as the batch uses it: -A and its table, or why it cannot be
// used (libsodium rejects such a key outright).
struct KeyInfo {
  bool valid = false;
  Table neg_a;
};

using Key = std::array<uint8_t, 32>;
struct KeyHash {
  size_t operator()(const Key& k) const {
    size_t h;
    std::memcpy(&h, k.data(), sizeof h);
    return h;
  }
};

// Per thread: a chain has far fewer signers than signatures, and decoding a
// key and building its table cost about a third of a verification.
using KeyCache = std::unordered_map<Key, std::unique_ptr<KeyInfo>, KeyHash>;
KeyCache& ThreadKeys() {
  thread_local KeyCache cache;
  return cache;
}

// Bounds the cache (~1.4 KB a key). Only between batches: a batch being
// built holds pointers into it.
void TrimKeyCache() {
  if (ThreadKeys().size() > 4096) ThreadKeys().clear();
}

const KeyInfo& LookupKey(const uint8_t* pk) {
  KeyCache& cache = ThreadKeys();
  Key k;
  std::memcpy(k.data(), pk, 32);
  auto it = cache.find(k);
  if (it != cache.end()) return *it->second;
  auto info = std::make_unique<KeyInfo>();
  GeP3 neg_a;
  // libsodium's checks on A: canonical, not of small order, on the curve. A
  // key with a small-order component passes them; the cofactor in the
  // equation makes that component irrelevant.
  if (ge25519_is_canonical(pk) && !ge25519_has_small_order(pk) && ge25519_frombytes_negate_vartime(&neg_a, pk) == 0) {
    info->valid = true;
    BuildTable(&info->neg_a, neg_a);
  }
  return *cache.emplace(k, std::move(info)).first->second;
}

constexpr size_t kMaxBatch = 64;

struct Prepared {
  const SigItem* item;
  const KeyInfo* key;
  Table neg_r;
  uint8_t h[64];  // SHA-512(R || A || M), reduced mod L in the first 32 bytes
};

// Whether the cofactored batch equation holds for p[0..n). Each item has
// passed the encoding checks and has a valid key. The weights are random
// and odd (never zero), so for n = 1 this is exactly the single check.
bool EquationHolds(Prepared* p, size_t n) {
  uint8_t z[kMaxBatch][32];
  std::memset(z, 0, sizeof z);
  uint8_t rnd[kMaxBatch * 16];
  randombytes_buf(rnd, n * 16);
  for (size_t i = 0; i < n; ++i) rnd[i * 16] |= 1;
  uint8_t b_coef[32] = {0};
  int8_t naf_a[kMaxBatch][257], naf_r[kMaxBatch][257], naf_b[257];
  int top = -1;
  for (size_t i = 0; i < n; ++i) {
    std::memcpy(z[i], rnd + i * 16, 16);
    uint8_t zh[32];
    sc25519_mul(zh, z[i], p[i].h);
    sc25519_muladd(b_coef, z[i], p[i].item->signature + 32, b_coef);
    top = std::max(top, Naf(naf_a[i], zh));
    top = std::max(top, Naf(naf_r[i], z[i]));
  }
  top = std::max(top, Naf(naf_b, b_coef));

  // Straus: one shared chain of doublings, each term added at its digits.
  GeP3 acc;
  ge25519_frombytes(&acc, kIdentity);
  const Table& base = BaseTable();
  for (int pos = top; pos >= 0; --pos) {
    if (pos != top) Double(&acc);
    if (naf_b[pos]) AddDigit(&acc, base, naf_b[pos]);
    for (size_t i = 0; i < n; ++i) {
      if (naf_a[i][pos]) AddDigit(&acc, p[i].key->neg_a, naf_a[i][pos]);
      if (naf_r[i][pos]) AddDigit(&acc, p[i].neg_r, naf_r[i][pos]);
    }
  }
  // The cofactor: [8] clears any small-order component, so the answer does
  // not depend on the random weights (see the header).
  for (int i = 0; i < 3; ++i) Double(&acc);
  uint8_t out[32];
  ge25519_p3_tobytes(out, &acc);
  return std::memcmp(out, kIdentity, 32) == 0;
}

// The encoding checks and the set-up of one item; false if the signature
// fails the checks (then it is invalid whatever the equation says).
bool Prepare(const SigItem& s, Prepared* p) {
  const KeyInfo& key = LookupKey(s.pubkey);
  if (!key.valid) return false;
  // libsodium's checks on S and R (canonical S; R not of small order), and
  // R canonical and on the curve, since the equation needs it as a point.
  const uint8_t* r = s.signature;
  if (!sc25519_is_canonical(s.signature + 32) || ge25519_has_small_order(r) || !ge25519_is_canonical(r)) return false;
  GeP3 neg_r;
  if (ge25519_frombytes_negate_vartime(&neg_r, r) != 0) return false;
  BuildTable(&p->neg_r, neg_r);
  crypto_hash_sha512_state hs;
  crypto_hash_sha512_init(&hs);
  crypto_hash_sha512_update(&hs, r, 32);
  crypto_hash_sha512_update(&hs, s.pubkey, 32);
  crypto_hash_sha512_update(&hs, s.message, s.message_len);
  crypto_hash_sha512_final(&hs, p->h);
  sc25519_reduce(p->h);
  p->item = &s;
  p->key = &key;
  return true;
}

// The rule for one signature. Every signature libsodium accepts satisfies
// it (libsodium's equation without the cofactor implies the one with it,
// and its encoding checks are the rule's), so libsodium's faster check
// settles the common case; only a signature it rejects needs the
// cofactored equation. Does not trim the key cache, so a batch being
// re-checked keeps its pointers.
bool CheckOne(const SigItem& s) {
  if (crypto_sign_verify_detached(s.signature, s.message, s.message_len, s.pubkey) == 0) return true;
  thread_local Prepared p;
  return Prepare(s, &p) && EquationHolds(&p, 1);
}

void VerifyManyBatched(std::span<const SigItem> items, uint8_t* ok) {
  // A call with one or two signatures (a single /v1/tx) never batches, so it
  // skips the preparation (hash, R's table) that only a batch uses.
  if (items.size() < 3) {
    for (size_t i = 0; i < items.size(); ++i) ok[i] = CheckOne(items[i]);
    TrimKeyCache();
    return;
  }
  // ~90 KB of tables: kept per thread rather than allocated per call.
  thread_local std::vector<Prepared> batch(kMaxBatch);
  size_t where[kMaxBatch];
  size_t n = 0;
  TrimKeyCache();
  auto flush = [&] {
    if (n == 0) return;
    // One or two signatures: the batch's fixed cost (its chain of ~256
    // doublings, the base point's terms) outweighs what it saves, so each
    // gets the single check (libsodium's, for a valid one).
    if (n < 3) {
      for (size_t j = 0; j < n; ++j) ok[where[j]] = CheckOne(*batch[j].item);
    } else if (EquationHolds(batch.data(), n)) {
      for (size_t j = 0; j < n; ++j) ok[where[j]] = 1;
    } else {
      // Which ones failed: each is judged alone.
      for (size_t j = 0; j < n; ++j) ok[where[j]] = CheckOne(*batch[j].item);
    }
    n = 0;
    TrimKeyCache();
  };
  for (size_t i = 0; i < items.size(); ++i) {
    ok[i] = 0;
    if (!Prepare(items[i], &batch[n])) continue;
    where[n++] = i;
    if (n == kMaxBatch) flush();
  }
  flush();
}

// Known answers through the real code paths: a batch of valid signatures,
// the same with one corrupted, and one signature alone. Any other answer
// means this libsodium does not match the declarations above.
bool SelfTest() {
  std::vector<KeyPair> keys;
  for (int k = 0; k < 3; ++k) {
    std::array<uint8_t, 32> seed{};
    seed[0] = uint8_t(k + 1);
    keys.push_back(KeyPair::FromSeed(seed));
  }
  std::vector<std::string> msgs;
  std::vector<Signature> sigs;
  for (int i = 0; i < 9; ++i) {
    msgs.push_back("medledger batch self-test " + std::to_string(i));
    sigs.push_back(keys[i % 3].Sign(reinterpret_cast<const uint8_t*>(msgs.back().data()), msgs.back().size()));
  }
  std::vector<SigItem> items;
  for (int i = 0; i < 9; ++i)
    items.push_back(SigItem{keys[i % 3].public_key().data(), reinterpret_cast<const uint8_t*>(msgs[i].data()),
                            msgs[i].size(), sigs[i].data()});
  uint8_t ok[9];
  VerifyManyBatched(items, ok);
  for (uint8_t v : ok)
    if (v != 1) return false;
  thread_local Prepared p;
  if (!Prepare(items[0], &p) || !EquationHolds(&p, 1)) return false;
  sigs[4][10] ^= 1;
  VerifyManyBatched(items, ok);
  for (int i = 0; i < 9; ++i)
    if (ok[i] != (i != 4)) return false;
  if (!Prepare(items[4], &p) || EquationHolds(&p, 1)) return false;
  return true;
}

// Every node must judge signatures alike, so a build whose libsodium fails
// the self-test stops rather than fall back to a different rule.
void EnsureSelfTested() {
  static const bool ok = [] {
    InitCrypto();
    return SelfTest();
  }();
  if (!ok) {
    std::fprintf(stderr, "medledger: fatal: libsodium's ed25519 group functions failed the batch self-test "
                         "(crypto/ed25519_batch.cc); this build cannot check signatures\n");
    std::abort();
  }
}

}  // namespace

bool VerifyOne(const SigItem& s) {
  EnsureSelfTested();
  TrimKeyCache();
  return CheckOne(s);
}

void VerifyMany(std::span<const SigItem> items, uint8_t* ok) {
  EnsureSelfTested();
  VerifyManyBatched(items, ok);
}

}  // namespace medledger::crypto
