#include "model/merkle.h"

#include <cstring>

#include "crypto/sha256.h"

namespace medledger::model {

namespace {
// One contiguous buffer and the thread's reused context: a Sha256Builder
// allocates an OpenSSL context per hash, which cost more than the hash.
Hash32 NodeHash(const Hash32& l, const Hash32& r) {
  uint8_t buf[1 + 64];
  buf[0] = 0x01;
  std::memcpy(buf + 1, l.data(), 32);
  std::memcpy(buf + 33, r.data(), 32);
  return crypto::Sha256(buf, sizeof buf);
}

uint64_t LargestPow2Below(uint64_t n) {  // n >= 2
  uint64_t k = 1;
  while (k << 1 < n) k <<= 1;
  return k;
}

// Root of leaf hashes [lo, hi).
Hash32 Subtree(const std::vector<Hash32>& h, size_t lo, size_t hi) {
  if (hi - lo == 1) return h[lo];
  size_t k = LargestPow2Below(hi - lo);
  return NodeHash(Subtree(h, lo, lo + k), Subtree(h, lo + k, hi));
}

void Path(const std::vector<Hash32>& h, size_t lo, size_t hi, size_t m, std::vector<Hash32>* out) {
  if (hi - lo == 1) return;
  size_t k = LargestPow2Below(hi - lo);
  if (m < k) {
    Path(h, lo, lo + k, m, out);
    out->push_back(Subtree(h, lo + k, hi));
  } else {
    Path(h, lo + k, hi, m - k, out);
    out->push_back(Subtree(h, lo, lo + k));
  }
}
}  // namespace

Hash32 MerkleLeafHash(const Hash32& leaf) {
  uint8_t buf[1 + 32];
  buf[0] = 0x00;
  std::memcpy(buf + 1, leaf.data(), 32);
  return crypto::Sha256(buf, sizeof buf);
}

Hash32 MerkleRoot(const std::vector<Hash32>& leaves) {
  if (leaves.empty()) return crypto::Sha256(nullptr, 0);
  // Bottom-up over levels; an odd node is carried up unchanged (not
  // duplicated), which yields exactly RFC 6962's left-balanced tree.
  std::vector<Hash32> level;
  level.reserve(leaves.size());
  for (const auto& l : leaves) level.push_back(MerkleLeafHash(l));
  while (level.size() > 1) {
    size_t n = level.size(), j = 0;
    for (size_t i = 0; i + 1 < n; i += 2) level[j++] = NodeHash(level[i], level[i + 1]);
    if (n % 2) level[j++] = level[n - 1];
    level.resize(j);
  }
  return level[0];
}

Result<InclusionProof> MakeInclusionProof(const std::vector<Hash32>& leaves, uint64_t index) {
  if (index >= leaves.size()) return InvalidArgument("leaf index out of range");
  std::vector<Hash32> h;
  h.reserve(leaves.size());
  for (const auto& l : leaves) h.push_back(MerkleLeafHash(l));
  InclusionProof p;
  p.leaf_index = index;
  p.tree_size = leaves.size();
  Path(h, 0, h.size(), size_t(index), &p.path);
  return p;
}

bool VerifyInclusionProof(const Hash32& leaf, const InclusionProof& proof, const Hash32& root) {
  if (proof.tree_size == 0 || proof.leaf_index >= proof.tree_size) return false;
  uint64_t fn = proof.leaf_index, sn = proof.tree_size - 1;
  Hash32 r = MerkleLeafHash(leaf);
  for (const Hash32& p : proof.path) {
    if (sn == 0) return false;
    if ((fn & 1) || fn == sn) {
      r = NodeHash(p, r);
      if (!(fn & 1)) {
        while (fn != 0 && !(fn & 1)) { fn >>= 1; sn >>= 1; }
      }
    } else {
      r = NodeHash(r, p);
    }
    fn >>= 1;
    sn >>= 1;
  }
  return sn == 0 && r == root;
}

}  // namespace medledger::model
