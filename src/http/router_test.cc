#include "http/router.h"

#include <gtest/gtest.h>

#include <stdexcept>

namespace medledger::http {
namespace {

Handler Named(std::string name, std::string* called) {
  return [name, called](Request&, Reply) { *called = name; };
}

// Runs the matched handler so the test can see which route won.
std::string Which(const Router& r, std::string_view method, std::string_view path,
                  std::vector<std::string>* params = nullptr) {
  auto segments = SplitPath(path);
  if (!segments.ok()) return "bad-path";
  RouteMatch m = r.Match(method, *segments);
  if (m.kind == RouteMatch::Kind::kNotFound) return "404";
  if (m.kind == RouteMatch::Kind::kMethodNotAllowed) return "405 " + m.allow;
  if (params) *params = m.params;
  Request req;
  std::string out;
  (*m.handler)(req, Reply());
  return out;
}

class RouterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    router_.Add("GET", "/", Named("root", &called_));
    router_.Add("GET", "/records/{id}", Named("record", &called_));
    router_.Add("GET", "/records/latest", Named("latest", &called_));
    router_.Add("PUT", "/records/{id}", Named("put-record", &called_));
    router_.Add("GET", "/records/{id}/versions/{v}", Named("version", &called_));
    router_.Add("GET", "/files/{rest...}", Named("files", &called_));
    router_.Add("GET", "/files/special/{rest...}", Named("special", &called_));
  }
  std::string Route(std::string_view method, std::string_view path,
                    std::vector<std::string>* params = nullptr) {
    called_.clear();
    std::string r = Which(router_, method, path, params);
    return r.empty() ? called_ : r;
  }
  Router router_;
  std::string called_;
};

TEST_F(RouterTest, LiteralsAndCaptures) {
  std::vector<std::string> params;
  EXPECT_EQ(Route("GET", "/"), "root");
  EXPECT_EQ(Route("GET", "/records/r1", &params), "record");
  EXPECT_EQ(params, std::vector<std::string>{"r1"});
  EXPECT_EQ(Route("GET", "/records/r1/versions/7", &params), "version");
  EXPECT_EQ(params, (std::vector<std::string>{"r1", "7"}));
  EXPECT_EQ(Route("PUT", "/records/x"), "put-record");
}

TEST_F(RouterTest, LiteralBeatsCaptureRegardlessOfOrder) {
  EXPECT_EQ(Route("GET", "/records/latest"), "latest");
  EXPECT_EQ(Route("GET", "/files/special/a"), "special");
  EXPECT_EQ(Route("GET", "/files/other/a"), "files");
}

TEST_F(RouterTest, RestCapturesRemainderDecoded) {
  std::vector<std::string> params;
  EXPECT_EQ(Route("GET", "/files/a/b%20c/d", &params), "files");
  EXPECT_EQ(params, std::vector<std::string>{"a/b c/d"});
  EXPECT_EQ(Route("GET", "/files/", &params), "files");
  EXPECT_EQ(params, std::vector<std::string>{""});
  EXPECT_EQ(Route("GET", "/files"), "404");
}

TEST_F(RouterTest, CaptureIsDecodedPerSegment) {
  std::vector<std::string> params;
  EXPECT_EQ(Route("GET", "/records/a%2Fb", &params), "record");
  EXPECT_EQ(params, std::vector<std::string>{"a/b"});
}

TEST_F(RouterTest, NotFoundAndMethodNotAllowed) {
  EXPECT_EQ(Route("GET", "/nothing"), "404");
  EXPECT_EQ(Route("GET", "/records"), "404");
  EXPECT_EQ(Route("GET", "/records/"), "record");  // empty segment captured
  EXPECT_EQ(Route("GET", "/records/a/b"), "404");
  EXPECT_EQ(Route("DELETE", "/records/x"), "405 GET, PUT");
  EXPECT_EQ(Route("get", "/"), "405 GET");  // methods are case-sensitive
}

TEST_F(RouterTest, SplitPathRejectsBadInput) {
  EXPECT_FALSE(SplitPath("").ok());
  EXPECT_FALSE(SplitPath("records").ok());
  EXPECT_FALSE(SplitPath("http://h/x").ok());
  EXPECT_FALSE(SplitPath("/a%zz").ok());
  EXPECT_TRUE(SplitPath("/").value().empty());
  EXPECT_EQ(SplitPath("/a//b/").value(), (std::vector<std::string>{"a", "", "b", ""}));
}

TEST(RouterPatternTest, RejectsMalformedPatterns) {
  Router r;
  Handler h = [](Request&, Reply) {};
  EXPECT_THROW(r.Add("GET", "", h), std::invalid_argument);
  EXPECT_THROW(r.Add("GET", "x/y", h), std::invalid_argument);
  EXPECT_THROW(r.Add("GET", "/{rest...}/x", h), std::invalid_argument);
  EXPECT_THROW(r.Add("GET", "/{}", h), std::invalid_argument);
  EXPECT_THROW(r.Add("GET", "/a{b}", h), std::invalid_argument);
  EXPECT_NO_THROW(r.Add("GET", "/{a}/{b...}", h));
}

TEST(RouterPatternTest, ReAddingReplaces) {
  Router r;
  std::string called;
  r.Add("GET", "/x", Named("first", &called));
  r.Add("GET", "/x", Named("second", &called));
  EXPECT_EQ(Which(r, "GET", "/x"), "");
  EXPECT_EQ(called, "second");
}

}  // namespace
}  // namespace medledger::http
