// Contracts on a real etcd network of three organisations (threshold 2):
// one organisation's deployment waits for a second one's approval, found by
// contract name and version (`contract approve`); then every node executes
// the same calls, a contract iterating with pairs included, and reaches the
// same results, gas and state root. Rules: src/contracts/module.h.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "cli/api_client.h"
#include "crypto/keyfile.h"
#include "tests/support/network.h"
#include "tests/support/shell.h"

namespace medledger {
namespace {

using nlohmann::json;
using test::CmdResult;
using test::Medledger;
using test::WaitUntil;

class ContractNetworkTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(net_.MakeDir("medledger-ctr")); }
  void TearDown() override { net_.TearDown(HasFailure()); }

  CmdResult Contract(const std::string& args, int via) {
    return Medledger("contract " + args + " --url " + net_.Url(via) + " --key " + net_.AdminKeyFile(via) + " 2>&1");
  }
  json ContractJson(const std::string& args, int via) {
    CmdResult r = Contract(args, via);
    EXPECT_EQ(r.rc, 0) << args << ": " << r.out;
    json j = json::parse(r.out, nullptr, false);
    return j.is_discarded() ? json() : j;
  }

  test::Network net_;
};

TEST_F(ContractNetworkTest, ApprovedByTwoOrganisationsThenEveryNodeAgrees) {
  auto up = net_.Up("--nodes 3");
  ASSERT_TRUE(up.ok()) << up.status().ToString();
  std::string src = net_.dir() + "/tally.lua";
  std::ofstream(src) << R"(
function tally(args)
  local out, total = {}, 0
  for k, v in pairs(args) do out[#out + 1] = k; total = total + v end
  state.put("total", (state.get("total") or 0) + total)
  return {keys = out, total = state.get("total")}
end
)";
  // org1 alone: the proposal stays open and the contract does not exist.
  json d = ContractJson("deploy --name tally " + src, 0);
  EXPECT_EQ(d.value("status", ""), "committed") << d.dump();
  EXPECT_EQ(d.value("proposal_status", ""), "open") << d.dump();
  EXPECT_FALSE(d.contains("current_version")) << d.dump();
  CmdResult early = Contract("call --name tally --fn tally --args '{\"a\": 1}'", 0);
  EXPECT_NE(early.rc, 0) << early.out;
  EXPECT_NE(early.out.find("not_found"), std::string::npos) << early.out;

  // org2 approves through its own node, naming the contract and version.
  json a = ContractJson("approve --name tally --version 1", 1);
  EXPECT_EQ(a.value("proposal_status", ""), "executed") << a.dump();
  EXPECT_EQ(a.value("proposal_id", ""), d.value("proposal_id", "")) << a.dump();
  CmdResult none = Contract("approve --name tally --version 2", 2);
  EXPECT_NE(none.rc, 0) << none.out;

  // Calls through each node; the third node's admin calls twice.
  json args = json::object();
  for (int i = 0; i < 30; ++i) args["k" + std::to_string(i * 37 % 100)] = i;
  std::vector<std::string> txs;
  for (int via : {0, 1, 2, 2}) {
    ASSERT_TRUE(WaitUntil([&] { return Contract("show --name tally", via).rc == 0; })) << "node " << via;
    json c = ContractJson("call --name tally --fn tally --args '" + args.dump() + "'", via);
    ASSERT_EQ(c.value("status", ""), "committed") << c.dump();
    txs.push_back(c.value("id", ""));
  }
  ASSERT_TRUE(WaitUntil([&] { return net_.Converged(3); }));
  // Every node answers every call with the same result and gas.
  for (const auto& tx : txs) {
    json first;
    for (int i = 0; i < 3; ++i) {
      auto key = crypto::ReadKeyFile(net_.AdminKeyFile(i));
      ASSERT_TRUE(key.ok());
      cli::ApiClient c(net_.Url(i), std::chrono::seconds(60));
      auto r = c.GetSignedJson(*key, "/v1/contracts/calls/" + tx);
      ASSERT_TRUE(r.ok()) << r.status().ToString();
      ASSERT_EQ(r->value("status", ""), "committed") << r->dump();
      if (i == 0) {
        first = *r;
        continue;
      }
      EXPECT_EQ((*r)["result"], first["result"]) << "node " << i;
      EXPECT_EQ((*r)["gas_used"], first["gas_used"]) << "node " << i;
    }
    EXPECT_EQ(first["result"]["keys"].size(), 30u);
  }
}

}  // namespace
}  // namespace medledger
