#include "testing/test_chain.h"

#include "crypto/sha256.h"
// MakeTransaction moves from model/transaction.h to model/tx_json.h (work in
// progress beside this change); either way it is declared here.
#if __has_include("model/tx_json.h")
#include "model/tx_json.h"
#endif
#include "records/register.h"
#include "state/genesis.h"
#include "state/governance.h"
#include "claims/module.h"
#include "contracts/module.h"
#include "supply/register.h"
#include "trials/register.h"

namespace medledger::testing {

crypto::KeyPair Key(uint8_t fill) {
  std::array<uint8_t, 32> seed;
  seed.fill(fill);
  return crypto::KeyPair::FromSeed(seed);
}

crypto::KeyPair Key(const std::string& name) { return crypto::KeyPair::FromSeed(crypto::Sha256(std::string("key:") + name)); }

std::string Id(const std::string& name) { return ToHex(crypto::Sha256("id:" + name)).substr(0, 32); }

std::string HashOf(const std::string& bytes) { return ToHex(crypto::Sha256(bytes)); }

TestChain::Options TestChain::Dev() {
  Options o;
  o.genesis = state::DevGenesisDoc("test-chain", Key(1).public_key(), Key(2).public_key(), 1000);
  o.replay_window = 10000;
  o.first_block_ms = 1001;
  o.block_ms = 1;
  o.fixed_expiry = 100;
  return o;
}

TestChain::Options TestChain::Hospitals() {
  Options o;
  o.genesis = {{"chain_id", "rec-chain"},
               {"timestamp_ms", 1000},
               {"governance_threshold", 1},
               {"block", {{"max_txs", 5000}, {"interval_ms", 20}, {"max_expiry_window", 10000}}},
               {"organisations",
                json::array({{{"id", "hosp-a"}, {"name", "Hospital A"}, {"admin", Key(1).id()},
                              {"nodes", json::array({Key(2).id()})}},
                             {{"id", "hosp-b"}, {"name", "Hospital B"}, {"admin", Key(3).id()},
                              {"nodes", json::array({Key(4).id()})}}})}};
  o.records = true;
  return o;
}

TestChain::TestChain() : TestChain(Hospitals()) {}

TestChain::TestChain(Options options)
    : admin_a(Key(1)),
      node_a(Key(2)),
      admin_b(Key(3)),
      node_b(Key(4)),
      exec(state::Executor::Core()),
      replay(options.replay_window),
      now_ms(options.first_block_ms),
      options_(std::move(options)),
      chain_id_(options_.genesis.value("chain_id", "")) {
  // The order node/modules.cc (MakeExecutor) uses.
  if (options_.governance) exec->AddModule(std::make_unique<state::GovernanceModule>());
  if (options_.records) records::RegisterRecordModules(*exec);
  if (options_.supply) supply::RegisterSupplyModules(*exec);
  if (options_.contracts) contracts::RegisterContractModules(*exec);
  if (options_.claims) claims::RegisterClaimsModules(*exec);  // runs policies: needs contracts
  if (options_.trials) trials::RegisterTrialModules(*exec);
  auto g = state::BuildGenesis(options_.genesis);
  EXPECT_TRUE(g.ok()) << g.status().ToString();
  if (!g.ok()) return;
  state.Apply(g->writes);
  root = g->block.header.state_root;
}

Result<model::Transaction> TestChain::TryTx(const crypto::KeyPair& k, uint16_t type, const json& payload,
                                            std::optional<uint64_t> expiry) {
  uint64_t exp = expiry ? *expiry : options_.fixed_expiry ? *options_.fixed_expiry : height + options_.expiry_ahead;
  return model::MakeTransaction(chain_id_, k, type, payload, nonce++, exp);
}

model::Transaction TestChain::Tx(const crypto::KeyPair& k, uint16_t type, const json& payload,
                                 std::optional<uint64_t> expiry) {
  auto t = TryTx(k, type, payload, expiry);
  EXPECT_TRUE(t.ok()) << t.status().ToString();
  return *t;
}

std::vector<model::Verdict> TestChain::Run(const std::vector<model::Transaction>& txs, std::vector<uint8_t> sig_ok) {
  height++;
  std::vector<Hash32> ids;
  for (const auto& t : txs) ids.push_back(t.Id());
  if (sig_ok.empty())
    for (const auto& t : txs) sig_ok.push_back(t.VerifySignature());
  auto out = carried ? exec->Execute(state, root, height, now_ms, txs, ids, sig_ok, replay, *carried)
                     : exec->Execute(state, root, height, now_ms, txs, ids, sig_ok, replay);
  state.Apply(out.writes);
  root = out.state_root;
  replay.AddBlock(height, ids);
  now_ms += options_.block_ms;
  return out.verdicts;
}

const crypto::KeyPair& TestChain::AdminOf(const std::string& org) const {
  const auto& orgs = options_.genesis["organisations"];
  if (orgs.size() > 1 && orgs[1].value("id", "") == org) return admin_b;
  return admin_a;
}

model::Transaction TestChain::RegisterTx(const crypto::KeyPair& k, const std::vector<std::string>& roles,
                                         const std::string& org) {
  std::string o = org.empty() ? options_.genesis["organisations"][0].value("id", "") : org;
  return Tx(AdminOf(o), tx::kIdentityRegister, {{"pubkey", k.id()}, {"roles", roles}, {"org", o}});
}

void TestChain::Register(const crypto::KeyPair& k, const std::vector<std::string>& roles, const std::string& org) {
  auto v = RunOne(RegisterTx(k, roles, org));
  EXPECT_TRUE(v.ok()) << v.detail;
}

json AnchorPayload(const std::string& record, const std::string& pseudonym, int64_t version, const std::string& type,
                   json labels) {
  return {{"record_id", Id(record)}, {"patient", Id(pseudonym)}, {"resource_type", type}, {"version", version},
          {"hash", HashOf(record + "#" + std::to_string(version))}, {"labels", std::move(labels)}};
}

}  // namespace medledger::testing
