// Ed25519 batch verification, for the offline audit.
//
// Checking n signatures one by one costs n double-scalar multiplications.
// The batch equation (Bernstein et al., "High-speed high-security
// signatures", section 5) checks them together: with random 128-bit z_i,
//
//   [sum z_i S_i] B  +  sum [z_i h_i] (-A_i)  +  sum [z_i] (-R_i)  ==  0
//
// one multi-scalar multiplication whose doublings are shared by the whole
// batch, and whose R terms need only 128-bit scalars. With public-key tables
// kept per thread, it is about twice as fast per signature as libsodium's
// crypto_sign_verify_detached on this machine (bench: BM_VerifyBatch).
//
// The group arithmetic is libsodium's own (its ref10 ge25519_* functions,
// linked from libsodium.a): this file only arranges the multi-scalar
// multiplication. A self-test at first use checks known valid and invalid
// batches; if it fails (another libsodium build), every call falls back to
// crypto::Verify.
//
// Verdicts: a batch that fails is re-checked one signature at a time with
// crypto::Verify, so every rejection is libsodium's. Every signature the
// batch accepts is one libsodium accepts, with one exception: the batch
// equation cannot see a small-order (torsion) component in R, which an
// honest signer never produces and only the holder of the signing key can
// add. Such a signature passes the batch with probability at most 1/2 per
// check. The audit only batches transactions the chain records as valid,
// so this can only hide a proposer that accepted such a signature, not turn
// a forgery into a valid transaction: without the key, the equation fails
// except with probability about 2^-128.
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

// ok[i] = whether items[i] verifies. Thread-safe; each thread keeps its own
// table of recently seen public keys.
void VerifyMany(std::span<const SigItem> items, uint8_t* ok);

// Whether batching is in use (the self-test passed); for the bench and tests.
bool BatchVerifyAvailable();

}  // namespace medledger::crypto
