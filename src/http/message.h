// Request and Response values of the HTTP server, and the handler signature.
// Plain values: no I/O, no shared state.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace medledger::http {

struct Request {
  std::string method;  // "GET", "POST", ... as sent (case-sensitive)
  std::string target;  // raw request target, query included
  std::string path;    // percent-decoded path without the query
  std::vector<std::pair<std::string, std::string>> query;  // decoded, in order
  std::vector<std::pair<std::string, std::string>> headers;  // as received
  std::string body;
  std::string remote_address;       // "ip:port" of the peer ("[v6]:port")
  std::vector<std::string> params;  // route captures, decoded, in order

  // First query value for `key`, exact match.
  std::optional<std::string> Query(std::string_view key) const;
  // First header value for `name`, compared case-insensitively.
  std::optional<std::string> Header(std::string_view name) const;
  // The Content-Type's media type, lower-case, without parameters
  // ("application/fhir+json" for "Application/FHIR+json; charset=utf-8");
  // empty when there is none.
  std::string MediaType() const;
};

struct Response {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  // Extra headers. Content-Length and Connection are set by the server and
  // ignored here; Content-Type comes from `content_type`.
  std::vector<std::pair<std::string, std::string>> headers;

  static Response Json(int status, std::string body);
  // {"error":{"code":<code>,"message":<message>}}, JSON-escaped.
  static Response Error(int status, std::string_view code,
                        std::string_view message);
};

// Sends the response. May be called from any thread, at any later time, and
// only the first call counts (later calls are ignored). Copies share one
// state. If every copy is destroyed without a call, the client gets a 500.
// Calling it after the server stopped or the connection closed is safe and
// does nothing.
using Reply = std::function<void(Response)>;

// Runs on one of the server's I/O threads: must not block. Long work goes
// elsewhere and answers through `reply` later. An exception escaping the
// handler before it replied becomes a 500. `req` lives until the call returns;
// copy what a later reply needs.
using Handler = std::function<void(Request&, Reply)>;

}  // namespace medledger::http
