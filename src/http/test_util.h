// Test-only helpers: a blocking raw TCP client for sending bytes no HTTP
// library would produce, and a condition wait. Not part of medledger_http.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <thread>

namespace medledger::http::testing {

// One blocking loopback connection. Reads give up after 30 s so that a broken
// server fails the test instead of hanging it; no test depends on that time.
class RawConnection {
 public:
  explicit RawConnection(uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd_ < 0) return;
    timeval tv{30, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      ::close(fd_);
      fd_ = -1;
    }
  }
  ~RawConnection() {
    if (fd_ >= 0) ::close(fd_);
  }
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;

  bool connected() const { return fd_ >= 0; }

  bool Send(std::string_view data) {
    while (!data.empty()) {
      ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      data.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }

  // One response: status line and headers, then Content-Length bytes of
  // body. "" when the connection closed (or failed) first.
  std::string ReadResponse() {
    size_t header_end;
    while ((header_end = buffer_.find("\r\n\r\n")) == std::string::npos) {
      if (!Fill()) return "";
    }
    header_end += 4;
    size_t length = 0;
    std::string lower = buffer_.substr(0, header_end);
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (size_t pos = lower.find("\r\ncontent-length:"); pos != std::string::npos) {
      length = std::stoul(lower.substr(pos + 17));
    }
    while (buffer_.size() < header_end + length) {
      if (!Fill()) return "";
    }
    std::string out = buffer_.substr(0, header_end + length);
    buffer_.erase(0, header_end + length);
    return out;
  }

  // True when the peer closes the connection (EOF or reset) before sending
  // anything more.
  bool ReadUntilClosed() {
    char c;
    while (true) {
      ssize_t n = ::recv(fd_, &c, 1, 0);
      if (n == 0) return true;
      if (n < 0) return errno == ECONNRESET;
      buffer_.push_back(c);
      return false;
    }
  }

 private:
  bool Fill() {
    char buf[16384];
    ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n <= 0) return false;
    buffer_.append(buf, static_cast<size_t>(n));
    return true;
  }

  int fd_ = -1;
  std::string buffer_;
};

// Polls `done` until it holds; gives up after a minute (a hang guard, not a
// performance bound). Returns the final value of `done`.
inline bool WaitFor(const std::function<bool()>& done) {
  auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (!done()) {
    if (std::chrono::steady_clock::now() > give_up) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

// Raises the soft open-file limit to at least `wanted`; false if impossible.
inline bool EnsureFileLimit(rlim_t wanted) {
  rlimit lim{};
  if (::getrlimit(RLIMIT_NOFILE, &lim) != 0) return false;
  if (lim.rlim_cur >= wanted) return true;
  if (lim.rlim_max < wanted) return false;
  lim.rlim_cur = wanted;
  return ::setrlimit(RLIMIT_NOFILE, &lim) == 0;
}

}  // namespace medledger::http::testing
