#include "api/http_status.h"

#include "fhir/outcome.h"

namespace medledger::api {

int HttpStatus(StatusCode code) {
  switch (code) {
    case StatusCode::kOk: return 200;
    case StatusCode::kInvalidArgument: return 400;
    case StatusCode::kUnauthenticated: return 401;
    case StatusCode::kPermissionDenied: return 403;
    case StatusCode::kNotFound: return 404;
    case StatusCode::kAlreadyExists:
    case StatusCode::kFailedPrecondition:
    case StatusCode::kAborted: return 409;
    case StatusCode::kGone: return 410;
    case StatusCode::kTooLarge: return 413;
    case StatusCode::kResourceExhausted: return 429;
    case StatusCode::kUnavailable: return 503;
    case StatusCode::kDataLoss:
    case StatusCode::kInternal: return 500;
  }
  return 500;
}

int HttpStatus(model::Reject reason) { return HttpStatus(model::RejectStatusCode(reason)); }

int FhirWriteHttpStatus(StatusCode code) {
  // FHIR R4 http.html#cond-update: 412 Precondition Failed.
  return code == StatusCode::kFailedPrecondition ? 412 : HttpStatus(code);
}

const char* ErrorCodeName(StatusCode code) {
  switch (code) {
    case StatusCode::kOk: return "ok";
    case StatusCode::kInvalidArgument: return "invalid_argument";
    case StatusCode::kUnauthenticated: return "unauthenticated";
    case StatusCode::kPermissionDenied: return "forbidden";
    case StatusCode::kNotFound: return "not_found";
    case StatusCode::kAlreadyExists: return "already_exists";
    case StatusCode::kFailedPrecondition: return "failed_precondition";
    case StatusCode::kAborted: return "aborted";
    case StatusCode::kGone: return "gone";
    case StatusCode::kTooLarge: return "too_large";
    case StatusCode::kResourceExhausted: return "too_many_requests";
    case StatusCode::kUnavailable: return "unavailable";
    case StatusCode::kDataLoss: return "data_loss";
    case StatusCode::kInternal: return "internal";
  }
  return "internal";
}

namespace {
void AddRetryAfter(http::Response& r) {
  if (r.status == 429 || r.status == 503) r.headers.emplace_back("Retry-After", "1");
}
}  // namespace

http::Response ErrorResponse(const Status& st) {
  http::Response r = http::Response::Error(HttpStatus(st.code()), ErrorCodeName(st.code()), st.message());
  AddRetryAfter(r);
  return r;
}

http::Response FhirResponse(int http_status, std::string body) {
  http::Response r;
  r.status = http_status;
  r.content_type = "application/fhir+json";
  r.body = std::move(body);
  return r;
}

http::Response FhirError(const Status& st, int http_status) {
  http::Response r = FhirResponse(http_status ? http_status : HttpStatus(st.code()),
                                  fhir::OperationOutcome(fhir::Severity::kError, fhir::IssueCodeFor(st.code()),
                                                         st.message()));
  AddRetryAfter(r);
  return r;
}

}  // namespace medledger::api
