// One exit-code table for every subcommand (src/cli/exit_codes.h,
// README "Exit codes"). A few of each kind against a real node: usage 2,
// denied 3, conflict 5, unavailable 8, and `bench` whose node dies during
// the run (it aborted with std::bad_variant_access). Verify on a tampered
// chain (6) is checked by every tamper_test case, a network that disagrees
// (7) by network_test's TamperedBlockHaltsEveryNodeWithAClearError.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <thread>

#include "crypto/ed25519.h"
#include "tests/support/test_node.h"

namespace medledger::test {
namespace {

// A loopback port that nothing listens on: bound by us, then released.
int ClosedPort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  int port = 1;
  if (fd >= 0 && ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0)
    port = ntohs(a.sin_port);
  if (fd >= 0) ::close(fd);
  return port;
}

TEST(CliExitCodesTest, UsageErrorsExit2) {
  // CLI11's own parse errors (it returned 106, 109, ... before).
  EXPECT_EQ(RunCli({}).exit_code, 2);
  EXPECT_EQ(RunCli({"no-such-command"}).exit_code, 2);
  EXPECT_EQ(RunCli({"keygen"}).exit_code, 2);  // --out missing
  EXPECT_EQ(RunCli({"status"}).exit_code, 2);  // --url missing
  EXPECT_EQ(RunCli({"bench", "--url", "http://127.0.0.1:1", "--data-dir", "/nonexistent", "--txs", "0"}).exit_code, 2);
  // Arguments the CLI refuses itself, before asking any node.
  CommandResult type = RunCli({"tx", "send", "--url", "http://127.0.0.1:1", "--key", "/nonexistent", "--type",
                               "no.such.type", "--payload", "{}"});
  EXPECT_EQ(type.exit_code, 2) << type.Describe();
  EXPECT_NE(type.err.find("unknown transaction type"), std::string::npos) << type.err;
  // Help and version are not errors.
  EXPECT_EQ(RunCli({"--help"}).exit_code, 0);
  EXPECT_EQ(RunCli({"--version"}).exit_code, 0);
}

// The patient's seed options (cli/patient_keys.h): wrong combinations are
// refused before any node is asked (nothing listens at --url).
TEST(CliExitCodesTest, SeedOptionMisuseExits2) {
  const std::string url = "http://127.0.0.1:" + std::to_string(ClosedPort());
  auto usage = [&](std::vector<std::string> args, const std::string& says) {
    CommandResult r = RunCli(args);
    EXPECT_EQ(r.exit_code, 2) << r.Describe();
    EXPECT_NE(r.err.find(says), std::string::npos) << r.err;
  };
  usage({"keygen", "--derive", "--out", "/tmp/never.key", "--org", "org1"}, "--from");
  usage({"keygen", "--out", "/tmp/never.key", "--org", "org1"}, "go with --derive");
  usage({"audit", "--url", url, "--key", "/nonexistent", "--seed", "/nonexistent", "--custodians", "o1"},
        "not both");
  usage({"audit", "--url", url, "--seed", "/nonexistent", "--custodians", "o1", "--patient", "ab"}, "--patient");
  usage({"consent", "revoke", "--url", url, "--key", "/nonexistent", "--group", "00ff"}, "--group needs --seed");
  usage({"consent", "revoke", "--url", url, "--seed", "/nonexistent", "--custodians", "o1"}, "CONSENT_ID or --group");
  usage({"record", "get", "--url", url, "--seed", "/nonexistent", "--purpose", "treatment", "Patient/1"},
        "--seed needs --custodian");
  usage({"erase", "--url", url, "--seed", "/nonexistent", "--custodian", "o1", "--custodian", "o1", "Patient/1"},
        "named twice");
}

class CliExitCodesNodeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    crypto::InitCrypto();
    auto n = TestNode::Start();
    ASSERT_TRUE(n.ok()) << n.status().ToString();
    node_ = std::move(*n);
  }

  std::pair<std::string, std::string> Keygen(const std::string& name) {
    std::string path = node_->dir() + "/" + name + ".key";
    CommandResult r = RunCli({"keygen", "--out", path});
    EXPECT_EQ(r.exit_code, 0) << r.Describe();
    return {path, r.out.substr(0, r.out.find('\n'))};
  }

  std::unique_ptr<TestNode> node_;
};

TEST_F(CliExitCodesNodeTest, DeniedConflictNotFoundAndUnavailable) {
  const std::string url = node_->url(), admin = node_->admin_key();
  auto [doc, doc_id] = Keygen("doctor");
  auto [other, other_id] = Keygen("other");
  ASSERT_EQ(RunCli({"identity", "register", "--url", url, "--key", admin, "--pubkey", doc_id, "--role",
                    "practitioner"})
                .exit_code,
            0);

  // Denied, 3: a 403 (a practitioner reading a block), and a transaction
  // rejected as role_not_permitted or unknown_signer.
  CommandResult block = RunCli({"block", "--url", url, "--key", doc, "1"});
  EXPECT_EQ(block.exit_code, 3) << block.Describe();
  CommandResult role = RunCli({"identity", "register", "--url", url, "--key", doc, "--pubkey", other_id, "--role",
                               "patient"});
  EXPECT_EQ(role.exit_code, 3) << role.Describe();
  EXPECT_NE(role.err.find("role_not_permitted"), std::string::npos) << role.err;
  CommandResult stranger = RunCli({"identity", "register", "--url", url, "--key", other, "--pubkey", doc_id,
                                   "--role", "patient"});
  EXPECT_EQ(stranger.exit_code, 3) << stranger.Describe();

  // Conflict, 5: registering a key twice.
  CommandResult twice = RunCli({"identity", "register", "--url", url, "--key", admin, "--pubkey", doc_id, "--role",
                                "practitioner"});
  EXPECT_EQ(twice.exit_code, 5) << twice.Describe();
  EXPECT_NE(twice.err.find("conflict"), std::string::npos) << twice.err;

  // Not found is none of the above: 1.
  CommandResult missing = RunCli({"block", "--url", url, "--key", admin, "999999"});
  EXPECT_EQ(missing.exit_code, 1) << missing.Describe();

  // Unavailable, 8: nothing answers.
  std::string closed = "http://127.0.0.1:" + std::to_string(ClosedPort());
  CommandResult down = RunCli({"status", "--url", closed});
  EXPECT_EQ(down.exit_code, 8) << down.Describe();
  CommandResult put = RunCli({"identity", "register", "--url", closed, "--key", admin, "--pubkey", doc_id, "--role",
                              "practitioner"});
  EXPECT_EQ(put.exit_code, 8) << put.Describe();
}

// The node dies while `bench` runs: one line saying so and exit 8, not an
// abort. The node is killed once bench says it measures the verify rate
// (--verify-seconds 5, twice: ten seconds in which it does not talk to the
// node), so its next call finds the node gone.
TEST_F(CliExitCodesNodeTest, BenchWhoseNodeDiesExits8) {
  ProcessOptions o;
  o.stdout_path = node_->dir() + "/bench.out";
  o.stderr_path = node_->dir() + "/bench.err";
  o.env = {"MEDLEDGER_URL", "MEDLEDGER_KEY"};
  auto bench = Process::Spawn({MedledgerBin(), "bench", "--url", node_->url(), "--data-dir", node_->data_dir(), "--txs",
                               "2000", "--signers", "4", "--verify-seconds", "5"},
                              o);
  ASSERT_TRUE(bench.ok()) << bench.status().ToString();
  // Bounded against a hang (120 s), never a criterion on speed.
  bool measuring = false;
  for (auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
       std::chrono::steady_clock::now() < deadline && (*bench)->Running();) {
    if ((measuring = ReadFileOrEmpty(o.stderr_path).find("measuring Ed25519 verify rate") != std::string::npos)) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_TRUE(measuring) << FileTail(o.stderr_path);
  node_->Kill();
  auto code = (*bench)->Wait(std::chrono::seconds(120));
  ASSERT_TRUE(code.has_value()) << "bench did not end";
  std::string err = ReadFileOrEmpty(o.stderr_path);
  EXPECT_EQ(*code, 8) << err;
  EXPECT_NE(err.find("medledger: the node stopped answering"), std::string::npos) << err;
  EXPECT_EQ(err.find("bad_variant_access"), std::string::npos) << err;
}

}  // namespace
}  // namespace medledger::test
