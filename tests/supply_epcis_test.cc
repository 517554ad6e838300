// The GS1 EPCIS 2.0 REST binding (issue 15; docs/SUPPLY.md,
// api/epcis_api.h) of one real development node
// (tests/support/supply_node.h), in raw signed HTTP for status codes and
// headers, and the CLI for the user's path: malformed captures refused whole
// with RFC 7807 problems (nothing applied), GET /epcis/events with the
// standard parameters, paging and GS1-EPC-Format, the capture job and
// OPTIONS.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "http/client.h"
#include "http/url.h"
#include "tests/support/supply_docs.h"
#include "tests/support/supply_node.h"

namespace medledger::test {
namespace {

using nlohmann::json;
using namespace supply_docs;
using namespace supply_node;

class SupplyEpcisTest : public SupplyNodeTest {};

TEST_F(SupplyEpcisTest, MalformedCapturesGetAProblemAndNothingIsApplied) {
  const std::string good = Commission("2024-03-01T08:00:00Z", {"BAD1"}, "LOT1", "2049-12-31");
  auto with_good = [&](const std::string& bad) { return Document({good, bad}); };
  const uint64_t height = Height();

  // Bad URI, wrong types, a missing field, an unknown bare-word bizStep.
  const std::string ship = Ship("2024-03-01T10:00:00Z", {Sgtin("BAD1")}, kFactory, kWarehouse);
  auto replace = [](std::string s, const std::string& from, const std::string& to) {
    size_t at = s.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    return at == std::string::npos ? s : s.replace(at, from.size(), to);
  };
  struct Case {
    std::string name, event, detail;
  };
  std::vector<Case> cases = {
      {"bad uri", replace(ship, Quote(Sgtin("BAD1")), "\"not a uri\""), "epcisBody.eventList[1].epcList[0]"},
      {"epcList a string", replace(ship, List({Sgtin("BAD1")}), Quote(Sgtin("BAD1"))),
       "epcisBody.eventList[1].epcList"},
      {"eventTime a number", replace(ship, "\"2024-03-01T10:00:00Z\"", "20240301"), "epcisBody.eventList[1].eventTime"},
      {"no eventTime", replace(ship, "\"eventTime\":\"2024-03-01T10:00:00Z\",", ""),
       "epcisBody.eventList[1].eventTime: required"},
      {"unknown bizStep", replace(ship, "\"shipping\"", "\"shiping\""), "unknown bizStep 'shiping'"},
  };
  for (const auto& c : cases) {
    auto r = PostCapture(with_good(c.event));
    EXPECT_TRUE(IsProblem(r, 400, "ValidationException", c.detail)) << c.name;
  }
  // Through the CLI: refused, exit 2, the reason on stderr.
  CommandResult cli = Cli({"epcis", "capture", WriteFile("typo.json", with_good(cases.back().event))});
  EXPECT_EQ(cli.exit_code, 2) << cli.Describe();
  EXPECT_NE(cli.err.find("unknown bizStep 'shiping'"), std::string::npos) << cli.err;
  EXPECT_TRUE(cli.out.empty()) << cli.out;

  // Too large for one transaction: 413 with the limits.
  std::vector<std::string> many;
  for (int i = 0; Document(many).size() <= kMaxCaptureBytes; ++i)
    many.push_back(Commission("2024-03-01T08:00:00Z", {"BIG" + std::to_string(i)}, "LOT1", "2049-12-31"));
  ASSERT_LT(many.size(), 500u);  // the byte limit binds, not the event count
  auto big = PostCapture(Document(many));
  EXPECT_TRUE(IsProblem(big, 413, "CaptureLimitExceededException", "one capture holds at most 61440"));
  EXPECT_EQ(big.Header("GS1-EPCIS-Capture-Limit").value_or(""), "500");
  EXPECT_EQ(big.Header("GS1-EPCIS-Capture-File-Size-Limit").value_or(""), "61440");

  // EPCIS 1.2 XML is not taken.
  const std::string xml =
      R"(<?xml version="1.0" encoding="UTF-8"?>
<epcis:EPCISDocument xmlns:epcis="urn:epcglobal:epcis:xsd:1" schemaVersion="1.2" creationDate="2024-03-01T07:00:00Z">
  <EPCISBody><EventList><ObjectEvent>
    <eventTime>2024-03-01T08:00:00Z</eventTime><eventTimeZoneOffset>+00:00</eventTimeZoneOffset>
    <epcList><epc>urn:epc:id:sgtin:0614141.812345.BAD1</epc></epcList>
    <action>ADD</action><bizStep>urn:epcglobal:cbv:bizstep:commissioning</bizStep>
  </ObjectEvent></EventList></EPCISBody>
</epcis:EPCISDocument>
)";
  EXPECT_TRUE(IsProblem(PostCapture(xml, {}, "application/xml"), 415, "ValidationException", "EPCIS 1.2 XML"));
  CommandResult cli_xml = Cli({"epcis", "capture", WriteFile("old.xml", xml)});
  EXPECT_NE(cli_xml.exit_code, 0) << cli_xml.Describe();
  EXPECT_NE(cli_xml.err.find("EPCIS 1.2 XML"), std::string::npos) << cli_xml.err;
  // An EPCIS version this binding is not.
  EXPECT_TRUE(IsProblem(PostCapture(with_good(ship), {{"GS1-EPCIS-Version", "1.2"}}), 400, "ValidationException",
                        "GS1-EPCIS-Version"));

  // Unsigned: 401. Signed by a registered key without a supply role: 403.
  http::Client raw(node_->url(), std::chrono::seconds(60));
  auto unsigned_r = raw.Post("/epcis/capture", with_good(ship), "application/ld+json");
  ASSERT_TRUE(unsigned_r.ok());
  EXPECT_TRUE(IsProblem(*unsigned_r, 401, "SecurityException", "not signed"));
  auto [doctor, doctor_file] = Register("doctor", {"practitioner"});
  const uint64_t after_register = Height();
  ASSERT_GT(after_register, height);
  auto denied = Signed(doctor, "POST", "/epcis/capture", with_good(ship), {{"Content-Type", "application/ld+json"}});
  EXPECT_TRUE(IsProblem(denied, 403, "SecurityException", "supply-chain role"));
  CommandResult cli_denied = Cli({"epcis", "capture", WriteFile("ok.json", with_good(ship))}, doctor_file);
  EXPECT_EQ(cli_denied.exit_code, 3) << cli_denied.Describe();

  // Nothing of any of them reached the chain: no block since the key's
  // registration, and no event names the pack.
  EXPECT_EQ(Height(), after_register);
  for (const std::string& epc : {Sgtin("BAD1"), Sgtin("BIG0")}) {
    auto q = Query("MATCH_epc=" + http::PercentEncode(epc));
    ASSERT_EQ(q.status, 200) << q.body;
    EXPECT_TRUE(EventList(q.body).empty()) << q.body;
  }
  EXPECT_EQ(Verify("BAD1", "LOT1", "491231").value("status", ""), "unknown");
  // The same document made valid is accepted.
  ExpectOutcomes(Capture("fixed", {good, ship}), {"ok", "ok"});
}

TEST_F(SupplyEpcisTest, QueryEventsByTheStandardParametersPagedWithLinks) {
  // Five events; the receiving names its pack by a Digital Link on another domain.
  json out = Capture("events", {Commission("2024-04-01T08:00:00Z", {"S40", "S41"}, "LOT4", "2049-12-31"),
                                Commission("2024-04-02T08:00:00Z", {"S42"}, "LOT5", "2049-12-31"),
                                Ship("2024-04-03T08:00:00Z", {Sgtin("S40")}, kFactory, kWarehouse),
                                Ship("2024-04-04T08:00:00Z", {Sgtin("S41")}, kFactory, kWarehouse),
                                Receive("2024-04-05T08:00:00Z", {PackLink("S40")}, kWarehouse)});
  ExpectOutcomes(out, {"ok", "ok", "ok", "ok", "ok"});
  auto hashes_of = [&](const json& events) {
    // The position in the capture of each event returned (its eventID is its hash).
    std::vector<int> at;
    for (const auto& e : events) {
      int k = -1;
      for (size_t i = 0; i < out.size(); ++i)
        if (out[i]["eventID"] == e.value("eventID", "")) k = int(i);
      at.push_back(k);
    }
    return at;
  };
  auto ask = [&](const std::string& q, http::HeaderList h = {}) {
    auto r = Query(q, std::move(h));
    EXPECT_EQ(r.status, 200) << q << ": " << r.body;
    EXPECT_EQ(r.Header("Content-Type").value_or(""), "application/ld+json");
    return r;
  };

  EXPECT_EQ(hashes_of(EventList(ask("EQ_bizStep=shipping").body)), (std::vector<int>{2, 3}));
  EXPECT_EQ(
      hashes_of(EventList(ask("EQ_bizStep=" + http::PercentEncode("https://ref.gs1.org/cbv/BizStep-shipping")).body)),
      (std::vector<int>{2, 3}));
  // MATCH_epc as an EPC URN and as a Digital Link: the same answer.
  auto urn = ask("MATCH_epc=" + http::PercentEncode(Sgtin("S40")));
  auto link = ask("MATCH_epc=" + http::PercentEncode(PackLink("S40")));
  EXPECT_EQ(hashes_of(EventList(urn.body)), (std::vector<int>{0, 2, 4}));
  EXPECT_EQ(urn.body, link.body);
  EXPECT_EQ(hashes_of(EventList(ask("GE_eventTime=2024-04-02T00:00:00Z&LT_eventTime=2024-04-04T00:00:00Z").body)),
            (std::vector<int>{1, 2}));
  EXPECT_EQ(hashes_of(EventList(ask("GE_eventTime=" + http::PercentEncode("2024-04-04T10:00:00+02:00")).body)),
            (std::vector<int>{3, 4}));
  EXPECT_EQ(hashes_of(EventList(ask(http::PercentEncode("EQ_ILMD_cbvmda:lotNumber") + "=LOT4").body)),
            (std::vector<int>{0}));

  // Pages of two, then two, then one: a Link to the next page on all but the last.
  std::vector<int> seen;
  std::string target = "perPage=2";
  int pages = 0;
  for (; pages < 10; ++pages) {
    auto r = ask(target);
    json events = EventList(r.body);
    auto at = hashes_of(events);
    seen.insert(seen.end(), at.begin(), at.end());
    auto next = r.Header("Link");
    if (seen.size() < 5) {
      ASSERT_TRUE(next.has_value()) << "page " << pages;
      EXPECT_NE(next->find("rel=\"next\""), std::string::npos) << *next;
      EXPECT_NE(next->find("perPage=2"), std::string::npos) << *next;
      size_t tok = next->find("nextPageToken=");
      ASSERT_NE(tok, std::string::npos) << *next;
      EXPECT_EQ(events.size(), 2u);
      target = next->substr(next->find('?') + 1, next->find('>') - next->find('?') - 1);
    } else {
      EXPECT_TRUE(!next || next->find("rel=\"next\"") == std::string::npos) << *next;
      break;
    }
  }
  EXPECT_EQ(pages, 2);
  EXPECT_EQ(seen, (std::vector<int>{0, 1, 2, 3, 4}));
  // The CLI follows the pages into one document.
  json all = CliJson({"epcis", "events", "--all", "perPage=2"});
  EXPECT_EQ(all["epcisBody"]["queryResults"]["resultsBody"]["eventList"].size(), 5u) << all.dump();

  // Bad parameters: 400 QueryParameterException.
  EXPECT_TRUE(IsProblem(Query("EQ_bizstep=shipping"), 400, "QueryParameterException", "EQ_bizstep"));
  EXPECT_TRUE(IsProblem(Query("EQ_bizStep=shiping"), 400, "QueryParameterException", "EQ_bizStep"));
  EXPECT_TRUE(IsProblem(Query("perPage=0"), 400, "QueryParameterException", "perPage"));
  EXPECT_TRUE(IsProblem(Query("nextPageToken=zzz"), 400, "QueryParameterException", ""));
  CommandResult cli_bad = Cli({"epcis", "events", "NO_such=1"});
  EXPECT_EQ(cli_bad.exit_code, 2) << cli_bad.Describe();

  // GS1-EPC-Format: every key as a Digital Link, or as a URN (the prefix is
  // registered); without it, as captured.
  json as_link = EventList(
      ask("MATCH_epc=" + http::PercentEncode(Sgtin("S40")), {{"GS1-EPC-Format", "Always_GS1_Digital_Link"}}).body);
  json as_urn =
      EventList(ask("MATCH_epc=" + http::PercentEncode(Sgtin("S40")), {{"GS1-EPC-Format", "Always_EPC_URN"}}).body);
  json as_sent = EventList(urn.body);
  ASSERT_EQ(as_link.size(), 3u);
  ASSERT_EQ(as_urn.size(), 3u);
  const std::string canonical = "https://id.gs1.org/01/" + std::string(kGtin) + "/21/S40";
  EXPECT_EQ(as_link[0]["epcList"][0], canonical) << as_link.dump();
  EXPECT_EQ(as_link[2]["epcList"][0], canonical) << as_link.dump();
  EXPECT_EQ(as_link[2]["bizLocation"]["id"], "https://id.gs1.org/414/0860001000016") << as_link.dump();
  EXPECT_EQ(as_urn[0]["epcList"][0], Sgtin("S40")) << as_urn.dump();
  EXPECT_EQ(as_urn[2]["epcList"][0], Sgtin("S40")) << as_urn.dump();
  EXPECT_EQ(as_sent[0]["epcList"][0], Sgtin("S40"));
  EXPECT_EQ(as_sent[2]["epcList"][0], PackLink("S40"));
}

TEST_F(SupplyEpcisTest, CaptureJobAndOptionsFollowTheRestBinding) {
  auto opts = http::Client(node_->url(), std::chrono::seconds(60)).Request("OPTIONS", "/epcis/capture");
  ASSERT_TRUE(opts.ok());
  EXPECT_LT(opts->status, 300);
  EXPECT_NE(opts->Header("Allow").value_or("").find("POST"), std::string::npos);
  EXPECT_EQ(opts->Header("GS1-EPCIS-Capture-Limit").value_or(""), "500");
  EXPECT_EQ(opts->Header("GS1-EPCIS-Capture-File-Size-Limit").value_or(""), "61440");
  EXPECT_EQ(opts->Header("GS1-EPCIS-Version").value_or("").rfind("2.0", 0), 0u);

  // A document with a suspect event: recorded, and a success.
  const std::string body = Document({Commission("2024-03-01T08:00:00Z", {"S50"}, "LOT1", "2049-12-31"),
                                     Dispense("2024-03-02T08:00:00Z", {Sgtin("GHOST")}, kPharmacy)});
  auto r = PostCapture(body, {{"GS1-Capture-Error-Behaviour", "rollback"}});
  ASSERT_EQ(r.status, 202) << r.body;
  auto location = r.Header("Location");
  ASSERT_TRUE(location.has_value());
  ASSERT_EQ(location->rfind("/epcis/capture/", 0), 0u) << *location;
  const std::string id = location->substr(std::string("/epcis/capture/").size());
  EXPECT_EQ(json::parse(r.body).value("captureID", ""), id);

  json job = Job(*location);
  EXPECT_EQ(job.value("captureID", ""), id) << job.dump();
  for (const char* t : {"createdAt", "finishedAt"}) {
    std::string at = job.value(t, "");
    EXPECT_EQ(at.size(), 24u) << t << ": " << job.dump();  // 2024-03-01T08:00:00.000Z
    EXPECT_EQ(at.back(), 'Z') << t;
  }
  EXPECT_EQ(job.value("running", true), false);
  EXPECT_EQ(job.value("success", false), true) << job.dump();
  EXPECT_EQ(job.value("captureErrorBehaviour", ""), "rollback");
  EXPECT_EQ(job["errors"], json::array());
  ASSERT_EQ(job["events"].size(), 2u) << job.dump();
  EXPECT_EQ(job["events"][0].value("outcome", ""), "ok");
  EXPECT_EQ(job["events"][1].value("outcome", ""), "suspect");
  EXPECT_EQ(job["events"][1].value("reason", ""), "never commissioned");
  for (const auto& e : job["events"]) {
    EXPECT_EQ(e.value("tx", ""), json::parse(r.body).value("tx", "")) << e.dump();
    EXPECT_EQ(e.value("eventID", ""), e.value("hash", "-"));
  }
  // The offline hashes are the job's.
  CommandResult offline = RunCli({"epcis", "hash", WriteFile("job.json", body)});
  ASSERT_EQ(offline.exit_code, 0) << offline.Describe();
  json hashes = json::parse(offline.out);
  EXPECT_EQ(hashes[0]["hash"], job["events"][0]["hash"]);
  EXPECT_EQ(hashes[1]["hash"], job["events"][1]["hash"]);

  // proceed is recorded as asked; an unknown behaviour is refused.
  auto proceed = PostCapture(Document({Commission("2024-03-01T08:00:00Z", {"S51"}, "LOT1", "2049-12-31")}),
                             {{"GS1-Capture-Error-Behaviour", "proceed"}});
  ASSERT_EQ(proceed.status, 202) << proceed.body;
  EXPECT_EQ(Job(*proceed.Header("Location")).value("captureErrorBehaviour", ""), "proceed");
  EXPECT_TRUE(IsProblem(PostCapture(body, {{"GS1-Capture-Error-Behaviour", "sometimes"}}), 400, "ValidationException",
                        "GS1-Capture-Error-Behaviour"));

  // A job nobody submitted.
  EXPECT_TRUE(IsProblem(Signed(*admin_, "GET", "/epcis/capture/00112233445566778899aabbccddeeff"), 404,
                        "NoSuchResourceException", "no capture job"));
}

}  // namespace
}  // namespace medledger::test
