// Merkle trees over transaction ids, as RFC 6962 (Certificate Transparency)
// defines them:
//   leaf hash  = SHA-256(0x00 || leaf)
//   node hash  = SHA-256(0x01 || left || right)
//   MTH(D[n])  = node(MTH(D[0:k]), MTH(D[k:n])), k the largest power of two < n
//   MTH({})    = SHA-256("")
// The split never duplicates the last node, and leaves and nodes hash with
// different prefixes, so neither the duplicated-last-leaf forgery of
// CVE-2012-2459 nor a leaf/node confusion can make two lists share a root.
#pragma once

#include <vector>

#include "common/bytes.h"

namespace medledger::model {

Hash32 MerkleLeafHash(const Hash32& leaf);
Hash32 MerkleRoot(const std::vector<Hash32>& leaves);

struct InclusionProof {
  uint64_t leaf_index = 0;
  uint64_t tree_size = 0;
  std::vector<Hash32> path;  // sibling hashes from the leaf up
};

// Fails with InvalidArgument if index >= leaves.size().
Result<InclusionProof> MakeInclusionProof(const std::vector<Hash32>& leaves, uint64_t index);
// RFC 9162 section 2.1.3.2 verification: true iff `leaf` is at
// proof.leaf_index in a tree of proof.tree_size leaves whose root is `root`.
bool VerifyInclusionProof(const Hash32& leaf, const InclusionProof& proof, const Hash32& root);

}  // namespace medledger::model
