#include "epcis/identifiers.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

namespace medledger::epcis {
namespace {

struct Case {
  const char* urn;
  const char* canonical;
  Scheme scheme;
  bool instance;
};

// One row per TDS scheme. Where the CBV 2.0 hash vectors show the canonical
// form (../shared/data/epcis/event-hash-vectors), the row is taken from them.
const Case kCases[] = {
    {"urn:epc:id:sgtin:0614141.812345.6789", "https://id.gs1.org/01/80614141123458/21/6789", Scheme::kSgtin, true},
    {"urn:epc:id:sgtin:0614141.107340.1", "https://id.gs1.org/01/10614141073402/21/1", Scheme::kSgtin, true},
    {"urn:epc:id:sscc:4012345.0000000111", "https://id.gs1.org/00/040123450000001112", Scheme::kSscc, true},
    {"urn:epc:id:sgln:4012345.00011.987", "https://id.gs1.org/414/4012345000115/254/987", Scheme::kSgln, true},
    {"urn:epc:id:sgln:5200001.99901.0", "https://id.gs1.org/414/5200001999012", Scheme::kSgln, true},
    {"urn:epc:id:pgln:4000001.98765", "https://id.gs1.org/417/4000001987658", Scheme::kPgln, true},
    {"urn:epc:id:grai:0614141.12345.400", "https://id.gs1.org/8003/00614141123452400", Scheme::kGrai, true},
    {"urn:epc:id:giai:0614141.12345400", "https://id.gs1.org/8004/061414112345400", Scheme::kGiai, true},
    {"urn:epc:id:gsrn:0614141.1234567890", "https://id.gs1.org/8018/061414112345678902", Scheme::kGsrn, true},
    {"urn:epc:id:gsrnp:0614141.1234567890", "https://id.gs1.org/8017/061414112345678902", Scheme::kGsrnp, true},
    {"urn:epc:id:gdti:4012345.55555.1234", "https://id.gs1.org/253/40123455555541234", Scheme::kGdti, true},
    {"urn:epc:id:cpi:0614141.5PQ7%2FZ43.12345", "https://id.gs1.org/8010/06141415PQ7%2FZ43/8011/12345", Scheme::kCpi,
     true},
    {"urn:epc:id:sgcn:4012345.67890.04711", "https://id.gs1.org/255/401234567890104711", Scheme::kSgcn, true},
    {"urn:epc:id:ginc:0614141.xyz47%2F11", "https://id.gs1.org/401/0614141xyz47%2F11", Scheme::kGinc, true},
    {"urn:epc:id:gsin:0614141.123456789", "https://id.gs1.org/402/06141411234567890", Scheme::kGsin, true},
    {"urn:epc:id:itip:4012345.012345.01.02.987", "https://id.gs1.org/8006/040123451234560102/21/987", Scheme::kItip,
     true},
    {"urn:epc:id:upui:0614141.012345.51qIgY)%3C%26Jp3*j7'SDB",
     "https://id.gs1.org/01/00614141123452/235/51qIgY%29%3C%26Jp3%2Aj7'SDB", Scheme::kUpui, true},
    {"urn:epc:class:lgtin:4054739.099914.20160711", "https://id.gs1.org/01/04054739999148/10/20160711", Scheme::kLgtin,
     false},
    {"urn:epc:idpat:sgtin:4012345.066666.*", "https://id.gs1.org/01/04012345666663", Scheme::kGtin, false},
    {"urn:epc:idpat:grai:0614141.12345.*", "https://id.gs1.org/8003/00614141123452", Scheme::kGrai, false},
};

TEST(Identifiers, EveryUrnSchemeReachesItsCanonicalDigitalLink) {
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.urn);
    auto k = ParseGs1Uri(c.urn);
    ASSERT_TRUE(k.ok()) << k.status().ToString();
    EXPECT_EQ(k->canonical, c.canonical);
    EXPECT_EQ(k->scheme, c.scheme);
    EXPECT_EQ(k->instance_level, c.instance);
    // The canonical form is a fixed point, and parses to the same key.
    auto again = ParseGs1Uri(c.canonical);
    ASSERT_TRUE(again.ok()) << again.status().ToString();
    EXPECT_EQ(again->canonical, c.canonical);
    EXPECT_EQ(again->scheme, c.scheme);
    EXPECT_EQ(again->instance_level, c.instance);
    // And back to the URN, given the prefix length the URN carried.
    auto urn = ToEpcUrn(*again, k->company_prefix.size());
    ASSERT_TRUE(urn.ok()) << urn.status().ToString();
    EXPECT_EQ(*urn, c.urn);
  }
}

TEST(Identifiers, KeyFieldsArePopulated) {
  auto sgtin = ParseGs1Uri("urn:epc:id:sgtin:0614141.812345.6789");
  ASSERT_TRUE(sgtin.ok());
  EXPECT_EQ(sgtin->gtin14, "80614141123458");
  EXPECT_EQ(sgtin->serial, "6789");
  EXPECT_EQ(sgtin->company_prefix, "0614141");
  EXPECT_EQ(sgtin->primary_ai, "01");

  auto sgln = ParseGs1Uri("urn:epc:id:sgln:4012345.00011.987");
  ASSERT_TRUE(sgln.ok());
  EXPECT_EQ(sgln->gln13, "4012345000115");
  EXPECT_EQ(sgln->extension, "987");
  auto no_ext = ParseGs1Uri("urn:epc:id:sgln:4012345.00011.0");
  ASSERT_TRUE(no_ext.ok());
  EXPECT_EQ(no_ext->extension, "");

  auto lgtin = ParseGs1Uri("urn:epc:class:lgtin:4054739.099914.20160711");
  ASSERT_TRUE(lgtin.ok());
  EXPECT_EQ(lgtin->lot, "20160711");
  EXPECT_EQ(lgtin->gtin14, "04054739999148");

  auto sscc = ParseGs1Uri("urn:epc:id:sscc:4012345.0000000111");
  ASSERT_TRUE(sscc.ok());
  EXPECT_EQ(sscc->sscc18, "040123450000001112");
  auto dl = ParseGs1Uri("https://id.gs1.org/01/80614141123458/21/6789");
  ASSERT_TRUE(dl.ok());
  EXPECT_EQ(dl->company_prefix, "");  // a Digital Link carries no prefix boundary
}

TEST(Identifiers, DigitalLinksOnAnyDomainAreCanonicalised) {
  const std::pair<const char*, const char*> kLinks[] = {
      {"https://example.com/01/09506000134352/21/abc?17=201231", "https://id.gs1.org/01/09506000134352/21/abc"},
      {"http://example.com/shop/products/01/09506000134352/21/abc#x", "https://id.gs1.org/01/09506000134352/21/abc"},
      {"https://example.com/gtin/9506000134352/ser/abc/", "https://id.gs1.org/01/09506000134352/21/abc"},
      // The lot and CPV give way to the serial; a lone lot makes a class.
      {"https://example.com/01/09506000134352/22/v1/10/L1/21/abc", "https://id.gs1.org/01/09506000134352/21/abc"},
      {"https://example.com/01/09506000134352/10/L%2F1", "https://id.gs1.org/01/09506000134352/10/L%2F1"},
      // Percent-encoding is normalised: upper-case hex, and only where needed.
      {"https://example.com/01/09506000134352/21/a%2fb%41", "https://id.gs1.org/01/09506000134352/21/a%2FbA"},
      {"https://example.com/01/09506000134352/21/x(1)", "https://id.gs1.org/01/09506000134352/21/x%281%29"},
      {"https://example.com/01/614141123452/21/1", "https://id.gs1.org/01/00614141123452/21/1"},
      {"https://example.com/sscc/040123450000001112", "https://id.gs1.org/00/040123450000001112"},
      {"https://example.com/414/4012345000115/254/987?x=1", "https://id.gs1.org/414/4012345000115/254/987"},
      {"https://example.com/417/4000001987658", "https://id.gs1.org/417/4000001987658"},
  };
  for (const auto& [in, want] : kLinks) {
    SCOPED_TRACE(in);
    auto got = CanonicalizeId(in);
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    EXPECT_EQ(*got, want);
  }
}

TEST(Identifiers, NonGs1UrisAreKeptAsGiven) {
  for (const char* uri : {"urn:epcglobal:cbv:bt:4012345123456:4711", "https://id.example.org/document1",
                          "https://example.com/voc/00/x", "https://example.com/01", "urn:uuid:1234", "http://x/gtin/ab12"}) {
    SCOPED_TRACE(uri);
    EXPECT_FALSE(IsGs1Uri(uri));
    auto got = CanonicalizeId(uri);
    ASSERT_TRUE(got.ok());
    EXPECT_EQ(*got, uri);
  }
}

void ExpectRefused(std::string_view uri, std::string_view message_part) {
  SCOPED_TRACE(std::string(uri));
  auto k = ParseGs1Uri(uri);
  ASSERT_FALSE(k.ok());
  EXPECT_EQ(k.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(k.status().message().find(message_part), std::string::npos) << k.status().message();
  // A malformed GS1 URI is an error for CanonicalizeId too, never "as given".
  EXPECT_FALSE(CanonicalizeId(uri).ok());
}

TEST(Identifiers, MalformedIdentifiersAreRefusedWithAReason) {
  ExpectRefused("https://id.gs1.org/01/80614141123459/21/6789", "gtin: check digit 9 is wrong, expected 8");
  ExpectRefused("https://id.gs1.org/00/040123450000001113", "sscc: check digit");
  ExpectRefused("https://id.gs1.org/414/4012345000116", "sgln: gln: check digit");
  ExpectRefused("https://id.gs1.org/01/0950600013435/21/a", "gtin: check digit");
  ExpectRefused("https://id.gs1.org/01/09506000134352/21/" + std::string(21, 'a'), "serial (AI 21): longer than 20");
  ExpectRefused("https://id.gs1.org/01/09506000134352/21/a%20b", "serial (AI 21): character outside the GS1 set 82");
  ExpectRefused("https://id.gs1.org/01/09506000134352/21/a%2", "truncated percent-escape");
  ExpectRefused("https://id.gs1.org/01/09506000134352/21/a/21/b", "appears twice");
  ExpectRefused("https://id.gs1.org/00/040123450000001112/21/1", "AI 21 cannot qualify AI 00");
  ExpectRefused("urn:epc:id:sgtin:0614141.81234.6789", "sgtin: company prefix and reference must total 13 digits");
  ExpectRefused("urn:epc:id:sgtin:06141.8123456.6789", "sgtin: company prefix must be 6 to 12 digits");
  ExpectRefused("urn:epc:id:sgtin:0614141.812345", "sgtin: expected 3 dot-separated components");
  ExpectRefused("urn:epc:id:sgtin:0614141.812345.", "serial (AI 21): empty");
  ExpectRefused("urn:epc:id:sgtin:0614141.812345.a/b", "reserved character must be percent-encoded");
  ExpectRefused("urn:epc:id:sgtin:0614141.812345.a%zz", "bad percent-escape");
  ExpectRefused("urn:epc:id:sscc:4012345.000000011", "sscc: company prefix and reference must total 17 digits");
  ExpectRefused("urn:epc:id:sgln:4012345.0001.0", "sgln: company prefix and reference must total 12 digits");
  ExpectRefused("urn:epc:id:cpi:0614141.abc.1", "cpi: character outside the GS1 set 39");
  ExpectRefused("urn:epc:id:cpi:0614141.ABC.x", "cpi: serial (AI 8011)");
  ExpectRefused("urn:epc:id:itip:4012345.012345.1.02.987", "itip: piece and total must be 2 digits each");
  ExpectRefused("urn:epc:id:foo:1.2.3", "epc urn: unknown scheme 'foo'");
  ExpectRefused("urn:epc:class:sgtin:0614141.812345.1", "unknown scheme 'sgtin' for a class");
  ExpectRefused("urn:epc:idpat:sgtin:0614141.812345.12", "only a pattern ending in .*");
  ExpectRefused("urn:epc:idpat:sscc:0614141.*", "for an id pattern");
  ExpectRefused("urn:epc:raw:96.x", "expected urn:epc:id:");
  EXPECT_FALSE(ParseGs1Uri("ftp://x/01/09506000134352").ok());
  EXPECT_FALSE(ParseGs1Uri("").ok());
}

TEST(Identifiers, CheckDigits) {
  EXPECT_EQ(Gs1CheckDigit("8061414112345"), '8');
  EXPECT_EQ(Gs1CheckDigit("04012345000000111"), '2');
  EXPECT_TRUE(HasValidCheckDigit("040123450000001112"));
  EXPECT_FALSE(HasValidCheckDigit("040123450000001113"));
  EXPECT_TRUE(HasValidCheckDigit("4012345000115"));
  EXPECT_FALSE(HasValidCheckDigit("7"));
  EXPECT_FALSE(HasValidCheckDigit("40123a5000115"));
  EXPECT_EQ(Gs1CheckDigit(""), '\0');
  EXPECT_EQ(Gs1CheckDigit("12x"), '\0');
  auto g = NormalizeGtin("95060001343");
  EXPECT_FALSE(g.ok());  // 11 digits is no GTIN
  auto g12 = NormalizeGtin("614141123452");
  ASSERT_TRUE(g12.ok());
  EXPECT_EQ(*g12, "00614141123452");
  auto g8 = NormalizeGtin("95060009");
  EXPECT_EQ(g8.ok(), HasValidCheckDigit("95060009"));
}

TEST(Identifiers, CompanyPrefixCandidates) {
  EXPECT_EQ(CompanyPrefixCandidates("80614141123458"),
            (std::vector<std::string>{"061414", "0614141", "06141411", "061414112", "0614141123", "06141411234",
                                      "061414112345"}));
  EXPECT_TRUE(CompanyPrefixCandidates("8061414112345").empty());
  EXPECT_TRUE(CompanyPrefixCandidates("8061414112345x").empty());
  EXPECT_EQ(GlnCompanyPrefixCandidates("4012345000115").front(), "401234");
  EXPECT_EQ(GlnCompanyPrefixCandidates("4012345000115").back(), "401234500011");
  EXPECT_EQ(GlnCompanyPrefixCandidates(std::string_view("040123450000001112").substr(1)).at(1), "4012345");
  EXPECT_TRUE(GlnCompanyPrefixCandidates("401234500011").empty());
}

TEST(Identifiers, ToEpcUrnRefusesPrefixLengthsThatDoNotFit) {
  auto k = ParseGs1Uri("https://id.gs1.org/01/80614141123458/21/6789");
  ASSERT_TRUE(k.ok());
  EXPECT_FALSE(ToEpcUrn(*k, 5).ok());
  EXPECT_FALSE(ToEpcUrn(*k, 13).ok());
  auto urn = ToEpcUrn(*k, 7);
  ASSERT_TRUE(urn.ok());
  EXPECT_EQ(*urn, "urn:epc:id:sgtin:0614141.812345.6789");
  auto urn12 = ToEpcUrn(*k, 12);
  ASSERT_TRUE(urn12.ok());
  EXPECT_EQ(*urn12, "urn:epc:id:sgtin:061414112345.8.6789");
  auto sscc = ParseGs1Uri("https://id.gs1.org/00/040123450000001112");
  ASSERT_TRUE(sscc.ok());
  EXPECT_EQ(*ToEpcUrn(*sscc, 7), "urn:epc:id:sscc:4012345.0000000111");
}

// The published CBV 2.0 hash vectors: every EPC URN in the vector documents
// must canonicalise to a Digital Link that their pre-hash strings contain.
std::filesystem::path VectorDir() {
  std::string root;
  if (const char* env = std::getenv("MEDLEDGER_SOURCE_DIR")) {
    root = env;
  } else {
    std::string here = __FILE__;
    root = here.substr(0, here.rfind("/src/epcis/"));
  }
  return std::filesystem::path(root) / ".." / "shared" / "data" / "epcis" / "event-hash-vectors";
}

std::string Slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(Identifiers, HashVectorUrnsCanonicaliseAsPublished) {
  std::filesystem::path dir = VectorDir();
  if (!std::filesystem::exists(dir)) GTEST_SKIP() << "../shared is absent";
  std::string prehashes;
  std::set<std::string> urns;
  std::regex urn_re("\"(urn:epc:(id|class|idpat):[^\"]+)\"");
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() == ".prehashes") prehashes += Slurp(entry.path());
    if (entry.path().extension() == ".jsonld") {
      std::string doc = Slurp(entry.path());
      for (std::sregex_iterator it(doc.begin(), doc.end(), urn_re), end; it != end; ++it) urns.insert((*it)[1]);
    }
  }
  ASSERT_FALSE(prehashes.empty());
  ASSERT_GT(urns.size(), 20u);
  for (const std::string& urn : urns) {
    auto dl = CanonicalizeId(urn);
    ASSERT_TRUE(dl.ok()) << urn << ": " << dl.status().ToString();
    // Each canonical form is followed in the pre-hash by the next key name
    // or the end of the line, never by more identifier characters.
    std::regex once(std::regex_replace(*dl, std::regex(R"([.?*+^$|()\[\]{}\\/])"), R"(\$&)") + "([a-zA-Z{\\n]|$)");
    EXPECT_TRUE(std::regex_search(prehashes, once)) << urn << " -> " << *dl;
  }
}

}  // namespace
}  // namespace medledger::epcis
