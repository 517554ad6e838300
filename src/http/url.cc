#include "http/url.h"

#include <charconv>

namespace medledger::http {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

Result<uint16_t> ParsePort(std::string_view s) {
  unsigned value = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size() ||
      value == 0 || value > 65535) {
    return InvalidArgument("invalid port '" + std::string(s) + "'");
  }
  return static_cast<uint16_t>(value);
}

}  // namespace

Result<std::string> PercentDecode(std::string_view in, bool plus_is_space) {
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '%') {
      if (i + 2 >= in.size()) {
        return InvalidArgument("truncated percent-escape");
      }
      int hi = HexValue(in[i + 1]);
      int lo = HexValue(in[i + 2]);
      if (hi < 0 || lo < 0) return InvalidArgument("invalid percent-escape");
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::string PercentEncode(std::string_view in) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(in.size());
  for (unsigned char c : in) {
    bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                      (c >= '0' && c <= '9') || c == '-' || c == '.' ||
                      c == '_' || c == '~';
    if (unreserved) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

Result<std::vector<std::pair<std::string, std::string>>> ParseQuery(
    std::string_view query) {
  std::vector<std::pair<std::string, std::string>> out;
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view piece = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view()
                                          : query.substr(amp + 1);
    if (piece.empty()) continue;
    size_t eq = piece.find('=');
    std::string_view key = piece.substr(0, eq);
    std::string_view value =
        eq == std::string_view::npos ? std::string_view() : piece.substr(eq + 1);
    ML_ASSIGN_OR_RETURN(std::string k, PercentDecode(key, true));
    ML_ASSIGN_OR_RETURN(std::string v, PercentDecode(value, true));
    out.emplace_back(std::move(k), std::move(v));
  }
  return out;
}

Result<std::pair<std::string, uint16_t>> ParseHostPort(std::string_view in) {
  std::string_view host;
  std::string_view port;
  if (!in.empty() && in.front() == '[') {
    size_t close = in.find(']');
    if (close == std::string_view::npos || close + 1 >= in.size() ||
        in[close + 1] != ':') {
      return InvalidArgument("expected [ipv6]:port, got '" + std::string(in) +
                             "'");
    }
    host = in.substr(1, close - 1);
    port = in.substr(close + 2);
  } else {
    size_t colon = in.rfind(':');
    if (colon == std::string_view::npos) {
      return InvalidArgument("expected host:port, got '" + std::string(in) +
                             "'");
    }
    host = in.substr(0, colon);
    port = in.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) {
      return InvalidArgument("IPv6 address needs brackets: '" +
                             std::string(in) + "'");
    }
  }
  if (host.empty()) return InvalidArgument("empty host in '" + std::string(in) + "'");
  ML_ASSIGN_OR_RETURN(uint16_t p, ParsePort(port));
  return std::make_pair(std::string(host), p);
}

Result<Url> ParseUrl(std::string_view in) {
  constexpr std::string_view kScheme = "http://";
  if (in.substr(0, kScheme.size()) != kScheme) {
    return InvalidArgument("URL must start with http:// : '" + std::string(in) +
                           "'");
  }
  std::string_view rest = in.substr(kScheme.size());
  size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  std::string_view path =
      slash == std::string_view::npos ? std::string_view() : rest.substr(slash);
  if (authority.find('@') != std::string_view::npos ||
      path.find_first_of("?#") != std::string_view::npos ||
      rest.find_first_of("?#") != std::string_view::npos) {
    return InvalidArgument("URL may not carry user-info, query or fragment: '" +
                           std::string(in) + "'");
  }
  Url url;
  bool has_port = !authority.empty() &&
                  (authority.front() == '['
                       ? authority.find("]:") != std::string_view::npos
                       : authority.find(':') != std::string_view::npos);
  if (has_port) {
    ML_ASSIGN_OR_RETURN(auto hp, ParseHostPort(authority));
    url.host = std::move(hp.first);
    url.port = hp.second;
  } else {
    if (!authority.empty() && authority.front() == '[') {
      if (authority.back() != ']') return InvalidArgument("bad IPv6 host in URL");
      authority = authority.substr(1, authority.size() - 2);
    }
    url.host = std::string(authority);
  }
  if (url.host.empty()) return InvalidArgument("URL has no host: '" + std::string(in) + "'");
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  url.path_prefix = std::string(path);
  return url;
}

}  // namespace medledger::http
