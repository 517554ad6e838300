// Contracts end to end through the CLI on a development node: deploy (one
// organisation: deployed at once), call with a result and state, a failing
// call exits non-zero with its verdict, upgrade, and the node answering
// while a call runs out of gas. Rules: src/contracts/module.h.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>

#include "tests/support/dev_node_cli.h"

namespace medledger::test {
namespace {

using nlohmann::json;

using ContractCliTest = DevNodeCliTest;

TEST_F(ContractCliTest, DeployCallFailAndUpgrade) {
  std::string v1 = Write("counter.lua", R"(
function bump(args)
  local n = (state.get("n") or 0) + args.by
  state.put("n", n)
  return {n = n}
end
function spin() while true do end end
)");
  json d = CliJson({"contract", "deploy", "--name", "counter", v1});
  EXPECT_EQ(d.value("status", ""), "committed") << d.dump();
  EXPECT_EQ(d.value("proposal_status", ""), "executed") << d.dump();
  EXPECT_EQ(d.value("current_version", 0), 1) << d.dump();

  json c1 = CliJson({"contract", "call", "--name", "counter", "--fn", "bump", "--args", R"({"by": 3})"});
  EXPECT_EQ(c1.value("status", ""), "committed") << c1.dump();
  EXPECT_EQ(c1["result"], json({{"n", 3}})) << c1.dump();
  EXPECT_GT(c1.value("gas_used", 0), 0);
  EXPECT_GT(c1.value("height", 0), 0);
  json c2 = CliJson({"contract", "call", "--name", "counter", "--fn", "bump", "--args", R"({"by": 4})"});
  EXPECT_EQ(c2["result"], json({{"n", 7}}));

  // Running out of gas fails the call: non-zero exit, the verdict on stderr,
  // and the node still answers.
  CommandResult spin = Cli({"contract", "call", "--name", "counter", "--fn", "spin"});
  EXPECT_NE(spin.exit_code, 0);
  EXPECT_NE(spin.err.find("gas_exhausted"), std::string::npos) << spin.Describe();
  CommandResult status = RunCli({"status", "--url", node_->url()});
  EXPECT_EQ(status.exit_code, 0) << status.Describe();
  CommandResult bad = Cli({"contract", "call", "--name", "counter", "--fn", "bump", "--args", "{not json"});
  EXPECT_NE(bad.exit_code, 0);

  std::string v2 = Write("counter2.lua", "function bump(args) return 'v2:' .. args.by end");
  json u = CliJson({"contract", "upgrade", "--name", "counter", v2});
  EXPECT_EQ(u.value("current_version", 0), 2) << u.dump();
  json c3 = CliJson({"contract", "call", "--name", "counter", "--fn", "bump", "--args", R"({"by": 1})"});
  EXPECT_EQ(c3["result"], "v2:1");
  json show = CliJson({"contract", "show", "--name", "counter", "--source"});
  EXPECT_EQ(show.value("version", 0), 2);
  EXPECT_NE(show.value("source", "").find("v2:"), std::string::npos);

  // Source that does not compile is refused before any governance step.
  std::string broken = Write("broken.lua", "function f( return end");
  CommandResult b = Cli({"contract", "deploy", "--name", "broken", broken});
  EXPECT_NE(b.exit_code, 0);
  EXPECT_NE(b.err.find("does not compile"), std::string::npos) << b.Describe();
}

// Determinism across processes: the node runs a contract that iterates a
// table with pairs; `medledger verify`, a process started later with its own
// string-hash seed, re-executes every block and must get the same results,
// gas and state roots.
TEST_F(ContractCliTest, AnotherProcessReplaysTheSameResultsGasAndRoots) {
  std::string src = Write("tally.lua", R"(
function tally(args)
  local out, total = {}, 0
  for k, v in pairs(args) do out[#out + 1] = k .. "=" .. v; total = total + v end
  state.put("total", total)
  return {keys = out, total = total}
end
)");
  CliJson({"contract", "deploy", "--name", "tally", src});
  json args = json::object();
  for (int i = 0; i < 40; ++i) args["key" + std::to_string(i * 7919 % 1000)] = i;
  json r = CliJson({"contract", "call", "--name", "tally", "--fn", "tally", "--args", args.dump()});
  ASSERT_EQ(r["result"]["keys"].size(), 40u) << r.dump();
  // Ordered iteration: the keys come back sorted, whatever the hash seed.
  std::vector<std::string> keys;
  for (const std::string kv : r["result"]["keys"]) keys.push_back(kv.substr(0, kv.find('=')));
  EXPECT_TRUE(std::is_sorted(keys.begin(), keys.end())) << r.dump();
  ASSERT_TRUE(node_->Stop().ok()) << node_->LogTail();
  CommandResult v = RunCli({"verify", "--data-dir", node_->data_dir()});
  EXPECT_EQ(v.exit_code, 0) << v.Describe();
  json out = json::parse(v.out, nullptr, false);
  EXPECT_EQ(out.value("ok", false), true) << v.out;
}

}  // namespace
}  // namespace medledger::test
