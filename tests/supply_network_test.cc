// The medicine supply chain across three organisations (issue 15;
// docs/SUPPLY.md) on a real network (`medledger network up --nodes 3`, real
// etcd, loopback only). A manufacturer at org1, granted its GS1 company
// prefix by governance (two of three organisations), a distributor at org2
// and a dispenser at org3 each capture their own events at their own node.
// Every node then gives the same verification answer for the same
// identifier; the custody chain is shown to the manufacturer and the
// parties in it and refused to an organisation outside it; and after the
// nodes stop, `medledger verify` replays each node's chain offline.
// Waits poll a condition with a bound against hangs, never a duration;
// every process is stopped by PID.
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "api/http_signature.h"
#include "cli/api_client.h"
#include "crypto/aead.h"
#include "crypto/keyfile.h"
#include "model/tx_types.h"
#include "tests/support/network.h"
#include "tests/support/supply_docs.h"
#include "tests/support/test_node.h"

namespace medledger::test {
namespace {

using nlohmann::json;
using namespace supply_docs;

// Polls `cond` until it holds, at most 120 s (a bound against hangs, not a
// criterion on speed).
template <typename F>
bool Eventually(F cond) {
  for (auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
       std::chrono::steady_clock::now() < deadline; std::this_thread::sleep_for(std::chrono::milliseconds(50)))
    if (cond()) return true;
  return cond();
}

bool Contains(const json& list, const std::string& v) {
  return list.is_array() && std::find(list.begin(), list.end(), json(v)) != list.end();
}

class SupplyNetworkTest : public ::testing::Test {
 protected:
  static constexpr int kMfr = 0, kDist = 1, kPharm = 2;  // org1, org2, org3

  void SetUp() override {
    crypto::InitCrypto();
    ASSERT_TRUE(net_.MakeDir("medledger-supply"));
    auto up = net_.Up("--nodes 3");
    ASSERT_TRUE(up.ok()) << up.status().ToString();
    ASSERT_EQ(net_.info()["nodes"].size(), 3u);
  }
  void TearDown() override { net_.TearDown(HasFailure()); }

  std::string Path(const std::string& name) const { return net_.dir() + "/" + name; }

  // `medledger ARGS --url <node i>`, expecting exit code rc.
  CommandResult Run(int i, std::vector<std::string> args, int rc = 0) {
    args.insert(args.end(), {"--url", net_.Url(i)});
    CommandResult r = RunCli(args);
    EXPECT_EQ(r.exit_code, rc) << "medledger " << json(args).dump() << ": " << r.Describe();
    return r;
  }
  json RunJson(int i, const std::vector<std::string>& args) {
    CommandResult r = Run(i, args);
    json j = json::parse(r.out, nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << r.out;
    return j.is_discarded() ? json() : j;
  }
  // Every node at least as high as node i is now.
  void SyncedWith(int i) {
    const uint64_t h = net_.Height(i);
    ASSERT_GT(h, 0u);
    ASSERT_TRUE(Eventually([&] { return net_.Height(0) >= h && net_.Height(1) >= h && net_.Height(2) >= h; }));
  }

  // A key of node i's organisation with `role`, registered by its admin there.
  std::string Register(int i, const std::string& name, const std::string& role) {
    const std::string path = Path(name + ".key");
    CommandResult k = RunCli({"keygen", "--out", path});
    EXPECT_EQ(k.exit_code, 0) << k.Describe();
    const std::string id = k.out.substr(0, k.out.find('\n'));
    RunJson(i, {"identity", "register", "--key", net_.AdminKeyFile(i), "--pubkey", id, "--role", role});
    SyncedWith(i);
    return path;
  }

  // `epcis capture` at node i; the outcomes once every node has the block.
  json Capture(int i, const std::string& key, const std::string& name, const std::vector<std::string>& events) {
    const std::string file = Path(name + ".json");
    std::ofstream(file, std::ios::binary) << Document(events);
    json out = RunJson(i, {"epcis", "capture", "--key", key, file});
    EXPECT_EQ(out.size(), events.size()) << out.dump();
    SyncedWith(i);
    return out;
  }

  // What must not depend on the node asked.
  static json Answer(const json& v) {
    json a = json::object();
    for (const char* k : {"status", "flags", "evidence", "identifierMatch", "suspect", "disposition", "recall", "case"})
      if (v.contains(k)) a[k] = v[k];
    return a;
  }

  Network net_;
};

TEST_F(SupplyNetworkTest, ThreeOrganisationsOneAnswerOnEveryNodeAndAnOfflineReplay) {
  const std::string mfr = Register(kMfr, "mfr", "manufacturer");
  const std::string dist = Register(kDist, "dist", "distributor");
  const std::string pharm = Register(kPharm, "pharm", "dispenser");

  // On a chain of several organisations a prefix needs a governance grant.
  CommandResult early = Run(kMfr, {"gs1", "register-prefix", "--key", mfr, "--prefix", kPrefix}, 3);
  EXPECT_NE(early.err.find("role_not_permitted"), std::string::npos) << early.err;
  const std::string proposal = ToHex(crypto::RandomArray<16>());
  json grant = {{"proposal_id", proposal}, {"action", "gs1_prefix"}, {"org_id", "org1"}, {"prefix", kPrefix}};
  RunJson(kMfr,
          {"tx", "send", "--key", net_.AdminKeyFile(kMfr), "--type", "governance.propose", "--payload", grant.dump()});
  SyncedWith(kMfr);
  json approved = RunJson(kDist, {"governance", "approve", proposal, "--key", net_.AdminKeyFile(kDist)});
  EXPECT_EQ(approved.value("proposal_status", ""), "executed") << approved.dump();
  SyncedWith(kDist);
  json reg = RunJson(kMfr, {"gs1", "register-prefix", "--key", mfr, "--prefix", kPrefix});
  EXPECT_EQ(reg.value("status", ""), "committed") << reg.dump();
  SyncedWith(kMfr);
  // A party without the manufacturer role cannot bind a prefix.
  Run(kDist, {"gs1", "register-prefix", "--key", dist, "--prefix", "0860001"}, 3);

  // The manufacturer commissions, packs and ships a case to the distributor.
  json made = Capture(kMfr, mfr, "made",
                      {Commission("2024-03-01T08:00:00Z", {"S1", "S2", "S3"}, "LOT1", "2049-12-31"),
                       Pack("2024-03-01T09:00:00Z", Sscc("0000000001"), {"S1", "S2", "S3"}),
                       Ship("2024-03-01T10:00:00Z", {Sscc("0000000001")}, kFactory, kWarehouse)});
  // The distributor receives it, unpacks it and ships S1 on.
  json moved = Capture(kDist, dist, "moved",
                       {Receive("2024-03-02T08:00:00Z", {Sscc("0000000001")}, kWarehouse),
                        Unpack("2024-03-02T09:00:00Z", Sscc("0000000001"), kWarehouse),
                        Ship("2024-03-02T10:00:00Z", {Sgtin("S1")}, kWarehouse, kPharmacy)});
  // The pharmacy receives and dispenses S1, and finds a counterfeit.
  json sold = Capture(kPharm, pharm, "sold",
                      {Receive("2024-03-03T08:00:00Z", {Sgtin("S1")}, kPharmacy),
                       Dispense("2024-03-03T12:00:00Z", {Sgtin("S1")}, kPharmacy),
                       Dispense("2024-03-03T13:00:00Z", {Sgtin("FAKE1")}, kPharmacy)});
  for (const json* out : {&made, &moved})
    for (const auto& e : *out) EXPECT_EQ(e.value("outcome", ""), "ok") << out->dump();
  ASSERT_EQ(sold.size(), 3u);
  EXPECT_EQ(sold[0].value("outcome", ""), "ok") << sold.dump();
  EXPECT_EQ(sold[1].value("outcome", ""), "ok") << sold.dump();
  EXPECT_EQ(sold[2].value("outcome", ""), "suspect") << sold.dump();
  EXPECT_EQ(sold[2].value("reason", ""), "never commissioned") << sold.dump();

  // A capture goes through the party's own organisation's node: the
  // distributor's key at the manufacturer's node is refused there.
  const std::string stray = Path("stray.json");
  std::ofstream(stray) << Document({Receive("2024-03-04T08:00:00Z", {Sgtin("S2")}, kWarehouse)});
  Run(kMfr, {"epcis", "capture", "--key", dist, stray}, 3);

  // Every node, asked by a key of its own organisation, gives the same answer.
  const std::vector<std::string> keys = {mfr, dist, pharm};
  struct Ask {
    std::vector<std::string> id;
    std::string status;
  };
  const std::vector<Ask> asks = {
      {{"--gtin", kGtin, "--serial", "S1", "--lot", "LOT1", "--expiry", "491231"}, "dispensed"},
      {{"https://example.com/01/" + std::string(kGtin) + "/10/LOT1/21/S2?17=491231"}, "verified"},
      {{"(01)" + std::string(kGtin) + "(17)491231(10)LOT1(21)FAKE1"}, "suspect"},
      {{"--gtin", kGtin, "--serial", "S3", "--lot", "LOT9", "--expiry", "491231"}, "mismatch"},
      {{"--gtin", kGtin, "--serial", "S404", "--lot", "LOT1", "--expiry", "491231"}, "unknown"},
  };
  for (const auto& a : asks) {
    std::vector<json> answers;
    for (int i : {kMfr, kDist, kPharm}) {
      std::vector<std::string> args = {"product", "verify", "--key", keys[i]};
      args.insert(args.end(), a.id.begin(), a.id.end());
      answers.push_back(RunJson(i, args));
      EXPECT_EQ(answers.back().value("status", ""), a.status) << "node " << i << ": " << answers.back().dump();
      EXPECT_EQ(Answer(answers.back()), Answer(answers[0])) << "node " << i << " differs from node 0";
    }
  }
  json s1 = RunJson(kPharm, {"product", "verify", "--custody", "--key", pharm, "--gtin", kGtin, "--serial", "S1", "--lot", "LOT1",
                             "--expiry", "491231"});
  EXPECT_TRUE(Contains(s1["evidence"], made[0].value("hash", ""))) << s1.dump();
  EXPECT_TRUE(Contains(s1["evidence"], sold[1].value("hash", ""))) << s1.dump();

  // Custody: S2 went from org1 to org2 only. The manufacturer and the
  // distributor see its chain; the pharmacy (org3) is outside it.
  const std::vector<std::string> s2 = {"--gtin", kGtin, "--serial", "S2"};
  auto trace = [&](int i, const std::string& key, int rc) {
    std::vector<std::string> args = {"product", "trace", "--key", key};
    args.insert(args.end(), s2.begin(), s2.end());
    return Run(i, args, rc);
  };
  json by_mfr = json::parse(trace(kMfr, mfr, 0).out, nullptr, false);
  ASSERT_FALSE(by_mfr.is_discarded());
  EXPECT_EQ(by_mfr["parties"], json::array({"org1", "org2"})) << by_mfr.dump();
  EXPECT_EQ(by_mfr.value("manufacturer", ""), "org1");
  EXPECT_EQ(by_mfr["events"].size(), 5u) << by_mfr.dump();  // commissioning, packing, shipping, receiving, unpacking
  trace(kDist, dist, 0);
  CommandResult outsider = trace(kPharm, pharm, 3);
  EXPECT_NE(outsider.err.find("custody chain"), std::string::npos) << outsider.err;
  // The same over HTTP: 403, at any node.
  auto pharm_key = crypto::ReadKeyFile(pharm);
  ASSERT_TRUE(pharm_key.ok());
  const std::string target = "/v1/products/trace?gtin=" + std::string(kGtin) + "&serial=S2";
  for (int i : {kMfr, kPharm}) {
    cli::ApiClient c(net_.Url(i), std::chrono::seconds(60));
    auto r = c.SignedRequest(*pharm_key, "GET", target);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->status, 403) << "node " << i << ": " << r->body;
  }
  // Its verification answers the pharmacy without the custody chain, and
  // the manufacturer with it; S1, which the pharmacy held, shows it the chain.
  const std::vector<std::string> s2_id = {"--gtin", kGtin, "--serial", "S2", "--lot", "LOT1", "--expiry", "491231"};
  auto verify = [&](int i, const std::string& key, const std::vector<std::string>& id) {
    std::vector<std::string> args = {"product", "verify", "--custody", "--key", key};
    args.insert(args.end(), id.begin(), id.end());
    return RunJson(i, args);
  };
  EXPECT_FALSE(verify(kPharm, pharm, s2_id).contains("custody"));
  EXPECT_TRUE(verify(kMfr, mfr, s2_id).contains("custody"));
  ASSERT_TRUE(s1.contains("custody")) << s1.dump();
  EXPECT_EQ(s1["custody"]["parties"], json::array({"org1", "org2", "org3"})) << s1.dump();

  // Offline: each node's chain replays to the state its blocks record.
  ASSERT_TRUE(Eventually([&] { return net_.Converged(3); }));
  const uint64_t height = net_.Height(0);
  CommandResult down = RunCli({"network", "down", "--dir", net_.dir()});
  ASSERT_EQ(down.exit_code, 0) << down.Describe();
  for (int i : {kMfr, kDist, kPharm}) {
    CommandResult v = RunCli({"verify", "--data-dir", net_.DataDir(i)});
    EXPECT_EQ(v.exit_code, 0) << "node " << i << ": " << v.Describe() << v.out;
    json j = json::parse(v.out, nullptr, false);
    ASSERT_FALSE(j.is_discarded()) << v.out;
    EXPECT_EQ(j.value("ok", false), true) << v.out;
    EXPECT_GE(j.value("height", uint64_t(0)), height) << v.out;
  }
}

}  // namespace
}  // namespace medledger::test
