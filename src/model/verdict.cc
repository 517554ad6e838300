#include "model/verdict.h"

namespace medledger::model {

const char* RejectName(Reject r) {
  switch (r) {
    case Reject::kNone: return "ok";
    case Reject::kMalformed: return "malformed";
    case Reject::kUnknownType: return "unknown_type";
    case Reject::kBadSignature: return "bad_signature";
    case Reject::kWrongChain: return "wrong_chain";
    case Reject::kReplayed: return "replayed";
    case Reject::kExpired: return "expired";
    case Reject::kRevokedKey: return "revoked_key";
    case Reject::kOversized: return "oversized";
    case Reject::kRoleNotPermitted: return "role_not_permitted";
    case Reject::kUnknownSigner: return "unknown_signer";
    case Reject::kInvalidPayload: return "invalid_payload";
    case Reject::kConflict: return "conflict";
    case Reject::kNotFound: return "not_found";
    case Reject::kDenied: return "denied";
    case Reject::kContractError: return "contract_error";
    case Reject::kGasExhausted: return "gas_exhausted";
    case Reject::kMemoryExhausted: return "memory_exhausted";
    case Reject::kForbidden: return "forbidden";
  }
  return "unknown";
}

StatusCode RejectStatusCode(Reject r) {
  switch (r) {
    case Reject::kNone: return StatusCode::kOk;
    case Reject::kBadSignature:
    case Reject::kUnknownSigner:
    case Reject::kRevokedKey: return StatusCode::kUnauthenticated;
    case Reject::kRoleNotPermitted:
    case Reject::kDenied:
    case Reject::kForbidden: return StatusCode::kPermissionDenied;

    case Reject::kReplayed:
    case Reject::kConflict: return StatusCode::kAborted;
    case Reject::kOversized: return StatusCode::kTooLarge;
    case Reject::kNotFound: return StatusCode::kNotFound;
    default: return StatusCode::kInvalidArgument;
  }
}

}  // namespace medledger::model
