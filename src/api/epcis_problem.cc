#include "api/epcis_problem.h"

#include <nlohmann/json.hpp>

#include "api/http_status.h"

namespace medledger::api {

using nlohmann::json;

namespace {

std::string_view ExceptionFor(int status, std::string_view bad_request) {
  switch (status) {
    case 400: return bad_request;
    case 401:
    case 403: return kSecurityException;
    case 404: return kNoSuchResourceException;
    case 413: return kCaptureLimitExceededException;
    case 415: return kValidationException;
    default: return kImplementationException;
  }
}

std::string TitleFor(std::string_view exception) {
  if (exception == kValidationException) return "The document is not valid EPCIS 2.0";
  if (exception == kQueryParameterException) return "A query parameter is not valid";
  if (exception == kSecurityException) return "Not authorised";
  if (exception == kNoSuchResourceException) return "No such resource";
  if (exception == kCaptureLimitExceededException) return "The capture limit is exceeded";
  return "The server could not complete the request";
}

}  // namespace

http::Response Problem(int status, std::string_view exception, std::string_view detail) {
  json body = {{"type", "epcisException:" + std::string(exception)},
               {"title", TitleFor(exception)},
               {"status", status},
               {"detail", std::string(detail)}};
  http::Response r;
  r.status = status;
  r.content_type = "application/problem+json";
  r.body = body.dump();
  return r;
}

http::Response ProblemFor(const Status& st, std::string_view bad_request) {
  int status = HttpStatus(st.code());
  http::Response r = Problem(status, ExceptionFor(status, bad_request), st.message());
  // Retry-After as every medledger 429/503 carries it (api/http_status.h).
  for (const auto& h : ErrorResponse(st).headers) r.headers.push_back(h);
  return r;
}

http::Reply ProblemReply(http::Reply reply, std::string_view bad_request) {
  return [reply = std::move(reply), bad_request](http::Response r) {
    if (r.status < 400 || r.content_type.rfind("application/problem+json", 0) == 0) return reply(std::move(r));
    std::string detail = "HTTP " + std::to_string(r.status);
    json j = json::parse(r.body, nullptr, false);
    if (!j.is_discarded() && j.contains("error") && j["error"].is_object())
      detail = j["error"].value("message", detail);
    else if (!j.is_discarded() && j.contains("issue") && j["issue"].is_array() && !j["issue"].empty())
      detail = j["issue"][0].value("diagnostics", detail);
    http::Response p = Problem(r.status, ExceptionFor(r.status, bad_request), detail);
    for (const auto& h : r.headers) p.headers.push_back(h);
    reply(std::move(p));
  };
}

}  // namespace medledger::api
