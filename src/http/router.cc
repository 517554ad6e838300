#include "http/router.h"

#include <algorithm>
#include <stdexcept>

#include "http/url.h"

namespace medledger::http {
namespace {

std::vector<std::string_view> SplitRaw(std::string_view path) {
  std::vector<std::string_view> out;
  if (path == "/") return out;
  path.remove_prefix(1);
  while (true) {
    size_t slash = path.find('/');
    out.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return out;
}

}  // namespace

Result<std::vector<std::string>> SplitPath(std::string_view raw_path) {
  if (raw_path.empty() || raw_path.front() != '/') {
    return InvalidArgument("request path must start with '/'");
  }
  std::vector<std::string> out;
  for (std::string_view seg : SplitRaw(raw_path)) {
    ML_ASSIGN_OR_RETURN(std::string decoded, PercentDecode(seg, false));
    out.push_back(std::move(decoded));
  }
  return out;
}

void Router::Add(std::string method, std::string_view pattern,
                 Handler handler) {
  if (pattern.empty() || pattern.front() != '/') {
    throw std::invalid_argument("route pattern must start with '/': " +
                                std::string(pattern));
  }
  Route route;
  route.method = std::move(method);
  route.pattern = std::string(pattern);
  route.handler = std::move(handler);
  std::vector<std::string_view> raw = SplitRaw(pattern);
  for (size_t i = 0; i < raw.size(); ++i) {
    std::string_view s = raw[i];
    Segment seg{SegKind::kLiteral, std::string(s)};
    if (s.size() >= 2 && s.front() == '{' && s.back() == '}') {
      std::string_view name = s.substr(1, s.size() - 2);
      seg.kind = SegKind::kCapture;
      if (name.size() > 3 && name.substr(name.size() - 3) == "...") {
        if (i + 1 != raw.size()) {
          throw std::invalid_argument("{rest...} must be the last segment: " +
                                      std::string(pattern));
        }
        seg.kind = SegKind::kRest;
        name.remove_suffix(3);
      }
      if (name.empty()) {
        throw std::invalid_argument("empty capture name: " +
                                    std::string(pattern));
      }
      seg.text = std::string(name);
    } else if (s.find_first_of("{}") != std::string_view::npos) {
      throw std::invalid_argument("braces must span a whole segment: " +
                                  std::string(pattern));
    }
    route.segments.push_back(std::move(seg));
  }
  for (Route& existing : routes_) {
    if (existing.method == route.method && existing.pattern == route.pattern) {
      existing = std::move(route);
      return;
    }
  }
  routes_.push_back(std::move(route));
}

bool Router::Matches(const Route& route,
                     const std::vector<std::string>& segments,
                     std::vector<std::string>* params) {
  params->clear();
  size_t i = 0;
  for (const Segment& seg : route.segments) {
    if (seg.kind == SegKind::kRest) {
      if (i >= segments.size()) return false;  // "/files" vs "/files/{rest...}"
      std::string rest;
      for (size_t j = i; j < segments.size(); ++j) {
        if (j > i) rest.push_back('/');
        rest += segments[j];
      }
      params->push_back(std::move(rest));
      return true;
    }
    if (i >= segments.size()) return false;
    if (seg.kind == SegKind::kLiteral) {
      if (seg.text != segments[i]) return false;
    } else {
      params->push_back(segments[i]);
    }
    ++i;
  }
  return i == segments.size();
}

bool Router::MoreSpecific(const Route& a, const Route& b) {
  size_t n = std::min(a.segments.size(), b.segments.size());
  for (size_t i = 0; i < n; ++i) {
    if (a.segments[i].kind != b.segments[i].kind) {
      return a.segments[i].kind < b.segments[i].kind;
    }
  }
  // Same shape so far: the longer pattern consumed more literally.
  return a.segments.size() > b.segments.size();
}

RouteMatch Router::Match(std::string_view method,
                         const std::vector<std::string>& segments) const {
  RouteMatch result;
  const Route* best = nullptr;
  std::vector<std::string> params;
  std::vector<std::string> allowed;
  for (const Route& route : routes_) {
    if (!Matches(route, segments, &params)) continue;
    if (route.method != method) {
      if (std::find(allowed.begin(), allowed.end(), route.method) ==
          allowed.end()) {
        allowed.push_back(route.method);
      }
      continue;
    }
    if (best == nullptr || MoreSpecific(route, *best)) {
      best = &route;
      result.params = params;
    }
  }
  if (best != nullptr) {
    result.kind = RouteMatch::Kind::kFound;
    result.handler = &best->handler;
  } else if (!allowed.empty()) {
    result.kind = RouteMatch::Kind::kMethodNotAllowed;
    for (const std::string& m : allowed) {
      if (!result.allow.empty()) result.allow += ", ";
      result.allow += m;
    }
  }
  return result;
}

}  // namespace medledger::http
