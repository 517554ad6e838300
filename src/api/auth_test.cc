// The authentication module on a real chain (api/auth.h): who may spend a
// nonce, quotas per key and organisation, node binding, and replay across a
// clean restart and across a crash.
#include "api/auth.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "api/http_signature.h"
#include "crypto/keyfile.h"

namespace medledger::api {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

crypto::KeyPair Key(uint8_t fill) {
  std::array<uint8_t, 32> seed;
  seed.fill(fill);
  return crypto::KeyPair::FromSeed(seed);
}

int64_t Now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// Two organisations: h1 (admin key 1, node key 11) and h2 (admin 2, node 12).
json Genesis() {
  json orgs = json::array();
  for (int i = 1; i <= 2; ++i)
    orgs.push_back({{"id", "h" + std::to_string(i)},
                    {"name", "Hospital " + std::to_string(i)},
                    {"admin", Key(uint8_t(i)).id()},
                    {"nodes", json::array({Key(uint8_t(10 + i)).id()})}});
  return {{"chain_id", "auth-test"}, {"timestamp_ms", 1000}, {"governance_threshold", 1}, {"organisations", orgs}};
}

class AuthTest : public ::testing::Test {
 protected:
  void SetUp() override {
    crypto::InitCrypto();
    static int n = 0;
    dir_ = (fs::temp_directory_path() / ("ml-auth-" + std::to_string(::getpid()) + "-" + std::to_string(n++))).string();
    fs::remove_all(dir_);
    ASSERT_TRUE(node::Chain::Init(dir_ + "/chain", Genesis()).ok());
    node::ChainOptions co;
    co.sync = false;
    co.verify_threads = 1;
    auto c = node::Chain::Open(dir_ + "/chain", co);
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    chain_ = std::move(*c);
    opts_.state_dir = dir_ + "/auth";
    opts_.node_id = Key(11).id();
    Reopen();
  }
  void TearDown() override {
    auth_.reset();
    chain_.reset();
    fs::remove_all(dir_);
  }

  // A clean stop when `clean`, else as after kill -9 (nothing saved).
  void Reopen(bool clean = true) {
    if (auth_ && clean) {
      ASSERT_TRUE(auth_->Close().ok());
    }
    auth_.reset();
    auto a = Authenticator::Open(chain_.get(), nullptr, opts_);
    ASSERT_TRUE(a.ok()) << a.status().ToString();
    auth_ = std::move(*a);
  }

  http::Request Make(const crypto::KeyPair& k, http::HeaderList extra = {}, std::string method = "GET",
                     std::optional<int64_t> created = std::nullopt) {
    http::Request r;
    r.method = method;
    r.target = "/fhir/Observation/o1";
    r.path = r.target;
    r.headers = SignRequest(k, method, r.target, "", std::move(extra), created);
    return r;
  }

  Result<state::Caller> Verify(const http::Request& r, AuthNeed need = {}, AuthFailure* f = nullptr) {
    return auth_->Verify(r, need, f);
  }

  uint64_t Counter(const std::string& name) {
    for (const auto& m : auth_->Metrics())
      if (m.name == name) return m.value;
    return ~0ull;
  }

  std::string dir_;
  std::unique_ptr<node::Chain> chain_;
  AuthOptions opts_;
  std::unique_ptr<Authenticator> auth_;
};

TEST_F(AuthTest, RegisteredKeyOnceThenReplayRefused) {
  auto r = Make(Key(1));
  auto c = Verify(r);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->id, Key(1).id());
  EXPECT_EQ(c->org(), "h1");
  EXPECT_TRUE(c->via.empty());
  auto again = Verify(r);
  EXPECT_EQ(again.status().code(), StatusCode::kUnauthenticated);
  EXPECT_NE(again.status().message().find("replayed"), std::string::npos);
}

// An unregistered key spends no nonce: however many requests it signs, the
// registered keys' quotas are untouched, and each attempt is counted.
TEST_F(AuthTest, UnregisteredKeyIsRefusedAndSpendsNothing) {
  opts_.org_quota = 4;
  opts_.key_quota = 4;
  Reopen();
  auto stranger = Key(99);
  for (int i = 0; i < 50; ++i) {
    AuthFailure f;
    auto c = Verify(Make(stranger), {}, &f);
    ASSERT_EQ(c.status().code(), StatusCode::kPermissionDenied);
    EXPECT_EQ(AuthFailureResponse(f, true).status, 403);
  }
  EXPECT_EQ(Counter("medledger_auth_unregistered_total"), 50u);
  for (int i = 0; i < 4; ++i) EXPECT_TRUE(Verify(Make(Key(1))).ok()) << i;
  // The security log holds the attempts (bounded, local, never the chain).
  auto log = crypto::ReadFile(opts_.state_dir + "/security.log");
  ASSERT_TRUE(log.ok());
  EXPECT_NE(log->find(stranger.id().substr(0, 16)), std::string::npos);
}

// A key over its quota gets 429 and only that key: another key of another
// organisation is served; the organisation's own quota bounds its keys.
TEST_F(AuthTest, QuotasPerKeyAndPerOrganisation) {
  opts_.key_quota = 3;
  opts_.org_quota = 5;
  Reopen();
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(Verify(Make(Key(1))).ok());
  AuthFailure f;
  auto over = Verify(Make(Key(1)), {}, &f);
  EXPECT_EQ(over.status().code(), StatusCode::kResourceExhausted);
  auto resp = AuthFailureResponse(f, false);
  EXPECT_EQ(resp.status, 429);
  bool retry_after = false;
  for (const auto& [n, v] : resp.headers) retry_after |= n == "Retry-After";
  EXPECT_TRUE(retry_after);
  EXPECT_TRUE(Verify(Make(Key(2))).ok());  // h2's admin is unaffected
  // h1's node key (its own, larger, key quota) fills h1's organisation quota.
  EXPECT_TRUE(Verify(Make(Key(11))).ok());
  EXPECT_TRUE(Verify(Make(Key(11))).ok());
  EXPECT_EQ(Verify(Make(Key(11))).status().code(), StatusCode::kResourceExhausted);
  EXPECT_TRUE(Verify(Make(Key(12))).ok());
}

TEST_F(AuthTest, WritesAreBoundToTheNode) {
  AuthNeed bound{.bound_to_node = true};
  auto none = Verify(Make(Key(1), {}, "POST"), bound);
  EXPECT_EQ(none.status().code(), StatusCode::kUnauthenticated);
  EXPECT_NE(none.status().message().find("X-Medledger-Node"), std::string::npos);
  auto sibling = Verify(Make(Key(1), {{std::string(kNodeHeader), Key(12).id()}}, "POST"), bound);
  EXPECT_EQ(sibling.status().code(), StatusCode::kUnauthenticated);
  EXPECT_TRUE(Verify(Make(Key(1), {{std::string(kNodeHeader), Key(11).id()}}, "POST"), bound).ok());
  // A header added by a proxy is not covered.
  auto added = Make(Key(1), {}, "POST");
  added.headers.emplace_back(std::string(kNodeHeader), Key(11).id());
  EXPECT_EQ(Verify(added, bound).status().code(), StatusCode::kUnauthenticated);
}

// A request captured before a clean restart is refused after it: the
// nonces were saved and loaded, and no restart floor is needed.
TEST_F(AuthTest, ReplayAfterCleanRestartRefused) {
  auto r = Make(Key(1));
  ASSERT_TRUE(Verify(r).ok());
  Reopen(/*clean=*/true);
  EXPECT_EQ(auth_->restart_floor(), 0);
  EXPECT_EQ(Verify(r).status().code(), StatusCode::kUnauthenticated);
  EXPECT_TRUE(Verify(Make(Key(1))).ok());
}

// After a crash the nonces are gone: every signature created before the
// persisted bound is refused with 503 and Retry-After, so a captured request
// cannot be accepted twice; a request signed after the bound is served.
TEST_F(AuthTest, ReplayAfterCrashRefusedUntilClientsSignAnew) {
  auto r = Make(Key(1));
  ASSERT_TRUE(Verify(r).ok());
  Reopen(/*clean=*/false);
  ASSERT_GT(auth_->restart_floor(), Now());
  AuthFailure f;
  auto again = Verify(r, {}, &f);
  EXPECT_EQ(again.status().code(), StatusCode::kUnavailable);
  EXPECT_GT(f.retry_after_s, 0);
  EXPECT_EQ(AuthFailureResponse(f, true).status, 503);
  // Signed at the floor (within the allowed skew): accepted.
  EXPECT_TRUE(Verify(Make(Key(1), {}, "GET", auth_->restart_floor())).ok());
  // And a second crash keeps the bound above what was accepted since.
  auto late = Make(Key(1), {}, "GET", auth_->restart_floor() + 1);
  ASSERT_TRUE(Verify(late).ok());
  Reopen(/*clean=*/false);
  EXPECT_EQ(Verify(late).status().code(), StatusCode::kUnavailable);
}

TEST_F(AuthTest, SignatureFromTheFarFutureRefused) {
  EXPECT_EQ(Verify(Make(Key(1), {}, "GET", Now() + 295)).status().code(), StatusCode::kUnauthenticated);
  EXPECT_TRUE(Verify(Make(Key(1), {}, "GET", Now() + 20)).ok());
}

}  // namespace
}  // namespace medledger::api
