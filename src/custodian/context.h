// What the custodian's services share: the organisation's off-chain side of
// its health records (the encrypted vault, the FHIR index, the access
// journal) next to this node's view of the chain, and the one way the node
// puts its own transactions (record anchors, access events, erasure
// decisions, disclosures) through admission.
//
// The custodian knows no HTTP: its services answer with values and Status
// codes, and api/ routes requests to them, authenticates, and turns their
// answers into HTTP (api/http_status.h).
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

#include "crypto/ed25519.h"
#include "node/admission.h"
#include "node/chain.h"
#include "node/mempool.h"
#include "vault/vault.h"

namespace rocksdb {
class FileSystem;
}

namespace medledger::custodian {

class FhirIndex;    // custodian/fhir_index.h
class JournalSync;  // custodian/access_journal.h

struct Context {
  node::Chain* chain = nullptr;
  node::Mempool* pool = nullptr;
  node::Admission* admission = nullptr;
  vault::Vault* vault = nullptr;
  const crypto::KeyPair* node_key = nullptr;
  std::string org;  // the custodian organisation (the node key's org)
  std::string data_dir;
  std::shared_ptr<FhirIndex> index;
  // Tests only (tests/power_loss_test.cc), null in the node: the FHIR
  // index's file system and the access journal's syncs.
  std::shared_ptr<rocksdb::FileSystem> index_file_system;
  std::shared_ptr<JournalSync> journal_sync;
  // Told of each denied read that is answered 403 but not written to the
  // chain (custodian/denial_limiter.h): the security log counts them.
  std::function<void(const std::string& accessor, const std::string& record_id, const std::string& reason)>
      on_suppressed_denial;
  // Each stops one service's threads after finishing the job in hand. The
  // daemon runs them once the server and the mempool have stopped, before
  // the vault and the index close: a queued write or erasure holds its
  // service alive, so destroying the routes does not end it.
  std::vector<std::function<void()>> stoppers;

  const state::StateReader& state() const { return chain->state(); }

  // Signs `payload` as a transaction of `type` with the node key, admits it
  // and, with wait > 0, waits up to that long for its block. The outcome says
  // committed / rejected (with verdict) / pending (not waited or timed out),
  // or carries `error` when admission could not decide.
  node::TxOutcome SubmitAsNode(uint16_t type, const nlohmann::json& payload, std::chrono::milliseconds wait) const;
};

// Milliseconds since the Unix epoch, by the wall clock.
int64_t NowMs();

// node::OutcomeStatus (node/admission.h) turns an outcome into a Status.

}  // namespace medledger::custodian
