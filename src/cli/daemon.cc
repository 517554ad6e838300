#include "cli/daemon.h"

#include <signal.h>
#include <stdlib.h>

#include <chrono>
#include <thread>
#include <spdlog/spdlog.h>

#include "api/contract_api.h"
#include "api/trial_api.h"
#include "api/fhir_forward.h"
#include "api/governance_api.h"
#include "api/peer_blocks.h"
#include "crypto/keyfile.h"
#include "http/url.h"
#include "ledger/store_testing.h"
#include "model/tx_types.h"
#include "node/etcd_orderer.h"
#include "state/identity_record.h"

namespace medledger::cli {

Result<std::unique_ptr<Daemon>> Daemon::Start(const DaemonConfig& cfg) {
  std::unique_ptr<Daemon> d(new Daemon());
  d->cfg_ = cfg;
  // Port 0 (pick a free one) is valid here, unlike in URLs.
  bool any_port = cfg.listen.size() > 2 && cfg.listen.compare(cfg.listen.size() - 2, 2, ":0") == 0;
  auto host_port = http::ParseHostPort(any_port ? cfg.listen.substr(0, cfg.listen.size() - 1) + "1" : cfg.listen);
  if (!host_port.ok()) return InvalidArgument("--listen must be HOST:PORT: " + host_port.status().message());
  if (any_port) host_port->second = 0;
  d->host_ = host_port->first;

  node::ChainOptions chain_options;
  chain_options.sync = cfg.sync;
  if (cfg.file_system || cfg.state_read_fault) {
    chain_options.store_testing = std::make_shared<ledger::StoreTestHooks>();
    chain_options.store_testing->file_system = cfg.file_system;
    chain_options.store_testing->skip_flush_on_close = false;  // as in the node
    chain_options.store_testing->state_read = cfg.state_read_fault;
  }
  ML_ASSIGN_OR_RETURN(d->chain_, node::Chain::Open(cfg.data_dir, chain_options));
  auto node_key = crypto::ReadKeyFile(cfg.data_dir + "/keys/node.key");
  if (!node_key.ok()) return FailedPrecondition("node key: " + node_key.status().message());

  d->pool_ = std::make_unique<node::Mempool>();
  d->admission_ = std::make_unique<node::Admission>(d->chain_.get(), d->pool_.get());
  d->chain_->AddCommitListener([pool = d->pool_.get(), metrics = &d->metrics_](const node::CommittedBlock& b) {
    pool->OnBlockCommitted(b);
    metrics->blocks_committed++;
    metrics->block_txs += b.block.txs.size();
  });

  if (cfg.orderer == "solo" || cfg.orderer.empty()) {
    node::SoloOptions solo_options;
    solo_options.max_txs_per_block =
        cfg.max_txs_per_block ? cfg.max_txs_per_block : d->chain_->params().max_txs_per_block;
    solo_options.block_interval_ms =
        cfg.block_interval_ms ? cfg.block_interval_ms : d->chain_->params().block_interval_ms;
    d->orderer_ = std::make_unique<node::SoloOrderer>(d->chain_.get(), d->pool_.get(), *node_key, solo_options);
  } else if (cfg.orderer.rfind("etcd://", 0) == 0) {
    ML_ASSIGN_OR_RETURN(auto endpoints, node::ParseEtcdOrdererUrl(cfg.orderer));
    node::EtcdOrdererOptions etcd_options;
    etcd_options.endpoints = std::move(endpoints);
    etcd_options.max_txs_per_block =
        cfg.max_txs_per_block ? cfg.max_txs_per_block : d->chain_->params().max_txs_per_block;
    etcd_options.block_interval_ms =
        cfg.block_interval_ms ? cfg.block_interval_ms : d->chain_->params().block_interval_ms;
    etcd_options.checkpoint_interval = cfg.checkpoint_interval;
    etcd_options.keep_blocks = cfg.etcd_keep_blocks;
    auto etcd = std::make_unique<node::EtcdOrderer>(d->chain_.get(), d->pool_.get(), *node_key, etcd_options);
    // Blocks pruned from etcd are fetched from peers (node/peer_sync.h).
    etcd->SetPeerBlockSource(
        std::make_unique<api::HttpPeerBlockSource>(etcd_options.endpoints, d->chain_.get(), *node_key));
    d->orderer_ = std::move(etcd);
  } else {
    return InvalidArgument("unknown orderer '" + cfg.orderer + "' (use solo or etcd://host:port,...)");
  }

  http::ServerOptions server_options;
  server_options.address = host_port->first;
  server_options.port = host_port->second;
  server_options.threads =
      cfg.http_threads > 0 ? cfg.http_threads : std::max(2, int(std::thread::hardware_concurrency()));
  server_options.max_body_bytes = 16 << 20;
  server_options.body_limit_overrides = {{"/fhir", 64 << 20}};
  d->server_ = std::make_unique<http::Server>(server_options);
  api::AuthOptions auth_options;
  auth_options.state_dir = cfg.data_dir;
  auth_options.node_id = node_key->id();
  ML_ASSIGN_OR_RETURN(d->auth_, api::Authenticator::Open(d->chain_.get(), d->orderer_.get(), auth_options));
  d->ctx_.auth = d->auth_.get();
  d->ctx_.chain = d->chain_.get();
  d->ctx_.pool = d->pool_.get();
  d->ctx_.admission = d->admission_.get();
  d->ctx_.orderer = d->orderer_.get();
  d->ctx_.server = d->server_.get();
  d->ctx_.node_id = node_key->id();
  d->ctx_.metrics = &d->metrics_;
  api::RegisterLedgerRoutes(*d->server_, &d->ctx_);
  api::RegisterGovernanceRoutes(*d->server_, &d->ctx_);
  api::RegisterContractRoutes(*d->server_, &d->ctx_);
  api::RegisterTrialRoutes(*d->server_, &d->ctx_);

  // Health records: the encrypted vault beside the ledger, its master key in
  // keys/ (outside the vault directory; see docs/VAULT.md).
  d->node_key_ = std::make_unique<crypto::KeyPair>(*node_key);
  auto master_key = vault::FileMasterKeyProvider::FromEnv(cfg.data_dir + "/keys/vault-master.key", true);
  vault::VaultOptions vault_options;
  vault_options.file_system = cfg.file_system;
  ML_ASSIGN_OR_RETURN(d->vault_, vault::Vault::Open(cfg.data_dir + "/vault", std::move(master_key), vault_options));
  auto node_rec = state::LoadIdentity(d->chain_->state(), node_key->public_key());
  bool orderer_started = false;
  if ((!node_rec || !node_rec->Has(model::kRoleNode)) && cfg.orderer.rfind("etcd://", 0) == 0) {
    // A node key registered after genesis (a node added later, or the node of
    // an organisation admitted by governance) is unknown to a store that
    // holds only the genesis block: catch up first (from etcd, or from peers
    // against signed checkpoints), serve once the chain names this key. The
    // orderer cannot propose meanwhile (Chain::Build refuses an unknown key)
    // and nothing is admitted: the HTTP server is not started yet.
    spdlog::info("node key {} is not on this node's chain at height {}: catching up before serving",
                 node_key->id().substr(0, 16), d->chain_->Meta().height);
    ML_RETURN_IF_ERROR(d->orderer_->Start());
    orderer_started = true;
    uint64_t last = d->chain_->Meta().height;
    auto last_progress = std::chrono::steady_clock::now();
    for (;;) {
      node_rec = state::LoadIdentity(d->chain_->state(), node_key->public_key());
      if (node_rec && node_rec->Has(model::kRoleNode)) break;
      auto now = std::chrono::steady_clock::now();
      uint64_t height = d->chain_->Meta().height;
      if (height != last) {
        last = height;
        last_progress = now;
      } else if (now - last_progress > std::chrono::seconds(60)) {
        d->orderer_->Stop();
        return FailedPrecondition("this node's key is not registered as a node key on the chain (caught up to height " +
                                  std::to_string(height) + ", no new block for 60 s)");
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    spdlog::info("node key found on the chain at height {}", d->chain_->Meta().height);
  }
  if (!node_rec || !node_rec->Has(model::kRoleNode))
    return FailedPrecondition("this node's key is not registered as a node key on the chain");
  d->fhir_.ledger = &d->ctx_;
  d->fhir_.chain = d->chain_.get();
  d->fhir_.pool = d->pool_.get();
  d->fhir_.admission = d->admission_.get();
  d->fhir_.on_suppressed_denial = [auth = d->auth_.get()](const std::string& accessor, const std::string& record_id,
                                                          const std::string& reason) {
    auth->NoteSuppressedDenial(accessor, record_id, reason);
  };
  d->fhir_.vault = d->vault_.get();
  d->fhir_.node_key = d->node_key_.get();
  d->fhir_.org = node_rec->org;
  d->ctx_.org = node_rec->org;
  d->fhir_.data_dir = cfg.data_dir;
  d->fhir_.index_file_system = cfg.file_system;
  d->fhir_.journal_sync = cfg.journal_sync;
  // FHIR routes (api/fhir_write.cc, api/fhir_read.cc over src/custodian/).
  ML_RETURN_IF_ERROR(api::RegisterFhirWriteRoutes(*d->server_, &d->fhir_));
  // Re-applies on-chain erasures to the vault and replays the access journal
  // before anything is served (custodian/read_service.h).
  ML_RETURN_IF_ERROR(api::RegisterFhirReadRoutes(*d->server_, &d->fhir_));
  // The supply chain: EPCIS capture and query, DSCSA verification.
  d->supply_.ledger = &d->ctx_;
  d->supply_.node_key = d->node_key_.get();
  d->supply_.org = node_rec->org;
  ML_RETURN_IF_ERROR(api::RegisterEpcisRoutes(*d->server_, &d->supply_));
  ML_RETURN_IF_ERROR(api::RegisterProductRoutes(*d->server_, &d->supply_));

  if (!orderer_started) ML_RETURN_IF_ERROR(d->orderer_->Start());
  Status st = d->server_->Start();
  if (!st.ok()) {
    d->orderer_->Stop();
    return st;
  }
  // Cross-organisation reads (api/fhir_forward.h): on an etcd network this
  // node publishes itself in the peer directory and forwards reads that name
  // another custodian. MEDLEDGER_ADVERTISE_URL overrides the URL published
  // (needed when listening on 0.0.0.0); docs/DEPLOY.md.
  if (cfg.orderer.rfind("etcd://", 0) == 0) {
    api::ForwardOptions forward_options;
    forward_options.etcd_endpoints = *node::ParseEtcdOrdererUrl(cfg.orderer);
    const char* advertise_url = std::getenv("MEDLEDGER_ADVERTISE_URL");
    forward_options.advertise_url = advertise_url && *advertise_url ? advertise_url : d->url();
    ML_RETURN_IF_ERROR(api::EnableCrossOrgReads(&d->fhir_, std::move(forward_options)));
  }
  auto head = d->chain_->Meta();
  spdlog::info("node {} serving chain {} at height {} on {}", d->ctx_.node_id.substr(0, 16),
               d->chain_->params().chain_id, head.height, d->url());
  return d;
}

std::string Daemon::url() const { return "http://" + host_ + ":" + std::to_string(server_->port()); }

void Daemon::Stop() {
  if (server_) server_->Stop();
  // Only once no request can arrive: the saved nonces spare the next start
  // the restart floor (api/auth.h).
  if (auth_) {
    Status st = auth_->Close();
    if (!st.ok()) spdlog::error("nonces not saved ({}): the next start refuses older signatures", st.message());
  }
  api::DisableCrossOrgReads(&fhir_);
  api::StopEpcisRoutes(&supply_);
  if (orderer_) orderer_->Stop();
  if (pool_) pool_->Stop();
  // Writes and erasures still running finish now (the mempool answers their
  // waits at once), while the vault and the index they use are open.
  for (auto& stop : fhir_.stoppers) stop();
}

Daemon::~Daemon() {
  Stop();
  // Members die in reverse declaration order, which would destroy fhir_,
  // vault_ and ctx_ before server_, orderer_ and pool_. The FHIR read service
  // (its erasure worker erases from the vault and submits through ctx_) lives
  // as long as the routes in server_ and the mempool waiters that hold it, so
  // those go first, while everything the worker may still touch is alive.
  server_.reset();
  // Requests whose head barrier completed are finished on the
  // authenticator's workers, which still need ctx_ and fhir_; the orderer
  // was stopped above, so no barrier calls back into it any more.
  auth_.reset();
  orderer_.reset();
  pool_.reset();
}

void BlockShutdownSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

void WaitForShutdownSignal() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  int sig = 0;
  sigwait(&set, &sig);
  spdlog::info("signal {} received, shutting down", sig);
}

}  // namespace medledger::cli
