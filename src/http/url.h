// URL pieces shared by the HTTP server and client: percent-decoding, query
// strings, "host:port" and "http://host:port/prefix". Pure functions, no I/O;
// every function is thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

namespace medledger::http {

// Decodes %XX escapes. With `plus_is_space` (query strings), '+' becomes ' '.
// kInvalidArgument for a '%' not followed by two hex digits.
Result<std::string> PercentDecode(std::string_view in, bool plus_is_space);

// Escapes everything but RFC 3986 unreserved characters.
std::string PercentEncode(std::string_view in);

// Splits "a=1&b=x%20y&flag" into decoded pairs in order; "flag" gives
// {"flag", ""}, empty pieces ("a=1&&b=2") are skipped.
// kInvalidArgument for a bad escape.
Result<std::vector<std::pair<std::string, std::string>>> ParseQuery(
    std::string_view query);

// "host:port", "[::1]:port". The port must be 1..65535 and is required.
// kInvalidArgument otherwise.
Result<std::pair<std::string, uint16_t>> ParseHostPort(std::string_view in);

struct Url {
  std::string host;         // without brackets for IPv6
  uint16_t port = 80;       // 80 when the URL names none
  std::string path_prefix;  // "" or "/api" (never a trailing '/')
};

// "http://127.0.0.1:8080", "http://node1:8080/api/". Only the http scheme;
// no user-info, query or fragment. kInvalidArgument otherwise.
Result<Url> ParseUrl(std::string_view in);

}  // namespace medledger::http
