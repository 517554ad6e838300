#include "fhir/json.h"

#include <gtest/gtest.h>

#include <chrono>
#include <nlohmann/json.hpp>

#include "fhir/test_util.h"

namespace medledger::fhir {
namespace {

using testing::ParseData;
using testing::ReadData;

Value MustParse(std::string_view s) {
  auto r = Parse(s);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? std::move(r).value() : Value();
}

TEST(FhirJson, DecimalTextIsPreserved) {
  for (std::string_view n : {"1.50", "0.000", "1e2", "1E-22", "-0", "-1.000000000000000000E+245",
                             "1000000000000000000", "123456789012345678901234567890", "1.00"}) {
    std::string doc = "{\"value\":" + std::string(n) + "}";
    Value v = MustParse(doc);
    EXPECT_EQ(v.Get("value")->number_text(), n);
    EXPECT_EQ(Serialize(v), doc);
  }
}

TEST(FhirJson, ObservationDecimalExampleKeepsPrecision) {
  std::string text = ReadData("Observation-decimal.json");
  Value v = MustParse(text);
  std::vector<std::string> got;
  for (const Value& c : v.Get("component")->array()) got.push_back(c.Get("valueQuantity")->Get("value")->number_text());
  EXPECT_EQ(got, (std::vector<std::string>{"1.0", "1.00", "1.0", "1E-22", "1000000000000000000",
                                           "1.000000000000000000E-245", "-1.000000000000000000E+245"}));
  EXPECT_NE(Serialize(v).find("\"value\":1.00,"), std::string::npos);
}

TEST(FhirJson, RejectsMalformedNumbers) {
  for (std::string_view bad : {"01", "1.", ".5", "+1", "1e", "1e+", "-", "0x10", "NaN", "Infinity", "1.5.2"}) {
    EXPECT_FALSE(Parse(bad).ok()) << bad;
    EXPECT_FALSE(Value::Number(bad).ok()) << bad;
  }
  EXPECT_TRUE(Value::Number("-0.5e-3").ok());
}

TEST(FhirJson, RoundTripSyntheaMatchesNlohmannModuloNumbers) {
  std::vector<std::string> files(std::begin(testing::kSyntheaFiles), std::end(testing::kSyntheaFiles));
  files.push_back(testing::kPipesFile);
  files.push_back("Bundle-bundle-transaction.json");
  files.push_back("Patient-example.json");
  for (const std::string& f : files) {
    std::string text = ReadData(f);
    ASSERT_FALSE(text.empty()) << f;
    Value v = MustParse(text);
    std::string mine = Serialize(v);
    // Same document, same member order: compare through nlohmann's ordered_json,
    // which normalises numbers identically on both sides.
    auto theirs = nlohmann::ordered_json::parse(text);
    auto reparsed = nlohmann::ordered_json::parse(mine);
    EXPECT_EQ(reparsed.dump(), theirs.dump()) << f;
    EXPECT_EQ(Serialize(MustParse(mine)), mine) << f;  // idempotent
    EXPECT_LT(mine.size(), text.size()) << f;          // compact
  }
}

TEST(FhirJson, StringEscapesAndUtf8) {
  Value v = MustParse(R"(["a\"b\\c\/d\b\f\n\r\t\u0001", "Mej\u00eda", "Mejía", "\ud83d\ude00", "\u007f"])");
  EXPECT_EQ(v[0].string_value(), "a\"b\\c/d\b\f\n\r\t\x01");
  EXPECT_EQ(v[1].string_value(), "Mej\xC3\xAD" "a");
  EXPECT_EQ(v[2].string_value(), v[1].string_value());
  EXPECT_EQ(v[3].string_value(), "\xF0\x9F\x98\x80");
  EXPECT_EQ(Serialize(v), "[\"a\\\"b\\\\c/d\\b\\f\\n\\r\\t\\u0001\",\"Mejía\",\"Mejía\",\"\xF0\x9F\x98\x80\",\"\x7F\"]");
  // nlohmann agrees on the escaping.
  EXPECT_EQ(Serialize(v), nlohmann::json::parse(Serialize(v)).dump());
}

TEST(FhirJson, RejectsInvalidUtf8) {
  for (std::string bad : {std::string("\"\xC3\""), std::string("\"\xC0\xAF\""), std::string("\"\xED\xA0\x80\""),
                          std::string("\"\xF4\x90\x80\x80\""), std::string("\"\xFF\""), std::string("\"\x80\""),
                          std::string("\"\xE2\x82\""), std::string("\"\\ud800\""), std::string("\"\\udc00x\""),
                          std::string("\"\\ud800\\u0041\"")}) {
    auto r = Parse(bad);
    EXPECT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  }
  EXPECT_TRUE(Parse("\"\xF4\x8F\xBF\xBF\"").ok());  // U+10FFFF
}

TEST(FhirJson, RejectsDuplicateKeys) {
  EXPECT_FALSE(Parse(R"({"a":1,"b":2,"a":3})").ok());
  std::string many = "{";
  for (int i = 0; i < 100; ++i) many += "\"k" + std::to_string(i) + "\":1,";
  EXPECT_TRUE(Parse(many + "\"z\":1}").ok());
  auto r = Parse(many + "\"k57\":1}");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("duplicate"), std::string::npos);
  EXPECT_TRUE(Parse(R"({"a":{"a":1},"b":[{"a":1},{"a":2}]})").ok());  // same key at other levels
  EXPECT_FALSE(Parse(R"({"a":1,"\u0061":2})").ok());                   // equal once unescaped
}

TEST(FhirJson, DepthLimitWithoutStackOverflow) {
  std::string deep(10000, '[');
  deep += std::string(10000, ']');
  auto r = Parse(deep);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("too deep"), std::string::npos);
  std::string deep_obj;
  for (int i = 0; i < 10000; ++i) deep_obj += "{\"a\":";
  EXPECT_FALSE(Parse(deep_obj).ok());
  std::string ok64(64, '[');
  ok64 += std::string(64, ']');
  EXPECT_TRUE(Parse(ok64).ok());
  EXPECT_FALSE(Parse("[" + ok64 + "]").ok());
  EXPECT_TRUE(Parse("[" + ok64 + "]", ParseOptions{.max_depth = 65}).ok());
}

TEST(FhirJson, RejectsStructuralErrors) {
  for (std::string_view bad : {"", "   ", "{", "[1,]", "{\"a\":1,}", "{\"a\" 1}", "{a:1}", "[1 2]", "tru", "nul",
                               "\"abc", "\"a\x01\"", "\"\\x\"", "{} {}", "[\"\\u12\"]", "'a'"}) {
    EXPECT_FALSE(Parse(bad).ok()) << bad;
  }
  EXPECT_TRUE(Parse(" \t\r\n{ } ").ok());
}

TEST(FhirJson, LargeBodiesAreLinear) {
  // ~50 MB: a long array of objects, one object with 200k keys, one 10 MB string.
  std::string doc = "{\"entries\":[";
  const std::string item = R"({"resourceType":"Observation","valueQuantity":{"value":1.50,"unit":"g"},"note":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"},)";
  while (doc.size() < 38u << 20) doc += item;
  doc.back() = ']';
  doc += ",\"wide\":{";
  for (int i = 0; i < 200000; ++i) doc += "\"k" + std::to_string(i) + "\":" + std::to_string(i) + ",";
  doc.back() = '}';
  doc += ",\"blob\":\"" + std::string(10u << 20, 'a') + "\"}";
  ASSERT_GT(doc.size(), 50u << 20);
  auto t0 = std::chrono::steady_clock::now();
  Value v = MustParse(doc);
  std::string out = Serialize(v);
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_EQ(out, doc);
  EXPECT_EQ(v.Get("wide")->size(), 200000u);
  EXPECT_LT(secs, 20.0);
  ParseOptions small{.max_bytes = 1 << 20};
  EXPECT_EQ(Parse(doc, small).status().code(), StatusCode::kTooLarge);
}

TEST(FhirJson, Accessors) {
  Value v = MustParse(R"({"b":1,"a":[true,null],"c":"x"})");
  EXPECT_TRUE(v.is_object());
  EXPECT_TRUE(v.Get("b")->is_integer());
  EXPECT_EQ(v.Get("missing"), nullptr);
  v.Set("b", Value("two"));  // replaced in place
  v.Set("d", Value(false));  // appended
  EXPECT_TRUE(v.Remove("c"));
  EXPECT_FALSE(v.Remove("c"));
  v.Get("a")->Append(Value(int64_t{7}));
  EXPECT_EQ(Serialize(v), R"({"b":"two","a":[true,null,7],"d":false})");
  EXPECT_EQ(v.Get("a")->size(), 3u);
  EXPECT_TRUE((*v.Get("a"))[1].is_null());
  Value n;  // null becomes an object / array on first mutation
  n.Set("k", Value("v"));
  EXPECT_EQ(Serialize(n), R"({"k":"v"})");
  Value s("str");
  s.Set("k", Value(1));  // no-op on a string
  EXPECT_TRUE(s.is_string());
  EXPECT_EQ(s.Get("k"), nullptr);
  EXPECT_TRUE(s.array().empty());
  EXPECT_EQ(MustParse("[1.0]"), MustParse(" [ 1.0 ] "));
  EXPECT_FALSE(MustParse("[1.0]") == MustParse("[1]"));
}

}  // namespace
}  // namespace medledger::fhir
