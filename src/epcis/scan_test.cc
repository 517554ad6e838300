#include "epcis/scan.h"

#include <gtest/gtest.h>

namespace medledger::epcis {
namespace {

constexpr int kYear = 2025;
const std::string kGs(1, '\x1d');

ProductIdentifier MustParse(std::string_view s, int year = kYear) {
  auto r = ParseScannedIdentifier(s, year);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? *r : ProductIdentifier{};
}

void ExpectPack(const ProductIdentifier& p, std::string_view expiry = "2026-12-31") {
  EXPECT_EQ(p.gtin14, "00361414123458");
  EXPECT_EQ(p.serial, "SN12345");
  EXPECT_EQ(p.lot, "LOT9");
  EXPECT_EQ(p.expiry, expiry);
}

TEST(Scan, ElementStringWithAndWithoutSymbologyIdentifier) {
  // 01 and 17 have predefined lengths; 10 and 21 end at a GS or the end.
  ExpectPack(MustParse("]d2" "0100361414123458" "17261231" "10LOT9" + kGs + "21SN12345"));
  ExpectPack(MustParse("0100361414123458" "17261231" "10LOT9" + kGs + "21SN12345"));
  // Any order; a leading FNC1 (GS) and a trailing GS are tolerated.
  ExpectPack(MustParse(kGs + "21SN12345" + kGs + "10LOT9" + kGs + "17261231" "0100361414123458" + kGs));
  ExpectPack(MustParse("]d2" "0100361414123458" "17261231" "10LOT9" + kGs + "21SN12345\r\n"));  // keyboard wedge
  ExpectPack(MustParse("]Q3" "21SN12345" + kGs + "0100361414123458" "10LOT9" + kGs + "17261231"));
}

TEST(Scan, OtherAisAreSkippedByTheirLength) {
  // (11) production date: predefined length 6; (240) variable, needs a GS;
  // (7003) fixed length but not predefined, so it too ends at a GS.
  ExpectPack(MustParse("]d2" "11250101" "0100361414123458" "240ADDL" + kGs + "70032501011200" + kGs +
                       "17261231" "10LOT9" + kGs + "21SN12345"));
  // (3103) net weight, 4-digit AI with a predefined 6-digit value.
  ExpectPack(MustParse("3103000150" "0100361414123458" "17261231" "10LOT9" + kGs + "21SN12345"));
}

TEST(Scan, ParenthesisedHumanReadableForm) {
  ExpectPack(MustParse("(01)00361414123458(17)261231(10)LOT9(21)SN12345"));
  ExpectPack(MustParse("(01) 00361414123458 (21) SN12345 (10) LOT9 (17) 261231"));
  // A value may hold a parenthesis; only "(digits)" opens an element.
  auto p = MustParse("(01)00361414123458(17)261231(10)L(x)9(21)SN12345");
  EXPECT_EQ(p.lot, "L(x)9");
}

TEST(Scan, DigitalLinkOnAnyDomain) {
  ExpectPack(MustParse("https://pharma.example.com/01/00361414123458/10/LOT9/21/SN12345?17=261231"));
  ExpectPack(MustParse("http://example.org/dl/gtin/00361414123458/lot/LOT9/ser/SN12345?foo=1&17=261231"));
  ExpectPack(MustParse("https://id.gs1.org/01/361414123458/10/LOT9/21/SN12345?17=261231"));  // GTIN-12 padded
  auto p = MustParse("https://x.example/01/00361414123458/10/L%2F9/21/SN12345?17=261200");
  EXPECT_EQ(p.lot, "L/9");
}

TEST(Scan, ExpiryDayZeroIsTheLastDayOfTheMonth) {
  auto d = [](std::string_view s, int year = kYear) {
    auto r = ExpandGs1Date(s, year);
    return r.ok() ? *r : r.status().message();
  };
  EXPECT_EQ(d("261200"), "2026-12-31");
  EXPECT_EQ(d("260400"), "2026-04-30");
  EXPECT_EQ(d("280200"), "2028-02-29");  // leap year
  EXPECT_EQ(d("270200"), "2027-02-28");
  EXPECT_EQ(d("000200", 2040), "2000-02-29");  // 2000 is a leap year
  EXPECT_EQ(d("000200", 2050), "2100-02-28");  // 2100 is not
  EXPECT_EQ(d("260229"), "date (YYMMDD): day is past the end of the month");
  EXPECT_EQ(d("261301"), "date (YYMMDD): month must be 01 to 12");
  EXPECT_EQ(d("260001"), "date (YYMMDD): month must be 01 to 12");
  EXPECT_EQ(d("26123"), "date (YYMMDD) must be 6 digits");
  EXPECT_EQ(d("2612a1"), "date (YYMMDD) must be 6 digits");
  ExpectPack(MustParse("(01)00361414123458(17)261200(10)LOT9(21)SN12345"), "2026-12-31");
}

TEST(Scan, CenturyFollowsTheSlidingWindow) {
  auto year_of = [](std::string_view yy, int current) {
    auto r = ExpandGs1Date(std::string(yy) + "0101", current);
    return r.ok() ? std::stoi(r->substr(0, 4)) : -1;
  };
  // In 2025: up to 50 years ahead (2075), from 49 back (1976).
  EXPECT_EQ(year_of("25", 2025), 2025);
  EXPECT_EQ(year_of("75", 2025), 2075);
  EXPECT_EQ(year_of("76", 2025), 1976);
  EXPECT_EQ(year_of("99", 2025), 1999);
  EXPECT_EQ(year_of("00", 2025), 2000);
  // Near a century's end the window reaches into the next one.
  EXPECT_EQ(year_of("10", 2080), 2110);   // 10 - 80 = -70: next century
  EXPECT_EQ(year_of("30", 2080), 2130);   // -50: next century
  EXPECT_EQ(year_of("31", 2080), 2031);   // -49: this century
  EXPECT_EQ(year_of("99", 2000), 1999);   // 99: previous century
  EXPECT_EQ(year_of("50", 2000), 2050);   // 50: this century
  EXPECT_EQ(year_of("51", 2000), 1951);   // 51: previous century
}

void ExpectInvalid(std::string_view s, std::string_view message) {
  SCOPED_TRACE(std::string(s));
  auto r = ParseScannedIdentifier(s, kYear);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(), message);
}

TEST(Scan, MissingLotOrExpiryIsAnIncompleteIdentifier) {
  ExpectInvalid("]d2" "0100361414123458" "21SN12345", "incomplete identifier");
  ExpectInvalid("]d2" "0100361414123458" "17261231" "21SN12345", "incomplete identifier");
  ExpectInvalid("(01)00361414123458(10)LOT9(21)SN12345", "incomplete identifier");
  ExpectInvalid("(01)00361414123458(17)261231(10)LOT9", "incomplete identifier");
  ExpectInvalid("https://example.com/01/00361414123458/21/SN12345?17=261231", "incomplete identifier");
  ExpectInvalid("https://example.com/01/00361414123458/10/LOT9/21/SN12345", "incomplete identifier");
  EXPECT_EQ(std::string(kIncompleteIdentifier), "incomplete identifier");
}

TEST(Scan, MalformedInputIsRefusedWithAReason) {
  ExpectInvalid("]d2" "0100361414123453" "17261231" "10LOT9" + kGs + "21SN1",
                "gtin: check digit 3 is wrong, expected 8");
  ExpectInvalid("]d2" "01003614141234", "element string: AI (01) is cut short");
  ExpectInvalid("]d2" "0100361414123458" "1726123" + kGs + "10LOT9", "element string: AI (17) is cut short");
  ExpectInvalid("]d2" "0100361414123458" "17261331" "10LOT9" + kGs + "21SN1", "date (YYMMDD): month must be 01 to 12");
  ExpectInvalid("]d2" "0100361414123458" "17261231" "10" + std::string(21, 'L') + kGs + "21SN1",
                "lot (AI 10) is longer than 20 characters");
  ExpectInvalid("]d2" "0100361414123458" "17261231" "10LOT9" + kGs + "21S N1",
                "serial (AI 21) has a character outside the GS1 set 82");
  ExpectInvalid("]d2" "0100361414123458" "17261231" "10" + kGs + "21SN1", "lot (AI 10) is empty");
  ExpectInvalid("]d2" "0100361414123458" "0100361414123465", "AI (01) appears twice with different values");
  ExpectInvalid("]d2" "05123", "element string: unknown AI at offset 0");
  ExpectInvalid("]d2" "x1", "element string: expected an AI at offset 0");
  ExpectInvalid("]d2", "element string is empty");
  ExpectInvalid("(1)00361414123458", "element string: expected '(AI)' at offset 0");
  ExpectInvalid("https://example.com/00/040123450000001112?17=261231",
                "digital link: a product identifier needs a GTIN (AI 01), got AI 00");
  ExpectInvalid("https://example.com/about", "digital link: no GS1 primary key in the path");
  // The same AI repeated with the same value is harmless.
  ExpectPack(MustParse("0100361414123458" "0100361414123458" "17261231" "10LOT9" + kGs + "21SN12345"));
}

}  // namespace
}  // namespace medledger::epcis
