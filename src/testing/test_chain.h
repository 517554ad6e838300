// A two-organisation chain in memory for the record module tests: genesis,
// then blocks executed and applied in order (after state/executor_test.cc).
#pragma once

#include <gtest/gtest.h>

#include "crypto/sha256.h"
#include "model/tx_types.h"
#include "records/access.h"
#include "records/consent.h"
#include "records/decision.h"
#include "records/erasure.h"
#include "records/records.h"
#include "records/register.h"
#include "records/schema.h"
#include "state/executor.h"
#include "state/genesis.h"

namespace medledger::records::testing {

using model::Reject;
using nlohmann::json;
namespace tx = model::tx;

inline crypto::KeyPair Key(uint8_t fill) {
  std::array<uint8_t, 32> seed;
  seed.fill(fill);
  return crypto::KeyPair::FromSeed(seed);
}

inline crypto::KeyPair Key(const std::string& name) {
  Hash32 h = crypto::Sha256(std::string("key:") + name);
  return crypto::KeyPair::FromSeed(h);
}

// A 32-character hex id derived from a name (tests only: real ids are random).
inline std::string Id(const std::string& name) { return ToHex(crypto::Sha256("id:" + name)).substr(0, 32); }
inline std::string HashOf(const std::string& bytes) { return ToHex(crypto::Sha256(bytes)); }

class TestChain {
 public:
  TestChain()
      : admin_a(Key(1)), node_a(Key(2)), admin_b(Key(3)), node_b(Key(4)), exec(state::Executor::Core()),
        replay(100000) {
    RegisterRecordModules(*exec);
    json doc = {{"chain_id", "rec-chain"},
                {"timestamp_ms", 1000},
                {"governance_threshold", 1},
                {"block", {{"max_txs", 5000}, {"interval_ms", 20}, {"max_expiry_window", 10000}}},
                {"organisations",
                 json::array({{{"id", "hosp-a"}, {"name", "Hospital A"}, {"admin", admin_a.id()},
                               {"nodes", json::array({node_a.id()})}},
                              {{"id", "hosp-b"}, {"name", "Hospital B"}, {"admin", admin_b.id()},
                               {"nodes", json::array({node_b.id()})}}})}};
    auto g = state::BuildGenesis(doc);
    EXPECT_TRUE(g.ok()) << g.status().ToString();
    state.Apply(g->writes);
    root = g->block.header.state_root;
  }

  model::Transaction Tx(const crypto::KeyPair& k, uint16_t type, const json& payload) {
    auto t = model::MakeTransaction("rec-chain", k, type, payload, nonce++, height + 1000);
    EXPECT_TRUE(t.ok()) << t.status().ToString();
    return *t;
  }

  std::vector<model::Verdict> Run(const std::vector<model::Transaction>& txs) {
    height++;
    std::vector<Hash32> ids;
    std::vector<uint8_t> sig_ok;
    for (const auto& t : txs) {
      ids.push_back(t.Id());
      sig_ok.push_back(1);  // signed by MakeTransaction; verification is the executor tests' concern
    }
    auto out = exec->Execute(state, root, height, now_ms, txs, ids, sig_ok, replay);
    state.Apply(out.writes);
    root = out.state_root;
    replay.AddBlock(height, ids);
    now_ms += 1000;
    return out.verdicts;
  }

  model::Verdict Do(const crypto::KeyPair& k, uint16_t type, const json& payload) { return Run({Tx(k, type, payload)})[0]; }

  // Registers `k` at `org` with `roles`, signed by that org's admin; expects acceptance.
  void Register(const crypto::KeyPair& k, const std::vector<std::string>& roles, const std::string& org = "hosp-a") {
    auto v = Do(org == "hosp-a" ? admin_a : admin_b, tx::kIdentityRegister,
                {{"pubkey", k.id()}, {"roles", roles}, {"org", org}});
    EXPECT_TRUE(v.ok()) << v.detail;
  }

  crypto::KeyPair admin_a, node_a, admin_b, node_b;
  std::unique_ptr<state::Executor> exec;
  state::ReplayGuard replay;
  state::MemState state;
  Hash32 root{};
  uint64_t height = 0;
  uint64_t nonce = 1;
  uint64_t now_ms = 1'000'000;  // block timestamp of the next block; +1 s per block
};

// A record.anchor payload.
inline json AnchorPayload(const std::string& record, const std::string& pseudonym, int64_t version,
                          const std::string& type = "Observation", json labels = json::array()) {
  return {{"record_id", Id(record)}, {"patient", Id(pseudonym)}, {"resource_type", type}, {"version", version},
          {"hash", HashOf(record + "#" + std::to_string(version))}, {"labels", std::move(labels)}};
}

}  // namespace medledger::records::testing
