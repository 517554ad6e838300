// Payload decoders, the publication document, the comparison and the
// manifestation's time (payload.h, compare.h, schema.h).
#include "trials/payload.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "state/module.h"
#include "trials/compare.h"
#include "trials/schema.h"

namespace medledger::trials {
namespace {

using nlohmann::json;

std::vector<Objective> Objs(std::initializer_list<std::pair<const char*, const char*>> l) {
  std::vector<Objective> out;
  for (auto& [n, t] : l) out.push_back({n, t});
  return out;
}

std::vector<std::string> Names(const std::vector<Flag>& f) {
  std::vector<std::string> out;
  for (const auto& x : f) out.push_back(x.flag + ":" + x.objective);
  return out;
}

TEST(CompareTest, MissingDemotedAndAddedPrimaries) {
  auto reg = Objs({{"Overall survival", "primary"}, {"PFS", "primary"}, {"QoL", "secondary"}});
  EXPECT_TRUE(CompareObjectives(reg, reg).empty());
  EXPECT_TRUE(CompareObjectives(reg, Objs({{"overall   Survival ", "primary"}, {"pfs", "primary"}})).empty())
      << "names compare case- and space-insensitively; secondaries may be left out";
  EXPECT_EQ(Names(CompareObjectives(reg, Objs({{"Overall survival", "primary"}}))),
            std::vector<std::string>{"missing_primary:PFS"});
  EXPECT_EQ(Names(CompareObjectives(reg, Objs({{"Overall survival", "secondary"}, {"PFS", "primary"}}))),
            std::vector<std::string>{"demoted_primary:Overall survival"});
  auto f = CompareObjectives(reg, Objs({{"Overall survival", "primary"}, {"PFS", "primary"}, {"QoL", "primary"},
                                        {"Response", "primary"}}));
  EXPECT_EQ(Names(f), (std::vector<std::string>{"added_primary:QoL", "added_primary:Response"}));
  EXPECT_EQ(f[0].registered_type, "secondary");
  EXPECT_EQ(FlagJson(f[1])["registered_type"], "none");
  EXPECT_FALSE(SameObjectives(reg, Objs({{"Overall survival", "primary"}})));
}

TEST(PayloadTest, RefusesBadFields) {
  const std::string h(64, 'a');
  json ok = {{"study_id", std::string(32, '1')},
             {"protocol_sha256", h},
             {"plan_definition", "PlanDefinition/x"},
             {"objectives", {{{"name", "A"}, {"type", "primary"}}}},
             {"sites", {"b", "a"}}};
  StudyDef d = DecodeRegister(ok);
  EXPECT_EQ(d.sites, (std::vector<std::string>{"a", "b"}));
  auto bad = [&](json p) {
    try {
      DecodeRegister(p);
      return false;
    } catch (const state::PayloadError& e) {
      return e.verdict.reason == model::Reject::kInvalidPayload;
    }
  };
  json p = ok;
  p["protocol_sha256"] = std::string(64, 'A');
  EXPECT_TRUE(bad(p)) << "upper-case hex";
  p = ok;
  p["objectives"] = {{{"name", "A"}, {"type", "primary"}}, {{"name", " a"}, {"type", "secondary"}}};
  EXPECT_TRUE(bad(p)) << "one name twice";
  p = ok;
  p["objectives"] = {{{"name", "A\n"}, {"type", "primary"}}};
  EXPECT_TRUE(bad(p)) << "control characters";
  p = ok;
  p["objectives"] = {{{"name", "A"}, {"type", "main"}}};
  EXPECT_TRUE(bad(p));
  p = ok;
  p["sites"] = {"a", "a"};
  EXPECT_TRUE(bad(p));
  p = ok;
  p["sites"] = json::array();
  EXPECT_TRUE(bad(p));
  EXPECT_TRUE(bad(json::array()));
  EXPECT_THROW(DecodeAmend(ok), state::PayloadError) << "an amendment names its version and reason";
  json s = {{"record", h}, {"record_sha256", h}, {"printed_name", "   "}, {"meaning", "approval"}, {"signed_at", 1}};
  EXPECT_THROW(DecodeSign(s), state::PayloadError) << "a blank printed name";
  s["printed_name"] = "Dr Zoë Ng";
  EXPECT_EQ(DecodeSign(s).printed_name, "Dr Zoë Ng");
}

TEST(PayloadTest, PublicationDocument) {
  auto d = ParsePublicationDocument(R"({"study_id": "0123456789abcdef", "title": "t",
    "objectives": [{"name": "OS", "type": "primary", "result": {"hr": "0.8"}}], "uri": "doi:10.1/x"})");
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->objectives.size(), 1u);
  EXPECT_EQ(d->uri, "doi:10.1/x");
  EXPECT_FALSE(ParsePublicationDocument("[]").ok());
  EXPECT_FALSE(ParsePublicationDocument(R"({"study_id": "x", "objectives": []})").ok());
  EXPECT_FALSE(ParsePublicationDocument("{").ok());
}

TEST(SchemaTest, UtcTimeAndManifestation) {
  EXPECT_EQ(FormatUtc(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(FormatUtc(1709251200123), "2024-03-01T00:00:00.123Z");
  EXPECT_EQ(FormatUtc(951782400000), "2000-02-29T00:00:00.000Z");
  EXPECT_EQ(FormatUtc(-1), "1969-12-31T23:59:59.999Z");
  EXPECT_EQ(Manifestation("Dr A", "review", 0), "Dr A | review | 1970-01-01T00:00:00.000Z");
}

}  // namespace
}  // namespace medledger::trials
