// Maps (method, path) to a handler. Patterns are '/'-separated segments, each
// a literal, "{name}" (captures exactly one segment) or, last only,
// "{name...}" (captures the rest of the path, '/' included; it needs at least
// one more segment, so "/files/{rest...}" matches "/files/" with "" but not
// "/files").
// When several patterns match, the most specific wins: compared segment by
// segment, literal beats {name} beats {name...}.
//
// Not thread-safe for Add; Match is const and safe to call concurrently once
// all routes are added.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "http/message.h"

namespace medledger::http {

struct RouteMatch {
  enum class Kind { kFound, kNotFound, kMethodNotAllowed };
  Kind kind = Kind::kNotFound;
  const Handler* handler = nullptr;  // set for kFound; owned by the Router
  std::vector<std::string> params;   // kFound: captures in pattern order
  std::string allow;                 // kMethodNotAllowed: "GET, POST"
};

class Router {
 public:
  // Throws std::invalid_argument for a malformed pattern (a programming
  // error: patterns are constants). Re-adding (method, pattern) replaces.
  void Add(std::string method, std::string_view pattern, Handler handler);

  // `segments` are the decoded path segments (see SplitPath).
  RouteMatch Match(std::string_view method,
                   const std::vector<std::string>& segments) const;

 private:
  enum class SegKind { kLiteral, kCapture, kRest };
  struct Segment {
    SegKind kind;
    std::string text;  // literal text or capture name
  };
  struct Route {
    std::string method;
    std::string pattern;
    std::vector<Segment> segments;
    Handler handler;
  };
  static bool Matches(const Route& route,
                      const std::vector<std::string>& segments,
                      std::vector<std::string>* params);
  static bool MoreSpecific(const Route& a, const Route& b);

  std::vector<Route> routes_;
};

// Splits a raw path ("/a/b%2Fc/") into decoded segments {"a", "b/c", ""}.
// "/" gives no segments. kInvalidArgument for a path that does not start
// with '/' or has a bad percent-escape.
Result<std::vector<std::string>> SplitPath(std::string_view raw_path);

}  // namespace medledger::http
