// Asynchronous HTTP/1.1 server on Boost.Beast. One io_context runs on
// `threads` threads; every connection is a chain of async reads and writes
// on its own strand, so idle keep-alive connections cost a socket and a few
// KiB, never a thread.
//
// Per connection: requests are read one at a time; the next request is read
// only after the previous response was written (pipelined requests wait in
// the buffer). Limits are enforced while reading: a header block over
// max_header_bytes gets 431, a body over its limit 413 (from Content-Length,
// before the body is read), malformed HTTP 400; each of these closes the
// connection after the JSON error is sent. A path or query with a bad
// percent-escape gets 400 and the connection stays open. Unknown path: 404;
// known path, other method: 405 with an Allow header. A handler that throws
// before replying: 500. Every response carries Content-Length; a request
// with "Connection: close" (or HTTP/1.0 without keep-alive) is answered and
// the connection closed. HEAD is routed like any method (register it); its
// response carries the Content-Length of the handler's body but no body. A connection idle for idle_timeout while waiting for
// a request (or stuck writing) is closed; while a handler has not replied
// there is no timeout. Connections beyond max_connections get 503 and are
// closed.
//
// Thread safety: Route before Start, from one thread. Start, Stop and the
// metric getters may be called from any thread. Handlers run on the I/O
// threads (see message.h for Handler and Reply).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"
#include "http/message.h"

namespace medledger::http {

struct ServerOptions {
  std::string address = "127.0.0.1";  // IP literal or a resolvable name
  uint16_t port = 0;                   // 0: the kernel picks a free port
  int threads = 2;
  size_t max_body_bytes = 8 << 20;
  size_t max_header_bytes = 16 << 10;
  std::chrono::seconds idle_timeout{60};
  size_t max_connections = 10000;
  // Path prefixes (raw, e.g. "/v1/vault/") whose bodies may be larger than
  // max_body_bytes, up to the given size. The longest matching prefix wins.
  std::vector<std::pair<std::string, size_t>> body_limit_overrides;
};

class Server {
 public:
  explicit Server(ServerOptions opts);
  ~Server();  // Stop()s
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Registers a handler; see router.h for patterns and precedence. Throws
  // std::invalid_argument for a malformed pattern and std::logic_error when
  // called after Start.
  void Route(std::string method, std::string pattern, Handler h);

  // Binds, listens and starts the threads. kInvalidArgument for an address
  // that does not resolve, kUnavailable when bind/listen fails (port in use),
  // kFailedPrecondition when already started or stopped.
  Status Start();

  // Closes the listener and every connection (pending replies are dropped),
  // then joins the threads. Idempotent; the server cannot be started again.
  // Must not be called from a handler (it joins the handler's thread).
  void Stop();

  // The bound port once Start succeeded (the real one when options said 0).
  uint16_t port() const;

  // Requests read completely and dispatched (404/405 included).
  uint64_t requests_total() const;
  uint64_t open_connections() const;
  // Connections refused at max_connections plus requests refused while
  // reading (400 malformed, 413, 431).
  uint64_t rejected_total() const;

  class Impl;  // public only so that server.cc's helpers can name it

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace medledger::http
