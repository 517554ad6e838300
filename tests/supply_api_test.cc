// The supply-chain API and CLI (issue 15; docs/SUPPLY.md, api/epcis_api.h)
// against one real development node (tests/support/supply_node.h), whose
// admin key plays manufacturer, distributor, dispenser and regulator;
// custody is per location (GLN), so one organisation can run the whole
// chain. Here the user's path through the CLI: the full lifecycle and
// verification by fields, Digital Link and scanned element strings; suspect
// products and duplicates; recalls and expiry; investigation steps. The
// EPCIS binding itself (malformed captures, queries, the capture job):
// supply_epcis_test. The custody chain refused to an organisation outside
// it needs a second organisation: supply_network_test.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "model/tx_types.h"
#include "tests/support/supply_docs.h"
#include "tests/support/supply_node.h"

namespace medledger::test {
namespace {

using nlohmann::json;
using namespace supply_docs;
using namespace supply_node;

class SupplyApiTest : public SupplyNodeTest {};

TEST_F(SupplyApiTest, LifecycleThroughTheCliThenVerifyByFieldsLinksAndScans) {
  // The manufacturer commissions, packs a case and ships it.
  json made = Capture("made", {Commission("2024-03-01T08:00:00Z", {"S1", "S2", "S3"}, "LOT1", "2049-12-31"),
                               Pack("2024-03-01T09:00:00Z", Sscc("0000000001"), {"S1", "S2", "S3"}),
                               Ship("2024-03-01T10:00:00Z", {Sscc("0000000001")}, kFactory, kWarehouse)});
  ExpectOutcomes(made, {"ok", "ok", "ok"});
  json in_case = Verify("S1", "LOT1", "491231");
  EXPECT_EQ(in_case.value("status", ""), "verified") << in_case.dump();
  EXPECT_TRUE(Contains(in_case["flags"], "aggregated")) << in_case.dump();
  // The distributor receives it, unpacks it and ships S1 to the pharmacy.
  json moved = Capture("moved", {Receive("2024-03-02T08:00:00Z", {Sscc("0000000001")}, kWarehouse),
                                 Unpack("2024-03-02T09:00:00Z", Sscc("0000000001"), kWarehouse),
                                 Ship("2024-03-02T10:00:00Z", {Sgtin("S1")}, kWarehouse, kPharmacy)});
  ExpectOutcomes(moved, {"ok", "ok", "ok"});
  // The pharmacy receives and dispenses it.
  json sold = Capture("sold", {Receive("2024-03-03T08:00:00Z", {Sgtin("S1")}, kPharmacy),
                               Dispense("2024-03-03T12:00:00Z", {Sgtin("S1")}, kPharmacy)});
  ExpectOutcomes(sold, {"ok", "ok"});
  // One document is one transaction.
  EXPECT_EQ(made[0]["tx"], made[2]["tx"]);
  EXPECT_NE(made[0]["tx"], moved[0]["tx"]);
  // No eventID given: the hash is the eventID.
  EXPECT_EQ(sold[1]["eventID"], sold[1]["hash"]);

  // The same pack, asked four ways: the same answer.
  const std::string gs = "\x1d";
  std::vector<json> answers = {
      Verify("S1", "LOT1", "491231"),
      VerifyCode("https://pharmacy.example.org/01/" + std::string(kGtin) + "/10/LOT1/21/S1?17=491231"),
      VerifyCode("]d201" + std::string(kGtin) + "17491231" + "10LOT1" + gs + "21S1"),
      VerifyCode("(01)" + std::string(kGtin) + "(17)491231(10)LOT1(21)S1")};
  for (const json& v : answers) {
    EXPECT_EQ(v.value("status", ""), "dispensed") << v.dump();
    EXPECT_EQ(v.value("identifierMatch", false), true) << v.dump();
    EXPECT_EQ(v.value("expiry", ""), "2049-12-31") << v.dump();
    EXPECT_TRUE(Contains(v["flags"], "dispensed")) << v.dump();
    EXPECT_EQ(v["evidence"], answers[0]["evidence"]);
  }
  // The evidence: the commissioning and the dispensing.
  EXPECT_TRUE(Contains(answers[0]["evidence"], made[0].value("hash", ""))) << answers[0].dump();
  EXPECT_TRUE(Contains(answers[0]["evidence"], sold[1].value("hash", ""))) << answers[0].dump();
  // The packs still with the distributor are saleable.
  json s2 = Verify("S2", "LOT1", "491231");
  EXPECT_EQ(s2.value("status", ""), "verified") << s2.dump();
  EXPECT_FALSE(Contains(s2["flags"], "aggregated")) << s2.dump();

  // The custody chain, only when asked, shown to the manufacturer: every
  // event of S1, those of its case while it was inside.
  EXPECT_FALSE(answers[0].contains("custody")) << answers[0].dump();
  json with_custody =
      CliJson({"product", "verify", "--custody", "--gtin", kGtin, "--serial", "S1", "--lot", "LOT1", "--expiry", "491231"});
  ASSERT_TRUE(with_custody.contains("custody")) << with_custody.dump();
  const json& custody = with_custody["custody"];
  EXPECT_EQ(custody.value("manufacturer", ""), "dev");
  EXPECT_EQ(custody["parties"], json::array({"dev"}));
  json trace = CliJson({"product", "trace", "--gtin", kGtin, "--serial", "S1"});
  ASSERT_EQ(trace["events"].size(), 8u) << trace.dump();
  EXPECT_EQ(trace["events"], custody["events"]);
  std::vector<std::string> steps;
  for (const auto& e : trace["events"]) steps.push_back(e.value("bizStep", ""));
  EXPECT_EQ(steps, (std::vector<std::string>{"commissioning", "packing", "shipping", "receiving", "unpacking",
                                             "shipping", "receiving", "dispensing"}));
  EXPECT_EQ(trace["events"][2].value("via", ""), "https://id.gs1.org/00/006141410000000012") << trace.dump();
  // A lot's trace holds every pack of it.
  json lot = CliJson({"product", "trace", "--gtin", kGtin, "--lot", "LOT1"});
  EXPECT_EQ(lot["epcs"].size(), 3u) << lot.dump();

  // An identifier without its lot is no question to answer.
  CommandResult incomplete = Cli({"product", "verify", "https://example.com/01/" + std::string(kGtin) + "/21/S1"});
  EXPECT_EQ(incomplete.exit_code, 2) << incomplete.Describe();
  EXPECT_NE(incomplete.err.find("incomplete identifier"), std::string::npos) << incomplete.err;
}

TEST_F(SupplyApiTest, SuspectProductsAreRecordedAndAResentEventIsADuplicate) {
  ExpectOutcomes(
      Capture("made", {Commission("2024-03-01T08:00:00Z", {"S10", "S11", "S12", "S13"}, "LOT1", "2049-12-31"),
                       Ship("2024-03-01T10:00:00Z", {Sgtin("S10"), Sgtin("S12")}, kFactory, kPharmacy)}),
      {"ok", "ok"});
  ExpectOutcomes(Capture("received", {Receive("2024-03-02T08:00:00Z", {Sgtin("S10")}, kPharmacy)}), {"ok"});
  const std::vector<std::string> dispensing = {Dispense("2024-03-02T12:00:00Z", {Sgtin("S10")}, kPharmacy)};
  json first = Capture("dispensed", dispensing);
  ExpectOutcomes(first, {"ok"});
  const uint64_t height = Height();

  // The same dispensing sent again: recorded as a duplicate, changing nothing.
  json again = Capture("dispensed-again", dispensing);
  ExpectOutcomes(again, {"duplicate"});
  EXPECT_EQ(again[0]["hash"], first[0]["hash"]);
  EXPECT_GT(Height(), height);  // the document itself is on chain
  // Resent by a system that gives it an eventID of its own: the hash leaves
  // eventID out, so it is the same event.
  std::string with_id = dispensing[0];
  with_id.insert(1, R"("eventID":"urn:uuid:7f0e3a52-4bd4-4c6e-9a1e-3d5c1e8b2a10",)");
  json renamed = Capture("dispensed-renamed", {with_id});
  ExpectOutcomes(renamed, {"duplicate"});
  EXPECT_EQ(renamed[0].value("eventID", ""), "urn:uuid:7f0e3a52-4bd4-4c6e-9a1e-3d5c1e8b2a10");
  EXPECT_EQ(renamed[0]["hash"], first[0]["hash"]);
  json v = Verify("S10", "LOT1", "491231");
  EXPECT_EQ(v.value("status", ""), "dispensed") << v.dump();
  EXPECT_FALSE(Contains(v["flags"], "suspect")) << v.dump();

  // The same serial dispensed again, later and at another pharmacy.
  json twice = Capture("twice", {Dispense("2024-03-05T12:00:00Z", {Sgtin("S10")}, kOtherPharmacy)});
  ExpectOutcomes(twice, {"suspect"});
  EXPECT_NE(twice[0].value("reason", "").find("dispensed twice"), std::string::npos) << twice.dump();
  v = Verify("S10", "LOT1", "491231");
  EXPECT_EQ(v.value("status", ""), "suspect") << v.dump();
  EXPECT_TRUE(Contains(v["flags"], "suspect")) << v.dump();
  EXPECT_TRUE(Contains(v["evidence"], twice[0].value("hash", ""))) << v.dump();
  ASSERT_TRUE(v.contains("suspect")) << v.dump();
  EXPECT_EQ(v["suspect"][0].value("reason", ""), "dispensed twice") << v.dump();

  // A serial the manufacturer never commissioned: a counterfeit.
  json fake = Capture("fake", {Dispense("2024-03-05T13:00:00Z", {Sgtin("FAKE1")}, kOtherPharmacy)});
  ExpectOutcomes(fake, {"suspect"});
  EXPECT_EQ(fake[0].value("reason", ""), "never commissioned") << fake.dump();
  v = Verify("FAKE1", "LOT1", "491231");
  EXPECT_EQ(v.value("status", ""), "suspect") << v.dump();
  EXPECT_TRUE(Contains(v["flags"], "not_commissioned")) << v.dump();
  EXPECT_EQ(v.value("identifierMatch", true), false) << v.dump();

  // A shipment received by a party it was not shipped to.
  json wrong = Capture("wrong", {Receive("2024-03-05T14:00:00Z", {Sgtin("S12")}, kOtherPharmacy)});
  ExpectOutcomes(wrong, {"suspect"});
  EXPECT_EQ(wrong[0].value("reason", ""), "received by a party it was not shipped to") << wrong.dump();
  EXPECT_EQ(Verify("S12", "LOT1", "491231").value("status", ""), "suspect");
  // Dispensing by a party that never held the pack (it is still at the factory).
  json diverted = Capture("diverted", {Dispense("2024-03-05T15:00:00Z", {Sgtin("S11")}, kPharmacy)});
  ExpectOutcomes(diverted, {"suspect"});
  EXPECT_EQ(diverted[0].value("reason", ""), "dispensed by a non-custodian") << diverted.dump();
  v = Verify("S11", "LOT1", "491231");
  EXPECT_EQ(v.value("status", ""), "suspect") << v.dump();
  EXPECT_TRUE(Contains(v["evidence"], diverted[0].value("hash", ""))) << v.dump();

  // A serial no event names.
  v = Verify("S404", "LOT1", "491231");
  EXPECT_EQ(v.value("status", ""), "unknown") << v.dump();
  EXPECT_TRUE(v["evidence"].empty()) << v.dump();

  // The printed lot or expiry is not what was commissioned.
  v = Verify("S13", "LOT2", "491231");
  EXPECT_EQ(v.value("status", ""), "mismatch") << v.dump();
  EXPECT_TRUE(Contains(v["flags"], "lot_mismatch")) << v.dump();
  EXPECT_EQ(v.value("identifierMatch", true), false);
  v = VerifyCode("(01)" + std::string(kGtin) + "(17)491130(10)LOT1(21)S13");
  EXPECT_EQ(v.value("status", ""), "mismatch") << v.dump();
  EXPECT_TRUE(Contains(v["flags"], "expiry_mismatch")) << v.dump();
  EXPECT_EQ(Verify("S13", "LOT1", "491231").value("status", ""), "verified");
}

TEST_F(SupplyApiTest, RecalledAndExpiredPacksAreNotSaleable) {
  ExpectOutcomes(Capture("made", {Commission("2024-03-01T08:00:00Z", {"S20", "S21", "S22"}, "LOT2", "2049-12-31"),
                                  Pack("2024-03-01T09:00:00Z", Sscc("0000000002"), {"S21"}),
                                  Commission("2024-03-01T10:00:00Z", {"S23"}, "LOT3", "2049-12-31"),
                                  Commission("2019-01-01T08:00:00Z", {"OLD1"}, "LOT0", "2020-01-31")}),
                 {"ok", "ok", "ok", "ok"});
  EXPECT_EQ(Verify("S20", "LOT2", "491231").value("status", ""), "verified");

  // The manufacturer recalls the lot: every pack of it, the one in the case too.
  json recall = CliJson({"product", "recall", "--gtin", kGtin, "--lot", "LOT2", "--reason", "contamination"});
  EXPECT_EQ(recall.value("status", ""), "committed") << recall.dump();
  for (const std::string serial : {"S20", "S21"}) {
    json v = Verify(serial, "LOT2", "491231");
    EXPECT_EQ(v.value("status", ""), "recalled") << v.dump();
    EXPECT_TRUE(Contains(v["flags"], "recalled")) << v.dump();
    EXPECT_EQ(v["recall"].value("reason", ""), "contamination") << v.dump();
  }
  EXPECT_TRUE(Contains(Verify("S21", "LOT2", "491231")["flags"], "aggregated"));
  // Another lot of the same GTIN is untouched.
  EXPECT_EQ(Verify("S23", "LOT3", "491231").value("status", ""), "verified");
  // Dispensing after the recall does not make the pack saleable again.
  ExpectOutcomes(Capture("late", {Dispense("2024-03-09T12:00:00Z", {Sgtin("S22")}, kFactory)}), {"ok"});
  EXPECT_EQ(Verify("S22", "LOT2", "491231").value("status", ""), "recalled");
  // A lot is recalled once; a regulator classifies it.
  CommandResult twice = Cli({"product", "recall", "--gtin", kGtin, "--lot", "LOT2"});
  EXPECT_EQ(twice.exit_code, 5) << twice.Describe();
  CliJson({"product", "recall-class", "--gtin", kGtin, "--lot", "LOT2", "--class", "I"});
  EXPECT_EQ(Verify("S20", "LOT2", "491231")["recall"].value("class", ""), "I");

  // A pack past its expiry date (UTC, today) is expired, not verified.
  json old = Verify("OLD1", "LOT0", "200131");
  EXPECT_EQ(old.value("status", ""), "expired") << old.dump();
  EXPECT_TRUE(Contains(old["flags"], "expired")) << old.dump();
  EXPECT_EQ(old.value("identifierMatch", false), true) << old.dump();
}

TEST_F(SupplyApiTest, InvestigationStepsQuarantineThenIllegitimateWithFda3911) {
  ExpectOutcomes(Capture("made", {Commission("2024-03-01T08:00:00Z", {"S30"}, "LOT1", "2049-12-31")}), {"ok"});
  const std::vector<std::string> pack = {"--gtin", kGtin, "--serial", "S30"};
  auto step = [&](std::string name, std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"product", name};
    args.insert(args.end(), pack.begin(), pack.end());
    args.insert(args.end(), extra.begin(), extra.end());
    return Cli(args);
  };

  EXPECT_EQ(step("quarantine", {"--note", "returned-by-pharmacy"}).exit_code, 0);
  json v = Verify("S30", "LOT1", "491231");
  EXPECT_EQ(v.value("status", ""), "suspect") << v.dump();
  EXPECT_TRUE(Contains(v["flags"], "quarantined")) << v.dump();
  EXPECT_EQ(v["case"].value("step", ""), "quarantine") << v.dump();

  // The illegitimate step records the FDA 3911 notification: the CLI asks
  // for it, and the chain refuses a step without it.
  CommandResult bare = step("illegitimate");
  EXPECT_EQ(bare.exit_code, 2) << bare.Describe();
  EXPECT_NE(bare.err.find("--fda3911"), std::string::npos) << bare.err;
  auto refused =
      api_->Submit(*admin_, model::tx::kProductCase, {{"gtin", kGtin}, {"serial", "S30"}, {"step", "illegitimate"}});
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("invalid_payload"), std::string::npos) << refused.status().ToString();
  EXPECT_EQ(Verify("S30", "LOT1", "491231").value("status", ""), "suspect");

  EXPECT_EQ(step("illegitimate", {"--fda3911", "FDA3911-2024-17"}).exit_code, 0);
  v = Verify("S30", "LOT1", "491231");
  EXPECT_EQ(v.value("status", ""), "illegitimate") << v.dump();
  // Not a step allowed from there (only a regulator's close is).
  EXPECT_EQ(step("quarantine").exit_code, 5);
  // The dev admin is a regulator too: it ends the determination.
  EXPECT_EQ(step("close").exit_code, 0);
  v = Verify("S30", "LOT1", "491231");
  EXPECT_EQ(v.value("status", ""), "verified") << v.dump();
  EXPECT_TRUE(Contains(v["flags"], "illegitimate_closed")) << v.dump();

  // A pack no event names has no case.
  EXPECT_EQ(Cli({"product", "quarantine", "--gtin", kGtin, "--serial", "NOPE"}).exit_code, 1);
}

}  // namespace
}  // namespace medledger::test
