#include "cli/daemon.h"

#include <signal.h>
#include <stdlib.h>

#include <chrono>
#include <thread>
#include <spdlog/spdlog.h>

#include "api/fhir_forward.h"
#include "api/governance_api.h"
#include "api/peer_blocks.h"
#include "crypto/keyfile.h"
#include "http/url.h"
#include "ledger/store_testing.h"
#include "model/tx_types.h"
#include "state/identity_record.h"
#include "node/etcd_orderer.h"

namespace medledger::cli {

Result<std::unique_ptr<Daemon>> Daemon::Start(const DaemonConfig& cfg) {
  std::unique_ptr<Daemon> d(new Daemon());
  d->cfg_ = cfg;
  // Port 0 (pick a free one) is valid here, unlike in URLs.
  bool any_port = cfg.listen.size() > 2 && cfg.listen.compare(cfg.listen.size() - 2, 2, ":0") == 0;
  auto hp = http::ParseHostPort(any_port ? cfg.listen.substr(0, cfg.listen.size() - 1) + "1" : cfg.listen);
  if (!hp.ok()) return InvalidArgument("--listen must be HOST:PORT: " + hp.status().message());
  if (any_port) hp->second = 0;
  d->host_ = hp->first;

  node::ChainOptions co;
  co.sync = cfg.sync;
  if (cfg.file_system) {
    co.store_testing = std::make_shared<ledger::StoreTestHooks>();
    co.store_testing->file_system = cfg.file_system;
    co.store_testing->skip_flush_on_close = false;  // as in the node
  }
  ML_ASSIGN_OR_RETURN(d->chain_, node::Chain::Open(cfg.data_dir, co));
  auto node_key = crypto::ReadKeyFile(cfg.data_dir + "/keys/node.key");
  if (!node_key.ok()) return FailedPrecondition("node key: " + node_key.status().message());

  d->pool_ = std::make_unique<node::Mempool>();
  d->chain_->AddCommitListener([pool = d->pool_.get(), m = &d->metrics_](const node::CommittedBlock& b) {
    pool->OnBlockCommitted(b);
    m->blocks_committed++;
    m->block_txs += b.block.txs.size();
  });

  if (cfg.orderer == "solo" || cfg.orderer.empty()) {
    node::SoloOptions so;
    so.max_txs_per_block = cfg.max_txs_per_block ? cfg.max_txs_per_block : d->chain_->params().max_txs_per_block;
    so.block_interval_ms = cfg.block_interval_ms ? cfg.block_interval_ms : d->chain_->params().block_interval_ms;
    d->orderer_ = std::make_unique<node::SoloOrderer>(d->chain_.get(), d->pool_.get(), *node_key, so);
  } else if (cfg.orderer.rfind("etcd://", 0) == 0) {
    ML_ASSIGN_OR_RETURN(auto endpoints, node::ParseEtcdOrdererUrl(cfg.orderer));
    node::EtcdOrdererOptions eo;
    eo.endpoints = std::move(endpoints);
    eo.max_txs_per_block = cfg.max_txs_per_block ? cfg.max_txs_per_block : d->chain_->params().max_txs_per_block;
    eo.block_interval_ms = cfg.block_interval_ms ? cfg.block_interval_ms : d->chain_->params().block_interval_ms;
    eo.checkpoint_interval = cfg.checkpoint_interval;
    eo.keep_blocks = cfg.etcd_keep_blocks;
    auto etcd = std::make_unique<node::EtcdOrderer>(d->chain_.get(), d->pool_.get(), *node_key, eo);
    // Blocks pruned from etcd are fetched from peers (node/peer_sync.h).
    etcd->SetPeerBlockSource(std::make_unique<api::HttpPeerBlockSource>(eo.endpoints, d->chain_.get(), *node_key));
    d->orderer_ = std::move(etcd);
  } else {
    return InvalidArgument("unknown orderer '" + cfg.orderer + "' (use solo or etcd://host:port,...)");
  }

  http::ServerOptions ho;
  ho.address = hp->first;
  ho.port = hp->second;
  ho.threads = cfg.http_threads > 0 ? cfg.http_threads : std::max(2, int(std::thread::hardware_concurrency()));
  ho.max_body_bytes = 16 << 20;
  ho.body_limit_overrides = {{"/fhir", 64 << 20}};
  d->server_ = std::make_unique<http::Server>(ho);
  api::AuthOptions ao;
  ao.state_dir = cfg.data_dir;
  ao.node_id = node_key->id();
  ML_ASSIGN_OR_RETURN(d->auth_, api::Authenticator::Open(d->chain_.get(), d->orderer_.get(), ao));
  d->ctx_.auth = d->auth_.get();
  d->ctx_.chain = d->chain_.get();
  d->ctx_.pool = d->pool_.get();
  d->ctx_.orderer = d->orderer_.get();
  d->ctx_.server = d->server_.get();
  d->ctx_.node_id = node_key->id();
  d->ctx_.metrics = &d->metrics_;
  api::RegisterLedgerRoutes(*d->server_, &d->ctx_);
  api::RegisterGovernanceRoutes(*d->server_, &d->ctx_);

  // Health records: the encrypted vault beside the ledger, its master key in
  // keys/ (outside the vault directory; see docs/VAULT.md).
  d->node_key_ = std::make_unique<crypto::KeyPair>(*node_key);
  auto mk = vault::FileMasterKeyProvider::FromEnv(cfg.data_dir + "/keys/vault-master.key", true);
  vault::VaultOptions vo;
  vo.file_system = cfg.file_system;
  ML_ASSIGN_OR_RETURN(d->vault_, vault::Vault::Open(cfg.data_dir + "/vault", std::move(mk), vo));
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
      uint64_t h = d->chain_->Meta().height;
      if (h != last) {
        last = h;
        last_progress = now;
      } else if (now - last_progress > std::chrono::seconds(60)) {
        d->orderer_->Stop();
        return FailedPrecondition("this node's key is not registered as a node key on the chain (caught up to height " +
                                  std::to_string(h) + ", no new block for 60 s)");
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    spdlog::info("node key found on the chain at height {}", d->chain_->Meta().height);
  }
  if (!node_rec || !node_rec->Has(model::kRoleNode))
    return FailedPrecondition("this node's key is not registered as a node key on the chain");
  d->fhir_.ledger = &d->ctx_;
  d->fhir_.vault = d->vault_.get();
  d->fhir_.node_key = d->node_key_.get();
  d->fhir_.org = node_rec->org;
  d->fhir_.data_dir = cfg.data_dir;
  d->fhir_.index_file_system = cfg.file_system;
  d->fhir_.journal_sync = cfg.journal_sync;
  // FHIR routes are registered here (fhir_write.cc, fhir_read.cc).
  ML_RETURN_IF_ERROR(api::RegisterFhirWriteRoutes(*d->server_, &d->fhir_));
  // Re-applies on-chain erasures to the vault and replays the access journal
  // before anything is served (fhir_read.cc, Recover).
  ML_RETURN_IF_ERROR(api::RegisterFhirReadRoutes(*d->server_, &d->fhir_));

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
    api::ForwardOptions fo;
    fo.etcd_endpoints = *node::ParseEtcdOrdererUrl(cfg.orderer);
    const char* adv = std::getenv("MEDLEDGER_ADVERTISE_URL");
    fo.advertise_url = adv && *adv ? adv : d->url();
    ML_RETURN_IF_ERROR(api::EnableCrossOrgReads(&d->fhir_, std::move(fo)));
  }
  auto m = d->chain_->Meta();
  spdlog::info("node {} serving chain {} at height {} on {}", d->ctx_.node_id.substr(0, 16),
               d->chain_->params().chain_id, m.height, d->url());
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
