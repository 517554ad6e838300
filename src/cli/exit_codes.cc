#include "cli/exit_codes.h"

#include <string_view>

namespace medledger::cli {

StatusCode StatusCodeForHttp(int http_status) {
  switch (http_status) {
    case 401:
      return StatusCode::kUnauthenticated;
    case 403:
      return StatusCode::kPermissionDenied;
    case 404:
      return StatusCode::kNotFound;
    case 409:
      return StatusCode::kAborted;
    case 410:
      return StatusCode::kGone;
    case 412:
      return StatusCode::kFailedPrecondition;
    case 413:
      return StatusCode::kTooLarge;
    case 429:
    case 502:
    case 503:
    case 504:
      return StatusCode::kUnavailable;
    default:
      return http_status >= 500 ? StatusCode::kInternal : StatusCode::kInvalidArgument;
  }
}

// The verdict reason of "transaction <id> rejected: <reason>: <detail>"
// (ApiClient::Submit), or "" when the message is not a rejection.
std::string_view RejectReason(std::string_view message) {
  constexpr std::string_view kMarker = " rejected: ";
  size_t at = message.find(kMarker);
  if (at == std::string_view::npos) return {};
  std::string_view rest = message.substr(at + kMarker.size());
  return rest.substr(0, rest.find(':'));
}

Exit ExitForHttp(int http_status) {
  if (http_status >= 200 && http_status < 300) return Exit::kOk;
  return ExitForStatus(Status(StatusCodeForHttp(http_status), ""));
}

Exit ExitForStatus(const Status& st) {
  switch (st.code()) {
    case StatusCode::kOk:
      return Exit::kOk;
    case StatusCode::kInvalidArgument:
    case StatusCode::kTooLarge:
      return Exit::kUsage;
    case StatusCode::kPermissionDenied:
    case StatusCode::kUnauthenticated:
      return Exit::kDenied;
    case StatusCode::kGone:
      return Exit::kGone;
    case StatusCode::kAborted:
    case StatusCode::kAlreadyExists:
      return Exit::kConflict;
    case StatusCode::kDataLoss:
      return Exit::kIntegrity;
    case StatusCode::kUnavailable:
      return Exit::kUnavailable;
    case StatusCode::kFailedPrecondition: {
      std::string_view reason = RejectReason(st.message());
      if (reason == "role_not_permitted" || reason == "unknown_signer" || reason == "revoked_key" ||
          reason == "denied")
        return Exit::kDenied;
      if (reason == "conflict" || reason == "replayed") return Exit::kConflict;
      if (reason == "malformed" || reason == "invalid_payload" || reason == "unknown_type") return Exit::kUsage;
      return Exit::kFailure;
    }
    default:
      return Exit::kFailure;
  }
}

}  // namespace medledger::cli
