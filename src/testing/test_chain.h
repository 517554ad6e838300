// A chain in memory for tests (library medledger_test_chain, test-only): a
// genesis, then blocks executed by a real state::Executor and applied in
// order, with no node, store or network. The state tests, the record module
// tests and the rule scenarios (src/testing/scenario.h) all use it.
//
// Everything is deterministic: keys come from fixed seeds, nonces count up
// from 1, block h has timestamp first_block_ms + (h - 1) * block_ms. The
// determinism guards (state_test, records_test, tests/scenarios/*.scn) pin
// the state roots this gives, so changing a default here changes them.
//
// Not thread-safe; one chain per test.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "crypto/ed25519.h"
#include "model/transaction.h"
#include "model/tx_types.h"
#include "model/verdict.h"
#include "state/executor.h"
#include "state/replay_guard.h"
#include "state/state_view.h"

namespace medledger::testing {

using model::Reject;
using nlohmann::json;
namespace tx = model::tx;

// A key whose 32-byte seed is `fill` repeated.
crypto::KeyPair Key(uint8_t fill);
// A key whose seed is SHA-256("key:" + name).
crypto::KeyPair Key(const std::string& name);
// A 32-character hex id derived from a name: the first 32 hex characters of
// SHA-256("id:" + name). Tests only: real ids are random.
std::string Id(const std::string& name);
// Hex SHA-256 of `bytes`.
std::string HashOf(const std::string& bytes);

class TestChain {
 public:
  struct Options {
    // A state::BuildGenesis document; its chain_id is the one Tx() signs for.
    json genesis;
    bool governance = false;  // add state::GovernanceModule
    bool records = false;     // add the record modules (records::RegisterRecordModules)
    bool supply = false;      // add the supply-chain modules (supply::RegisterSupplyModules)
    bool contracts = false;   // add the contract module (contracts::RegisterContractModules)
    bool claims = false;      // add the claims module (claims::RegisterClaimsModules)
    bool trials = false;      // add the clinical-trial module (trials::RegisterTrialModules)
    uint64_t replay_window = 100000;
    uint64_t first_block_ms = 1'000'000;  // timestamp of block 1
    uint64_t block_ms = 1000;             // added per block
    // Tx() without an expiry: this height when set, else the height of the
    // last block + expiry_ahead.
    std::optional<uint64_t> fixed_expiry;
    uint64_t expiry_ahead = 1000;
  };

  // "test-chain": state::DevGenesisDoc, one organisation "dev" whose admin
  // (admin_a) holds every role, node key node_a; the core modules only;
  // block h at 1000 + h ms; every Tx() expires at height 100.
  static Options Dev();
  // "rec-chain": organisations hosp-a (admin_a, node_a) and hosp-b (admin_b,
  // node_b), admins with member + org_admin, threshold 1; the core and record
  // modules; block h at 1,000,000 + (h - 1) * 1000 ms.
  static Options Hospitals();

  TestChain();  // Hospitals()
  explicit TestChain(Options options);

  const std::string& chain_id() const { return chain_id_; }
  // The timestamp of block `h` (h >= 1).
  uint64_t BlockTime(uint64_t h) const { return options_.first_block_ms + (h - 1) * options_.block_ms; }

  // A transaction signed by `k`, with the next nonce; expects success.
  model::Transaction Tx(const crypto::KeyPair& k, uint16_t type, const json& payload,
                        std::optional<uint64_t> expiry = std::nullopt);
  // The same, with a payload that may not encode (floats, say): the error.
  Result<model::Transaction> TryTx(const crypto::KeyPair& k, uint16_t type, const json& payload,
                                   std::optional<uint64_t> expiry = std::nullopt);
  // Executes `txs` as the next block and applies it. sig_ok[i] says whether
  // tx i's signature checked out; empty: each is verified here.
  std::vector<model::Verdict> Run(const std::vector<model::Transaction>& txs, std::vector<uint8_t> sig_ok = {});
  model::Verdict RunOne(const model::Transaction& t) { return Run({t})[0]; }
  // One transaction in a block of its own.
  model::Verdict Do(const crypto::KeyPair& k, uint16_t type, const json& payload) { return RunOne(Tx(k, type, payload)); }

  // identity.register of `k` at `org` with `roles`, signed by that
  // organisation's admin (admin_a for the genesis's first organisation,
  // admin_b for its second); `org` empty: the first organisation.
  model::Transaction RegisterTx(const crypto::KeyPair& k, const std::vector<std::string>& roles,
                                const std::string& org = "");
  // The same, run in a block of its own; expects acceptance.
  void Register(const crypto::KeyPair& k, const std::vector<std::string>& roles, const std::string& org = "");

  // The keys Dev() and Hospitals() put in genesis: Key(1), Key(2), Key(3),
  // Key(4). A one-organisation chain does not use the second pair.
  crypto::KeyPair admin_a, node_a, admin_b, node_b;
  std::unique_ptr<state::Executor> exec;
  state::ReplayGuard replay;
  state::MemState state;
  Hash32 root{};
  uint64_t height = 0;
  uint64_t nonce = 1;
  uint64_t now_ms;  // timestamp of the next block
  state::Executor::SignerCache* carried = nullptr;  // when set, signer records kept across blocks

 private:
  const crypto::KeyPair& AdminOf(const std::string& org) const;

  Options options_;
  std::string chain_id_;
};

// A record.anchor payload: record and patient pseudonym ids from names, the
// hash of "<record>#<version>".
json AnchorPayload(const std::string& record, const std::string& pseudonym, int64_t version,
                   const std::string& type = "Observation", json labels = json::array());

}  // namespace medledger::testing
