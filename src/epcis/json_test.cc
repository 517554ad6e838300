#include "epcis/json.h"

#include <gtest/gtest.h>

#include "epcis/datetime.h"

namespace medledger::epcis {
namespace {

TEST(EpcisJsonTest, KeepsNumberTextAndOrder) {
  auto v = ParseJson(R"({"b": 10.50, "a": [1, -0, 1.5e3, 123456789012345678901234567890], "c": "x\u00e9"})");
  ASSERT_TRUE(v.ok()) << v.status().message();
  ASSERT_EQ(v->members().size(), 3u);
  EXPECT_EQ(v->members()[0].first, "b");
  EXPECT_EQ(v->Get("b")->text(), "10.50");
  const auto& a = v->Get("a")->items();
  EXPECT_EQ(a[0].text(), "1");
  EXPECT_EQ(a[1].text(), "0");
  EXPECT_EQ(a[2].text(), "1.5e3");
  EXPECT_EQ(a[3].text(), "123456789012345678901234567890");
  EXPECT_EQ(v->Get("c")->text(), "x\xc3\xa9");
}

TEST(EpcisJsonTest, RefusesDuplicatesBadUtf8AndDepth) {
  EXPECT_EQ(ParseJson(R"({"a": 1, "b": {"c": 1, "c": 2}})").status().message(), "json: duplicate key 'c'");
  EXPECT_FALSE(ParseJson("{\"a\": \"\xff\"}").ok());
  EXPECT_FALSE(ParseJson("{\"a\": 1} x").ok());
  JsonLimits limits;
  limits.max_depth = 3;
  EXPECT_TRUE(ParseJson("[[[]]]", limits).ok());
  EXPECT_EQ(ParseJson("[[[[]]]]", limits).status().message(), "json: nested deeper than 3 levels");
}

TEST(EpcisJsonTest, SpansAreTheBytesAsWritten) {
  std::string text = R"( { "x\u0041": 1, "s": "a}\"]", "list" : [ {"k": [1, {"z": "]"}]} ,  "two", 3 ] } )";
  auto list = MemberSpan(text, {"list"});
  ASSERT_TRUE(list);
  auto items = ElementSpans(text, *list);
  ASSERT_EQ(items.size(), 3u);
  EXPECT_EQ(items[0].Of(text), R"({"k": [1, {"z": "]"}]})");
  EXPECT_EQ(items[1].Of(text), R"("two")");
  EXPECT_EQ(items[2].Of(text), "3");
  auto escaped = MemberSpan(text, {"xA"});
  ASSERT_TRUE(escaped);
  EXPECT_EQ(escaped->Of(text), "1");
  EXPECT_FALSE(MemberSpan(text, {"missing"}));
  EXPECT_FALSE(MemberSpan(text, {"s", "deeper"}));
}

TEST(EpcisJsonTest, CanonicalNumber) {
  const std::pair<const char*, const char*> cases[] = {
      {"0", "0"},         {"-0", "0"},         {"-0.000", "0"},      {"600", "600"},   {"600.0", "600"},
      {"6e2", "600"},     {"6.000E+2", "600"}, {"0.1", "0.1"},       {"0.10", "0.1"},  {"1e-3", "0.001"},
      {"-12.5e-1", "-1.25"}, {"26.50", "26.5"}, {"1.5E3", "1500"}, {"120e-2", "1.2"},
  };
  for (const auto& [in, out] : cases) {
    auto c = CanonicalNumber(in);
    ASSERT_TRUE(c.ok()) << in;
    EXPECT_EQ(*c, out) << in;
  }
  for (const char* bad : {"", "-", "01", "1.", ".5", "1e", "+1", "1e401", "1e-99999999", "0x10", "1 "})
    EXPECT_FALSE(CanonicalNumber(bad).ok()) << bad;
}

TEST(EpcisTimestampTest, UtcWithMilliseconds) {
  auto t = ParseTimestamp("2019-10-21T00:05:00-06:00");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->utc_ms, "2019-10-21T06:05:00.000Z");
  EXPECT_EQ(t->epoch_ms, 1571637900000);
  EXPECT_EQ(ParseTimestamp("2022-02-17T11:30:47.0Z")->utc_ms, "2022-02-17T11:30:47.000Z");
  EXPECT_EQ(ParseTimestamp("2023-01-18T11:04:03.1415Z")->utc_ms, "2023-01-18T11:04:03.142Z");
  EXPECT_EQ(ParseTimestamp("2023-01-18T11:04:03.1414999Z")->utc_ms, "2023-01-18T11:04:03.141Z");
  // Rounding carries across the day and the offset crosses the year.
  EXPECT_EQ(ParseTimestamp("2023-12-31T23:59:59.9999Z")->utc_ms, "2024-01-01T00:00:00.000Z");
  EXPECT_EQ(ParseTimestamp("2024-01-01T00:30:00+01:00")->utc_ms, "2023-12-31T23:30:00.000Z");
  EXPECT_EQ(ParseTimestamp("2024-02-29T12:00:00Z")->utc_ms, "2024-02-29T12:00:00.000Z");
  for (const char* bad : {"2024-02-30T12:00:00Z", "2023-02-29T12:00:00Z", "2024-01-01T12:00:00",
                          "2024-01-01 12:00:00Z", "2024-01-01T24:00:00Z", "2024-01-01T12:00:60Z",
                          "2024-01-01T12:00Z", "2024-01-01t12:00:00z", "22-07-2026", "2024-01-01T12:00:00.Z",
                          "2024-01-01T12:00:00+0100", "0000-01-01T00:00:00Z"})
    EXPECT_FALSE(ParseTimestamp(bad)) << bad;
}

TEST(EpcisTimestampTest, OffsetsAndDates) {
  for (const char* ok : {"+00:00", "-06:00", "+14:00", "-14:00", "+05:45"}) EXPECT_TRUE(IsTimeZoneOffset(ok)) << ok;
  for (const char* bad : {"Z", "+1:00", "+14:30", "+15:00", "01:00", "+01:60", "+0100"})
    EXPECT_FALSE(IsTimeZoneOffset(bad)) << bad;
  EXPECT_TRUE(IsDate("2026-06-30"));
  EXPECT_FALSE(IsDate("2026-06-31"));
  EXPECT_FALSE(IsDate("260630"));
}

}  // namespace
}  // namespace medledger::epcis
