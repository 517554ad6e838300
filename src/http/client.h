// Small synchronous HTTP/1.1 client for the CLI, tests and node-to-node
// calls. Keeps one keep-alive connection to one server.
//
// Thread safety: calls on one Client serialize on an internal mutex; use one
// Client per thread for parallel requests.
//
// Errors: kInvalidArgument for a bad base URL (every call then returns it) or
// a target not starting with '/'; kUnavailable for anything on the wire
// (connect refused, reset, timeout, malformed response) — the request may or
// may not have reached the server. Any HTTP status, 4xx/5xx included, is a
// successful Result.
//
// Reconnect: when a request on a reused connection fails before any byte of
// the response arrived (the server closed the idle connection), the client
// reconnects and sends it once more. This can repeat a request only if the
// server closed the connection after reading it without answering.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

namespace medledger::http {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

struct ClientResponse {
  int status = 0;
  std::string body;
  HeaderList headers;
  // First header value for `name`, compared case-insensitively.
  std::optional<std::string> Header(std::string_view name) const;
};

class Client {
 public:
  // base_url: "http://host:port", optionally with a path prefix that is put
  // before every target ("http://10.0.0.2:8080/api"). `timeout` bounds each
  // call as a whole (connect, send, receive; name resolution excepted).
  Client(std::string base_url, std::chrono::milliseconds timeout,
         size_t max_response_bytes = 64 << 20);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  Result<ClientResponse> Request(std::string_view method, std::string_view target,
                                 std::string_view body = {},
                                 const HeaderList& headers = {});
  Result<ClientResponse> Get(std::string_view target, const HeaderList& headers = {});
  Result<ClientResponse> Post(std::string_view target, std::string_view body,
                              std::string_view content_type = "application/json",
                              const HeaderList& headers = {});

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace medledger::http
