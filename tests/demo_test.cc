// `medledger demo` (src/cli/demo_cmd.cc) run as `make demo` runs it: a child
// process that starts a consortium of two organisations in its data dir
// (etcd members and two nodes, through `network up`'s code), loads the demo
// data and says it is running. Checked through the nodes' API: both nodes
// on one chain at the same height; the patient's keys derived from the seed
// registered by org1 and org2 respectively, the seed's own public id
// nowhere. SIGTERM (and, on the second run, SIGINT) stops every process the
// demo started, by the PIDs its pid files name; a second run reuses the
// chain without loading again. The supply chain's scans answer verified,
// suspect (the counterfeit) and recalled at both nodes. Waits are bounded by
// progress, never by elapsed time.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "api/http_signature.h"
#include "crypto/derive.h"
#include "crypto/keyfile.h"
#include "http/client.h"
#include "http/url.h"
#include "tests/support/process.h"
#include "tests/support/shell.h"

namespace medledger {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

constexpr const char* kRunning = "medledger demo is running";
constexpr const char* kNames[] = {"node1", "node2", "etcd1", "etcd2"};

// A loopback port nothing listens on now, for the demo's --listen.
int FreeLoopbackPort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  int port = 0;
  if (fd >= 0 && ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0)
    port = ntohs(a.sin_port);
  if (fd >= 0) ::close(fd);
  return port;
}

// True once `pid` has exited: no such process, or a zombie that its new
// parent (init) has not reaped yet.
bool Gone(pid_t pid) {
  if (::kill(pid, 0) != 0 && errno == ESRCH) return true;
  std::string stat = test::ReadFileOrEmpty("/proc/" + std::to_string(pid) + "/stat");
  size_t rp = stat.rfind(')');
  return stat.empty() || (rp != std::string::npos && rp + 2 < stat.size() && stat[rp + 2] == 'Z');
}

class DemoTest : public ::testing::Test {
 protected:
  void SetUp() override {
    crypto::InitCrypto();
    dir_ = test::MakeTempDir("medledger-demo");
    ASSERT_FALSE(dir_.empty());
    data_ = dir_ + "/data";
    port_ = FreeLoopbackPort();
    ASSERT_NE(port_, 0);
  }

  void TearDown() override {
    demo_.reset();  // SIGKILLs a demo still running
    // What a failed demo left running: `network down` on its data dir, then
    // SIGKILL by PID.
    test::TearDownNetwork(data_, pids_, HasFailure());
    std::error_code ec;
    if (!HasFailure() && !std::getenv("MEDLEDGER_KEEP_NET_DIR")) fs::remove_all(dir_, ec);
  }

  // Starts `medledger demo` and returns once it has printed its summary;
  // fails the test if it exits first.
  void StartDemo(int run) {
    test::ProcessOptions o;
    out_ = dir_ + "/demo" + std::to_string(run) + ".out";
    o.stdout_path = out_;
    o.stderr_path = dir_ + "/demo" + std::to_string(run) + ".err";
    auto p = test::Process::Spawn(
        {test::MedledgerBin(), "demo", "--data-dir", data_, "--listen", "127.0.0.1:" + std::to_string(port_)}, o);
    ASSERT_TRUE(p.ok()) << p.status().ToString();
    demo_ = std::move(*p);
    // Loading the demo data commits a few hundred transactions: the bound
    // is against a hang, not a speed requirement.
    test::WaitUntil([&] { return !demo_->Running() || Output().find("Press Ctrl-C") != std::string::npos; },
                    std::chrono::seconds(600));
    ASSERT_TRUE(demo_->Running()) << "demo exited " << demo_->exit_code().value_or(-1) << "\n"
                                  << Output() << test::FileTail(o.stderr_path);
    ASSERT_NE(Output().find(kRunning), std::string::npos) << Output();
    // The PIDs of the processes it started, as its pid files name them.
    pids_now_.clear();
    for (const char* name : kNames) {
      std::ifstream in(data_ + "/" + name + ".pid");
      pid_t pid = 0;
      ASSERT_TRUE(in >> pid) << name << ".pid";
      ASSERT_FALSE(Gone(pid)) << name;
      pids_now_.push_back(pid);
      pids_.push_back(pid);
    }
  }

  // Sends `sig` to the demo and expects it to exit 0 having stopped every
  // process it started, by PID, and removed their pid files.
  void StopDemo(int sig) {
    demo_->Signal(sig);
    auto rc = demo_->Wait(std::chrono::seconds(120));
    ASSERT_TRUE(rc.has_value()) << "the demo did not exit";
    EXPECT_EQ(*rc, 0) << test::FileTail(demo_->stderr_path());
    for (size_t i = 0; i < pids_now_.size(); ++i) {
      EXPECT_TRUE(Gone(pids_now_[i])) << kNames[i] << " (pid " << pids_now_[i] << ") still runs";
      EXPECT_FALSE(fs::exists(data_ + "/" + kNames[i] + ".pid")) << kNames[i];
    }
  }

  std::string Output() const { return test::ReadFileOrEmpty(out_); }

  std::vector<std::string> Urls() const {
    std::ifstream in(data_ + "/network.json");
    json net = json::parse(in, nullptr, false);
    std::vector<std::string> urls;
    if (net.is_discarded()) return urls;
    for (const auto& n : net["nodes"]) urls.push_back("http://127.0.0.1:" + std::to_string(n["port"].get<int>()));
    return urls;
  }

  // GET /v1/status; an empty object when the node does not answer.
  static json Status(const std::string& url) {
    auto r = http::Client(url, std::chrono::seconds(10)).Get("/v1/status");
    json j = r.ok() && r->status == 200 ? json::parse(r->body, nullptr, false) : json();
    return j.is_object() ? j : json::object();
  }

  // GET /v1/identities/{id} at `url`, signed by `reader`: the HTTP status
  // and the record.
  static std::pair<int, json> Identity(const std::string& url, const crypto::KeyPair& reader, const std::string& id) {
    std::string target = "/v1/identities/" + id;
    auto r = http::Client(url, std::chrono::seconds(30)).Request("GET", target, {}, api::SignRequest(reader, "GET", target, {}, {}));
    if (!r.ok()) return {-1, json()};
    return {r->status, json::parse(r->body, nullptr, false)};
  }

  // GET /v1/products/verify?code=CODE at `url`, signed by `reader`: the
  // answer's status, or the HTTP failure.
  static std::string VerifyStatus(const std::string& url, const crypto::KeyPair& reader, const std::string& code) {
    std::string target = "/v1/products/verify?code=" + http::PercentEncode(code);
    auto r = http::Client(url, std::chrono::seconds(30)).Request("GET", target, {}, api::SignRequest(reader, "GET", target, {}, {}));
    if (!r.ok()) return r.status().ToString();
    if (r->status != 200) return "HTTP " + std::to_string(r->status) + ": " + r->body;
    json j = json::parse(r->body, nullptr, false);
    return j.is_object() ? j.value("status", "") : r->body;
  }

  std::string dir_, data_, out_;
  int port_ = 0;
  std::unique_ptr<test::Process> demo_;
  std::vector<pid_t> pids_;      // every PID seen, for TearDown
  std::vector<pid_t> pids_now_;  // the current run's, in kNames order
};

TEST_F(DemoTest, TwoOrganisationsOnePatientWithDerivedKeysStopsEveryProcess) {
  ASSERT_NO_FATAL_FAILURE(StartDemo(1));
  std::vector<std::string> urls = Urls();
  ASSERT_EQ(urls.size(), 2u);
  EXPECT_EQ(urls[0], "http://127.0.0.1:" + std::to_string(port_)) << "org1's node listens on --listen";

  // One chain: both nodes reach the same height with the same state root.
  json s0, s1;
  ASSERT_TRUE(test::WaitUntil([&] {
    s0 = Status(urls[0]);
    s1 = Status(urls[1]);
    return s0.contains("height") && s1.contains("height") && s0["height"] > 0 && s0["height"] == s1["height"] &&
           s0["state_root"] == s1["state_root"];
  })) << s0.dump() << "\n" << s1.dump();
  EXPECT_EQ(s0.value("chain_id", ""), s1.value("chain_id", ""));
  const uint64_t height = s0["height"].get<uint64_t>();

  // The patient's keys: derived from the seed for each custodian, each
  // registered by that custodian's admin; the seed's own key is not.
  auto seed = crypto::ReadKeyFile(data_ + "/keys/patient-seed.key");
  ASSERT_TRUE(seed.ok()) << seed.status().ToString();
  auto admin1 = crypto::ReadKeyFile(data_ + "/node1/keys/admin.key");
  auto admin2 = crypto::ReadKeyFile(data_ + "/node2/keys/admin.key");
  ASSERT_TRUE(admin1.ok() && admin2.ok());
  const std::string chain_id = s0["chain_id"].get<std::string>();
  const std::string orgs[] = {"org1", "org2"};
  std::vector<std::string> derived;
  for (int k = 0; k < 2; ++k) {
    auto key = crypto::DeriveCustodianKey(*seed, chain_id, orgs[k]);
    ASSERT_TRUE(key.ok());
    derived.push_back(key->id());
    for (int via = 0; via < 2; ++via) {
      auto [code, rec] = Identity(urls[via], via == 0 ? *admin1 : *admin2, key->id());
      ASSERT_EQ(code, 200) << orgs[k] << "'s key read at node" << via + 1 << ": " << rec.dump();
      EXPECT_EQ(rec.value("org", ""), orgs[k]);
      EXPECT_NE(rec["roles"].dump().find("\"patient\""), std::string::npos) << rec.dump();
    }
    EXPECT_NE(Output().find(key->id()), std::string::npos) << "the demo prints the key derived for " << orgs[k];
  }
  EXPECT_NE(derived[0], derived[1]);
  for (int via = 0; via < 2; ++via)
    EXPECT_EQ(Identity(urls[via], via == 0 ? *admin1 : *admin2, seed->id()).first, 404)
        << "the seed's public id is registered";
  EXPECT_EQ(Output().find(seed->id()), std::string::npos) << "the demo prints the seed's public id";

  // The supply chain: what a pharmacist scans answers verified (a pack at
  // the pharmacy), suspect (a serial never commissioned) and recalled (a pack
  // of the recalled lot), the same at both organisations' nodes; each is a
  // "try:" line of the summary.
  json demo = json::parse(test::ReadFileOrEmpty(data_ + "/demo.json"), nullptr, false);
  ASSERT_TRUE(demo.is_object() && demo.contains("supply")) << demo.dump();
  auto pharmacy = crypto::ReadKeyFile(data_ + "/keys/pharmacy.key");
  ASSERT_TRUE(pharmacy.ok()) << pharmacy.status().ToString();
  std::map<std::string, std::string> codes;
  for (const auto& v : demo["supply"]["verify"]) codes[v.value("name", "")] = v.value("code", "");
  for (const std::string want : {"verified", "suspect", "recalled"}) {
    ASSERT_FALSE(codes[want].empty()) << want << " in " << demo["supply"].dump();
    for (const auto& url : urls) EXPECT_EQ(VerifyStatus(url, *pharmacy, codes[want]), want) << codes[want] << " at " << url;
    EXPECT_NE(Output().find(" product verify --url " + urls[0] + " --key "), std::string::npos) << Output();
    EXPECT_NE(Output().find("'" + codes[want] + "'   # " + want), std::string::npos) << Output();
  }
  // Claims under the deployed policy: a visit paid less the co-pay, the
  // same services again denied as duplicates (X12 CARC 18), an MRI without
  // prior authorisation denied by the policy.
  ASSERT_TRUE(demo.contains("claims")) << demo.dump();
  const json& claims = demo["claims"];
  EXPECT_EQ(claims["visit"].value("outcome", ""), "complete") << claims.dump();
  ASSERT_FALSE(claims["visit"]["items"].empty()) << claims.dump();
  EXPECT_GT(claims["visit"]["items"][0]["benefit"].get<double>(), 0) << claims.dump();
  EXPECT_EQ(claims["duplicate"]["items"][0].value("reason", ""), "18") << claims.dump();
  EXPECT_EQ(claims["mri"]["items"][0].value("reason", ""), "prior-auth-required") << claims.dump();
  EXPECT_GT(claims.value("paid_cents", 0), 0);
  ASSERT_NO_FATAL_FAILURE(StopDemo(SIGTERM));

  // A second run starts the same chain again and loads nothing.
  ASSERT_NO_FATAL_FAILURE(StartDemo(2));
  EXPECT_EQ(Output().find("Loading"), std::string::npos) << Output();
  ASSERT_TRUE(test::WaitUntil([&] { return Status(urls[0]).value("height", uint64_t(0)) >= height; }));
  EXPECT_EQ(Status(urls[0]).value("chain_id", ""), chain_id);
  EXPECT_EQ(Identity(urls[0], *admin1, derived[1]).first, 200);
  EXPECT_NE(Output().find("'" + codes["recalled"] + "'   # recalled"), std::string::npos) << Output();
  ASSERT_NO_FATAL_FAILURE(StopDemo(SIGINT));
}

}  // namespace
}  // namespace medledger
