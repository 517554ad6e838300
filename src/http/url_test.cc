#include "http/url.h"

#include <gtest/gtest.h>

namespace medledger::http {
namespace {

TEST(PercentDecodeTest, DecodesEscapesAndPlusOnlyInQueries) {
  EXPECT_EQ(PercentDecode("a%20b%2Fc+d", false).value(), "a b/c+d");
  EXPECT_EQ(PercentDecode("a%20b+d", true).value(), "a b d");
  EXPECT_EQ(PercentDecode("%e2%82%AC", false).value(), "\xe2\x82\xac");
  EXPECT_EQ(PercentDecode("", false).value(), "");
}

TEST(PercentDecodeTest, RejectsBadEscapes) {
  for (const char* bad : {"%", "%2", "abc%", "%zz", "%2g", "x%G1"}) {
    auto r = PercentDecode(bad, true);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  }
}

TEST(PercentEncodeTest, RoundTrips) {
  std::string raw = "a b/c?d=e&f%~_.-\xff";
  std::string enc = PercentEncode(raw);
  EXPECT_EQ(enc, "a%20b%2Fc%3Fd%3De%26f%25~_.-%FF");
  EXPECT_EQ(PercentDecode(enc, false).value(), raw);
}

TEST(ParseQueryTest, KeepsOrderAndDuplicates) {
  auto q = ParseQuery("a=1&b=hello%20world&&c=x+y&flag&a=2&=v").value();
  std::vector<std::pair<std::string, std::string>> want = {
      {"a", "1"}, {"b", "hello world"}, {"c", "x y"}, {"flag", ""}, {"a", "2"}, {"", "v"}};
  EXPECT_EQ(q, want);
  EXPECT_TRUE(ParseQuery("").value().empty());
  EXPECT_FALSE(ParseQuery("a=%zz").ok());
  EXPECT_FALSE(ParseQuery("%zz=1").ok());
}

TEST(ParseHostPortTest, Accepts) {
  EXPECT_EQ(ParseHostPort("127.0.0.1:8080").value(), std::make_pair(std::string("127.0.0.1"), uint16_t{8080}));
  EXPECT_EQ(ParseHostPort("node-1:1").value(), std::make_pair(std::string("node-1"), uint16_t{1}));
  EXPECT_EQ(ParseHostPort("[::1]:65535").value(), std::make_pair(std::string("::1"), uint16_t{65535}));
}

TEST(ParseHostPortTest, Rejects) {
  for (const char* bad : {"", "host", "host:", ":80", "host:0", "host:65536", "host:8o",
                          "host:-1", "::1:80", "[::1]", "[::1]80", "[]:80", "h:80 "}) {
    auto r = ParseHostPort(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << bad;
  }
}

TEST(ParseUrlTest, Accepts) {
  Url u = ParseUrl("http://127.0.0.1:8080").value();
  EXPECT_EQ(u.host, "127.0.0.1");
  EXPECT_EQ(u.port, 8080);
  EXPECT_EQ(u.path_prefix, "");

  u = ParseUrl("http://node1:9000/api/v1/").value();
  EXPECT_EQ(u.host, "node1");
  EXPECT_EQ(u.port, 9000);
  EXPECT_EQ(u.path_prefix, "/api/v1");

  u = ParseUrl("http://example.org").value();
  EXPECT_EQ(u.port, 80);
  EXPECT_EQ(ParseUrl("http://h:1/").value().path_prefix, "");

  u = ParseUrl("http://[::1]:8080/x").value();
  EXPECT_EQ(u.host, "::1");
  EXPECT_EQ(u.port, 8080);
  EXPECT_EQ(u.path_prefix, "/x");
}

TEST(ParseUrlTest, Rejects) {
  for (const char* bad : {"", "127.0.0.1:8080", "https://h:1", "http://", "http://:80",
                          "http://h:0", "http://u@h:1", "http://h:1/p?q=1", "http://h:1#f",
                          "ftp://h:1"}) {
    auto r = ParseUrl(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << bad;
  }
}

}  // namespace
}  // namespace medledger::http
