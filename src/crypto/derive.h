// Per-custodian patient keys (docs/RECORDS.md, "One key per custodian").
//
// A patient holds one seed key. From it the patient's own software derives
// a separate Ed25519 key for every custodian organisation, so that nothing
// on chain joins the patient's footprint at one custodian with that at
// another: the derived public keys are unrelated to each other and to the
// seed's public key without the seed. Derivation happens only where the
// seed is; no node ever sees it.
//
//   seed' = HKDF-SHA256(IKM = the seed key's 32-byte Ed25519 seed,
//                       salt = "medledger-patient-key",
//                       info = "medledger-custodian-key-v1\n" chain_id "\n" org,
//                       L = 32)
//   key   = Ed25519 key pair from seed'
//
// The version label in `info` lets a later scheme derive other keys from
// the same seed without colliding with these. Pure and thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "common/bytes.h"
#include "common/status.h"
#include "crypto/ed25519.h"

namespace medledger::crypto {

inline constexpr std::string_view kCustodianKeyVersion = "medledger-custodian-key-v1";

// RFC 5869 HKDF with SHA-256 (OpenSSL). `length` is 1 to 255*32 bytes.
Result<Bytes> HkdfSha256(const Bytes& ikm, std::string_view salt, std::string_view info, size_t length);

// kInvalidArgument for an empty chain id or org, or an org with '/' or a
// newline (organisation ids never have them; a newline would make two
// (chain, org) pairs derive the same key).
Result<KeyPair> DeriveCustodianKey(const KeyPair& seed, std::string_view chain_id, std::string_view org);

// The id of one member of a group of consents granted together at several
// custodians: 32 hex characters, the first 16 bytes of
// HKDF-SHA256(seed, "medledger-patient-key", "medledger-consent-group-v1\n"
// chain_id "\n" group "\n" org). The patient can recompute every member from
// the group id (which never goes on chain) to revoke them together, while
// members at two custodians share nothing that a reader without the seed
// could match.
Result<std::string> ConsentGroupMemberId(const KeyPair& seed, std::string_view chain_id, std::string_view group,
                                         std::string_view org);

}  // namespace medledger::crypto
