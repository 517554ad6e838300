#include "etcd/etcd_client.h"

#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <thread>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>

namespace medledger::etcd {

namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;
using json = nlohmann::json;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// What one request costs beyond its key(s) and value in etcd's accounting
// (protobuf tags and lengths, the raft request header). Generous on purpose.
constexpr size_t kRequestOverheadBytes = 512;

struct HostPort {
  std::string host;
  std::string port;
  std::string text;  // "host:port"
};

Result<HostPort> ParseEndpoint(std::string_view ep) {
  if (ep.starts_with("http://")) ep.remove_prefix(7);
  if (ep.starts_with("https://")) return InvalidArgument("etcd endpoint: https is not supported");
  while (!ep.empty() && ep.back() == '/') ep.remove_suffix(1);
  size_t colon = ep.rfind(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == ep.size()) {
    return InvalidArgument("etcd endpoint must be host:port: " + std::string(ep));
  }
  std::string_view port = ep.substr(colon + 1);
  int p = 0;
  auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), p);
  if (ec != std::errc() || ptr != port.data() + port.size() || p <= 0 || p > 65535) {
    return InvalidArgument("etcd endpoint has a bad port: " + std::string(ep));
  }
  std::string_view host = ep.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  return HostPort{std::string(host), std::string(port), std::string(ep)};
}

// int64 fields arrive as decimal strings (proto3 JSON), sometimes as numbers;
// an absent field is 0.
bool GetI64(const json& obj, const char* name, int64_t* out) {
  *out = 0;
  if (!obj.is_object()) return false;
  auto it = obj.find(name);
  if (it == obj.end() || it->is_null()) return true;
  if (it->is_number_integer()) {
    *out = it->get<int64_t>();
    return true;
  }
  if (!it->is_string()) return false;
  const std::string& s = it->get_ref<const std::string&>();
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && ptr == s.data() + s.size();
}

bool GetBool(const json& obj, const char* name) {
  auto it = obj.find(name);
  return it != obj.end() && it->is_boolean() && it->get<bool>();
}

Result<Bytes> GetB64(const json& obj, const char* name) {
  auto it = obj.find(name);
  if (it == obj.end() || it->is_null()) return Bytes{};
  if (!it->is_string()) return DataLoss("etcd: non-string base64 field");
  return Base64Decode(it->get_ref<const std::string&>());
}

Result<KeyValue> ParseKv(const json& j) {
  if (!j.is_object()) return DataLoss("etcd: malformed key-value");
  KeyValue kv;
  ML_ASSIGN_OR_RETURN(Bytes key, GetB64(j, "key"));
  kv.key.assign(key.begin(), key.end());
  ML_ASSIGN_OR_RETURN(kv.value, GetB64(j, "value"));
  if (!GetI64(j, "create_revision", &kv.create_revision) ||
      !GetI64(j, "mod_revision", &kv.mod_revision) || !GetI64(j, "version", &kv.version)) {
    return DataLoss("etcd: malformed revision in key-value");
  }
  return kv;
}

Result<int64_t> HeaderRevision(const json& j) {
  auto it = j.find("header");
  int64_t rev = 0;
  if (it == j.end() || !GetI64(*it, "revision", &rev)) return DataLoss("etcd: response without header revision");
  return rev;
}

std::string B64(std::string_view s) { return Base64Encode(s); }

// A gRPC error as the gateway renders it: {"error":"..","message":"..","code":N}
// for unary calls, {"error":{"grpc_code":N,"message":".."}} inside a stream.
struct EtcdError {
  int code = 0;
  std::string message;
};

std::optional<EtcdError> ErrorOf(const json& j) {
  if (!j.is_object()) return std::nullopt;
  auto it = j.find("error");
  if (it == j.end()) return std::nullopt;
  EtcdError e;
  const json& src = it->is_object() ? *it : j;
  int64_t code = 0;
  GetI64(src, it->is_object() ? "grpc_code" : "code", &code);
  e.code = int(code);
  auto m = src.find("message");
  if (m != src.end() && m->is_string()) e.message = m->get<std::string>();
  else if (it->is_string()) e.message = it->get<std::string>();
  if (e.message.empty()) e.message = "unknown etcd error";
  return e;
}

struct Classified {
  Status status;
  bool retry = false;      // another member (or later) may succeed
  bool unapplied = false;  // the request certainly had no effect
};

bool Has(const std::string& s, const char* what) { return s.find(what) != std::string::npos; }

// gRPC status codes (google.golang.org/grpc/codes) mapped to medledger's.
Classified Classify(const EtcdError& e) {
  const std::string m = "etcd: " + e.message;
  switch (e.code) {
    case 3:  // InvalidArgument: request too large, empty key, ...
      return {InvalidArgument(m), false, true};
    case 11:  // OutOfRange
      if (Has(e.message, "compacted")) return {FailedPrecondition("compacted: " + m), false, true};
      return {InvalidArgument(m), false, true};  // a future revision
    case 8:  // ResourceExhausted
      if (Has(e.message, "too many requests")) return {Unavailable(m), true, true};
      return {ResourceExhausted(m), false, true};  // NOSPACE
    case 9:
      return {FailedPrecondition(m), false, true};
    case 5:
      return {NotFound(m), false, true};
    case 7:
      return {PermissionDenied(m), false, true};
    case 16:
      return {Unauthenticated(m), false, true};
    case 1: case 2: case 4: case 10: case 13: case 14: {
      bool unapplied = Has(e.message, "no leader") || Has(e.message, "not capable") ||
                       Has(e.message, "proposal dropped");
      return {Unavailable(m), true, unapplied};
    }
    default:
      return {Internal(m + " (grpc code " + std::to_string(e.code) + ")"), false, false};
  }
}

// Runs one asynchronous operation to completion on `ioc`. Deadlines are
// enforced by the tcp_stream's expiry, which closes the socket.
template <class Start>
beast::error_code RunOp(net::io_context& ioc, Start&& start) {
  beast::error_code ec = net::error::operation_aborted;
  start([&ec](beast::error_code e, auto&&...) { ec = e; });
  ioc.restart();
  ioc.run();
  return ec;
}

Status Connect(net::io_context& ioc, std::optional<beast::tcp_stream>& stream, const HostPort& ep,
               Clock::time_point deadline) {
  std::vector<tcp::endpoint> addrs;
  beast::error_code ec;
  auto addr = net::ip::make_address(ep.host, ec);
  unsigned short port = static_cast<unsigned short>(std::stoi(ep.port));
  if (!ec) {
    addrs.emplace_back(addr, port);
  } else {
    tcp::resolver resolver(ioc);
    auto results = resolver.resolve(ep.host, ep.port, ec);
    if (ec) return Unavailable("etcd " + ep.text + ": resolve: " + ec.message());
    for (const auto& r : results) addrs.push_back(r.endpoint());
  }
  stream.emplace(ioc);
  stream->expires_at(deadline);
  ec = RunOp(ioc, [&](auto handler) { stream->async_connect(addrs, handler); });
  if (ec) {
    stream.reset();
    return Unavailable("etcd " + ep.text + ": connect: " + ec.message());
  }
  stream->socket().set_option(tcp::no_delay(true), ec);
  return Status::Ok();
}

http::request<http::string_body> MakeRequest(const HostPort& ep, std::string_view target,
                                             std::string body) {
  http::request<http::string_body> req{http::verb::post, beast::string_view(target.data(), target.size()), 11};
  req.set(http::field::host, ep.text);
  req.set(http::field::content_type, "application/json");
  // gRPC metadata hasleader=true: refuse (and cancel watches) without a leader.
  req.set("Grpc-Metadata-Hasleader", "true");
  req.keep_alive(true);
  req.body() = std::move(body);
  req.prepare_payload();
  return req;
}

// One keep-alive HTTP/1.1 connection for unary calls. Not thread-safe.
class HttpConn {
 public:
  // POSTs body to target and returns the response body whatever the HTTP
  // status (the gateway puts errors in JSON). *sent becomes true once the
  // whole request was written: from then on the server may have acted on it.
  Result<std::string> Post(const HostPort& ep, std::string_view target, const std::string& body,
                           Clock::time_point deadline, uint64_t max_body, bool* sent) {
    *sent = false;
    if (stream_ && (connected_to_ != ep.text || !Alive())) Close();
    if (!stream_) {
      ML_RETURN_IF_ERROR(Connect(ioc_, stream_, ep, deadline));
      connected_to_ = ep.text;
    }
    auto req = MakeRequest(ep, target, body);
    stream_->expires_at(deadline);
    beast::error_code ec = RunOp(ioc_, [&](auto h) { http::async_write(*stream_, req, h); });
    if (ec) {
      Close();
      return Unavailable("etcd " + ep.text + ": write: " + ec.message());
    }
    *sent = true;
    http::response_parser<http::string_body> parser;
    parser.body_limit(max_body);
    ec = RunOp(ioc_, [&](auto h) { http::async_read(*stream_, buf_, parser, h); });
    if (ec) {
      Close();
      if (ec == http::error::body_limit) return ResourceExhausted("etcd " + ep.text + ": response too large");
      return Unavailable("etcd " + ep.text + ": read: " + ec.message());
    }
    auto res = parser.release();
    if (!res.keep_alive()) Close();
    return std::move(res.body());
  }

  void Close() {
    if (stream_) {
      beast::error_code ignored;
      stream_->socket().shutdown(tcp::socket::shutdown_both, ignored);
      stream_->close();
      stream_.reset();
    }
    buf_.clear();
    connected_to_.clear();
  }

 private:
  // A kept-alive connection whose peer has gone (member killed or restarted)
  // reads as EOF; detecting it before sending keeps a write unambiguous.
  bool Alive() {
    char c;
    ssize_t n = ::recv(stream_->socket().native_handle(), &c, 1, MSG_PEEK | MSG_DONTWAIT);
    return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
  }

  net::io_context ioc_;
  std::optional<beast::tcp_stream> stream_;
  std::string connected_to_;
  beast::flat_buffer buf_;
};

// One /v3/watch stream: newline-delimited JSON objects in a chunked body.
class WatchStream {
 public:
  enum class Read { kData, kStopped, kBroken };

  Status Open(const HostPort& ep, const std::string& body, Clock::time_point deadline) {
    ML_RETURN_IF_ERROR(Connect(ioc_, stream_, ep, deadline));
    auto req = MakeRequest(ep, "/v3/watch", body);
    stream_->expires_at(deadline);
    beast::error_code ec = RunOp(ioc_, [&](auto h) { http::async_write(*stream_, req, h); });
    if (ec) return Unavailable("etcd " + ep.text + ": watch write: " + ec.message());
    parser_.emplace();
    parser_->body_limit(boost::none);
    chunk_cb_ = [this](uint64_t, beast::string_view data, beast::error_code& ec) -> uint64_t {
      ec = {};
      pending_.append(data.data(), data.size());
      return data.size();
    };
    parser_->on_chunk_body(chunk_cb_);
    ec = RunOp(ioc_, [&](auto h) { http::async_read_header(*stream_, buf_, *parser_, h); });
    if (ec) return Unavailable("etcd " + ep.text + ": watch header: " + ec.message());
    if (parser_->get().result() != http::status::ok || !parser_->chunked()) {
      return Unavailable("etcd " + ep.text + ": watch refused with HTTP " +
                         std::to_string(parser_->get().result_int()));
    }
    return Status::Ok();
  }

  // Reads until at least one complete line is available, the stream breaks,
  // *stop is set, or `deadline` (if any) passes.
  Read ReadLines(std::vector<std::string>* lines, const std::atomic<bool>* stop,
                 std::optional<Clock::time_point> deadline, std::string* error) {
    while (true) {
      size_t nl;
      while ((nl = pending_.find('\n')) != std::string::npos) {
        if (nl > 0) lines->push_back(pending_.substr(0, nl));
        pending_.erase(0, nl + 1);
      }
      if (!lines->empty()) return Read::kData;
      if (parser_->is_done()) {
        *error = "watch stream ended";
        return Read::kBroken;
      }
      if (deadline) stream_->expires_at(*deadline);
      else stream_->expires_never();
      bool done = false;
      beast::error_code ec;
      ioc_.restart();
      http::async_read_some(*stream_, buf_, *parser_, [&](beast::error_code e, size_t) {
        ec = e;
        done = true;
      });
      while (!done) {
        ioc_.run_for(milliseconds(50));
        if (!done && stop != nullptr && stop->load()) {
          stream_->close();  // completes the read with operation_aborted
          ioc_.restart();
          ioc_.run();
          return Read::kStopped;
        }
      }
      if (ec) {
        *error = "watch read: " + ec.message();
        return Read::kBroken;
      }
    }
  }

  ~WatchStream() {
    if (stream_) {
      beast::error_code ignored;
      stream_->socket().shutdown(tcp::socket::shutdown_both, ignored);
      stream_->close();
    }
  }

 private:
  net::io_context ioc_;
  std::optional<beast::tcp_stream> stream_;
  beast::flat_buffer buf_;
  std::optional<http::response_parser<http::empty_body>> parser_;
  std::function<uint64_t(uint64_t, beast::string_view, beast::error_code&)> chunk_cb_;
  std::string pending_;
};

bool SleepUnlessStopped(milliseconds d, const std::atomic<bool>* stop) {
  auto end = Clock::now() + d;
  while (Clock::now() < end) {
    if (stop != nullptr && stop->load()) return false;
    std::this_thread::sleep_for(std::min<Clock::duration>(milliseconds(50), end - Clock::now()));
  }
  return stop == nullptr || !stop->load();
}

}  // namespace

class EtcdClient::Impl {
 public:
  explicit Impl(Options o) : opt_(std::move(o)) {
    if (opt_.endpoints.empty()) config_error_ = InvalidArgument("etcd client: no endpoints");
    for (const auto& e : opt_.endpoints) {
      auto hp = ParseEndpoint(e);
      if (!hp.ok()) {
        config_error_ = hp.status();
        break;
      }
      eps_.push_back(*hp);
    }
    if (opt_.timeout <= milliseconds(0)) config_error_ = InvalidArgument("etcd client: timeout must be positive");
    if (opt_.attempt_timeout <= milliseconds(0)) {
      opt_.attempt_timeout = std::clamp(opt_.timeout / 2, milliseconds(1), milliseconds(2000));
    }
  }

  const Options& opt() const { return opt_; }

  // Sends body to path, failing over and retrying until opt_.timeout.
  // `idempotent`: the request may be repeated after an ambiguous failure.
  Result<json> Call(std::string_view path, const json& body, bool idempotent) {
    if (!config_error_.ok()) return config_error_;
    const std::string payload = body.dump();
    std::lock_guard<std::mutex> lock(mu_);
    const auto deadline = Clock::now() + opt_.timeout;
    milliseconds backoff(20);
    Status last = Unavailable("etcd: no attempt made");
    while (true) {
      for (size_t round = 0; round < eps_.size(); ++round) {
        const auto now = Clock::now();
        if (now >= deadline) return Unavailable("etcd: gave up after " + std::to_string(opt_.timeout.count()) + " ms: " + last.message());
        size_t idx = current_.load();
        const HostPort& ep = eps_[idx];
        bool sent = false;
        auto res = conn_.Post(ep, path, payload, std::min(deadline, now + opt_.attempt_timeout),
                              opt_.max_response_bytes, &sent);
        if (res.ok()) {
          json j = json::parse(*res, nullptr, false);
          if (j.is_discarded() || !j.is_object()) {
            conn_.Close();
            last = Unavailable("etcd " + ep.text + ": malformed JSON response");
            if (!idempotent) return Unavailable(last.message() + "; outcome unknown");
          } else if (auto e = ErrorOf(j)) {
            Classified c = Classify(*e);
            if (!c.retry) return c.status;
            last = Unavailable("etcd " + ep.text + ": " + e->message);
            if (!idempotent && !c.unapplied) return Unavailable(last.message() + "; outcome unknown");
          } else {
            return j;
          }
        } else {
          if (res.status().code() == StatusCode::kResourceExhausted) return res.status();
          last = res.status();
          if (!idempotent && sent) return Unavailable(last.message() + "; outcome unknown");
        }
        // Next endpoint, unless another thread already moved on.
        current_.compare_exchange_strong(idx, (idx + 1) % eps_.size());
      }
      const auto now = Clock::now();
      if (now >= deadline) return Unavailable("etcd: gave up after " + std::to_string(opt_.timeout.count()) + " ms: " + last.message());
      std::this_thread::sleep_for(std::min<Clock::duration>(backoff, deadline - now));
      backoff = std::min(backoff * 2, milliseconds(500));
    }
  }

  Status Watch(std::string_view prefix, int64_t start_rev,
               const std::function<bool(const WatchEvent&)>& fn, const std::atomic<bool>* stop);

  std::string CurrentEndpoint() const {
    return eps_.empty() ? std::string() : eps_[current_.load()].text;
  }

  Status config_error() const { return config_error_; }

 private:
  Options opt_;
  Status config_error_;
  std::vector<HostPort> eps_;
  std::atomic<size_t> current_{0};
  std::mutex mu_;
  HttpConn conn_;  // guarded by mu_
};

Status EtcdClient::Impl::Watch(std::string_view prefix, int64_t start_rev,
                               const std::function<bool(const WatchEvent&)>& fn,
                               const std::atomic<bool>* stop) {
  if (!config_error_.ok()) return config_error_;
  if (start_rev < 0) return InvalidArgument("etcd watch: negative start revision");
  const std::string key = prefix.empty() ? std::string(1, '\0') : std::string(prefix);
  std::string end = PrefixEnd(prefix);
  if (end.empty()) end = std::string(1, '\0');
  int64_t next = start_rev;  // the first revision not yet delivered; 0 = "now"
  size_t idx = current_.load();
  auto unavailable_since = Clock::now();
  milliseconds backoff(20);
  std::string last_error = "no attempt made";

  while (true) {
    if (stop != nullptr && stop->load()) return Status::Ok();
    if (Clock::now() - unavailable_since > opt_.watch_reconnect_budget) {
      return Unavailable("etcd watch: no endpoint accepted the watch: " + last_error);
    }
    const HostPort& ep = eps_[idx];
    json req = {{"create_request",
                 {{"key", B64(key)}, {"range_end", B64(end)}, {"start_revision", std::to_string(next)}}}};
    WatchStream ws;
    bool established = false;
    Status st = ws.Open(ep, req.dump(), Clock::now() + opt_.attempt_timeout);
    if (!st.ok()) last_error = st.message();
    auto created_deadline = Clock::now() + opt_.attempt_timeout;
    while (st.ok()) {
      std::vector<std::string> lines;
      std::string err;
      auto r = ws.ReadLines(&lines, stop, established ? std::nullopt : std::optional(created_deadline), &err);
      if (r == WatchStream::Read::kStopped) return Status::Ok();
      if (r == WatchStream::Read::kBroken) {
        last_error = "etcd " + ep.text + ": " + err;
        break;
      }
      bool broken = false;
      for (const std::string& line : lines) {
        json j = json::parse(line, nullptr, false);
        if (j.is_discarded() || !j.is_object()) {
          last_error = "etcd " + ep.text + ": malformed watch message";
          broken = true;
          break;
        }
        if (auto e = ErrorOf(j)) {
          Classified c = Classify(*e);
          if (!c.retry) return c.status;
          last_error = "etcd " + ep.text + ": " + e->message;
          broken = true;
          break;
        }
        auto rit = j.find("result");
        if (rit == j.end() || !rit->is_object()) continue;
        const json& res = *rit;
        if (GetBool(res, "created")) {
          established = true;
          backoff = milliseconds(20);
          if (next == 0) {
            ML_ASSIGN_OR_RETURN(int64_t rev, HeaderRevision(res));
            next = rev + 1;
          }
        }
        if (GetBool(res, "canceled")) {
          int64_t compacted = 0;
          GetI64(res, "compact_revision", &compacted);
          if (compacted > 0) {
            return FailedPrecondition("compacted: watch from revision " + std::to_string(next) +
                                      ", history compacted up to " + std::to_string(compacted));
          }
          auto reason = res.find("cancel_reason");
          last_error = "etcd " + ep.text + ": watch canceled" +
                       (reason != res.end() && reason->is_string() ? ": " + reason->get<std::string>() : "");
          broken = true;
          break;
        }
        auto evs = res.find("events");
        if (evs == res.end() || !evs->is_array()) continue;
        const int64_t first_new = next;
        for (const json& ev : *evs) {
          WatchEvent we;
          auto t = ev.find("type");
          we.type = (t != ev.end() && t->is_string() && *t == "DELETE") ? WatchEvent::Type::kDelete
                                                                          : WatchEvent::Type::kPut;
          auto kvit = ev.find("kv");
          if (kvit == ev.end()) return DataLoss("etcd watch: event without kv");
          ML_ASSIGN_OR_RETURN(we.kv, ParseKv(*kvit));
          if (we.kv.mod_revision < first_new) continue;  // already delivered
          if (!fn(we)) return Status::Ok();
          next = std::max(next, we.kv.mod_revision + 1);
        }
      }
      if (broken) break;
      if (established) unavailable_since = Clock::now();
    }
    // Broken or never established: the next endpoint, after a pause.
    if (established) unavailable_since = Clock::now();
    idx = (idx + 1) % eps_.size();
    if (!SleepUnlessStopped(backoff, stop)) return Status::Ok();
    backoff = std::min(backoff * 2, milliseconds(1000));
  }
}

EtcdClient::EtcdClient(Options options) : impl_(std::make_unique<Impl>(std::move(options))) {}

EtcdClient::EtcdClient(std::vector<std::string> endpoints, std::chrono::milliseconds timeout)
    : EtcdClient(Options{.endpoints = std::move(endpoints), .timeout = timeout}) {}

EtcdClient::~EtcdClient() = default;

size_t EtcdClient::MaxValueBytes(std::string_view key) const {
  // PutIfAbsent carries the key three times (compare, put, failure range).
  const uint64_t fixed = kRequestOverheadBytes + 3 * uint64_t(key.size());
  const uint64_t limit = uint64_t(std::max<int64_t>(0, impl_->opt().max_request_bytes));
  return limit > fixed ? size_t(limit - fixed) : 0;
}

std::string EtcdClient::PrefixEnd(std::string_view prefix) {
  std::string end(prefix);
  while (!end.empty()) {
    unsigned char c = static_cast<unsigned char>(end.back());
    if (c < 0xff) {
      end.back() = static_cast<char>(c + 1);
      return end;
    }
    end.pop_back();
  }
  return end;
}

namespace {
Status CheckWrite(const EtcdClient& c, std::string_view key, const Bytes& value) {
  if (key.empty()) return InvalidArgument("etcd: empty key");
  if (value.size() > c.MaxValueBytes(key)) {
    return InvalidArgument("etcd: value of " + std::to_string(value.size()) +
                           " bytes exceeds the request limit (max " +
                           std::to_string(c.MaxValueBytes(key)) + " for this key)");
  }
  return Status::Ok();
}
}  // namespace

Result<int64_t> EtcdClient::Put(std::string_view key, const Bytes& value) {
  ML_RETURN_IF_ERROR(CheckWrite(*this, key, value));
  json req = {{"key", B64(key)}, {"value", Base64Encode(value)}};
  ML_ASSIGN_OR_RETURN(json res, impl_->Call("/v3/kv/put", req, /*idempotent=*/false));
  return HeaderRevision(res);
}

// The create-if-absent transaction behind PutIfAbsent and PutIfAbsentGuarded:
// put `value` at `key` if the key was never created (and, with a guard, the
// guard key's mod revision is still the one given), else read the key back.
// A key that already holds exactly `value` counts as ours (idempotent retry).
Result<int64_t> EtcdClient::CreateIfAbsent(std::string_view key, const Bytes& value,
                                           const std::optional<std::pair<std::string_view, int64_t>>& guard) {
  const std::string k = B64(key);
  json compare = json::array({{{"target", "CREATE"}, {"result", "EQUAL"}, {"key", k}, {"create_revision", "0"}}});
  if (guard)
    compare.push_back({{"target", "MOD"},
                       {"result", "EQUAL"},
                       {"key", B64(guard->first)},
                       {"mod_revision", std::to_string(guard->second)}});
  json req = {
      {"compare", std::move(compare)},
      {"success", json::array({{{"request_put", {{"key", k}, {"value", Base64Encode(value)}}}}})},
      {"failure", json::array({{{"request_range", {{"key", k}}}}})},
  };
  ML_ASSIGN_OR_RETURN(json res, impl_->Call("/v3/kv/txn", req, /*idempotent=*/true));
  if (GetBool(res, "succeeded")) return HeaderRevision(res);
  auto resps = res.find("responses");
  if (resps == res.end() || !resps->is_array() || resps->empty()) {
    return DataLoss("etcd: txn failure without range response");
  }
  const json& range = (*resps)[0].value("response_range", json::object());
  auto kvs = range.find("kvs");
  if (kvs == range.end() || !kvs->is_array() || kvs->empty()) {
    // No key, so a compare failed on something else: the guard moved, or
    // the key was deleted between the compare and the range.
    if (guard) return FailedPrecondition("etcd: guard key moved");
    return Aborted("etcd: key existed at compare time");
  }
  ML_ASSIGN_OR_RETURN(KeyValue existing, ParseKv((*kvs)[0]));
  if (existing.value == value) return existing.create_revision;
  return Aborted("etcd: key exists with another value");
}

Result<int64_t> EtcdClient::PutIfAbsent(std::string_view key, const Bytes& value) {
  ML_RETURN_IF_ERROR(CheckWrite(*this, key, value));
  return CreateIfAbsent(key, value, std::nullopt);
}

Result<int64_t> EtcdClient::PutIfAbsentGuarded(std::string_view key, const Bytes& value, std::string_view guard_key,
                                               int64_t guard_mod_revision) {
  ML_RETURN_IF_ERROR(CheckWrite(*this, key, value));
  if (guard_key.empty() || guard_mod_revision < 0) return InvalidArgument("etcd: bad guard");
  return CreateIfAbsent(key, value, std::make_pair(guard_key, guard_mod_revision));
}

Result<int64_t> EtcdClient::PutIfModRevision(std::string_view key, const Bytes& value, int64_t mod_revision) {
  ML_RETURN_IF_ERROR(CheckWrite(*this, key, value));
  if (mod_revision < 0) return InvalidArgument("etcd: negative mod revision");
  const std::string k = B64(key);
  json req = {
      {"compare", json::array({{{"target", "MOD"},
                                {"result", "EQUAL"},
                                {"key", k},
                                {"mod_revision", std::to_string(mod_revision)}}})},
      {"success", json::array({{{"request_put", {{"key", k}, {"value", Base64Encode(value)}}}}})},
  };
  // Not idempotent: a retry after an unknown outcome finds its own write and
  // reports kAborted, which the caller resolves by reading the key.
  ML_ASSIGN_OR_RETURN(json res, impl_->Call("/v3/kv/txn", req, /*idempotent=*/false));
  if (GetBool(res, "succeeded")) return HeaderRevision(res);
  return Aborted("etcd: key moved");
}

Result<int64_t> EtcdClient::Delete(std::string_view key) {
  if (key.empty()) return InvalidArgument("etcd: empty key");
  json req = {{"key", B64(key)}};
  ML_ASSIGN_OR_RETURN(json res, impl_->Call("/v3/kv/deleterange", req, /*idempotent=*/false));
  return HeaderRevision(res);
}

Result<int64_t> EtcdClient::DeleteRange(std::string_view from, std::string_view to_exclusive) {
  if (from.empty() || to_exclusive.empty()) return InvalidArgument("etcd: empty key range");
  json req = {{"key", B64(from)}, {"range_end", B64(to_exclusive)}};
  ML_ASSIGN_OR_RETURN(json res, impl_->Call("/v3/kv/deleterange", req, /*idempotent=*/true));
  return HeaderRevision(res);
}

Result<RangeResult> EtcdClient::Range(std::string_view from, std::string_view to_exclusive,
                                      int64_t limit, int64_t revision) {
  if (limit < 0 || revision < 0) return InvalidArgument("etcd range: negative limit or revision");
  json req = {{"key", B64(from.empty() ? std::string_view("\0", 1) : from)},
              {"range_end", B64(to_exclusive.empty() ? std::string_view("\0", 1) : to_exclusive)}};
  if (limit > 0) req["limit"] = std::to_string(limit);
  if (revision > 0) req["revision"] = std::to_string(revision);
  ML_ASSIGN_OR_RETURN(json res, impl_->Call("/v3/kv/range", req, /*idempotent=*/true));
  RangeResult out;
  ML_ASSIGN_OR_RETURN(out.revision, HeaderRevision(res));
  out.more = GetBool(res, "more");
  auto kvs = res.find("kvs");
  if (kvs != res.end() && kvs->is_array()) {
    out.kvs.reserve(kvs->size());
    for (const json& j : *kvs) {
      ML_ASSIGN_OR_RETURN(KeyValue kv, ParseKv(j));
      out.kvs.push_back(std::move(kv));
    }
  }
  return out;
}

Result<std::optional<std::string>> EtcdClient::LastKey(std::string_view from, std::string_view to_exclusive) {
  json req = {{"key", B64(from.empty() ? std::string_view("\0", 1) : from)},
              {"range_end", B64(to_exclusive.empty() ? std::string_view("\0", 1) : to_exclusive)},
              {"limit", "1"},
              {"sort_order", "DESCEND"},
              {"sort_target", "KEY"},
              {"keys_only", true}};
  ML_ASSIGN_OR_RETURN(json res, impl_->Call("/v3/kv/range", req, /*idempotent=*/true));
  auto kvs = res.find("kvs");
  if (kvs == res.end() || !kvs->is_array() || kvs->empty()) return std::optional<std::string>();
  ML_ASSIGN_OR_RETURN(Bytes key, GetB64((*kvs)[0], "key"));
  return std::optional<std::string>(std::string(key.begin(), key.end()));
}

Result<std::optional<KeyValue>> EtcdClient::Get(std::string_view key) {
  if (key.empty()) return InvalidArgument("etcd: empty key");
  json req = {{"key", B64(key)}};
  ML_ASSIGN_OR_RETURN(json res, impl_->Call("/v3/kv/range", req, /*idempotent=*/true));
  auto kvs = res.find("kvs");
  if (kvs == res.end() || !kvs->is_array() || kvs->empty()) return std::optional<KeyValue>();
  ML_ASSIGN_OR_RETURN(KeyValue kv, ParseKv((*kvs)[0]));
  return std::optional<KeyValue>(std::move(kv));
}

Status EtcdClient::Compact(int64_t revision) {
  if (revision <= 0) return InvalidArgument("etcd compact: revision must be positive");
  json req = {{"revision", std::to_string(revision)}};
  auto res = impl_->Call("/v3/kv/compaction", req, /*idempotent=*/true);
  if (!res.ok() && res.status().code() == StatusCode::kFailedPrecondition &&
      res.status().message().starts_with("compacted")) {
    return Status::Ok();
  }
  return res.status();
}

Result<int64_t> EtcdClient::CurrentRevision() {
  json req = {{"key", B64(std::string_view("\0", 1))}, {"count_only", true}};
  ML_ASSIGN_OR_RETURN(json res, impl_->Call("/v3/kv/range", req, /*idempotent=*/true));
  return HeaderRevision(res);
}

Status EtcdClient::Watch(std::string_view prefix, int64_t start_rev,
                         const std::function<bool(const WatchEvent&)>& fn,
                         const std::atomic<bool>* stop) {
  return impl_->Watch(prefix, start_rev, fn, stop);
}

Result<std::string> EtcdClient::LeaderEndpoint() {
  ML_ASSIGN_OR_RETURN(json status, impl_->Call("/v3/maintenance/status", json::object(), true));
  auto leader = status.find("leader");
  if (leader == status.end() || !leader->is_string() || *leader == "0") {
    return Unavailable("etcd: no leader");
  }
  ML_ASSIGN_OR_RETURN(json members, impl_->Call("/v3/cluster/member/list", json::object(), true));
  auto list = members.find("members");
  if (list == members.end() || !list->is_array()) return DataLoss("etcd: malformed member list");
  for (const json& m : *list) {
    auto id = m.find("ID");
    if (id == m.end() || *id != *leader) continue;
    auto urls = m.find("clientURLs");
    if (urls == m.end() || !urls->is_array() || urls->empty() || !(*urls)[0].is_string()) {
      return Unavailable("etcd: leader has no client URL");
    }
    ML_ASSIGN_OR_RETURN(HostPort hp, ParseEndpoint((*urls)[0].get<std::string>()));
    return hp.text;
  }
  return Unavailable("etcd: leader not in member list");
}

std::string EtcdClient::CurrentEndpoint() const { return impl_->CurrentEndpoint(); }

}  // namespace medledger::etcd
