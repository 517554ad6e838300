// A transaction's verdict: accepted, or rejected for a specific reason.
// Verdicts are facts that go on the chain (a transaction that fails inside a
// block stays in it, marked with its reason); they are not errors, which are
// about the node's own operation (see common/status.h).
#pragma once

#include <cstdint>
#include <string>

#include "common/status.h"

namespace medledger::model {

// Stable numeric values: they are encoded in blocks. Append only.
enum class Reject : uint8_t {
  kNone = 0,
  kMalformed = 1,          // cannot be decoded, or a field is out of range
  kUnknownType = 2,
  kBadSignature = 3,
  kWrongChain = 4,
  kReplayed = 5,           // this tx id was already accepted
  kExpired = 6,            // past its expiry height, or expiry too far ahead
  kRevokedKey = 7,         // signer key revoked or rotated away
  kOversized = 8,
  kRoleNotPermitted = 9,
  kUnknownSigner = 10,     // signer is not a registered identity
  kInvalidPayload = 11,    // payload fails the type's rules
  kConflict = 12,          // state does not allow it (already exists, wrong status)
  kNotFound = 13,          // refers to something that does not exist
  kDenied = 14,            // an access or consent decision said no
  // A contract call that failed (src/contracts): the failure stays in the
  // block with its detail (kind, message, gas used).
  kContractError = 15,     // runtime error, or a result with no JSON form
  kGasExhausted = 16,
  kMemoryExhausted = 17,
  kForbidden = 18,         // a forbidden operation (os, io, string.dump, ...)
};

const char* RejectName(Reject r);  // "bad_signature", ...
// The error code a rejection becomes where a caller reports it as a Status
// (api/http_status.h turns that into HTTP): unauthenticated for signature and
// key problems, permission denied, aborted for replays and conflicts, too
// large, not found, and invalid argument for the rest.
StatusCode RejectStatusCode(Reject r);

struct Verdict {
  Reject reason = Reject::kNone;
  std::string detail;

  bool ok() const { return reason == Reject::kNone; }
  static Verdict Accept() { return {}; }
  static Verdict No(Reject r, std::string d) { return {r, std::move(d)}; }
};

}  // namespace medledger::model
