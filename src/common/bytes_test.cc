#include <gtest/gtest.h>

#include "common/bytes.h"

namespace medledger {
namespace {

TEST(Bytes, HexRoundTrip) {
  Bytes b = {0x00, 0xab, 0xff};
  EXPECT_EQ(ToHex(b), "00abff");
  EXPECT_EQ(*FromHex("00ABff"), b);
  EXPECT_FALSE(FromHex("abc").ok());
  EXPECT_FALSE(FromHex("zz").ok());
  // Every byte value that is not a hex digit is refused, in either nibble.
  for (int c = 0; c < 256; ++c) {
    bool digit = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    std::string hi = std::string(1, char(c)) + "0", lo = "0" + std::string(1, char(c));
    EXPECT_EQ(FromHex(hi).ok(), digit) << c;
    EXPECT_EQ(FromHex(lo).ok(), digit) << c;
  }
  std::string all;
  for (int i = 0; i < 256; ++i) all += ToHex(Bytes{uint8_t(i)});
  auto back = FromHex(all);
  ASSERT_TRUE(back.ok());
  for (int i = 0; i < 256; ++i) EXPECT_EQ((*back)[i], i);
}

TEST(Bytes, Base64RoundTrip) {
  EXPECT_EQ(Base64Encode(std::string_view("hello")), "aGVsbG8=");
  EXPECT_EQ(AsStringView(*Base64Decode("aGVsbG8=")), "hello");
  EXPECT_FALSE(Base64Decode("!!!").ok());
}

TEST(ByteReader, BoundsCheckedAndSticky) {
  Bytes b;
  ByteWriter w(&b);
  w.U16(0x0102);
  w.U64(7);
  w.Var(std::string_view("abc"));
  ByteReader r(b);
  EXPECT_EQ(r.U16(), 0x0102);
  EXPECT_EQ(r.U64(), 7u);
  EXPECT_EQ(r.VarString(10), "abc");
  EXPECT_TRUE(r.ok());
  EXPECT_TRUE(r.AtEnd());
  EXPECT_EQ(r.U32(), 0u);
  EXPECT_FALSE(r.ok());

  ByteReader r2(b);
  r2.U16();
  r2.U64();
  EXPECT_TRUE(r2.Var(2).empty());  // longer than allowed
  EXPECT_FALSE(r2.ok());
}

TEST(Status, ResultCarriesValueOrError) {
  Result<int> ok = 5;
  EXPECT_TRUE(ok.ok());
  EXPECT_EQ(*ok, 5);
  Result<int> bad = NotFound("x");
  EXPECT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().ToString(), "NOT_FOUND: x");
}

}  // namespace
}  // namespace medledger
