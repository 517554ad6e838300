#include "http/client.h"

#include <strings.h>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <mutex>

#include "http/url.h"

namespace medledger::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

}  // namespace

std::optional<std::string> ClientResponse::Header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (beast::iequals(k, beast::string_view(name.data(), name.size()))) return v;
  }
  return std::nullopt;
}

struct Client::Impl {
  Impl(std::string base, std::chrono::milliseconds t, size_t max_bytes)
      : base_url(std::move(base)), timeout(t), max_response_bytes(max_bytes) {
    Result<Url> parsed = ParseUrl(base_url);
    if (parsed.ok()) {
      url = std::move(parsed).value();
    } else {
      url_status = parsed.status();
    }
    // Beast reads at most the buffer's free capacity per recv (512 bytes for
    // a fresh buffer) and the parser drains it into the body each time, so a
    // small buffer never grows: a 27 KB batch answer took ~55 recv calls.
    buffer.reserve(64 << 10);
  }

  // Runs one async operation to completion on the private io_context; the
  // stream's deadline cancels it with beast::error::timeout.
  template <typename Start>
  beast::error_code Run(Start&& start) {
    beast::error_code result;
    std::forward<Start>(start)(
        [&result](beast::error_code ec, auto&&...) { result = ec; });
    ioc.restart();
    ioc.run();
    return result;
  }

  void Disconnect() {
    beast::error_code ec;
    stream.socket().shutdown(tcp::socket::shutdown_both, ec);
    stream.close();
    buffer.consume(buffer.size());
    connected = false;
  }

  Status Unavailable(std::string_view what, beast::error_code ec) const {
    std::string reason = ec == beast::error::timeout
                             ? "timed out after " + std::to_string(timeout.count()) + " ms"
                             : ec.message();
    return ::medledger::Unavailable(std::string(what) + " " + url.host + ":" +
                                    std::to_string(url.port) + ": " + reason);
  }

  Status Connect(std::chrono::steady_clock::time_point deadline) {
    tcp::resolver resolver(ioc);
    beast::error_code ec;
    auto endpoints = resolver.resolve(url.host, std::to_string(url.port), ec);
    if (ec) return Unavailable("cannot resolve", ec);
    stream.expires_at(deadline);
    ec = Run([&](auto handler) { stream.async_connect(endpoints, std::move(handler)); });
    if (ec) {
      Disconnect();
      return Unavailable("cannot connect to", ec);
    }
    connected = true;
    return Status::Ok();
  }

  Result<ClientResponse> Do(std::string_view method, std::string_view target,
                            std::string_view body, const HeaderList& headers) {
    if (!url_status.ok()) return url_status;
    if (target.empty() || target.front() != '/') {
      return InvalidArgument("request target must start with '/'");
    }
    bhttp::request<bhttp::string_body> req;
    req.method_string(beast::string_view(method.data(), method.size()));
    req.target(url.path_prefix + std::string(target));
    req.version(11);
    req.set(bhttp::field::host, url.host + ":" + std::to_string(url.port));
    req.set(bhttp::field::user_agent, "medledger");
    for (const auto& [name, value] : headers) req.set(name, value);
    req.body() = std::string(body);
    req.prepare_payload();
    req.keep_alive(true);

    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (int attempt = 0;; ++attempt) {
      bool reused = connected;
      if (!connected) ML_RETURN_IF_ERROR(Connect(deadline));
      bool may_retry = reused && attempt == 0;

      stream.expires_at(deadline);
      beast::error_code ec = Run(
          [&](auto handler) { bhttp::async_write(stream, req, std::move(handler)); });
      if (ec) {
        Disconnect();
        if (may_retry && ec != beast::error::timeout) continue;
        return Unavailable("cannot send to", ec);
      }

      bhttp::response_parser<bhttp::string_body> parser;
      parser.body_limit(max_response_bytes);
      parser.skip(method == "HEAD");  // a HEAD response has no body
      ec = Run([&](auto handler) {
        bhttp::async_read(stream, buffer, parser, std::move(handler));
      });
      if (ec) {
        bool nothing_received = !parser.got_some();
        Disconnect();
        if (may_retry && nothing_received && ec != beast::error::timeout) continue;
        return Unavailable("no valid response from", ec);
      }
      bhttp::response<bhttp::string_body> res = parser.release();
      if (!res.keep_alive()) Disconnect();
      ClientResponse out;
      out.status = static_cast<int>(res.result_int());
      for (const auto& field : res) {
        out.headers.emplace_back(std::string(field.name_string()),
                                 std::string(field.value()));
      }
      out.body = std::move(res.body());
      return out;
    }
  }

  const std::string base_url;
  const std::chrono::milliseconds timeout;
  const size_t max_response_bytes;
  Url url;
  Status url_status;
  std::mutex mu;
  asio::io_context ioc;
  beast::tcp_stream stream{ioc};
  beast::flat_buffer buffer;
  bool connected = false;
};

Client::Client(std::string base_url, std::chrono::milliseconds timeout,
               size_t max_response_bytes)
    : impl_(std::make_unique<Impl>(std::move(base_url), timeout, max_response_bytes)) {}

Client::~Client() = default;

Result<ClientResponse> Client::Request(std::string_view method, std::string_view target,
                                       std::string_view body, const HeaderList& headers) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->Do(method, target, body, headers);
}

Result<ClientResponse> Client::Get(std::string_view target, const HeaderList& headers) {
  return Request("GET", target, {}, headers);
}

Result<ClientResponse> Client::Post(std::string_view target, std::string_view body,
                                    std::string_view content_type,
                                    const HeaderList& headers) {
  HeaderList all = headers;
  // A signed request carries its (signed) Content-Type already: never two.
  bool typed = false;
  for (const auto& [name, value] : headers)
    if (name.size() == 12 && strncasecmp(name.c_str(), "content-type", 12) == 0) typed = true;
  if (!typed) all.emplace_back("Content-Type", std::string(content_type));
  return Request("POST", target, body, all);
}

}  // namespace medledger::http
