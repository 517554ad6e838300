// RFC 7807 problem details as the EPCIS 2.0 REST binding writes them:
// application/problem+json {type: "epcisException:<Name>", title, status,
// detail}. One mapping for every EPCIS and product route.
#pragma once

#include <string_view>

#include "common/status.h"
#include "http/message.h"

namespace medledger::api {

// The binding's exception names.
inline constexpr std::string_view kValidationException = "ValidationException";
inline constexpr std::string_view kQueryParameterException = "QueryParameterException";
inline constexpr std::string_view kSecurityException = "SecurityException";
inline constexpr std::string_view kNoSuchResourceException = "NoSuchResourceException";
inline constexpr std::string_view kCaptureLimitExceededException = "CaptureLimitExceededException";
inline constexpr std::string_view kImplementationException = "ImplementationException";

http::Response Problem(int status, std::string_view exception, std::string_view detail);

// A Status as a problem: InvalidArgument -> 400 with `bad_request` (the
// caller's exception name for malformed input), Unauthenticated 401 and
// PermissionDenied 403 -> SecurityException, NotFound 404 ->
// NoSuchResourceException, TooLarge 413 -> CaptureLimitExceededException,
// ResourceExhausted 429 and Unavailable 503 (with Retry-After) and anything
// else -> ImplementationException.
http::Response ProblemFor(const Status& st, std::string_view bad_request = kValidationException);

// Wraps `reply` so that a medledger JSON error (as api/auth.h answers an
// authentication failure) goes out as a problem of the same status, its
// message as detail; other responses pass unchanged.
http::Reply ProblemReply(http::Reply reply, std::string_view bad_request = kValidationException);

}  // namespace medledger::api
