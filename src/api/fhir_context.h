// What the FHIR API handlers share: the node's chain and mempool, the
// encrypted vault, the custodian's node key, and a way to put the node's own
// transactions (record anchors, access events) through normal admission.
//
// The FHIR API is split by direction:
//   fhir_write.cc  metadata, POST /fhir (transaction/batch bundles),
//                  POST/PUT /fhir/{type}[/{id}], history, ingestion into the
//                  vault with on-chain anchors, the custodian-local index
//   fhir_read.cc   signed (RFC 9421) reads with consent decisions and durable
//                  access events, $everything, Consent and AuditEvent search,
//                  disclosures/accounting, erasure
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "api/ledger_api.h"
#include "crypto/ed25519.h"
#include "http/server.h"
#include "vault/vault.h"

namespace rocksdb {
class FileSystem;
}

namespace medledger::api {

class FhirIndex;  // custodian-local, off-chain index (defined by fhir_write)
class JournalSync;  // api/access_journal.h

struct FhirContext {
  LedgerContext* ledger = nullptr;
  vault::Vault* vault = nullptr;
  const crypto::KeyPair* node_key = nullptr;
  std::string org;           // the custodian organisation (the node key's org)
  std::string data_dir;
  std::shared_ptr<FhirIndex> index;
  // Tests only (tests/power_loss_test.cc), null in the node: the FHIR
  // index's file system and the access journal's syncs.
  std::shared_ptr<rocksdb::FileSystem> index_file_system;
  std::shared_ptr<JournalSync> journal_sync;
  // Each stops one service's threads after finishing the job in hand. The
  // daemon runs them once the server and the mempool have stopped, before
  // the vault and the index close: a queued write or erasure holds its
  // service alive, so destroying the routes does not end it.
  std::vector<std::function<void()>> stoppers;

  // Signs `payload` as a transaction of `type` with the node key, admits it
  // and, with wait > 0, waits up to that long for its block. The outcome says
  // committed / rejected (with verdict) / pending (not waited or timed out).
  node::TxOutcome SubmitAsNode(uint16_t type, const nlohmann::json& payload,
                               std::chrono::milliseconds wait) const;
};

// Each returns an error if its state (index, journal) cannot be opened.
Status RegisterFhirWriteRoutes(http::Server& server, FhirContext* ctx);
Status RegisterFhirReadRoutes(http::Server& server, FhirContext* ctx);

}  // namespace medledger::api
