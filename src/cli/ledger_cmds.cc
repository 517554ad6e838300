// Ledger-core subcommands: keygen, init, node, identity, status, block, tx,
// anchor, verify.
#include <malloc.h>
#include <signal.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "cli/api_client.h"
#include "cli/commands.h"
#include "contracts/sandbox.h"
#include "cli/patient_keys.h"
#include "cli/daemon.h"
#include "crypto/keyfile.h"
#include "crypto/sha256.h"
#include "custodian/fhir_index.h"
#include "model/tx_json.h"
#include "model/tx_types.h"
#include "node/audit.h"
#include "node/chain.h"
#include "node/orderer.h"
#include "node/parallel.h"
#include "state/genesis.h"

namespace medledger::cli {

using nlohmann::json;

double MeasureVerifyRate(const std::vector<model::Transaction>& txs, int threads, double seconds);
double MeasureBatchVerifyRate(const std::vector<model::Transaction>& txs, int threads, double seconds);

void SubmitAndReport(const ClientOpts& o, uint16_t type, const json& payload, const json& extra) {
  auto key = LoadKey(o.key);
  if (!key.ok()) return Fail(key.status());
  ApiClient c(o.url);
  auto r = c.Submit(*key, type, payload, !o.no_wait);
  if (!r.ok()) return Fail(r.status());
  json out = {{"id", r->value("id", "")}, {"status", r->value("status", "")}};
  if (r->contains("height")) out["height"] = (*r)["height"];
  if (extra.is_object()) out.update(extra);
  PrintJson(out);
}

void SubmitAndReport(const ClientOpts& o, uint16_t type, const json& payload) { SubmitAndReport(o, type, payload, json()); }

namespace {


}  // namespace

void RegisterLedgerCommands(CLI::App& app) {
  // keygen
  {
    auto* cmd = app.add_subcommand("keygen", "Create an Ed25519 key pair (file mode 0600); prints its public id");
    static std::string out, from, org, chain_id, url;
    static bool derive = false;
    cmd->add_option("--out", out, "Key file to write")->required();
    // A patient's key for one custodian, derived from the patient's seed
    // (crypto/derive.h); docs/RECORDS.md, "One key per custodian".
    cmd->add_flag("--derive", derive, "Derive the key for --org from the seed key file --from instead of a random one");
    cmd->add_option("--from", from, "With --derive: the patient's seed key file");
    cmd->add_option("--org", org, "With --derive: the custodian organisation the key is for");
    cmd->add_option("--chain-id", chain_id, "With --derive: the chain the key is for (default: --url's)");
    cmd->add_option("--url", url, "With --derive: a node whose chain id to use")->envname("MEDLEDGER_URL");
    cmd->callback([] {
      if (derive) {
        if (from.empty() || org.empty()) return Fail("--derive needs --from SEED_KEY_FILE and --org ORG", Exit::kUsage);
        auto kp = DeriveKeyFile(from, org, chain_id, url, out);
        if (!kp.ok()) return Fail(kp.status());
        std::cout << kp->id() << std::endl;
        return;
      }
      if (!from.empty() || !org.empty()) return Fail("--from and --org go with --derive", Exit::kUsage);
      if (std::filesystem::exists(out)) return Fail("refusing to overwrite existing key file " + out);
      auto kp = crypto::KeyPair::Generate();
      Status st = crypto::WriteKeyFile(out, kp);
      if (!st.ok()) return Fail(st);
      std::cout << kp.id() << std::endl;
    });
  }
  // init
  {
    auto* cmd = app.add_subcommand("init", "Create a new chain in a data directory");
    static std::string dir, genesis_file, chain_id = "medledger-dev";
    cmd->add_option("--data-dir", dir, "Data directory")->required();
    cmd->add_option("--genesis", genesis_file, "Genesis file (JSON); without it, a development chain");
    cmd->add_option("--chain-id", chain_id, "Chain id of a development chain");
    cmd->callback([] {
      namespace fs = std::filesystem;
      std::error_code ec;
      fs::create_directories(dir + "/keys", ec);
      if (ec) return Fail("cannot create " + dir + "/keys: " + ec.message());
      fs::permissions(dir + "/keys", fs::perms::owner_all, ec);
      json doc;
      std::string node_key_path = dir + "/keys/node.key";
      crypto::KeyPair node = crypto::KeyPair::Generate();
      if (fs::exists(node_key_path)) {
        auto k = crypto::ReadKeyFile(node_key_path);
        if (!k.ok()) return Fail(k.status());
        node = *k;
      }
      json out = {{"data_dir", dir}};
      if (!genesis_file.empty()) {
        std::ifstream in(genesis_file);
        doc = json::parse(in, nullptr, false);
        if (doc.is_discarded()) return Fail("genesis file " + genesis_file + " is not valid JSON", Exit::kUsage);
        if (!fs::exists(node_key_path)) return Fail("with --genesis, put this node's key at " + node_key_path + " first (listed in the genesis, or registered on the chain later: the node then catches up before it serves)");
      } else {
        std::string admin_path = dir + "/keys/admin.key";
        if (fs::exists(admin_path)) return Fail("a chain key already exists at " + admin_path);
        auto admin = crypto::KeyPair::Generate();
        doc = state::DevGenesisDoc(chain_id, admin.public_key(), node.public_key(), node::NowMs());
        doc["contracts"] = {{"lua_release", contracts::LuaRelease()}};
        // The node's custodian subject (api/fhir_index.h), registered here
        // once with the patient role, so that no write has to register it:
        // eight first writes at once each found it missing and raced to.
        std::string subject_path = dir + "/" + custodian::FhirIndex::kCustodianSubjectKeyFile;
        crypto::KeyPair subject = crypto::KeyPair::Generate();
        if (fs::exists(subject_path)) {
          auto k = crypto::ReadKeyFile(subject_path);
          if (!k.ok()) return Fail(k.status());
          subject = *k;
        } else if (Status st = crypto::WriteKeyFile(subject_path, subject); !st.ok()) {
          return Fail(st);
        }
        doc["identities"] = json::array({{{"key", subject.id()},
                                          {"org", doc["organisations"][0]["id"]},
                                          {"roles", {"patient"}},
                                          {"label", "fhir-custodian-subject"}}});
        out["custodian_subject"] = subject.id();
        Status st = crypto::WriteKeyFile(admin_path, admin);
        if (!st.ok()) return Fail(st);
        out["admin_key"] = admin_path;
        out["admin_id"] = admin.id();
      }
      if (!fs::exists(node_key_path)) {
        Status st = crypto::WriteKeyFile(node_key_path, node);
        if (!st.ok()) return Fail(st);
      }
      Status st = node::Chain::Init(dir, doc);
      if (!st.ok()) return Fail(st);
      auto g = state::BuildGenesis(doc);
      out["chain_id"] = g->params.chain_id;
      out["genesis_hash"] = ToHex(g->block.header.Hash());
      out["node_id"] = node.id();
      out["node_key"] = node_key_path;
      PrintJson(out);
    });
  }
  // node
  {
    auto* cmd = app.add_subcommand("node", "Run a node in the foreground");
    static DaemonConfig cfg;
    static bool no_sync = false;
    cmd->add_option("--data-dir", cfg.data_dir, "Data directory")->required();
    cmd->add_option("--listen", cfg.listen, "HOST:PORT to serve the API on (port 0 picks a free one)");
    cmd->add_option("--orderer", cfg.orderer, "solo (default) or etcd://HOST:PORT,HOST:PORT,...");
    cmd->add_option("--max-txs", cfg.max_txs_per_block, "Maximum transactions per block");
    cmd->add_option("--block-interval-ms", cfg.block_interval_ms, "Longest wait before a pending transaction gets a block");
    cmd->add_option("--http-threads", cfg.http_threads, "HTTP worker threads (default: cores)");
    cmd->add_option("--checkpoint-interval", cfg.checkpoint_interval,
                    "etcd orderer: sign a checkpoint report every N blocks (default 1000; 0: none)");
    cmd->add_option("--etcd-keep-blocks", cfg.etcd_keep_blocks,
                    "etcd orderer: delete block keys more than N below the latest majority checkpoint (default 0: keep all)");
    cmd->add_flag("--unsafe-no-sync", no_sync, "Do not fsync block commits (tests only: loses data on power failure)");
    cmd->callback([] {
      BlockShutdownSignals();
      // A block's overlays allocate and free hundreds of megabytes a second
      // under capture load; glibc's defaults gave that memory back to the
      // kernel after each block and faulted it in again (a tenth of the block
      // thread in page faults). Keep it: the node is a long-running server.
      mallopt(M_TRIM_THRESHOLD, 256 << 20);
      mallopt(M_TOP_PAD, 16 << 20);
      mallopt(M_MMAP_THRESHOLD, 32 << 20);
      cfg.sync = !no_sync;
      auto d = Daemon::Start(cfg);
      if (!d.ok()) return Fail(d.status());
      std::string url = (*d)->url();
      std::cout << json{{"url", url}, {"pid", ::getpid()}}.dump() << std::endl;
      (void)crypto::WriteFileAtomic(cfg.data_dir + "/node.url", url + "\n", 0644);
      WaitForShutdownSignal();
      (*d)->Stop();
    });
  }
  // identity
  {
    auto* id = app.add_subcommand("identity", "Register, revoke or rotate identities");
    id->require_subcommand(1);
    static ClientOpts reg_o, rev_o, rot_o;
    static std::string reg_pub, reg_org, reg_label, rev_pub, rot_new;
    static std::vector<std::string> reg_roles;
    auto* reg = id->add_subcommand("register", "Register a public key with roles (signed by an org admin)");
    AddClientOptions(reg, &reg_o, true);
    reg->add_option("--pubkey", reg_pub, "Public id to register")->required();
    reg->add_option("--role", reg_roles, "Role(s): member, org_admin, practitioner, patient, auditor, insurer, manufacturer, distributor, dispenser, sponsor, regulator, node, representative")->required();
    reg->add_option("--org", reg_org, "Organisation (default: the signer's)");
    reg->add_option("--label", reg_label, "A non-identifying label");
    reg->callback([] {
      json p = {{"pubkey", reg_pub}, {"roles", SplitComma(reg_roles)}};
      if (!reg_org.empty()) p["org"] = reg_org;
      if (!reg_label.empty()) p["label"] = reg_label;
      SubmitAndReport(reg_o, model::tx::kIdentityRegister, p);
    });
    auto* rev = id->add_subcommand("revoke", "Revoke a key (its earlier transactions stay valid)");
    AddClientOptions(rev, &rev_o, true);
    rev->add_option("--pubkey", rev_pub, "Public id to revoke")->required();
    rev->callback([] { SubmitAndReport(rev_o, model::tx::kIdentityRevoke, {{"pubkey", rev_pub}}); });
    auto* rot = id->add_subcommand("rotate", "Move the signing key's identity to a new key");
    AddClientOptions(rot, &rot_o, true);
    rot->add_option("--new-pubkey", rot_new, "Public id of the new key")->required();
    rot->callback([] { SubmitAndReport(rot_o, model::tx::kIdentityRotate, {{"new_pubkey", rot_new}}); });
  }
  // status
  {
    auto* cmd = app.add_subcommand("status", "Show a node's chain status");
    static ClientOpts o;
    AddClientOptions(cmd, &o, false);
    cmd->callback([] {
      ApiClient c(o.url);
      auto r = c.Status();
      if (!r.ok()) return Fail(r.status());
      PrintJson(*r);
    });
  }
  // block
  {
    auto* cmd = app.add_subcommand("block", "Show a block (--key: a member organisation's key, node, auditor or regulator)");
    static ClientOpts o;
    static uint64_t height = 0;
    AddClientOptions(cmd, &o, true);
    cmd->add_option("height", height, "Block height")->required();
    cmd->callback([] {
      auto key = LoadKey(o.key);
      if (!key.ok()) return Fail(key.status());
      ApiClient c(o.url);
      auto r = c.GetSignedJson(*key, "/v1/blocks/" + std::to_string(height));
      if (!r.ok()) return Fail(r.status());
      PrintJson(*r);
    });
  }
  // tx get / tx send
  {
    auto* tx = app.add_subcommand("tx", "Look up or send transactions");
    tx->require_subcommand(1);
    static ClientOpts go, so;
    static std::string id, type, payload;
    static bool wait = false;
    auto* get = tx->add_subcommand("get",
                                   "Show a transaction, its block and inclusion proof (checked here); --key: a member "
                                   "organisation's key, or the key that signed the transaction");
    AddClientOptions(get, &go, true);
    get->add_option("id", id, "Transaction id")->required();
    get->add_flag("--wait", wait, "Wait while it is pending");
    get->callback([] {
      auto key = LoadKey(go.key);
      if (!key.ok()) return Fail(key.status());
      ApiClient c(go.url);
      auto r = wait ? c.WaitTx(*key, id, std::chrono::seconds(120)) : c.GetSignedJson(*key, "/v1/tx/" + id);
      if (!r.ok()) return Fail(r.status());
      if (r->contains("proof") && r->contains("header")) {
        // Check the inclusion proof against the header, as a light client would.
        auto proof = model::ProofFromJson((*r)["proof"]);
        auto root = FromHexFixed<32>((*r)["header"].value("tx_root", ""));
        auto leaf = FromHexFixed<32>(id);
        bool ok = proof.ok() && root.ok() && leaf.ok() &&
                  proof->tree_size == (*r)["header"].value("tx_count", uint64_t(0)) &&
                  model::VerifyInclusionProof(*leaf, *proof, *root);
        (*r)["proof_verified"] = ok;
        if (!ok) {
          PrintJson(*r);
          return Fail("inclusion proof does not verify against the block header", Exit::kIntegrity);
        }
      }
      PrintJson(*r);
    });
    auto* send = tx->add_subcommand("send", "Sign and submit a transaction of any type with a JSON payload");
    AddClientOptions(send, &so, true);
    send->add_option("--type", type, "Transaction type, e.g. anchor.put")->required();
    send->add_option("--payload", payload, "Payload as JSON")->required();
    send->callback([] {
      auto code = model::TxTypeCode(type);
      if (!code) return Fail("unknown transaction type " + type, Exit::kUsage);
      json p = json::parse(payload, nullptr, false);
      if (p.is_discarded()) return Fail("--payload is not valid JSON", Exit::kUsage);
      SubmitAndReport(so, *code, p);
    });
  }
  // anchor put
  {
    auto* an = app.add_subcommand("anchor", "Anchor a document's SHA-256 on the chain");
    an->require_subcommand(1);
    static ClientOpts o;
    static std::string file, tag;
    auto* put = an->add_subcommand("put", "Anchor the hash of FILE");
    AddClientOptions(put, &o, true);
    put->add_option("file", file, "File whose SHA-256 is anchored")->required()->check(CLI::ExistingFile);
    put->add_option("--tag", tag, "A short non-identifying tag");
    put->callback([] {
      auto data = crypto::ReadFile(file);
      if (!data.ok()) return Fail(data.status());
      SubmitAndReport(o, model::tx::kAnchorPut, {{"hash", ToHex(crypto::Sha256(*data))}, {"tag", tag}});
    });
  }
  // verify
  {
    auto* cmd = app.add_subcommand("verify", "Audit a chain offline: every hash, root, signature and state transition");
    static std::string dir;
    static int threads = 0;
    static bool baseline = false;
    cmd->add_option("--data-dir", dir, "Data directory (the node must be stopped)")->required();
    cmd->add_flag("--baseline", baseline, "Also measure this machine's raw Ed25519 verify rate and the batch rate (same threads) and report the ratios");
    cmd->add_option("--threads", threads, "Verification threads (default: cores)");
    cmd->callback([] {
      node::AuditOptions ao;
      ao.threads = threads;
      auto r = node::AuditChain(dir, ao);
      if (!r.ok()) return Fail(r.status());
      json out = {{"ok", r->ok}, {"height", r->height}, {"txs", r->txs}, {"valid_txs", r->valid_txs},
                  {"seconds", r->seconds}, {"tx_per_s", r->seconds > 0 ? double(r->txs) / r->seconds : 0.0}};
      if (baseline && r->ok) {
        auto k = crypto::KeyPair::Generate();
        std::vector<model::Transaction> sample;
        for (int i = 0; i < 256; ++i)
          sample.push_back(*model::MakeTransaction("baseline", k, model::tx::kAnchorPut,
                                                   {{"hash", ToHex(crypto::Sha256(std::to_string(i)))}}, uint64_t(i), 1));
        int t = threads > 0 ? threads : node::DefaultThreads();
        double vt = MeasureVerifyRate(sample, t, 3.0);
        out["verify_tps"] = vt;
        out["ratio"] = vt > 0 ? (double(r->txs) / r->seconds) / vt : 0.0;
        // The audit verifies in batches (crypto/ed25519_batch.h): its floor.
        double bt = MeasureBatchVerifyRate(sample, t, 3.0);
        out["batch_verify_tps"] = bt;
        out["ratio_to_batch"] = bt > 0 ? (double(r->txs) / r->seconds) / bt : 0.0;
      }
      if (!r->ok) {
        out["bad_block"] = *r->bad_block;
        out["problem"] = r->problem;
        PrintJson(out);
        return Fail("verify failed at block " + std::to_string(*r->bad_block) + ": " + r->problem, Exit::kIntegrity);
      }
      PrintJson(out);
    });
  }
}

}  // namespace medledger::cli
