// The one mapping from errors and verdicts to HTTP. api/ is the only layer
// that knows HTTP: below it, failures are Status codes (common/status.h) and
// rejections are verdicts (model/verdict.h, which maps a verdict to a code).
//
//   kInvalidArgument 400   kUnauthenticated 401   kPermissionDenied 403
//   kNotFound 404          kAlreadyExists, kFailedPrecondition, kAborted 409
//   kGone 410              kTooLarge 413           kResourceExhausted 429
//   kDataLoss, kInternal 500                       kUnavailable 503
//
// One exception, FHIR's own: a conditional create or update whose condition
// fails (several matches, a version that is not current) answers 412
// (FhirWriteHttpStatus).
#pragma once

#include <string_view>

#include "common/status.h"
#include "http/message.h"
#include "model/verdict.h"

namespace medledger::api {

int HttpStatus(StatusCode code);
int HttpStatus(model::Reject reason);
int FhirWriteHttpStatus(StatusCode code);

// The "code" of a JSON error body: "invalid_argument", "forbidden",
// "too_many_requests", ... (lower case, as clients match them).
const char* ErrorCodeName(StatusCode code);

// {"error":{"code","message"}} with the status's HTTP code. 429 and 503
// carry Retry-After: 1, since both mean "retry".
http::Response ErrorResponse(const Status& st);

// FHIR answers: a resource, or an OperationOutcome for a failure.
http::Response FhirResponse(int http_status, std::string body);
http::Response FhirError(const Status& st, int http_status = 0);  // 0: HttpStatus(st.code())

}  // namespace medledger::api
