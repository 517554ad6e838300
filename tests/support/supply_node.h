// A real development node for the supply-chain integration tests
// (supply_api_test, supply_epcis_test). The fixture starts one TestNode,
// whose admin key holds every role (manufacturer, distributor, dispenser,
// regulator), registers the manufacturer's GS1 company prefix with it, and
// drives the node through the CLI (the user path) and raw signed HTTP
// (status codes and headers).
//
// Not thread-safe: one test's main thread. Waits poll a condition with a
// bound against hangs, never a duration; the node is stopped by PID.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "api/http_signature.h"
#include "cli/api_client.h"
#include "crypto/ed25519.h"
#include "crypto/keyfile.h"
#include "http/client.h"
#include "model/tx_types.h"
#include "tests/support/supply_docs.h"
#include "tests/support/test_node.h"

namespace medledger::test::supply_node {

using nlohmann::json;
using namespace supply_docs;

// api::kMaxCaptureDocumentBytes, as GS1-EPCIS-Capture-File-Size-Limit announces it.
inline constexpr size_t kMaxCaptureBytes = 60 * 1024;

inline bool Contains(const json& list, const std::string& v) {
  return list.is_array() && std::find(list.begin(), list.end(), json(v)) != list.end();
}

// The events of an EPCISQueryDocument.
inline json EventList(const std::string& body) {
  json d = json::parse(body, nullptr, false);
  if (d.is_discarded()) return json();
  return d["epcisBody"]["queryResults"]["resultsBody"]["eventList"];
}

class SupplyNodeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    crypto::InitCrypto();
    auto n = TestNode::Start();
    ASSERT_TRUE(n.ok()) << n.status().ToString();
    node_ = std::move(*n);
    api_ = std::make_unique<cli::ApiClient>(node_->url(), std::chrono::seconds(60));
    auto admin = crypto::ReadKeyFile(node_->admin_key());
    ASSERT_TRUE(admin.ok());
    admin_.emplace(*admin);
    // The development chain has one organisation: the admin alone binds.
    json reg = CliJson({"gs1", "register-prefix", "--prefix", kPrefix});
    ASSERT_EQ(reg.value("status", ""), "committed") << reg.dump();
  }

  std::string Path(const std::string& name) const { return node_->dir() + "/" + name; }
  std::string WriteFile(const std::string& name, const std::string& body) const {
    std::ofstream(Path(name), std::ios::binary) << body;
    return Path(name);
  }

  // `medledger ARGS --url <node> --key <key>`.
  CommandResult Cli(std::vector<std::string> args, const std::string& key = {}) {
    args.insert(args.end(), {"--url", node_->url(), "--key", key.empty() ? node_->admin_key() : key});
    return RunCli(args);
  }
  // The same, expecting exit 0 and JSON on stdout.
  json CliJson(std::vector<std::string> args, const std::string& key = {}) {
    CommandResult r = Cli(args, key);
    EXPECT_EQ(r.exit_code, 0) << "medledger " << json(args).dump() << ": " << r.Describe();
    json j = json::parse(r.out, nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << r.out;
    return j.is_discarded() ? json() : j;
  }
  // `epcis capture` of a document holding `events`: the printed outcomes,
  // checked to be one well-formed entry per event whose hash is the one
  // `epcis hash` computes offline for the same file.
  json Capture(const std::string& name, const std::vector<std::string>& events) {
    std::string file = WriteFile(name + ".json", Document(events));
    json out = CliJson({"epcis", "capture", file});
    EXPECT_TRUE(out.is_array() && out.size() == events.size()) << out.dump();
    CommandResult offline = RunCli({"epcis", "hash", file});
    EXPECT_EQ(offline.exit_code, 0) << offline.Describe();
    json hashes = json::parse(offline.out, nullptr, false);
    EXPECT_TRUE(hashes.is_array() && hashes.size() == events.size()) << offline.out;
    for (size_t i = 0; out.is_array() && i < out.size(); ++i) {
      const json& e = out[i];
      for (const char* k : {"eventID", "hash", "tx", "outcome", "reason"}) EXPECT_TRUE(e.contains(k)) << k << e.dump();
      EXPECT_EQ(e.value("hash", "").rfind("ni:///sha-256;", 0), 0u) << e.dump();
      EXPECT_EQ(e.value("tx", "").size(), 64u) << e.dump();
      if (hashes.is_array() && i < hashes.size()) {
        EXPECT_EQ(e.value("hash", ""), hashes[i].value("hash", "")) << i;
      }
    }
    return out.is_array() ? out : json::array();
  }
  void ExpectOutcomes(const json& out, const std::vector<std::string>& outcomes) {
    ASSERT_EQ(out.size(), outcomes.size()) << out.dump();
    for (size_t i = 0; i < outcomes.size(); ++i) EXPECT_EQ(out[i].value("outcome", ""), outcomes[i]) << i << out.dump();
  }
  json Verify(const std::string& serial, const std::string& lot, const std::string& yymmdd,
              const std::string& key = {}) {
    return CliJson({"product", "verify", "--gtin", kGtin, "--serial", serial, "--lot", lot, "--expiry", yymmdd}, key);
  }
  json VerifyCode(const std::string& code) { return CliJson({"product", "verify", code}); }

  uint64_t Height() {
    auto s = api_->Status();
    return s.ok() ? s->value("height", uint64_t(0)) : 0;
  }

  // Raw signed HTTP: status codes and headers. POSTs name the node.
  http::ClientResponse Signed(const crypto::KeyPair& k, const std::string& method, const std::string& target,
                              const std::string& body = {}, http::HeaderList h = {}) {
    auto r = api_->SignedRequest(k, method, target, body, std::move(h));
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : http::ClientResponse{};
  }
  http::ClientResponse PostCapture(const std::string& body, http::HeaderList h = {},
                                   const std::string& type = "application/ld+json") {
    h.emplace_back("Content-Type", type);
    return Signed(*admin_, "POST", "/epcis/capture", body, std::move(h));
  }
  http::ClientResponse Query(const std::string& query, http::HeaderList h = {}) {
    return Signed(*admin_, "GET", "/epcis/events" + (query.empty() ? "" : "?" + query), {}, std::move(h));
  }
  // The capture job at `location` once it is no longer running (bounded
  // against a node that never decides: 120 s).
  json Job(const std::string& location) {
    json j;
    for (auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
         std::chrono::steady_clock::now() < deadline; std::this_thread::sleep_for(std::chrono::milliseconds(20))) {
      auto r = Signed(*admin_, "GET", location);
      j = json::parse(r.body, nullptr, false);
      if (r.status != 200 || j.is_discarded() || !j.value("running", true)) break;
    }
    return j;
  }

  // A key registered by the admin with `roles`, written to a file.
  std::pair<crypto::KeyPair, std::string> Register(const std::string& name, const std::vector<std::string>& roles) {
    auto k = crypto::KeyPair::Generate();
    auto r = api_->Submit(*admin_, model::tx::kIdentityRegister, {{"pubkey", k.id()}, {"roles", roles}});
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    std::string path = Path(name + ".key");
    EXPECT_TRUE(crypto::WriteKeyFile(path, k).ok());
    return {k, path};
  }

  std::unique_ptr<TestNode> node_;
  std::unique_ptr<cli::ApiClient> api_;
  std::optional<crypto::KeyPair> admin_;
};

// A problem (RFC 7807) of the EPCIS binding: status, type and detail.
inline ::testing::AssertionResult IsProblem(const http::ClientResponse& r, int status, const std::string& exception,
                                            const std::string& detail_has) {
  json j = json::parse(r.body, nullptr, false);
  if (r.status != status) return ::testing::AssertionFailure() << "HTTP " << r.status << ": " << r.body;
  if (r.Header("Content-Type").value_or("").rfind("application/problem+json", 0) != 0)
    return ::testing::AssertionFailure() << "Content-Type " << r.Header("Content-Type").value_or("-");
  if (j.is_discarded() || j.value("type", "") != "epcisException:" + exception || j.value("status", 0) != status)
    return ::testing::AssertionFailure() << "not a " << exception << " problem: " << r.body;
  if (!j.contains("title") || j.value("detail", "").find(detail_has) == std::string::npos)
    return ::testing::AssertionFailure() << "detail without \"" << detail_has << "\": " << r.body;
  return ::testing::AssertionSuccess();
}

}  // namespace medledger::test::supply_node
