// The medledger command line against a real node: key files, init, identity
// register/revoke/rotate with their exit codes and error lines, status, block,
// tx get with its inclusion proof check, who may read blocks and
// transactions, the MEDLEDGER_URL / MEDLEDGER_KEY environment variables, and
// a wrong --url.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <thread>

#include "crypto/ed25519.h"
#include "crypto/keyfile.h"
#include "tests/support/test_node.h"

namespace medledger::test {
namespace {

using nlohmann::json;

json ParseJson(const std::string& s) { return json::parse(s, nullptr, false); }

int FileMode(const std::string& path) {
  struct stat st{};
  if (::stat(path.c_str(), &st) != 0) return -1;
  return int(st.st_mode & 0777);
}

// A failed command must say why in exactly one line on stderr.
void ExpectOneErrorLine(const CommandResult& r, const std::string& must_contain) {
  EXPECT_NE(r.exit_code, 0) << r.Describe();
  ASSERT_FALSE(r.err.empty()) << r.Describe();
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << "stderr: " << r.err;
  EXPECT_EQ(r.err.rfind("medledger: ", 0), 0u) << "stderr: " << r.err;
  EXPECT_NE(r.err.find(must_contain), std::string::npos) << "expected '" << must_contain << "' in stderr: " << r.err;
}

// A loopback port that nothing listens on: bound by us, then released.
int ClosedLoopbackPort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  socklen_t len = sizeof a;
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    if (fd >= 0) ::close(fd);
    return 1;
  }
  int port = ntohs(a.sin_port);
  ::close(fd);
  return port;
}

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    crypto::InitCrypto();
    auto n = TestNode::Start();
    ASSERT_TRUE(n.ok()) << n.status().ToString();
    node_ = std::move(*n);
  }

  // Creates a key file in the node's temp dir and returns {path, public id}.
  std::pair<std::string, std::string> Keygen(const std::string& name) {
    std::string path = node_->dir() + "/" + name + ".key";
    CommandResult r = RunCli({"keygen", "--out", path});
    EXPECT_EQ(r.exit_code, 0) << r.Describe();
    std::string id = r.out.substr(0, r.out.find('\n'));
    return {path, id};
  }

  // A small file to anchor, distinct per call.
  std::string NewFile() {
    std::string path = node_->dir() + "/doc-" + std::to_string(files_++) + ".txt";
    std::ofstream(path) << "document " << files_ << " of " << node_->dir() << "\n";
    return path;
  }

  CommandResult Cli(std::vector<std::string> args) { return RunCli(args); }

  // Eight `record put` of resources without a patient (anchored under the
  // custodian pseudonym, which needs the custodian subject registered),
  // started together: the node is stopped (SIGSTOP) until all eight
  // requests have reached it, so that each finds the node as it was before
  // any of them. Returns each command's result.
  std::vector<CommandResult> EightConcurrentPuts() {
    const int port = std::stoi(node_->url().substr(node_->url().rfind(':') + 1));
    std::vector<std::unique_ptr<Process>> puts;
    ::kill(node_->pid(), SIGSTOP);
    for (int i = 0; i < 8; ++i) {
      std::string file = node_->dir() + "/org-" + std::to_string(i) + ".json";
      std::ofstream(file) << json({{"resourceType", "Organization"}, {"id", "org-" + std::to_string(i)},
                                   {"name", "Clinic " + std::to_string(i)}})
                                 .dump();
      ProcessOptions o;
      o.stdout_path = file + ".out";
      o.stderr_path = file + ".err";
      o.env = {"MEDLEDGER_URL", "MEDLEDGER_KEY"};
      auto p = Process::Spawn({MedledgerBin(), "record", "put", "--url", node_->url(), "--key", node_->admin_key(), file}, o);
      EXPECT_TRUE(p.ok()) << p.status().ToString();
      if (p.ok()) puts.push_back(std::move(*p));
    }
    // Bounded against a hang (120 s), never a criterion on speed.
    bool queued = false;
    for (auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
         !(queued = QueuedRequests(port) >= 8) && std::chrono::steady_clock::now() < deadline;)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    ::kill(node_->pid(), SIGCONT);
    EXPECT_TRUE(queued) << QueuedRequests(port) << " requests queued at the stopped node";
    std::vector<CommandResult> out;
    for (auto& p : puts) {
      CommandResult r;
      auto code = p->Wait(std::chrono::seconds(180));
      r.exit_code = code ? *code : -1;
      r.timed_out = !code;
      r.out = ReadFileOrEmpty(p->stdout_path());
      r.err = ReadFileOrEmpty(p->stderr_path());
      out.push_back(std::move(r));
    }
    return out;
  }

  std::unique_ptr<TestNode> node_;
  int files_ = 0;
};

TEST(CliKeygenTest, PrintsHexIdAndWritesPrivateKeyFile) {
  TempDir dir;
  std::string path = dir.path() + "/alice.key";
  CommandResult r = RunCli({"keygen", "--out", path});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  std::string id = r.out.substr(0, r.out.find('\n'));
  EXPECT_TRUE(std::regex_match(id, std::regex("[0-9a-f]{64}"))) << "id: " << r.out;
  EXPECT_EQ(r.out, id + "\n");
  EXPECT_EQ(FileMode(path), 0600);
  auto kp = crypto::ReadKeyFile(path);
  ASSERT_TRUE(kp.ok()) << kp.status().ToString();
  EXPECT_EQ(kp->id(), id);

  // Never overwrites a key.
  std::string before = ReadFileOrEmpty(path);
  CommandResult again = RunCli({"keygen", "--out", path});
  ExpectOneErrorLine(again, "refusing to overwrite");
  EXPECT_EQ(ReadFileOrEmpty(path), before);

  // A missing --out is a usage error, not a key written somewhere.
  CommandResult usage = RunCli({"keygen"});
  EXPECT_NE(usage.exit_code, 0) << usage.Describe();
}

TEST(CliInitTest, MakesAdminKeyAndRefusesASecondInit) {
  TempDir dir;
  std::string data = dir.path() + "/chain";
  CommandResult r = RunCli({"init", "--data-dir", data});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  json info = ParseJson(r.out);
  ASSERT_FALSE(info.is_discarded()) << r.out;
  EXPECT_EQ(info.value("admin_key", ""), data + "/keys/admin.key");
  EXPECT_EQ(FileMode(data + "/keys/admin.key"), 0600);
  EXPECT_EQ(FileMode(data + "/keys/node.key"), 0600);
  auto admin = crypto::ReadKeyFile(data + "/keys/admin.key");
  ASSERT_TRUE(admin.ok()) << admin.status().ToString();
  EXPECT_EQ(info.value("admin_id", ""), admin->id());
  EXPECT_EQ(info.value("chain_id", ""), "medledger-dev");

  CommandResult again = RunCli({"init", "--data-dir", data});
  ExpectOneErrorLine(again, "already exists");
  // The first chain's admin key is untouched.
  auto admin2 = crypto::ReadKeyFile(data + "/keys/admin.key");
  ASSERT_TRUE(admin2.ok());
  EXPECT_EQ(admin2->id(), admin->id());

  // A fresh chain verifies clean.
  CommandResult v = RunCli({"verify", "--data-dir", data});
  EXPECT_EQ(v.exit_code, 0) << v.Describe();
}

TEST_F(CliTest, IdentityRegisterRotateRevokeWithExitCodes) {
  const std::string url = node_->url();
  const std::string admin = node_->admin_key();
  auto [alice, alice_id] = Keygen("alice");
  auto [alice2, alice2_id] = Keygen("alice2");
  auto [bob, bob_id] = Keygen("bob");
  auto [mallory, mallory_id] = Keygen("mallory");

  // The admin registers alice as a practitioner.
  CommandResult reg = Cli({"identity", "register", "--url", url, "--key", admin, "--pubkey", alice_id, "--role", "practitioner"});
  ASSERT_EQ(reg.exit_code, 0) << reg.Describe();
  json j = ParseJson(reg.out);
  ASSERT_FALSE(j.is_discarded()) << reg.out;
  EXPECT_EQ(j.value("status", ""), "committed") << reg.out;
  EXPECT_GE(j.value("height", 0), 1);
  EXPECT_TRUE(reg.err.empty()) << reg.err;

  // Registering her twice is a rejection (conflict), not a success.
  ExpectOneErrorLine(Cli({"identity", "register", "--url", url, "--key", admin, "--pubkey", alice_id, "--role", "practitioner"}),
                     "conflict");
  // An unknown role never reaches the chain as a success.
  ExpectOneErrorLine(Cli({"identity", "register", "--url", url, "--key", admin, "--pubkey", bob_id, "--role", "wizard"}),
                     "invalid_payload");
  // A practitioner may not register keys.
  ExpectOneErrorLine(Cli({"identity", "register", "--url", url, "--key", alice, "--pubkey", bob_id, "--role", "patient"}),
                     "role_not_permitted");
  // An unregistered key may not sign anything.
  ExpectOneErrorLine(Cli({"anchor", "put", NewFile(), "--url", url, "--key", mallory}), "unknown_signer");
  ExpectOneErrorLine(Cli({"identity", "register", "--url", url, "--key", mallory, "--pubkey", bob_id, "--role", "patient"}),
                     "unknown_signer");
  // Nor may anyone but the key itself or its org admin revoke it.
  ASSERT_EQ(Cli({"identity", "register", "--url", url, "--key", admin, "--pubkey", bob_id, "--role", "patient"}).exit_code, 0);
  ExpectOneErrorLine(Cli({"identity", "revoke", "--url", url, "--key", bob, "--pubkey", alice_id}), "role_not_permitted");

  // Alice signs, then rotates to alice2: her old key is dead, the new one works.
  CommandResult before_rotate = Cli({"anchor", "put", NewFile(), "--url", url, "--key", alice});
  ASSERT_EQ(before_rotate.exit_code, 0) << before_rotate.Describe();
  std::string alice_tx = ParseJson(before_rotate.out).value("id", "");
  CommandResult rot = Cli({"identity", "rotate", "--url", url, "--key", alice, "--new-pubkey", alice2_id});
  ASSERT_EQ(rot.exit_code, 0) << rot.Describe();
  EXPECT_EQ(ParseJson(rot.out).value("status", ""), "committed") << rot.out;
  ExpectOneErrorLine(Cli({"anchor", "put", NewFile(), "--url", url, "--key", alice}), "revoked_key");
  CommandResult by_new = Cli({"anchor", "put", NewFile(), "--url", url, "--key", alice2});
  ASSERT_EQ(by_new.exit_code, 0) << by_new.Describe();
  std::string alice2_tx = ParseJson(by_new.out).value("id", "");

  // The admin revokes alice2: her later transactions are rejected...
  CommandResult rev = Cli({"identity", "revoke", "--url", url, "--key", admin, "--pubkey", alice2_id});
  ASSERT_EQ(rev.exit_code, 0) << rev.Describe();
  EXPECT_EQ(ParseJson(rev.out).value("status", ""), "committed") << rev.out;
  ExpectOneErrorLine(Cli({"anchor", "put", NewFile(), "--url", url, "--key", alice2}), "revoked_key");
  // Revoking twice is a rejection too.
  ExpectOneErrorLine(Cli({"identity", "revoke", "--url", url, "--key", admin, "--pubkey", alice2_id}), "conflict");

  // ...and her earlier ones, and the old key's, stay committed.
  for (const std::string& id : {alice_tx, alice2_tx}) {
    CommandResult g = Cli({"tx", "get", "--url", url, "--key", admin, id});
    ASSERT_EQ(g.exit_code, 0) << g.Describe();
    json t = ParseJson(g.out);
    EXPECT_EQ(t.value("status", ""), "committed") << g.out;
    EXPECT_EQ(t.value("proof_verified", false), true) << g.out;
  }
  // The node agrees about the identities.
  ASSERT_TRUE(node_->Stop().ok()) << node_->LogTail();
  CommandResult v = Cli({"verify", "--data-dir", node_->data_dir()});
  EXPECT_EQ(v.exit_code, 0) << v.Describe();
  EXPECT_EQ(ParseJson(v.out).value("ok", false), true) << v.out;
}

TEST_F(CliTest, StatusBlockAndTxGet) {
  const std::string url = node_->url();
  CommandResult put = Cli({"anchor", "put", NewFile(), "--url", url, "--key", node_->admin_key(), "--tag", "cli-test"});
  ASSERT_EQ(put.exit_code, 0) << put.Describe();
  json p = ParseJson(put.out);
  ASSERT_FALSE(p.is_discarded()) << put.out;
  std::string id = p.value("id", "");
  uint64_t height = p.value("height", uint64_t(0));
  ASSERT_TRUE(std::regex_match(id, std::regex("[0-9a-f]{64}"))) << put.out;
  ASSERT_GE(height, 1u);

  CommandResult st = Cli({"status", "--url", url});
  ASSERT_EQ(st.exit_code, 0) << st.Describe();
  json s = ParseJson(st.out);
  ASSERT_FALSE(s.is_discarded()) << st.out;
  EXPECT_EQ(s.value("chain_id", ""), node_->init_info().value("chain_id", "?"));
  EXPECT_GE(s.value("height", uint64_t(0)), height);
  EXPECT_GE(s.value("committed_txs", uint64_t(0)), 1u);
  EXPECT_TRUE(std::regex_match(s.value("last_block_hash", ""), std::regex("[0-9a-f]{64}"))) << st.out;
  EXPECT_TRUE(std::regex_match(s.value("state_root", ""), std::regex("[0-9a-f]{64}"))) << st.out;

  const std::string admin = node_->admin_key();
  CommandResult g = Cli({"tx", "get", "--url", url, "--key", admin, id});
  ASSERT_EQ(g.exit_code, 0) << g.Describe();
  json t = ParseJson(g.out);
  EXPECT_EQ(t.value("status", ""), "committed") << g.out;
  EXPECT_EQ(t.value("height", uint64_t(0)), height);
  EXPECT_EQ(t.value("proof_verified", false), true) << g.out;
  EXPECT_TRUE(t.contains("proof")) << g.out;

  CommandResult b = Cli({"block", "--url", url, "--key", admin, std::to_string(height)});
  ASSERT_EQ(b.exit_code, 0) << b.Describe();
  json blk = ParseJson(b.out);
  ASSERT_FALSE(blk.is_discarded()) << b.out;
  EXPECT_EQ(blk["header"].value("height", uint64_t(0)), height);
  EXPECT_EQ(blk["header"].value("hash", ""), t.value("block_hash", "?"));
  bool found = false;
  for (const auto& tx : blk["txs"]) found |= tx.value("id", "") == id;
  EXPECT_TRUE(found) << "tx " << id << " not listed in block " << height << ": " << b.out;

  CommandResult b1 = Cli({"block", "--url", url, "--key", admin, "1"});
  ASSERT_EQ(b1.exit_code, 0) << b1.Describe();
  EXPECT_EQ(ParseJson(b1.out)["header"].value("height", 0), 1);

  // Things that do not exist are errors with one line, not empty successes.
  ExpectOneErrorLine(Cli({"block", "--url", url, "--key", admin, "999999"}), "not_found");
  ExpectOneErrorLine(Cli({"tx", "get", "--url", url, "--key", admin, std::string(64, '0')}), "not_found");
  ExpectOneErrorLine(Cli({"tx", "get", "--url", url, "--key", admin, "not-an-id"}), "malformed");
}

// Blocks and transactions are for member organisations' keys; a patient
// still submits and waits for its own transactions, and reads them back.
TEST_F(CliTest, ReadingBlocksAndTransactionsNeedsAMemberKey) {
  const std::string url = node_->url();
  const std::string admin = node_->admin_key();
  auto [pat, pat_id] = Keygen("patient");
  auto [aud, aud_id] = Keygen("auditor");
  auto [doc, doc_id] = Keygen("doctor");
  auto [stranger, stranger_id] = Keygen("stranger");
  const std::vector<std::pair<std::string, std::string>> roles = {
      {pat_id, "patient"}, {aud_id, "auditor"}, {doc_id, "practitioner"}};
  for (const auto& [id, role] : roles) {
    CommandResult reg = Cli({"identity", "register", "--url", url, "--key", admin, "--pubkey", id, "--role", role});
    ASSERT_EQ(reg.exit_code, 0) << reg.Describe();
  }
  CommandResult put = Cli({"anchor", "put", NewFile(), "--url", url, "--key", admin});
  ASSERT_EQ(put.exit_code, 0) << put.Describe();
  const std::string admin_tx = ParseJson(put.out).value("id", "");
  const std::string height = std::to_string(ParseJson(put.out).value("height", uint64_t(0)));

  // The patient's consent: submitting waits for the commit through GET
  // /v1/tx signed by the patient, so this succeeding is the first check.
  json grant = {{"consent_id", std::string(32, 'c')}, {"patient_org", "*"}, {"grantee", doc_id},
                {"types", {"Observation"}}, {"purposes", {"TREAT"}}};
  CommandResult mine = Cli({"tx", "send", "--url", url, "--key", pat, "--type", "consent.grant", "--payload", grant.dump()});
  ASSERT_EQ(mine.exit_code, 0) << mine.Describe();
  EXPECT_EQ(ParseJson(mine.out).value("status", ""), "committed") << mine.out;
  const std::string pat_tx = ParseJson(mine.out).value("id", "");
  CommandResult own = Cli({"tx", "get", "--url", url, "--key", pat, pat_tx});
  ASSERT_EQ(own.exit_code, 0) << own.Describe();
  EXPECT_EQ(ParseJson(own.out).value("proof_verified", false), true) << own.out;

  // Not another key's transaction, nor a block, nor anything for a key the
  // chain does not know, nor a practitioner's key.
  ExpectOneErrorLine(Cli({"tx", "get", "--url", url, "--key", pat, admin_tx}), "forbidden");
  ExpectOneErrorLine(Cli({"block", "--url", url, "--key", pat, height}), "forbidden");
  ExpectOneErrorLine(Cli({"block", "--url", url, "--key", doc, height}), "forbidden");
  ExpectOneErrorLine(Cli({"tx", "get", "--url", url, "--key", stranger, pat_tx}), "forbidden");
  ExpectOneErrorLine(Cli({"block", "--url", url, "--key", stranger, height}), "forbidden");
  // Without a key the CLI says so before asking.
  CommandResult no_key = Cli({"block", "--url", url, height});
  EXPECT_NE(no_key.exit_code, 0) << no_key.Describe();
  EXPECT_NE(no_key.err.find("--key"), std::string::npos) << no_key.err;

  // An auditor reads both.
  CommandResult by_auditor = Cli({"tx", "get", "--url", url, "--key", aud, pat_tx});
  ASSERT_EQ(by_auditor.exit_code, 0) << by_auditor.Describe();
  EXPECT_EQ(ParseJson(by_auditor.out)["tx"].value("signer", ""), pat_id) << by_auditor.out;
  CommandResult blk = Cli({"block", "--url", url, "--key", aud, height});
  ASSERT_EQ(blk.exit_code, 0) << blk.Describe();
  EXPECT_EQ(ParseJson(blk.out)["header"].value("height", uint64_t(0)), std::stoull(height)) << blk.out;
}

TEST_F(CliTest, UrlAndKeyFromEnvironment) {
  const std::vector<std::string> env = {"MEDLEDGER_URL=" + node_->url(), "MEDLEDGER_KEY=" + node_->admin_key()};
  CommandResult st = RunCli({"status"}, env);
  ASSERT_EQ(st.exit_code, 0) << st.Describe();
  EXPECT_EQ(ParseJson(st.out).value("chain_id", ""), "medledger-dev") << st.out;

  CommandResult put = RunCli({"anchor", "put", NewFile()}, env);
  ASSERT_EQ(put.exit_code, 0) << put.Describe();
  EXPECT_EQ(ParseJson(put.out).value("status", ""), "committed") << put.out;

  auto [carol, carol_id] = Keygen("carol");
  CommandResult reg = RunCli({"identity", "register", "--pubkey", carol_id, "--role", "auditor"}, env);
  ASSERT_EQ(reg.exit_code, 0) << reg.Describe();

  // A flag wins over the environment.
  CommandResult as_carol = RunCli({"identity", "register", "--key", carol, "--pubkey", std::string(64, 'a'), "--role", "patient"}, env);
  ExpectOneErrorLine(as_carol, "role_not_permitted");

  // Without either, the CLI says what is missing.
  CommandResult none = RunCli({"status"});
  EXPECT_NE(none.exit_code, 0) << none.Describe();
  EXPECT_NE(none.err.find("--url"), std::string::npos) << none.err;
  CommandResult no_key = RunCli({"anchor", "put", NewFile(), "--url", node_->url()});
  EXPECT_NE(no_key.exit_code, 0) << no_key.Describe();
  EXPECT_NE(no_key.err.find("--key"), std::string::npos) << no_key.err;
}

// Regression: eight `record put` started together against a new node, and
// some failed with "registering the custodian subject key ...: conflict: key
// is already registered". `init` lists the subject in the development
// genesis, so none has anything to register.
TEST_F(CliTest, ConcurrentFirstWritesOnANewNodeAllSucceed) {
  EXPECT_FALSE(node_->init_info().value("custodian_subject", "").empty()) << node_->init_info().dump();
  for (const auto& r : EightConcurrentPuts()) {
    EXPECT_EQ(r.exit_code, 0) << r.Describe();
    EXPECT_NE(r.out.find("Organization/org-"), std::string::npos) << r.out;
  }
}

// Where the subject is not in the genesis (a chain from a genesis file; here
// a node given a new subject key), every put finds it unregistered and
// registers it: one registration commits, the others are rejected "already
// registered", which is what they wanted, and every put then succeeds.
TEST_F(CliTest, ConcurrentPutsThatAllRegisterTheCustodianSubjectAllSucceed) {
  ASSERT_TRUE(node_->Stop().ok());
  ASSERT_TRUE(std::filesystem::remove(node_->data_dir() + "/keys/fhir-custodian-subject.key"));
  ASSERT_TRUE(node_->Restart().ok());
  for (const auto& r : EightConcurrentPuts()) {
    EXPECT_EQ(r.exit_code, 0) << r.Describe();
    EXPECT_NE(r.out.find("Organization/org-"), std::string::npos) << r.out;
  }
}

TEST_F(CliTest, WrongUrlIsAClearError) {
  std::string closed = "http://127.0.0.1:" + std::to_string(ClosedLoopbackPort());
  CommandResult r = Cli({"status", "--url", closed});
  ExpectOneErrorLine(r, "cannot connect");
  EXPECT_TRUE(r.out.empty()) << r.out;

  CommandResult put = Cli({"anchor", "put", NewFile(), "--url", closed, "--key", node_->admin_key()});
  ExpectOneErrorLine(put, "cannot connect");

  ExpectOneErrorLine(Cli({"status", "--url", "not-a-url"}), "http://");
  // A server that is not a medledger node: the node's own URL with a path
  // prefix that serves nothing.
  ExpectOneErrorLine(Cli({"status", "--url", node_->url() + "/nothing-here"}), "not_found");
  ExpectOneErrorLine(Cli({"tx", "get", "--url", closed, "--key", node_->admin_key(), std::string(64, '1')}),
                     "cannot connect");
}

}  // namespace
}  // namespace medledger::test
