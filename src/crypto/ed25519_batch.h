// medledger's Ed25519 signature rule, checked one at a time or in batches.
//
// The rule: libsodium's encoding checks (S canonical, below L; the public
// key A canonical, on the curve and not of small order; R not of small
// order), R canonical and on the curve, and the cofactored equation
//
//   [8][S]B == [8]R + [8][h]A,   h = SHA-512(R || A || M) mod L.
//
// libsodium's crypto_sign_verify_detached checks the same without the
// cofactor, so every signature it accepts satisfies the rule; the two differ
// only on a signature whose R or A carries a small-order component, which an
// honest signer never produces and only the holder of the key can make (it
// needs S computed with the key). The cofactor is what makes batching exact:
// with the rule's equation, a batch gives the same answer as checking each
// signature alone, whatever its random weights (Zcash's ZIP 215 chose the
// cofactored equation for the same reason), so every node, and the audit,
// judge every signature alike.
//
// Batches: with random odd 128-bit weights z_i, one multi-scalar
// multiplication checks
//
//   [8]( [sum z_i S_i] B  +  sum [z_i h_i] (-A_i)  +  sum [z_i] (-R_i) ) == 0,
//
// whose doublings the whole batch shares and whose R terms need only
// 128-bit scalars (Bernstein et al., "High-speed high-security signatures",
// section 5). A batch with an invalid signature fails except with
// probability at most 2^-127 (the weights are odd: 127 random bits); it is
// then re-checked one signature at a time.
// With the signers' key tables kept per thread, a batch costs ~17 us per
// signature against ~40 us for one libsodium check (bench: BM_VerifyBatch
// and BM_Verify).
//
// The group arithmetic is libsodium's own (its ref10 ge25519_* functions,
// linked from libsodium.a): this file only arranges the multi-scalar
// multiplication. A self-test of known answers runs at first use; a build
// whose libsodium fails it stops (a node must not judge signatures by a
// different rule from its peers).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace medledger::crypto {

struct SigItem {
  const uint8_t* pubkey;     // 32 bytes
  const uint8_t* message;
  size_t message_len;
  const uint8_t* signature;  // 64 bytes
};

// Whether one signature satisfies the rule (crypto::Verify calls this).
bool VerifyOne(const SigItem& item);

// ok[i] = VerifyOne(items[i]), in batches of up to 64. Thread-safe; each
// thread keeps its own table of recently seen public keys.
void VerifyMany(std::span<const SigItem> items, uint8_t* ok);

}  // namespace medledger::crypto
