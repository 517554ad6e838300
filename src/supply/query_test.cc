// Event queries for GET /epcis/events (docs/SUPPLY.md, "Event indexes"), and
// the determinism guard: a fixed chain gives a fixed state root.
#include "supply/events.h"
#include "supply/schema.h"
#include "supply/test_util.h"

namespace medledger::supply::test {
namespace {

class Query : public SupplyTest {
 protected:
  void SetUp() override {
    SupplyTest::SetUp();
    for (int i = 0; i < 5; ++i) packs.push_back(Sgtin(gtin, "Q" + std::to_string(i)));
    Capture(mfr, json::array({ev.Commission(packs, mfr_gln, "LOT1", "2030-12-31"), ev.Aggregate(box, packs, mfr_gln),
                              ev.Ship({box}, mfr_gln, dist_gln)}));
    Capture(dist, json::array({ev.Receive({box}, dist_gln), ev.Aggregate(box, {}, dist_gln, "DELETE"),
                               ev.Ship({packs[0]}, dist_gln, pharm_gln)}));
    Capture(pharm, json::array({ev.Receive({packs[0]}, pharm_gln), ev.Dispense({packs[0]}, pharm_gln)}));
  }
  std::vector<std::string> Steps(const EventQuery& q, size_t per_page = 100) {
    std::vector<std::string> out;
    std::string token;
    do {
      auto page = QueryEvents(c.state, q, token, per_page);
      EXPECT_TRUE(page.ok());
      if (!page.ok()) break;
      EXPECT_LE(page->events.size(), per_page);
      for (const auto& e : page->events) out.push_back(e.facts.biz_step);
      token = page->next_page_token;
    } while (!token.empty());
    return out;
  }
  std::vector<std::string> packs;
  const std::string box = Sscc(kMfrPrefix, "5");
};

TEST_F(Query, EachIndexAndPagingInLedgerOrder) {
  EventQuery all;
  const std::vector<std::string> every = {"commissioning", "packing",  "shipping",  "receiving",
                                          "unpacking",     "shipping", "receiving", "dispensing"};
  EXPECT_EQ(Steps(all), every);
  EXPECT_EQ(Steps(all, 3), every) << "pages of 3 give the same sequence";
  EventQuery q;
  q.match_epc = {packs[0]};
  EXPECT_EQ(Steps(q, 2),
            (std::vector<std::string>{"commissioning", "packing", "unpacking", "shipping", "receiving", "dispensing"}));
  q = {};
  q.match_epc = {box};
  EXPECT_EQ(Steps(q), (std::vector<std::string>{"shipping", "receiving"})) << "MATCH_epc does not match parentID";
  q = {};
  q.match_any_epc = {box};
  EXPECT_EQ(Steps(q), (std::vector<std::string>{"packing", "shipping", "receiving", "unpacking"}));
  q = {};
  q.biz_steps = {"shipping", "receiving"};
  EXPECT_EQ(Steps(q, 1), (std::vector<std::string>{"shipping", "receiving", "shipping", "receiving"}));
  q = {};
  q.dispositions = {"dispensed"};
  EXPECT_EQ(Steps(q), std::vector<std::string>{"dispensing"});
  q = {};
  q.biz_locations = {Sgln(dist_gln)};
  EXPECT_EQ(Steps(q), (std::vector<std::string>{"receiving", "unpacking", "shipping"}));
  q.biz_steps = {"shipping"};
  EXPECT_EQ(Steps(q), std::vector<std::string>{"shipping"});
  q = {};
  q.read_points = {Sgln(pharm_gln)};
  EXPECT_EQ(Steps(q), (std::vector<std::string>{"receiving", "dispensing"}));
  q = {};
  q.lots = {"LOT1"};
  EXPECT_EQ(Steps(q), std::vector<std::string>{"commissioning"});
  q.lots = {"LOT2"};
  EXPECT_TRUE(Steps(q).empty());
  q = {};
  q.ge_expiry = "2030-01-01";
  EXPECT_EQ(Steps(q), std::vector<std::string>{"commissioning"});
  q = {};
  q.match_epc_class = {"https://id.gs1.org/01/" + gtin + "/10/LOT1"};
  EXPECT_TRUE(Steps(q).empty());
  q = {};
  q.event_types = {"AggregationEvent"};
  EXPECT_EQ(Steps(q), (std::vector<std::string>{"packing", "unpacking"}));

  // Times: the third event onwards, before the seventh.
  auto third = QueryEvents(c.state, all, "2", 1)->events[0].facts.event_time_ms;
  auto seventh = QueryEvents(c.state, all, "6", 1)->events[0].facts.event_time_ms;
  q = {};
  q.ge_event_time_ms = third;
  q.lt_event_time_ms = seventh;
  EXPECT_EQ(Steps(q, 2), (std::vector<std::string>{"shipping", "receiving", "unpacking", "shipping"}));
  q = {};
  q.lt_event_time_ms = third;
  EXPECT_EQ(Steps(q), (std::vector<std::string>{"commissioning", "packing"}));

  EXPECT_FALSE(QueryEvents(c.state, all, "not-a-token", 10).ok());
}

TEST_F(Query, DeterminismGuard) {
  // A recall, a case, a suspect capture, a duplicate and an error
  // declaration on top of the lifecycle above.
  ASSERT_TRUE(c.Do(mfr, tx::kProductRecall, {{"gtin", gtin}, {"lot", "LOT1"}}).ok());
  ASSERT_TRUE(c.Do(fda, tx::kProductRecallClass, {{"gtin", gtin}, {"lot", "LOT1"}, {"class", "II"}}).ok());
  json d = ev.Dispense({packs[1]}, pharm2_gln);
  ASSERT_EQ(One(pharm2, d).outcome, "suspect");
  ASSERT_EQ(One(pharm2, d).outcome, "duplicate");
  ASSERT_TRUE(c.Do(fda, tx::kProductCase, {{"gtin", gtin}, {"serial", "Q1"}, {"step", "quarantine"}}).ok());
  d["errorDeclaration"] = {{"declarationTime", "2024-03-05T00:00:00.000Z"}, {"reason", "incorrect_data"}};
  ASSERT_EQ(One(pharm2, d).outcome, "ok");
  EXPECT_EQ(ToHex(c.root), "ea45e927697b279e28fa625d19c9cedcc4a8fbd022d5e866eddc0ec9711788fc");
}

}  // namespace
}  // namespace medledger::supply::test
