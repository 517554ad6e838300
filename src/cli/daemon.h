// A running node: chain, mempool, orderer and HTTP API wired together.
// Kept small on purpose; every piece it wires lives in a library.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "api/auth.h"
#include "api/epcis_api.h"
#include "api/fhir_context.h"
#include "api/ledger_api.h"
#include "http/server.h"
#include "node/chain.h"
#include "node/mempool.h"
#include "node/orderer.h"

namespace medledger::cli {

struct DaemonConfig {
  std::string data_dir;
  std::string listen = "127.0.0.1:8740";
  std::string orderer = "solo";  // or etcd://host:port,host:port
  uint32_t max_txs_per_block = 0;   // 0: the chain's parameter
  uint32_t block_interval_ms = 0;   // 0: the chain's parameter
  int http_threads = 0;             // 0: all cores
  bool sync = true;
  // etcd orderer: checkpoint reports every N blocks (0: none), and opt-in
  // pruning of block keys (0: keep all). See docs/ARCHITECTURE.md, Catch-up.
  uint64_t checkpoint_interval = 1000;
  uint64_t etcd_keep_blocks = 0;
  // Power-loss tests only (tests/power_loss_test.cc); null in the node. The
  // ledger, the vault and the FHIR index open on `file_system` (a
  // fault-injecting one), and the access journal syncs through
  // `journal_sync`; everything else is as configured above.
  std::shared_ptr<rocksdb::FileSystem> file_system;
  std::shared_ptr<custodian::JournalSync> journal_sync;
  // Tests only: asked before each state read of the ledger (a non-OK answer
  // fails the read, as a failing disk would; ledger/store_testing.h).
  std::function<Status(std::string_view key)> state_read_fault;
};

class Daemon {
 public:
  static Result<std::unique_ptr<Daemon>> Start(const DaemonConfig& cfg);
  ~Daemon();
  std::string url() const;
  void Stop();
  node::Chain& chain() { return *chain_; }

 private:
  Daemon() = default;
  DaemonConfig cfg_;
  std::unique_ptr<node::Chain> chain_;
  std::unique_ptr<node::Mempool> pool_;
  std::unique_ptr<node::Admission> admission_;
  std::unique_ptr<node::Orderer> orderer_;
  std::unique_ptr<http::Server> server_;
  api::Metrics metrics_;
  std::unique_ptr<api::Authenticator> auth_;
  api::LedgerContext ctx_;
  std::unique_ptr<crypto::KeyPair> node_key_;
  std::unique_ptr<vault::Vault> vault_;
  api::FhirContext fhir_;
  api::SupplyContext supply_;
  std::string host_;
};

// Call before any thread starts, so that SIGINT/SIGTERM reach
// WaitForShutdownSignal instead of killing an arbitrary thread.
void BlockShutdownSignals();
// Blocks until SIGINT or SIGTERM.
void WaitForShutdownSignal();

}  // namespace medledger::cli
