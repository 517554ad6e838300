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
  }
  return "unknown";
}

int RejectHttpStatus(Reject r) {
  switch (r) {
    case Reject::kNone: return 200;
    case Reject::kBadSignature:
    case Reject::kUnknownSigner:
    case Reject::kRevokedKey: return 401;
    case Reject::kRoleNotPermitted:
    case Reject::kDenied: return 403;
    case Reject::kReplayed:
    case Reject::kConflict: return 409;
    case Reject::kOversized: return 413;
    case Reject::kNotFound: return 404;
    default: return 400;
  }
}

}  // namespace medledger::model
