// Runs every tests/scenarios/*.scn file as one test,
// scenario.RuleScenario/ScenarioTest.Runs/<file name> (the format is in
// testing/scenario.h and tests/scenarios/README.md), and checks that the
// runner reports errors in a file at their line.
#include "testing/scenario.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "testing/test_chain.h"

#ifndef MEDLEDGER_SCENARIO_DIR
#error "MEDLEDGER_SCENARIO_DIR must name tests/scenarios (src/testing/CMakeLists.txt)"
#endif

namespace medledger::testing {
namespace {

namespace fs = std::filesystem;

std::vector<fs::path> ScenarioFiles() {
  std::vector<fs::path> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(MEDLEDGER_SCENARIO_DIR, ec))
    if (e.is_regular_file() && e.path().extension() == ".scn") out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

// A GoogleTest parameter name: the file's stem with every character outside
// [A-Za-z0-9] turned into '_'.
std::string TestName(const fs::path& p) {
  std::string s = p.stem().string();
  for (auto& c : s)
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  return s;
}

class ScenarioTest : public ::testing::TestWithParam<fs::path> {};

TEST_P(ScenarioTest, Runs) {
  const fs::path& path = GetParam();
  std::ifstream in(path, std::ios::binary);
  ASSERT_TRUE(in) << "cannot read " << path;
  std::stringstream text;
  text << in.rdbuf();
  ScenarioSummary summary;
  // Failures name the file by its full path, so an editor can jump to them.
  for (const auto& f : RunScenario(path.string(), text.str(), &summary))
    ADD_FAILURE_AT(f.file.c_str(), f.line) << f.message;
  EXPECT_GT(summary.transactions, 0) << path << " runs no transaction";
  EXPECT_GT(summary.roots, 0) << path << " pins no state root: add a root line (tests/scenarios/README.md)";
  std::cout << path.filename().string() << ": " << summary.transactions << " transactions (" << summary.expected_ok
            << " accepted, " << summary.expected_rejected << " rejected), " << summary.blocks << " blocks, "
            << summary.roots << " roots\n";
}

INSTANTIATE_TEST_SUITE_P(RuleScenario, ScenarioTest, ::testing::ValuesIn(ScenarioFiles()),
                         [](const ::testing::TestParamInfo<fs::path>& info) { return TestName(info.param); });

TEST(ScenarioFiles, ThereAreSomeWithDistinctTestNames) {
  std::vector<std::string> names;
  for (const auto& p : ScenarioFiles()) names.push_back(TestName(p));
  EXPECT_FALSE(names.empty()) << "no .scn file in " << MEDLEDGER_SCENARIO_DIR;
  // Two files whose names differ only outside [A-Za-z0-9] would share a test.
  std::sort(names.begin(), names.end());
  EXPECT_EQ(std::adjacent_find(names.begin(), names.end()), names.end());
}

// The runner itself: errors in a file are reported at their line, and stop
// the run; wrong verdicts and roots are reported at their expect or root
// line, and do not.

const char* kHead =
    "key admin node alice\n"  // 1
    "org hosp-a admin node\n";  // 2

std::vector<ScenarioFailure> RunText(const std::string& body, ScenarioSummary* summary = nullptr) {
  return RunScenario("t.scn", std::string(kHead) + body, summary);
}

::testing::AssertionResult FailsAt(const std::vector<ScenarioFailure>& f, int line, std::string_view text) {
  if (f.size() == 1 && f[0].file == "t.scn" && f[0].line == line && f[0].message.find(text) != std::string::npos)
    return ::testing::AssertionSuccess();
  auto r = ::testing::AssertionFailure() << "want one failure at t.scn:" << line << " containing \"" << text
                                         << "\", got " << f.size() << ":";
  for (const auto& x : f) r << "\n  " << x.file << ":" << x.line << ": " << x.message;
  return r;
}

const char* kRegisterAlice = R"(tx admin identity.register {"pubkey": "$alice", "roles": ["patient"]})";

TEST(ScenarioFormat, AcceptsAWellFormedFile) {
  ScenarioSummary s;
  auto f = RunText(std::string("# a comment\n\n") + kRegisterAlice + "\n  expect ok\n" + kRegisterAlice +
                       "\nexpect conflict already registered\nblock 3\n",
                   &s);
  EXPECT_TRUE(f.empty()) << f[0].line << ": " << f[0].message;
  EXPECT_EQ(s.transactions, 2);
  EXPECT_EQ(s.expected_ok, 1);
  EXPECT_EQ(s.expected_rejected, 1);
  EXPECT_EQ(s.blocks, 3);
}

TEST(ScenarioFormat, WrongVerdictIsReportedAtItsExpectLineAndTheRunGoesOn) {
  auto f = RunText(std::string(kRegisterAlice) + "\nexpect not_found\n" + kRegisterAlice + "\nexpect conflict\n" +
                   kRegisterAlice + "\n# why\nexpect conflict no such text\n");
  ASSERT_EQ(f.size(), 2u);
  EXPECT_EQ(f[0].line, 4);
  EXPECT_NE(f[0].message.find("expected not_found, got ok"), std::string::npos) << f[0].message;
  EXPECT_NE(f[0].message.find("tx at line 3"), std::string::npos) << f[0].message;
  EXPECT_EQ(f[1].line, 9);
  EXPECT_NE(f[1].message.find("got conflict: \"key is already registered\""), std::string::npos) << f[1].message;
}

TEST(ScenarioFormat, WrongRootIsReportedWithTheActualOne) {
  auto f = RunText(std::string(kRegisterAlice) + "\nexpect ok\nroot " + std::string(64, '0') + "\n");
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].line, 5);
  EXPECT_NE(f[0].message.find("state root after block 1 is "), std::string::npos) << f[0].message;
}

TEST(ScenarioFormat, ErrorsInTheFileStopItAtTheirLine) {
  EXPECT_TRUE(FailsAt(RunText("tx bob identity.register {}\nexpect ok\n"), 3, "unknown key 'bob'"));
  EXPECT_TRUE(FailsAt(RunText(R"(tx admin identity.register {"pubkey": "$bob"})" "\nexpect ok\n"), 3,
                      "unknown key '$bob'"));
  EXPECT_TRUE(FailsAt(RunText(R"(tx admin identity.register {"pubkey": "$alice",})" "\nexpect ok\n"), 3,
                      "bad JSON payload"));
  EXPECT_TRUE(FailsAt(RunText("tx admin identity.register [1]\nexpect ok\n"), 3, "must be a JSON object"));
  EXPECT_TRUE(FailsAt(RunText(R"(tx admin identity.register {"x": 1.5})" "\nexpect ok\n"), 3, "cannot be a transaction"));
  EXPECT_TRUE(FailsAt(RunText("tx admin identity.enrol {}\nexpect ok\n"), 3, "unknown transaction type"));
  EXPECT_TRUE(FailsAt(RunText("tx admin identity.register\nexpect ok\n"), 3, "usage: tx"));
  // A tx without its expect line, before another statement and at the end.
  EXPECT_TRUE(FailsAt(RunText(std::string(kRegisterAlice) + "\n\n# no expect\nblock\n"), 3, "has no expect line"));
  EXPECT_TRUE(FailsAt(RunText(std::string(kRegisterAlice) + "\n" + kRegisterAlice + "\nexpect ok\n"), 3,
                      "has no expect line"));
  EXPECT_TRUE(FailsAt(RunText(std::string(kRegisterAlice) + "\n"), 3, "has no expect line"));
  EXPECT_TRUE(FailsAt(RunText("expect ok\n"), 3, "expect without a tx"));
  EXPECT_TRUE(FailsAt(RunText(std::string(kRegisterAlice) + "\nexpect ok\nexpect ok\n"), 5, "expect without a tx"));
  EXPECT_TRUE(FailsAt(RunText(std::string(kRegisterAlice) + "\nexpect refused\n"), 4, "unknown verdict 'refused'"));
  EXPECT_TRUE(FailsAt(RunText("key alice\n"), 3, "declared twice"));
  EXPECT_TRUE(FailsAt(RunText("key id\n"), 3, "reserved"));
  EXPECT_TRUE(FailsAt(RunText("key a-b\n"), 3, "not 1 to 64"));
  EXPECT_TRUE(FailsAt(RunText("block\norg hosp-b alice\n"), 4, "org after the genesis"));
  EXPECT_TRUE(FailsAt(RunText("org hosp-b bob\n"), 3, "unknown key 'bob'"));
  EXPECT_TRUE(FailsAt(RunText("threshold 2\nblock\n"), 4, "genesis of the org and threshold lines is refused"));
  EXPECT_TRUE(FailsAt(RunScenario("t.scn", "key a\nblock\n"), 2, "no org line"));
  EXPECT_TRUE(FailsAt(RunText("root abc\n"), 3, "usage: root"));
  EXPECT_TRUE(FailsAt(RunText("block 0\n"), 3, "usage: block"));
  EXPECT_TRUE(FailsAt(RunText("sleep 5\n"), 3, "unknown statement 'sleep'"));
  EXPECT_TRUE(FailsAt(RunText(R"(tx admin identity.register {"pubkey": "$time:0"})" "\nexpect ok\n"), 3,
                      "$time: needs a block height"));
  EXPECT_TRUE(FailsAt(RunText(R"(tx admin identity.register {"pubkey": "$"})" "\nexpect ok\n"), 3,
                      "$ must be followed by"));
}

// The file's chain is the one scenario.h describes: the same chain built in
// C++ with testing::Key, Id, HashOf and TestChain::BlockTime reaches the root
// the file pins, so names, $ substitutions, nonces, expiry, block times and
// modules are what the format says. $$ is a dollar.
TEST(ScenarioFormat, TheFileBuildsTheChainTheFormatDescribes) {
  TestChain::Options o;
  o.genesis = {{"chain_id", "scenario"},
               {"timestamp_ms", 1000},
               {"governance_threshold", 1},
               {"block", {{"max_txs", 5000}, {"interval_ms", 20}, {"max_expiry_window", 10000}}},
               {"organisations", json::array({{{"id", "hosp-a"}, {"name", "hosp-a"}, {"admin", Key("admin").id()},
                                               {"nodes", json::array({Key("node").id()})}}})}};
  o.governance = true;
  o.records = true;
  TestChain c(o);
  auto admin = Key("admin"), node = Key("node"), pat = Key("pat");
  auto v = c.Run({c.Tx(admin, tx::kIdentityRegister, {{"pubkey", pat.id()}, {"roles", {"patient"}}, {"label", "a$b"}}),
                  c.Tx(node, tx::kRecordAnchor,
                       {{"record_id", Id("r1")}, {"patient", Id("p1")}, {"resource_type", "Observation"},
                        {"version", 1}, {"hash", HashOf("r1#1")}, {"patient_key", pat.id()}})});
  ASSERT_TRUE(v[0].ok() && v[1].ok()) << v[0].detail << v[1].detail;
  c.Run({});
  v = c.Run({c.Tx(pat, tx::kConsentGrant,
                  {{"consent_id", Id("c1")}, {"patient_org", "*"}, {"grantee", "org:hosp-a"}, {"types", {"*"}},
                   {"purposes", {"TREAT"}}, {"until_ms", c.BlockTime(9)}})});
  ASSERT_TRUE(v[0].ok()) << v[0].detail;

  auto f = RunText(
      "key pat\n"
      R"(tx admin identity.register {"pubkey": "$pat", "roles": ["patient"], "label": "a$$b"})"
      "\nexpect ok\n"
      R"(tx node record.anchor {"record_id": "$id:r1", "patient": "$id:p1", "resource_type": "Observation", "version": 1, "hash": "$hash:r1#1", "patient_key": "$pat"})"
      "\nexpect ok\n"
      "block 2\n"
      R"(tx pat consent.grant {"consent_id": "$id:c1", "patient_org": "*", "grantee": "org:hosp-a", "types": ["*"], "purposes": ["TREAT"], "until_ms": $time:9})"
      "\nexpect ok\n"
      "root " + ToHex(c.root) + "\n");
  EXPECT_TRUE(f.empty()) << f[0].line << ": " << f[0].message;
}

}  // namespace
}  // namespace medledger::testing
