#include "http/server.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <condition_variable>
#include <limits>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <thread>
#include <unordered_map>

#include "http/router.h"
#include "http/url.h"

namespace medledger::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

// How long a closing connection keeps reading (and discarding) after its
// last response, so that unread request bytes do not turn the close into a
// reset that destroys the response before the client reads it.
constexpr std::chrono::seconds kLingerTimeout{5};
constexpr std::chrono::milliseconds kAcceptRetryDelay{50};

// Outlives the Server for as long as a Reply holds it. `stopped` is set under
// `mu` before the io_context may go away, so a Reply that sees it false while
// holding `mu` may still post to the io_context.
struct ReplyGate {
  std::mutex mu;
  bool stopped = false;
};

std::string EndpointString(const tcp::socket& socket) {
  boost::system::error_code ec;
  tcp::endpoint ep = socket.remote_endpoint(ec);
  if (ec) return "unknown";
  std::string ip = ep.address().to_string();
  if (ep.address().is_v6()) ip = "[" + ip + "]";
  return ip + ":" + std::to_string(ep.port());
}

bool IsParseError(const boost::system::error_code& ec) {
  return ec.category() == bhttp::make_error_code(bhttp::error::bad_method).category();
}

}  // namespace

class Connection;

class Server::Impl {
 public:
  explicit Impl(ServerOptions o)
      : opts(std::move(o)),
        gate(std::make_shared<ReplyGate>()),
        acceptor(asio::make_strand(ioc)),
        accept_retry(acceptor.get_executor()) {}

  void DoAccept();
  void OnAccept(boost::system::error_code ec, tcp::socket socket);
  void Unregister(Connection* c);
  size_t BodyLimitFor(std::string_view target) const;

  const ServerOptions opts;
  Router router;
  std::shared_ptr<ReplyGate> gate;
  // Declared before everything holding sockets or timers: destroyed last.
  asio::io_context ioc;
  tcp::acceptor acceptor;
  asio::steady_timer accept_retry;
  std::vector<std::thread> threads;
  uint16_t port = 0;
  bool started = false;  // guarded by lifecycle_mu
  bool stopped = false;  // guarded by lifecycle_mu
  std::mutex lifecycle_mu;

  std::mutex conns_mu;
  std::condition_variable conns_cv;
  std::unordered_map<Connection*, std::shared_ptr<Connection>> conns;

  std::atomic<bool> stopping{false};  // set first thing in Stop()
  std::atomic<uint64_t> requests_total{0};
  std::atomic<uint64_t> open_connections{0};
  std::atomic<uint64_t> rejected_total{0};
};

// One accepted socket. Every member is touched only on its strand, executor_ (all async
// completions run there; Reply posts there), except construction.
class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(Server::Impl& server, tcp::socket socket)
      : server_(server),
        remote_(EndpointString(socket)),
        executor_(socket.get_executor()),
        stream_(std::move(socket)) {}

  // The connection's strand; immutable, so safe to read from any thread.
  const asio::any_io_executor& executor() const { return executor_; }

  // Starts serving requests.
  void Start() {
    asio::post(stream_.get_executor(),
               [self = shared_from_this()] { self->DoReadHeader(); });
  }

  // Answers 503 once and closes; used above max_connections.
  void StartRejected() {
    asio::post(stream_.get_executor(), [self = shared_from_this()] {
      self->WriteResponse(
          Response::Error(503, "unavailable", "too many connections"), false);
    });
  }

  // Posted by Stop(): closes now, pending handler replies are dropped.
  void PostClose() {
    asio::post(stream_.get_executor(),
               [self = shared_from_this()] { self->Close(); });
  }

  // Called on the strand with a handler's response.
  // `head`: a HEAD request; the headers describe the body but it is not sent.
  void WriteResponse(Response r, bool keep_alive, bool head = false) {
    if (closed_) return;
    res_ = {};
    if (r.status < 100 || r.status > 999) {
      r = Response::Error(500, "internal", "handler returned an invalid status");
    }
    res_.version(version_);
    res_.result(static_cast<unsigned>(r.status));
    for (auto& [name, value] : r.headers) {
      bhttp::field f = bhttp::string_to_field(name);
      if (f == bhttp::field::content_length || f == bhttp::field::connection ||
          f == bhttp::field::transfer_encoding || f == bhttp::field::content_type) {
        continue;
      }
      res_.insert(name, value);
    }
    res_.set(bhttp::field::content_type, r.content_type);
    res_.keep_alive(keep_alive);
    res_.content_length(r.body.size());
    if (!head) res_.body() = std::move(r.body);
    stream_.expires_after(server_.opts.idle_timeout);
    bhttp::async_write(
        stream_, res_,
        [self = shared_from_this(), keep_alive](beast::error_code ec, size_t) {
          if (ec) return self->Close();
          if (!keep_alive) return self->Linger();
          self->DoReadHeader();
        });
  }

  void Close() {
    if (closed_) return;
    closed_ = true;
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
    stream_.close();
    server_.Unregister(this);
  }

 private:
  void DoReadHeader() {
    if (closed_) return;
    // A connection that waits for its next request keeps a small buffer
    // (see DoReadBody), so many idle clients cost little memory.
    if (buffer_.capacity() > kIdleBufferBytes) buffer_.shrink_to_fit();
    parser_.emplace();
    parser_->header_limit(
        static_cast<uint32_t>(std::min<size_t>(server_.opts.max_header_bytes, UINT32_MAX)));
    // The real limit depends on the target and is set after the header.
    // (Not boost::none: Beast 1.74 compares Content-Length > none as true.)
    parser_->body_limit(std::numeric_limits<std::uint64_t>::max());
    version_ = 11;
    stream_.expires_after(server_.opts.idle_timeout);
    bhttp::async_read_header(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, size_t) {
          self->OnHeader(ec);
        });
  }

  void OnHeader(beast::error_code ec) {
    if (ec) return OnReadError(ec);
    auto& req = parser_->get();
    version_ = req.version();
    size_t limit =
        server_.BodyLimitFor(std::string_view(req.target().data(), req.target().size()));
    if (auto length = parser_->content_length(); length && *length > limit) {
      return SendError(413, "body_too_large",
                       "request body exceeds " + std::to_string(limit) + " bytes");
    }
    parser_->body_limit(limit);
    if (parser_->is_done()) return OnRequest();
    auto expect = req[bhttp::field::expect];
    if (beast::iequals(expect, "100-continue")) {
      continue_.emplace(bhttp::status::continue_, version_);
      bhttp::async_write(stream_, *continue_,
                         [self = shared_from_this()](beast::error_code ec, size_t) {
                           if (ec) return self->Close();
                           self->DoReadBody();
                         });
      return;
    }
    DoReadBody();
  }

  void DoReadBody() {
    // Beast reads no more than the buffer's free capacity per recv (at least
    // 512 bytes), and the parser moves each piece into the body, so the
    // buffer never grows by itself: a 55 KB batch took ~125 recv calls and
    // as many trips through the reactor (15,000 a second under full load).
    // Room for up to 64 KiB of the body makes that one or two.
    if (auto length = parser_->content_length(); length && buffer_.capacity() - buffer_.size() < kBodyReadBytes)
      buffer_.reserve(buffer_.size() + size_t(std::min<uint64_t>(*length, kBodyReadBytes)));
    bhttp::async_read(stream_, buffer_, *parser_,
                      [self = shared_from_this()](beast::error_code ec, size_t) {
                        if (ec) return self->OnReadError(ec);
                        self->OnRequest();
                      });
  }

  void OnReadError(beast::error_code ec) {
    if (ec == bhttp::error::header_limit) {
      return SendError(431, "headers_too_large",
                       "request header block exceeds " +
                           std::to_string(server_.opts.max_header_bytes) + " bytes");
    }
    if (ec == bhttp::error::body_limit) {
      return SendError(413, "body_too_large", "request body too large");
    }
    if (IsParseError(ec) && ec != bhttp::error::end_of_stream &&
        ec != bhttp::error::partial_message) {
      return SendError(400, "bad_request", "malformed HTTP request");
    }
    Close();  // EOF, reset, timeout, or Stop()
  }

  // Sends a JSON error for a request that could not be read and closes.
  void SendError(int status, std::string_view code, std::string message) {
    server_.rejected_total.fetch_add(1, std::memory_order_relaxed);
    WriteResponse(Response::Error(status, code, message), false);
  }

  // Half-closes, then discards whatever the client still sends until it
  // closes too (or kLingerTimeout passes).
  void Linger() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    if (ec) return Close();
    stream_.expires_after(std::min<std::chrono::steady_clock::duration>(
        kLingerTimeout, server_.opts.idle_timeout));
    DrainSome();
  }

  void DrainSome() {
    if (closed_) return;
    stream_.async_read_some(
        asio::buffer(scratch_),
        [self = shared_from_this()](beast::error_code ec, size_t) {
          if (ec) return self->Close();
          self->DrainSome();
        });
  }

  void OnRequest();

  Server::Impl& server_;
  const std::string remote_;
  const asio::any_io_executor executor_;  // a strand (see DoAccept)
  beast::tcp_stream stream_;
  static constexpr size_t kBodyReadBytes = 64 << 10;
  static constexpr size_t kIdleBufferBytes = 16 << 10;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  std::optional<bhttp::response<bhttp::empty_body>> continue_;
  bhttp::response<bhttp::string_body> res_;
  unsigned version_ = 11;
  bool closed_ = false;
  std::array<char, 16 * 1024> scratch_;
};

namespace {

// Shared by every copy of one request's Reply.
class ReplyState {
 public:
  ReplyState(std::shared_ptr<ReplyGate> gate, std::weak_ptr<Connection> conn,
             bool keep_alive, bool head)
      : gate_(std::move(gate)),
        conn_(std::move(conn)),
        keep_alive_(keep_alive),
        head_(head) {}
  ~ReplyState() {
    if (!done_.load()) {
      Send(Response::Error(500, "internal", "handler did not reply"));
    }
  }

  void Send(Response r) {
    if (done_.exchange(true)) return;
    std::lock_guard<std::mutex> lock(gate_->mu);
    if (gate_->stopped) return;
    std::shared_ptr<Connection> conn = conn_.lock();
    if (!conn) return;
    asio::any_io_executor executor = conn->executor();
    asio::post(executor, [conn = std::move(conn), r = std::move(r),
                          keep = keep_alive_, head = head_]() mutable {
      conn->WriteResponse(std::move(r), keep, head);
    });
  }

  bool done() const { return done_.load(); }

 private:
  std::shared_ptr<ReplyGate> gate_;
  std::weak_ptr<Connection> conn_;
  const bool keep_alive_;
  const bool head_;
  std::atomic<bool> done_{false};
};

}  // namespace

void Connection::OnRequest() {
  stream_.expires_never();  // a handler may take as long as it needs
  server_.requests_total.fetch_add(1, std::memory_order_relaxed);
  bhttp::request<bhttp::string_body> msg = parser_->release();
  parser_.reset();
  bool keep_alive = msg.keep_alive();

  Request req;
  req.method = std::string(msg.method_string());
  req.target = std::string(msg.target());
  req.remote_address = remote_;
  for (const auto& field : msg) {
    req.headers.emplace_back(std::string(field.name_string()),
                             std::string(field.value()));
  }
  req.body = std::move(msg.body());

  auto state = std::make_shared<ReplyState>(server_.gate, weak_from_this(), keep_alive,
                                            msg.method() == bhttp::verb::head);
  Reply reply = [state](Response r) { state->Send(std::move(r)); };

  std::string_view target = req.target;
  size_t qmark = target.find('?');
  std::string_view raw_path = target.substr(0, qmark);
  Result<std::vector<std::string>> segments = SplitPath(raw_path);
  if (!segments.ok()) {
    return reply(Response::Error(400, "bad_request", segments.status().message()));
  }
  Result<std::string> path = PercentDecode(raw_path, false);
  if (!path.ok()) {
    return reply(Response::Error(400, "bad_request", path.status().message()));
  }
  req.path = std::move(path).value();
  if (qmark != std::string_view::npos) {
    auto query = ParseQuery(target.substr(qmark + 1));
    if (!query.ok()) {
      return reply(Response::Error(400, "bad_request", query.status().message()));
    }
    req.query = std::move(query).value();
  }

  RouteMatch match = server_.router.Match(req.method, *segments);
  if (match.kind == RouteMatch::Kind::kNotFound) {
    return reply(Response::Error(404, "not_found", "no route for " + req.path));
  }
  if (match.kind == RouteMatch::Kind::kMethodNotAllowed) {
    Response r = Response::Error(405, "method_not_allowed",
                                 req.method + " not allowed on " + req.path);
    r.headers.emplace_back("Allow", match.allow);
    return reply(std::move(r));
  }
  req.params = std::move(match.params);
  try {
    (*match.handler)(req, reply);
  } catch (...) {
    // No what(): messages may quote request data, which may be patient data.
    reply(Response::Error(500, "internal", "handler failed"));
  }
}

void Server::Impl::DoAccept() {
  acceptor.async_accept(
      asio::make_strand(ioc),
      [this](boost::system::error_code ec, tcp::socket socket) {
        OnAccept(ec, std::move(socket));
      });
}

void Server::Impl::OnAccept(boost::system::error_code ec, tcp::socket socket) {
  if (ec == asio::error::operation_aborted || !acceptor.is_open() ||
      stopping.load()) {
    return;
  }
  if (ec) {
    // Typically EMFILE/ENFILE: back off instead of spinning, keep serving.
    accept_retry.expires_after(kAcceptRetryDelay);
    accept_retry.async_wait([this](boost::system::error_code wait_ec) {
      if (!wait_ec && acceptor.is_open()) DoAccept();
    });
    return;
  }
  auto conn = std::make_shared<Connection>(*this, std::move(socket));
  if (open_connections.load() >= opts.max_connections) {
    rejected_total.fetch_add(1, std::memory_order_relaxed);
    conn->StartRejected();  // not registered; ~io_context reaps it on Stop
  } else {
    {
      std::lock_guard<std::mutex> lock(conns_mu);
      conns.emplace(conn.get(), conn);
      open_connections.fetch_add(1);
    }
    conn->Start();
  }
  DoAccept();
}

void Server::Impl::Unregister(Connection* c) {
  std::lock_guard<std::mutex> lock(conns_mu);
  if (conns.erase(c) > 0) {
    open_connections.fetch_sub(1);
    conns_cv.notify_all();
  }
}

size_t Server::Impl::BodyLimitFor(std::string_view target) const {
  size_t limit = opts.max_body_bytes;
  size_t best_len = 0;
  for (const auto& [prefix, size] : opts.body_limit_overrides) {
    if (target.substr(0, prefix.size()) == prefix && prefix.size() >= best_len) {
      best_len = prefix.size();
      limit = size;
    }
  }
  return limit;
}

Server::Server(ServerOptions opts) : impl_(std::make_unique<Impl>(std::move(opts))) {}

Server::~Server() { Stop(); }

void Server::Route(std::string method, std::string pattern, Handler h) {
  {
    std::lock_guard<std::mutex> lock(impl_->lifecycle_mu);
    if (impl_->started) throw std::logic_error("Server::Route after Start");
  }
  impl_->router.Add(std::move(method), pattern, std::move(h));
}

Status Server::Start() {
  Impl& s = *impl_;
  std::lock_guard<std::mutex> lock(s.lifecycle_mu);
  if (s.started || s.stopped) return FailedPrecondition("server already started");
  boost::system::error_code ec;
  tcp::endpoint endpoint;
  asio::ip::address address = asio::ip::make_address(s.opts.address, ec);
  if (!ec) {
    endpoint = tcp::endpoint(address, s.opts.port);
  } else {
    tcp::resolver resolver(s.ioc);
    auto results = resolver.resolve(s.opts.address, std::to_string(s.opts.port),
                                    tcp::resolver::passive, ec);
    if (ec || results.empty()) {
      return InvalidArgument("cannot resolve listen address '" + s.opts.address + "'");
    }
    endpoint = results.begin()->endpoint();
  }
  std::string where = s.opts.address + ":" + std::to_string(s.opts.port);
  if (s.acceptor.open(endpoint.protocol(), ec) ||
      s.acceptor.set_option(asio::socket_base::reuse_address(true), ec) ||
      s.acceptor.bind(endpoint, ec) ||
      s.acceptor.listen(asio::socket_base::max_listen_connections, ec)) {
    boost::system::error_code ignored;
    s.acceptor.close(ignored);
    return Unavailable("listen on " + where + ": " + ec.message());
  }
  s.port = s.acceptor.local_endpoint(ec).port();
  s.started = true;
  asio::post(s.acceptor.get_executor(), [&s] { s.DoAccept(); });
  int n = std::max(1, s.opts.threads);
  for (int i = 0; i < n; ++i) {
    s.threads.emplace_back([&s] {
      auto guard = asio::make_work_guard(s.ioc);  // until Stop() stops ioc
      s.ioc.run();
    });
  }
  return Status::Ok();
}

void Server::Stop() {
  Impl& s = *impl_;
  std::lock_guard<std::mutex> lifecycle(s.lifecycle_mu);
  if (s.stopped) return;
  s.stopped = true;
  s.stopping = true;
  {
    std::lock_guard<std::mutex> lock(s.gate->mu);
    s.gate->stopped = true;
  }
  if (!s.started) return;
  asio::post(s.acceptor.get_executor(), [&s] {
    boost::system::error_code ec;
    s.acceptor.close(ec);
    s.accept_retry.cancel();
  });
  std::vector<std::shared_ptr<Connection>> snapshot;
  {
    std::lock_guard<std::mutex> lock(s.conns_mu);
    for (auto& [raw, conn] : s.conns) snapshot.push_back(conn);
  }
  for (auto& conn : snapshot) conn->PostClose();
  snapshot.clear();
  {
    // Bounded: a connection the threads cannot reach in time is closed below.
    std::unique_lock<std::mutex> lock(s.conns_mu);
    s.conns_cv.wait_for(lock, std::chrono::seconds(2), [&s] { return s.conns.empty(); });
  }
  s.ioc.stop();
  for (std::thread& t : s.threads) t.join();
  s.threads.clear();
  // The threads are gone: touching the remaining sockets directly is safe.
  std::unordered_map<Connection*, std::shared_ptr<Connection>> rest;
  {
    std::lock_guard<std::mutex> lock(s.conns_mu);
    rest.swap(s.conns);
  }
  for (auto& [raw, conn] : rest) conn->Close();
  s.open_connections = 0;
  boost::system::error_code ec;
  s.acceptor.close(ec);
}

uint16_t Server::port() const { return impl_->port; }
uint64_t Server::requests_total() const { return impl_->requests_total.load(); }
uint64_t Server::open_connections() const { return impl_->open_connections.load(); }
uint64_t Server::rejected_total() const { return impl_->rejected_total.load(); }

}  // namespace medledger::http
