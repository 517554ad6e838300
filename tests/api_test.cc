// The node's HTTP API, driven with medledger::http::Client against a real
// node process: single and batch submission in JSON and binary, transaction
// states, blocks, who may read them (signed requests), metrics, every
// admission rejection code, and hostile input that must get a 4xx JSON error
// while the node keeps serving.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <regex>
#include <set>
#include <sstream>

#include "api/http_signature.h"
#include "common/bytes.h"
#include "crypto/aead.h"
#include "crypto/ed25519.h"
#include "crypto/keyfile.h"
#include "http/client.h"
#include "model/block.h"
#include "model/transaction.h"
#include "model/tx_json.h"
#include "model/tx_types.h"
#include "model/value.h"
#include "tests/support/test_node.h"

namespace medledger::test {
namespace {

using nlohmann::json;
using std::chrono::seconds;

constexpr std::string_view kBinary = "application/octet-stream";

uint64_t RandomU64() {
  uint64_t v;
  crypto::RandomBytes(reinterpret_cast<uint8_t*>(&v), sizeof v);
  return v;
}

std::string RandomHash() { return ToHex(crypto::RandomArray<32>()); }

json Parse(const http::ClientResponse& r) { return json::parse(r.body, nullptr, false); }

std::string BatchBody(const std::vector<model::Transaction>& txs) {
  Bytes out;
  ByteWriter w(&out);
  for (const auto& tx : txs) w.Var(tx.Encode());
  return std::string(out.begin(), out.end());
}

std::string Str(const Bytes& b) { return std::string(b.begin(), b.end()); }

class ApiTest : public ::testing::Test {
 protected:
  void SetUp() override { StartNode({}); }

  void StartNode(std::vector<std::string> node_args) {
    crypto::InitCrypto();
    TestNodeOptions o;
    o.node_args = std::move(node_args);
    auto n = TestNode::Start(o);
    ASSERT_TRUE(n.ok()) << n.status().ToString();
    node_ = std::move(*n);
    Connect();
    auto admin = crypto::ReadKeyFile(node_->admin_key());
    ASSERT_TRUE(admin.ok()) << admin.status().ToString();
    admin_.emplace(*admin);
  }

  void Connect() { client_ = std::make_unique<http::Client>(node_->url(), std::chrono::seconds(60)); }

  json Status() {
    auto r = client_->Get("/v1/status");
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    if (!r.ok()) return json();
    EXPECT_EQ(r->status, 200) << r->body;
    return Parse(*r);
  }
  uint64_t Height() { return Status().value("height", uint64_t(0)); }

  model::Transaction Tx(const crypto::KeyPair& key, uint16_t type, const json& payload,
                        std::optional<uint64_t> expiry = {}, const std::string& chain = "medledger-dev") {
    uint64_t exp = expiry ? *expiry : Height() + 1000;
    auto tx = model::MakeTransaction(chain, key, type, payload, RandomU64(), exp);
    EXPECT_TRUE(tx.ok()) << tx.status().ToString();
    return *tx;
  }
  model::Transaction Anchor(const crypto::KeyPair& key) {
    return Tx(key, model::tx::kAnchorPut, {{"hash", RandomHash()}, {"tag", "api-test"}});
  }

  http::ClientResponse PostJson(const std::string& target, const json& body) {
    auto r = client_->Post(target, body.dump());
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : http::ClientResponse{};
  }
  http::ClientResponse PostBin(const std::string& target, const std::string& body) {
    auto r = client_->Post(target, body, kBinary);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : http::ClientResponse{};
  }
  // A GET signed (RFC 9421) with `key`: blocks and transactions are read so.
  http::ClientResponse SignedGet(const crypto::KeyPair& key, const std::string& target) {
    auto r = client_->Get(target, api::SignRequest(key, "GET", target, "", {}));
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : http::ClientResponse{};
  }
  // GET /v1/tx/{id}, signed by the admin unless another key is given.
  json GetTx(const std::string& id, const std::string& query = "", const crypto::KeyPair* key = nullptr) {
    auto r = SignedGet(key ? *key : *admin_, "/v1/tx/" + id + query);
    json j = Parse(r);
    if (!j.is_object()) j = json::object();
    j["http_status"] = r.status;
    return j;
  }

  // Submits and waits for the commit; the transaction must be committed.
  void Commit(const model::Transaction& tx) {
    auto r = PostJson("/v1/tx?wait=1", model::TxToJson(tx));
    ASSERT_EQ(r.status, 200) << r.body;
    ASSERT_EQ(Parse(r).value("status", ""), "committed") << r.body;
  }
  crypto::KeyPair Register(const std::vector<std::string>& roles) {
    crypto::KeyPair k = crypto::KeyPair::Generate();
    Commit(Tx(*admin_, model::tx::kIdentityRegister, {{"pubkey", k.id()}, {"roles", roles}}));
    return k;
  }

  // Submits one transaction as JSON and as binary and expects the same
  // admission rejection from both: HTTP 4xx and `code` in the JSON error.
  void ExpectRejected(const model::Transaction& tx, const std::string& code) {
    SCOPED_TRACE("expected rejection " + code);
    std::string id = ToHex(tx.Id());
    for (bool binary : {false, true}) {
      auto r = binary ? PostBin("/v1/tx", Str(tx.Encode())) : PostJson("/v1/tx", model::TxToJson(tx));
      EXPECT_GE(r.status, 400) << (binary ? "binary: " : "json: ") << r.body;
      EXPECT_LT(r.status, 500) << r.body;
      json j = Parse(r);
      ASSERT_FALSE(j.is_discarded()) << r.body;
      ASSERT_TRUE(j.contains("error") && j["error"].is_object()) << r.body;
      EXPECT_EQ(j["error"].value("code", ""), code) << (binary ? "binary: " : "json: ") << r.body;
      EXPECT_FALSE(j["error"].value("message", "").empty()) << r.body;
    }
    // The rejection is what GET /v1/tx reports, when the body decoded.
    json g = GetTx(id);
    if (g.value("http_status", 0) == 200) {
      EXPECT_EQ(g.value("status", ""), "rejected") << g.dump();
      EXPECT_EQ(g.value("reason", ""), code) << g.dump();
    }
    // And it never reached a block.
    json after = GetTx(id);
    EXPECT_NE(after.value("status", ""), "committed") << after.dump();
  }

  // The node still answers a normal request.
  void ExpectServing() {
    http::Client fresh(node_->url(), std::chrono::seconds(60));
    auto r = fresh.Get("/v1/status");
    ASSERT_TRUE(r.ok()) << r.status().ToString() << "; node log: " << node_->LogTail();
    EXPECT_EQ(r->status, 200);
    EXPECT_TRUE(node_->running());
  }

  std::unique_ptr<TestNode> node_;
  std::unique_ptr<http::Client> client_;
  std::optional<crypto::KeyPair> admin_;
};

TEST_F(ApiTest, SingleTransactionJsonAndBinary) {
  // JSON, without waiting: accepted as pending.
  model::Transaction a = Anchor(*admin_);
  std::string a_id = ToHex(a.Id());
  auto r = PostJson("/v1/tx", model::TxToJson(a));
  EXPECT_EQ(r.status, 202) << r.body;
  json j = Parse(r);
  EXPECT_EQ(j.value("id", ""), a_id);
  EXPECT_EQ(j.value("status", ""), "pending") << r.body;
  json done = GetTx(a_id, "?wait_ms=30000");
  EXPECT_EQ(done.value("http_status", 0), 200);
  EXPECT_EQ(done.value("status", ""), "committed") << done.dump();
  EXPECT_GE(done.value("height", uint64_t(0)), 1u);
  EXPECT_TRUE(done.contains("proof")) << done.dump();
  EXPECT_TRUE(done.contains("header")) << done.dump();
  // The JSON form round-trips: the stored transaction is the one sent.
  EXPECT_EQ(done["tx"], model::TxToJson(a));

  // Binary, waiting for the commit.
  model::Transaction b = Anchor(*admin_);
  auto rb = PostBin("/v1/tx?wait=1", Str(b.Encode()));
  EXPECT_EQ(rb.status, 200) << rb.body;
  json jb = Parse(rb);
  EXPECT_EQ(jb.value("id", ""), ToHex(b.Id()));
  EXPECT_EQ(jb.value("status", ""), "committed") << rb.body;
  EXPECT_GE(jb.value("height", uint64_t(0)), 1u);

  // Resubmitting a committed transaction is idempotent: it reports the
  // commit and does not enter the chain twice.
  uint64_t committed = Status().value("committed_txs", uint64_t(0));
  auto again = PostBin("/v1/tx?wait=1", Str(b.Encode()));
  EXPECT_EQ(Parse(again).value("status", ""), "committed") << again.body;
  EXPECT_EQ(Status().value("committed_txs", uint64_t(0)), committed);
}

TEST_F(ApiTest, BatchJsonAndBinaryWithWait) {
  uint64_t before = Status().value("committed_txs", uint64_t(0));
  std::vector<model::Transaction> txs;
  json arr = json::array();
  for (int i = 0; i < 20; ++i) {
    txs.push_back(Anchor(*admin_));
    arr.push_back(model::TxToJson(txs.back()));
  }
  auto r = PostJson("/v1/txs?wait=1", arr);
  ASSERT_EQ(r.status, 200) << r.body;
  json j = Parse(r);
  EXPECT_EQ(j.value("accepted", 0), 20) << r.body;
  EXPECT_EQ(j.value("rejected", -1), 0) << r.body;
  EXPECT_EQ(j.value("committed", 0), 20) << r.body;
  ASSERT_EQ(j["results"].size(), 20u);
  for (size_t i = 0; i < txs.size(); ++i) {
    EXPECT_EQ(j["results"][i].value("id", ""), ToHex(txs[i].Id())) << "results keep the request order";
    EXPECT_EQ(j["results"][i].value("status", ""), "committed");
    EXPECT_GE(j["results"][i].value("height", uint64_t(0)), 1u);
  }

  // Binary batch (u32 length + tx, repeated), with one bad transaction in
  // it: the others still commit, the bad one is reported by its position.
  std::vector<model::Transaction> bin;
  for (int i = 0; i < 30; ++i) bin.push_back(Anchor(*admin_));
  bin[7].signature[0] ^= 1;
  auto rb = PostBin("/v1/txs?wait=1", BatchBody(bin));
  ASSERT_EQ(rb.status, 200) << rb.body;
  json jb = Parse(rb);
  EXPECT_EQ(jb.value("accepted", 0), 29) << rb.body;
  EXPECT_EQ(jb.value("rejected", 0), 1) << rb.body;
  EXPECT_EQ(jb.value("committed", 0), 29) << rb.body;
  ASSERT_EQ(jb["results"].size(), 30u);
  EXPECT_EQ(jb["results"][7].value("status", ""), "rejected");
  EXPECT_EQ(jb["results"][7].value("reason", ""), "bad_signature");
  for (size_t i = 0; i < bin.size(); ++i) {
    if (i == 7) continue;
    EXPECT_EQ(jb["results"][i].value("id", ""), ToHex(bin[i].Id()));
    json g = GetTx(ToHex(bin[i].Id()));
    EXPECT_EQ(g.value("status", ""), "committed") << g.dump();
  }
  EXPECT_EQ(Status().value("committed_txs", uint64_t(0)), before + 20 + 29);

  // A JSON batch wrapped in {"txs": [...]} is accepted too; an empty batch
  // is a no-op.
  auto wrapped = PostJson("/v1/txs?wait=1", {{"txs", json::array({model::TxToJson(Anchor(*admin_))})}});
  EXPECT_EQ(Parse(wrapped).value("committed", 0), 1) << wrapped.body;
  auto empty = PostBin("/v1/txs?wait=1", "");
  EXPECT_EQ(empty.status, 200) << empty.body;
  EXPECT_EQ(Parse(empty).value("accepted", -1), 0) << empty.body;
}

TEST_F(ApiTest, TransactionStates) {
  // 404 for an id never seen; 400 for a malformed one.
  json unknown = GetTx(RandomHash());
  EXPECT_EQ(unknown.value("http_status", 0), 404) << unknown.dump();
  EXPECT_EQ(unknown["error"].value("code", ""), "not_found") << unknown.dump();
  json bad = GetTx("xyz");
  EXPECT_EQ(bad.value("http_status", 0), 400) << bad.dump();
  EXPECT_TRUE(bad.contains("error")) << bad.dump();

  // Rejected at admission.
  model::Transaction forged = Anchor(*admin_);
  forged.signature[10] ^= 0x40;
  auto r = PostJson("/v1/tx", model::TxToJson(forged));
  EXPECT_EQ(r.status, 401) << r.body;
  json rej = GetTx(ToHex(forged.Id()));
  EXPECT_EQ(rej.value("http_status", 0), 200) << rej.dump();
  EXPECT_EQ(rej.value("status", ""), "rejected") << rej.dump();
  EXPECT_EQ(rej.value("reason", ""), "bad_signature") << rej.dump();

  // Two transactions anchoring the same hash: the first commits, the second
  // is rejected (at admission, or inside the block where it then stays,
  // marked invalid).
  std::string hash = RandomHash();
  model::Transaction first = Tx(*admin_, model::tx::kAnchorPut, {{"hash", hash}, {"tag", "one"}});
  model::Transaction second = Tx(*admin_, model::tx::kAnchorPut, {{"hash", hash}, {"tag", "two"}});
  auto both = PostBin("/v1/txs?wait=1", BatchBody({first, second}));
  ASSERT_EQ(both.status, 200) << both.body;
  EXPECT_EQ(GetTx(ToHex(first.Id())).value("status", ""), "committed");
  json dup = GetTx(ToHex(second.Id()));
  EXPECT_EQ(dup.value("status", ""), "rejected") << dup.dump();
  EXPECT_EQ(dup.value("reason", ""), "conflict") << dup.dump();
  if (dup.contains("height")) {
    // In a block: the block lists it as invalid, with the reason.
    json b = Parse(SignedGet(*admin_, "/v1/blocks/" + std::to_string(dup["height"].get<uint64_t>())));
    bool listed = false;
    for (const auto& t : b["txs"])
      if (t.value("id", "") == ToHex(second.Id())) {
        listed = true;
        EXPECT_FALSE(t.value("valid", true));
        EXPECT_EQ(t.value("reason", ""), "conflict");
      }
    EXPECT_TRUE(listed) << b.dump();
  }
}

TEST_F(ApiTest, PendingWhileEarlierBlocksCommit) {
  // One transaction per block, so that a large batch takes many synced
  // commits: right after the batch is accepted, its last transaction is
  // normally still waiting for its block. How far the node got is up to the
  // scheduler, so a round that finds it already committed is repeated (a few
  // rounds at most); the assertions never depend on timing.
  node_.reset();
  StartNode({"--max-txs", "1"});
  json pending;
  std::string pending_id;
  for (int round = 0; round < 5 && pending.is_null(); ++round) {
    std::vector<model::Transaction> txs;
    for (int i = 0; i < 1000; ++i) txs.push_back(Anchor(*admin_));
    auto r = PostBin("/v1/txs", BatchBody(txs));
    ASSERT_EQ(r.status, 200) << r.body;
    json j = Parse(r);
    EXPECT_EQ(j.value("accepted", 0), 1000) << r.body.substr(0, 500);
    // Without ?wait, admission answers "pending" for every new transaction.
    for (const auto& res : j["results"]) ASSERT_EQ(res.value("status", ""), "pending") << res.dump();
    std::string id = ToHex(txs.back().Id());
    json last = GetTx(id);
    EXPECT_EQ(last.value("http_status", 0), 200) << last.dump();
    ASSERT_TRUE(last.value("status", "") == "pending" || last.value("status", "") == "committed") << last.dump();
    if (last.value("status", "") == "pending") {
      pending = last;
      pending_id = id;
    }
  }
  ASSERT_FALSE(pending.is_null()) << "GET /v1/tx never reported a transaction of a fresh batch as pending";
  EXPECT_EQ(pending.value("id", ""), pending_id);
  EXPECT_FALSE(pending.contains("height")) << pending.dump();
  EXPECT_FALSE(pending.contains("proof")) << pending.dump();
  // Long-polling resolves it.
  json done = GetTx(pending_id, "?wait_ms=60000");
  for (int i = 0; i < 10 && done.value("status", "") == "pending"; ++i) done = GetTx(pending_id, "?wait_ms=60000");
  EXPECT_EQ(done.value("status", ""), "committed") << done.dump();
  EXPECT_GE(done.value("height", uint64_t(0)), 1000u) << "one transaction per block";
  EXPECT_TRUE(done.contains("proof")) << done.dump();
}

TEST_F(ApiTest, BlocksJsonAndBinary) {
  model::Transaction a = Anchor(*admin_);
  Commit(a);
  json t = GetTx(ToHex(a.Id()));
  uint64_t h = t.value("height", uint64_t(0));
  ASSERT_GE(h, 1u);

  auto rj = SignedGet(*admin_, "/v1/blocks/" + std::to_string(h));
  ASSERT_EQ(rj.status, 200) << rj.body;
  json b = Parse(rj);
  EXPECT_EQ(b["header"].value("height", uint64_t(0)), h);
  EXPECT_EQ(b["header"].value("hash", ""), t.value("block_hash", "?"));
  ASSERT_FALSE(b["txs"].empty());

  auto rb = SignedGet(*admin_, "/v1/blocks/" + std::to_string(h) + "?format=binary");
  ASSERT_EQ(rb.status, 200);
  EXPECT_EQ(rb.Header("content-type").value_or(""), "application/octet-stream");
  Bytes bytes(rb.body.begin(), rb.body.end());
  auto blk = model::DecodeBlock(bytes);
  ASSERT_TRUE(blk.ok()) << blk.status().ToString();
  EXPECT_EQ(blk->header.height, h);
  EXPECT_EQ(ToHex(blk->header.Hash()), b["header"].value("hash", ""));
  EXPECT_EQ(blk->Encode(), bytes) << "the binary form is the canonical encoding";
  EXPECT_TRUE(crypto::Verify(blk->header.proposer, blk->header.SigningBytes(), blk->header.proposer_sig));
  bool has = false;
  for (const auto& id : blk->TxIds()) has |= id == a.Id();
  EXPECT_TRUE(has);

  // The genesis block, a block past the tip, and a non-number.
  auto g = SignedGet(*admin_, "/v1/blocks/0");
  EXPECT_EQ(g.status, 200);
  EXPECT_EQ(Parse(g)["header"].value("height", 99), 0);
  auto past = SignedGet(*admin_, "/v1/blocks/" + std::to_string(h + 1000));
  EXPECT_EQ(past.status, 404) << past.body;
  EXPECT_EQ(Parse(past)["error"].value("code", ""), "not_found");
  auto nan = SignedGet(*admin_, "/v1/blocks/-1");
  EXPECT_EQ(nan.status, 400) << nan.body;
  EXPECT_TRUE(Parse(nan).contains("error"));
}

// Blocks and transactions need a signed request from a member organisation's
// key (org admin / member, node, auditor, regulator). Other registered keys
// read only transactions they signed; unknown keys nothing.
TEST_F(ApiTest, ReadingBlocksAndTransactionsNeedsAMemberSignature) {
  model::Transaction a = Anchor(*admin_);
  Commit(a);
  const std::string a_id = ToHex(a.Id());
  const uint64_t h = GetTx(a_id).value("height", uint64_t(0));
  ASSERT_GE(h, 1u);
  const std::string block = "/v1/blocks/" + std::to_string(h);
  auto error_code = [](const http::ClientResponse& r) {
    json j = Parse(r);
    return j.is_object() && j.contains("error") ? j["error"].value("code", "") : std::string("(no JSON error)");
  };

  // Unsigned: 401, for both routes and both block formats.
  for (const std::string& target : {block, block + "?format=binary", "/v1/tx/" + a_id, "/v1/tx/" + a_id + "?wait_ms=10"}) {
    auto r = client_->Get(target);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->status, 401) << target << ": " << r->body;
    EXPECT_EQ(error_code(*r), "unauthenticated") << r->body;
    EXPECT_EQ(r->body.find("\"tx\""), std::string::npos) << "no payload without a signature: " << r->body;
  }
  // A signature over another path, and a replayed one: 401 as well.
  auto other = api::SignRequest(*admin_, "GET", "/v1/blocks/0", "", {});
  auto moved = client_->Get(block, other);
  ASSERT_TRUE(moved.ok());
  EXPECT_EQ(moved->status, 401) << moved->body;
  auto once = api::SignRequest(*admin_, "GET", block, "", {});
  auto first = client_->Get(block, once);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->status, 200) << first->body;
  auto replay = client_->Get(block, once);
  ASSERT_TRUE(replay.ok());
  EXPECT_EQ(replay->status, 401) << replay->body;
  EXPECT_NE(replay->body.find("replayed"), std::string::npos) << replay->body;

  // The node's own key (peers catching up sign with theirs) and an auditor read both.
  auto node_key = crypto::ReadKeyFile(node_->node_key());
  ASSERT_TRUE(node_key.ok()) << node_key.status().ToString();
  crypto::KeyPair auditor = Register({"auditor"});
  for (const crypto::KeyPair* k : {&*node_key, &auditor}) {
    auto b = SignedGet(*k, block);
    EXPECT_EQ(b.status, 200) << b.body;
    EXPECT_EQ(Parse(b)["header"].value("height", uint64_t(0)), h) << b.body;
    json t = GetTx(a_id, "", k);
    EXPECT_EQ(t.value("http_status", 0), 200) << t.dump();
    EXPECT_EQ(t["tx"], model::TxToJson(a)) << t.dump();
  }

  // A patient submits (anchor.put is open to every role) and waits for its
  // own transaction through GET /v1/tx, as the CLI does: the whole of it.
  crypto::KeyPair patient = Register({"patient"});
  model::Transaction mine = Anchor(patient);
  auto sent = PostJson("/v1/tx", model::TxToJson(mine));
  ASSERT_LT(sent.status, 300) << sent.body;
  json own = GetTx(ToHex(mine.Id()), "?wait_ms=30000", &patient);
  for (int i = 0; i < 10 && own.value("status", "") == "pending"; ++i)
    own = GetTx(ToHex(mine.Id()), "?wait_ms=30000", &patient);
  EXPECT_EQ(own.value("http_status", 0), 200) << own.dump();
  EXPECT_EQ(own.value("status", ""), "committed") << own.dump();
  EXPECT_EQ(own["tx"], model::TxToJson(mine)) << own.dump();
  EXPECT_TRUE(own.contains("proof")) << own.dump();

  // But not another key's transaction, nor any block: 403 with a JSON error
  // that says why and carries no payload.
  json theirs = GetTx(a_id, "", &patient);
  EXPECT_EQ(theirs.value("http_status", 0), 403) << theirs.dump();
  EXPECT_EQ(theirs["error"].value("code", ""), "forbidden") << theirs.dump();
  EXPECT_FALSE(theirs.contains("tx")) << theirs.dump();
  auto pb = SignedGet(patient, block);
  EXPECT_EQ(pb.status, 403) << pb.body;
  EXPECT_EQ(error_code(pb), "forbidden") << pb.body;
  EXPECT_NE(pb.body.find("holds none of those roles"), std::string::npos) << pb.body;
  // A practitioner is not a member reader either.
  crypto::KeyPair doctor = Register({"practitioner"});
  EXPECT_EQ(SignedGet(doctor, block).status, 403);
  EXPECT_EQ(GetTx(a_id, "", &doctor).value("http_status", 0), 403);

  // A key the chain does not know: 403 for everything, even a correct signature.
  crypto::KeyPair stranger = crypto::KeyPair::Generate();
  auto sb = SignedGet(stranger, block);
  EXPECT_EQ(sb.status, 403) << sb.body;
  EXPECT_NE(sb.body.find("not a registered, active identity"), std::string::npos) << sb.body;
  json st = GetTx(ToHex(mine.Id()), "", &stranger);
  EXPECT_EQ(st.value("http_status", 0), 403) << st.dump();
  EXPECT_EQ(GetTx(RandomHash(), "", &stranger).value("http_status", 0), 403) << "no existence oracle for strangers";

  // A revoked auditor loses access from the next block on.
  Commit(Tx(*admin_, model::tx::kIdentityRevoke, {{"pubkey", auditor.id()}}));
  auto revoked = SignedGet(auditor, block);
  EXPECT_EQ(revoked.status, 403) << revoked.body;
  // The same answer as for a key the chain never knew (api/auth.h).
  EXPECT_NE(revoked.body.find("not a registered, active identity"), std::string::npos) << revoked.body;

  // /v1/status stays open and carries no block contents.
  json s = Status();
  EXPECT_FALSE(s.contains("txs")) << s.dump();
}

TEST_F(ApiTest, MetricsInPrometheusTextFormat) {
  Commit(Anchor(*admin_));
  auto r = client_->Get("/metrics");
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->status, 200);
  EXPECT_EQ(r->Header("content-type").value_or("").rfind("text/plain", 0), 0u) << r->Header("content-type").value_or("");
  // Every line is a # HELP / # TYPE comment or "name value", and every
  // sample has a TYPE line before it.
  std::regex help("# HELP [a-zA-Z_:][a-zA-Z0-9_:]* .+");
  std::regex type("# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)");
  std::regex sample("([a-zA-Z_:][a-zA-Z0-9_:]*)(\\{[^}]*\\})? (-?[0-9.eE+-]+|NaN|\\+Inf|-Inf)");
  std::set<std::string> typed;
  std::map<std::string, double> values;
  std::istringstream in(r->body);
  std::string line;
  int samples = 0;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    std::smatch m;
    if (std::regex_match(line, m, type)) {
      typed.insert(m[1]);
    } else if (std::regex_match(line, help)) {
    } else if (std::regex_match(line, m, sample)) {
      EXPECT_TRUE(typed.count(m[1])) << "sample without TYPE: " << line;
      values[m[1]] = std::stod(m[3]);
      samples++;
    } else {
      ADD_FAILURE() << "not Prometheus text format: '" << line << "'";
    }
  }
  EXPECT_GE(samples, 5);
  json s = Status();
  ASSERT_TRUE(values.count("medledger_height"));
  ASSERT_TRUE(values.count("medledger_committed_txs_total"));
  EXPECT_EQ(uint64_t(values["medledger_height"]), s.value("height", uint64_t(0)));
  EXPECT_EQ(uint64_t(values["medledger_committed_txs_total"]), s.value("committed_txs", uint64_t(0)));
  EXPECT_GE(values["medledger_tx_admitted_total"], 1);
}

TEST_F(ApiTest, EveryRejectionCodeOverHttp) {
  // unknown_type: a name no one registered (JSON), a number (binary).
  {
    json j = model::TxToJson(Anchor(*admin_));
    j["type"] = "no.such.type";
    auto r = PostJson("/v1/tx", j);
    EXPECT_EQ(r.status, 400) << r.body;
    EXPECT_EQ(Parse(r)["error"].value("code", ""), "unknown_type") << r.body;
    ExpectRejected(Tx(*admin_, 999, {{"x", 1}}), "unknown_type");
  }
  // bad_signature: one flipped bit; and a valid signature by another key.
  {
    model::Transaction t = Anchor(*admin_);
    t.signature[33] ^= 0x01;
    ExpectRejected(t, "bad_signature");
    model::Transaction u = Anchor(*admin_);
    u.signer = crypto::KeyPair::Generate().public_key();
    ExpectRejected(u, "bad_signature");
  }
  // wrong_chain
  ExpectRejected(Tx(*admin_, model::tx::kAnchorPut, {{"hash", RandomHash()}}, {}, "some-other-chain"), "wrong_chain");
  // expired: already past its expiry height, or too far ahead of the chain.
  Commit(Anchor(*admin_));
  ExpectRejected(Tx(*admin_, model::tx::kAnchorPut, {{"hash", RandomHash()}}, uint64_t(0)), "expired");
  ExpectRejected(Tx(*admin_, model::tx::kAnchorPut, {{"hash", RandomHash()}}, Height() + 1000000), "expired");
  // oversized: a payload over 64 KiB (it cannot be built with
  // MakeTransaction, which refuses it, so it is signed by hand).
  {
    model::Transaction t;
    t.chain_id = "medledger-dev";
    t.signer = admin_->public_key();
    t.nonce = RandomU64();
    t.expiry_height = Height() + 1000;
    t.type = model::tx::kAnchorPut;
    auto payload = model::EncodeValue({{"hash", RandomHash()}, {"tag", std::string(model::kMaxPayloadBytes + 100, 'x')}});
    ASSERT_TRUE(payload.ok());
    t.payload = *payload;
    t.Sign(*admin_);
    ExpectRejected(t, "oversized");
  }
  // unknown_signer
  crypto::KeyPair stranger = crypto::KeyPair::Generate();
  ExpectRejected(Anchor(stranger), "unknown_signer");
  // role_not_permitted: a patient may not register identities.
  crypto::KeyPair patient = Register({"patient"});
  Commit(Anchor(patient));  // but may anchor
  ExpectRejected(Tx(patient, model::tx::kIdentityRegister, {{"pubkey", crypto::KeyPair::Generate().id()}, {"roles", {"patient"}}}),
                 "role_not_permitted");
  // revoked_key: revoked by its admin; its earlier transaction stays.
  crypto::KeyPair doomed = Register({"practitioner"});
  model::Transaction before = Anchor(doomed);
  Commit(before);
  Commit(Tx(*admin_, model::tx::kIdentityRevoke, {{"pubkey", doomed.id()}}));
  ExpectRejected(Anchor(doomed), "revoked_key");
  EXPECT_EQ(GetTx(ToHex(before.Id())).value("status", ""), "committed");

  // replayed: a committed transaction, sent again to a node that no longer
  // remembers it in memory (restarted), is refused by the replay window.
  model::Transaction once = Anchor(*admin_);
  Commit(once);
  ASSERT_TRUE(node_->Stop().ok()) << node_->LogTail();
  ASSERT_TRUE(node_->Restart().ok()) << node_->LogTail();
  Connect();
  uint64_t committed = Status().value("committed_txs", uint64_t(0));
  for (bool binary : {false, true}) {
    auto r = binary ? PostBin("/v1/tx?wait=1", Str(once.Encode())) : PostJson("/v1/tx?wait=1", model::TxToJson(once));
    json j = Parse(r);
    EXPECT_EQ(r.status, 409) << r.body;
    EXPECT_EQ(j["error"].value("code", ""), "replayed") << r.body;
  }
  EXPECT_EQ(GetTx(ToHex(once.Id())).value("status", ""), "committed") << "the original stays committed";
  EXPECT_EQ(Status().value("committed_txs", uint64_t(0)), committed);
  ExpectServing();
}

TEST_F(ApiTest, HostileInputGets4xxJsonAndNodeKeepsServing) {
  auto expect_4xx_json = [&](const http::ClientResponse& r, const std::string& what) {
    SCOPED_TRACE(what);
    EXPECT_GE(r.status, 400) << r.body;
    EXPECT_LT(r.status, 500) << r.body;
    json j = Parse(r);
    ASSERT_FALSE(j.is_discarded()) << "error body is not JSON: " << r.body.substr(0, 200);
    ASSERT_TRUE(j.contains("error") && j["error"].is_object()) << r.body;
    EXPECT_FALSE(j["error"].value("code", "").empty()) << r.body;
    EXPECT_FALSE(j["error"].value("message", "").empty()) << r.body;
  };
  std::mt19937_64 rng(42);
  auto garbage = [&](size_t n) {
    std::string s(n, '\0');
    for (auto& c : s) c = char(rng());
    return s;
  };

  expect_4xx_json(PostJson("/v1/tx", json::array()), "JSON array to /v1/tx");
  for (const char* body : {"{", "{\"version\":1,", "not json at all", "{\"version\":1}", "[1,2,3]", "null", "\"\""}) {
    auto r = client_->Post("/v1/tx", body);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    expect_4xx_json(*r, std::string("malformed JSON: ") + body);
    auto rb = client_->Post("/v1/txs", body);
    ASSERT_TRUE(rb.ok()) << rb.status().ToString();
    expect_4xx_json(*rb, std::string("malformed batch: ") + body);
  }
  // A JSON transaction with fields of the wrong kind.
  json wrong = model::TxToJson(Anchor(*admin_));
  wrong["nonce"] = -5;
  expect_4xx_json(PostJson("/v1/tx", wrong), "negative nonce");
  wrong = model::TxToJson(Anchor(*admin_));
  wrong["signature"] = "zz";
  expect_4xx_json(PostJson("/v1/tx", wrong), "bad signature hex");
  wrong = model::TxToJson(Anchor(*admin_));
  wrong["payload"] = 1.5;
  expect_4xx_json(PostJson("/v1/tx", wrong), "float payload");

  // Garbage binary, of several sizes, to both endpoints.
  for (size_t n : {1, 7, 100, 5000, 200000}) {
    expect_4xx_json(PostBin("/v1/tx", garbage(n)), "garbage binary tx of " + std::to_string(n));
    expect_4xx_json(PostBin("/v1/txs", garbage(n)), "garbage binary batch of " + std::to_string(n));
  }
  // A valid transaction with one byte cut off, or one extra byte.
  std::string enc = Str(Anchor(*admin_).Encode());
  expect_4xx_json(PostBin("/v1/tx", enc.substr(0, enc.size() - 1)), "truncated tx");
  expect_4xx_json(PostBin("/v1/tx", enc + "x"), "trailing byte");
  // A batch whose length prefix promises more than it has.
  std::string batch = BatchBody({Anchor(*admin_)});
  expect_4xx_json(PostBin("/v1/txs", batch.substr(0, batch.size() - 10)), "truncated batch");
  ExpectServing();

  // A 20 MB body: refused by the size limit with a JSON error.
  {
    http::Client big(node_->url(), std::chrono::seconds(120));
    std::string body(20 << 20, 'a');
    for (const char* target : {"/v1/tx", "/v1/txs"}) {
      auto r = big.Post(target, body, kBinary);
      ASSERT_TRUE(r.ok()) << target << ": " << r.status().ToString();
      EXPECT_EQ(r->status, 413) << r->body;
      expect_4xx_json(*r, std::string("20 MB body to ") + target);
    }
  }
  ExpectServing();
  // Unknown routes and methods are JSON errors too.
  auto nf = client_->Get("/v1/nothing");
  ASSERT_TRUE(nf.ok());
  expect_4xx_json(*nf, "unknown route");
  auto method = client_->Request("DELETE", "/v1/status");
  ASSERT_TRUE(method.ok());
  expect_4xx_json(*method, "wrong method");

  // After all that, normal traffic still commits.
  model::Transaction ok = Anchor(*admin_);
  Commit(ok);
  EXPECT_EQ(GetTx(ToHex(ok.Id())).value("status", ""), "committed");
  ExpectServing();
}

}  // namespace
}  // namespace medledger::test
