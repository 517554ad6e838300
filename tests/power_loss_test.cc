// Power loss under a running node. tests/crash_test.cc kills the
// node process, which keeps the page cache: a node that never fsynced would
// pass it. Here the node runs in this process, at its defaults (solo orderer,
// fsync on), with every byte it makes durable going through a fault layer:
//   - the ledger, the vault and the FHIR index (its three RocksDB stores) on
//     one ledger::FaultInjectionFs;
//   - the access journal's fdatasync/fsync through JournalDisk (below).
// The test acknowledges transactions, FHIR writes and reads, cuts the power
// (all later writes fail), lets the node shut down, drops everything that was
// not synced, and checks that everything acknowledged is there.
//
// The negative controls are the point: with the syncs of any one layer
// forgotten (the ledger's own --unsafe-no-sync, or the fault layer told to
// treat the vault's, the index's or the journal's syncs as never made), the
// same checks must find a loss. Each layer's durability is thereby shown to
// rest on its own syncs and to be checked.
#include <errno.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "api/http_signature.h"
#include "cli/daemon.h"
#include "common/bytes.h"
#include "crypto/aead.h"
#include "crypto/ed25519.h"
#include "crypto/keyfile.h"
#include "crypto/sha256.h"
#include "custodian/access_journal.h"
#include "custodian/fhir_index.h"
#include "http/client.h"
#include "ledger/fault_fs.h"
#include "model/transaction.h"
#include "model/tx_json.h"
#include "model/tx_types.h"
#include "node/chain.h"
#include "records/access.h"
#include "records/records.h"
#include "tests/support/test_node.h"
#include "vault/vault.h"

namespace medledger::test {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

std::string ReadWhole(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void WriteWhole(const std::string& path, const std::string& data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << data;
}

// The access journal's disk, as a power cut leaves it. Each file keeps the
// bytes it had at its last fdatasync/fsync (none: empty); a name is kept if
// it was in the directory at the directory's last fsync. Cut() puts the
// directory back to that: names created since are removed, every other file
// gets its synced bytes back, and files deleted after PowerOff() (a node
// shutting down after the cut) come back. A deletion before the cut is not
// undone: the journal deletes segments whose entries all reached the chain,
// which would at worst be resubmitted.
class JournalDisk : public custodian::JournalSync {
 public:
  explicit JournalDisk(std::string dir) : dir_(std::move(dir)) {}

  int Fdatasync(int fd, const std::string& path) override { return Sync(fd, path, /*data_only=*/true); }
  int Fsync(int fd, const std::string& path) override { return Sync(fd, path, /*data_only=*/false); }

  // From now on syncs succeed but make nothing durable (a journal that does
  // not sync); cleared by Cut().
  void ForgetSyncs() {
    std::lock_guard l(mu_);
    forget_ = true;
  }
  // The instant of the cut: every later sync fails (EIO).
  void PowerOff() {
    std::lock_guard l(mu_);
    off_ = true;
    present_at_cut_ = Names();
  }
  // Applies the loss (see the class comment); afterwards what is there is
  // durable and the power is on.
  void Cut() {
    std::lock_guard l(mu_);
    std::set<std::string> now = Names();
    for (const auto& name : now) {
      const std::string path = dir_ + "/" + name;
      if (!durable_names_.count(name)) {
        fs::remove(path);
      } else {
        auto it = synced_.find(path);
        WriteWhole(path, it == synced_.end() ? "" : it->second);
      }
    }
    for (const auto& name : present_at_cut_)
      if (!now.count(name) && durable_names_.count(name)) {
        auto it = synced_.find(dir_ + "/" + name);
        WriteWhole(dir_ + "/" + name, it == synced_.end() ? "" : it->second);
      }
    synced_.clear();
    durable_names_ = Names();
    for (const auto& name : durable_names_) synced_[dir_ + "/" + name] = ReadWhole(dir_ + "/" + name);
    off_ = forget_ = false;
  }

 private:
  int Sync(int fd, const std::string& path, bool data_only) {
    std::lock_guard l(mu_);
    if (off_) {
      errno = EIO;
      return -1;
    }
    int rc = data_only ? ::fdatasync(fd) : ::fsync(fd);
    if (rc != 0 || forget_) return rc;
    if (fs::is_directory(path)) {
      if (fs::path(path) == fs::path(dir_)) durable_names_ = Names();
    } else {
      synced_[path] = ReadWhole(path);
    }
    return 0;
  }
  std::set<std::string> Names() const {
    std::set<std::string> out;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir_, ec)) out.insert(e.path().filename().string());
    return out;
  }

  const std::string dir_;
  std::mutex mu_;
  bool off_ = false, forget_ = false;
  std::map<std::string, std::string> synced_;  // path -> bytes at its last sync
  std::set<std::string> durable_names_, present_at_cut_;
};

// Which layer's syncs the node does without, for the negative controls.
enum class Unsynced { kNone, kLedger, kVault, kIndex, kJournal };

struct Outcome {
  size_t acked_txs = 0, acked_writes = 0, answered_reads = 0;
  // What was acknowledged and is missing after the cut, with why.
  std::vector<std::string> lost_txs, lost_writes, lost_events;
};

class PowerLossTest : public ::testing::Test {
 protected:
  void SetUp() override { crypto::InitCrypto(); }

  // Starts the node on data_ (the fault layers as set up by Run).
  void StartNode() {
    auto d = cli::Daemon::Start(cfg_);
    ASSERT_TRUE(d.ok()) << d.status().ToString();
    node_ = std::move(*d);
    client_ = std::make_unique<http::Client>(node_->url(), std::chrono::seconds(60));
    auto s = client_->Get("/v1/status");
    ASSERT_TRUE(s.ok() && s->status == 200);
    json st = json::parse(s->body);
    chain_id_ = st.value("chain_id", "");
    node_id_ = st.value("node_id", "");
    height_ = st.value("height", uint64_t(0));
  }

  model::Transaction Tx(const crypto::KeyPair& k, uint16_t type, const json& payload) {
    uint64_t nonce;
    crypto::RandomBytes(reinterpret_cast<uint8_t*>(&nonce), sizeof nonce);
    auto tx = model::MakeTransaction(chain_id_, k, type, payload, nonce, height_ + 1000);
    EXPECT_TRUE(tx.ok());
    return *tx;
  }
  void Commit(const crypto::KeyPair& k, uint16_t type, const json& payload) {
    auto r = client_->Post("/v1/tx?wait_ms=30000", model::TxToJson(Tx(k, type, payload)).dump());
    ASSERT_TRUE(r.ok());
    ASSERT_EQ(json::parse(r->body, nullptr, false).value("status", ""), "committed") << r->body;
  }
  // A batch of anchors posted with ?wait=1; returns the ids acknowledged as
  // committed.
  std::vector<std::string> AnchorBatch(int n) {
    Bytes body;
    ByteWriter w(&body);
    std::vector<std::string> ids;
    for (int i = 0; i < n; ++i) {
      auto tx = Tx(*admin_, model::tx::kAnchorPut, {{"hash", ToHex(crypto::RandomArray<32>())}, {"tag", "power"}});
      w.Var(tx.Encode());
      ids.push_back(ToHex(tx.Id()));
    }
    auto r = client_->Post("/v1/txs?wait=1", std::string_view(reinterpret_cast<const char*>(body.data()), body.size()),
                           "application/octet-stream");
    std::vector<std::string> acked;
    if (!r.ok() || r->status != 200) return acked;
    json j = json::parse(r->body, nullptr, false);
    for (size_t i = 0; i < ids.size() && j.contains("results") && i < j["results"].size(); ++i)
      if (j["results"][i].value("id", "") == ids[i] && j["results"][i].value("status", "") == "committed")
        acked.push_back(ids[i]);
    return acked;
  }
  // A FHIR create (PUT), signed by the org admin for the patient: the
  // Patient resource "pt", or an Observation of it.
  bool Put(const std::string& type, const std::string& id) {
    const std::string target = "/fhir/" + type + "/" + id;
    const std::string body = type == "Patient"
                                 ? json({{"resourceType", "Patient"}, {"id", id}, {"gender", "female"}}).dump()
                                 : json({{"resourceType", "Observation"},
                                         {"id", id},
                                         {"status", "final"},
                                         {"code", {{"text", "power-cut glucose " + id}}},
                                         {"subject", {{"reference", "Patient/pt"}}},
                                         {"valueQuantity", {{"value", 5.4}, {"unit", "mmol/L"}}}})
                                       .dump();
    http::HeaderList h = {{api::kPatientHeader, patient_->id()},
                          {std::string(api::kNodeHeader), node_id_},
                          {"Content-Type", "application/fhir+json"}};
    auto r = client_->Request("PUT", target, body, api::SignRequest(*admin_, "PUT", target, body, std::move(h)));
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_TRUE(r.ok() && r->status == 201) << (r.ok() ? r->body : "");
    return r.ok() && r->status == 201;
  }
  // A consented read by the doctor; returns the access event id of an
  // answered read, "" otherwise.
  std::string Read(const std::string& id) {
    const std::string target = "/fhir/Observation/" + id;
    http::HeaderList h = {{std::string(api::kPurposeHeader), "treatment"}};
    auto r = client_->Request("GET", target, "", api::SignRequest(*doctor_, "GET", target, "", std::move(h)));
    EXPECT_TRUE(r.ok() && r->status == 200) << (r.ok() ? r->body : r.status().ToString());
    if (!r.ok() || r->status != 200) return "";
    return r->Header("X-Medledger-Access-Event").value_or("");
  }

  // Runs the node on a fresh chain, acknowledges work, cuts the power,
  // reopens and reports what was lost. `unsynced` names the layer whose
  // syncs are left out (a negative control), kNone for the real test.
  Outcome Run(Unsynced unsynced) {
    Outcome out;
    TempDir dir("medledger-power");
    data_ = dir.path() + "/data";
    CommandResult init = RunCli({"init", "--data-dir", data_});
    EXPECT_EQ(init.exit_code, 0) << init.Describe();
    auto admin = crypto::ReadKeyFile(data_ + "/keys/admin.key");
    EXPECT_TRUE(admin.ok());
    if (!admin.ok()) return out;
    admin_.emplace(*admin);

    auto rocks = std::make_shared<ledger::FaultInjectionFs>(rocksdb::FileSystem::Default());
    auto journal = std::make_shared<JournalDisk>(data_ + "/access-journal");
    cfg_ = cli::DaemonConfig{};
    cfg_.data_dir = data_;
    cfg_.listen = "127.0.0.1:0";
    cfg_.file_system = rocks;
    cfg_.journal_sync = journal;
    if (unsynced == Unsynced::kLedger) cfg_.sync = false;  // the node's own --unsafe-no-sync
    StartNode();
    if (!node_) return out;
    // The other layers stop syncing once the node is up, so that what they
    // wrote at start (the FHIR index's key, kept in the vault; the journal's
    // first segment) stays and the checks name the layer that lost data.
    if (unsynced == Unsynced::kVault) rocks->ForgetSyncs(data_ + "/vault/", ".log");
    if (unsynced == Unsynced::kIndex) rocks->ForgetSyncs(data_ + "/fhir-index/", ".log");
    if (unsynced == Unsynced::kJournal) journal->ForgetSyncs();

    patient_.emplace(crypto::KeyPair::Generate());
    doctor_.emplace(crypto::KeyPair::Generate());
    Commit(*admin_, model::tx::kIdentityRegister, {{"pubkey", patient_->id()}, {"roles", {"patient"}}});
    Commit(*admin_, model::tx::kIdentityRegister, {{"pubkey", doctor_->id()}, {"roles", {"practitioner"}}});
    Commit(*patient_, model::tx::kConsentGrant,
           {{"consent_id", ToHex(crypto::RandomArray<16>())},
            {"patient_org", "*"},
            {"grantee", doctor_->id()},
            {"types", {"Observation"}},
            {"purposes", {"TREAT"}}});

    // Acknowledged work: anchors, then FHIR writes (vault, index, anchors).
    std::vector<std::string> txs;
    for (int b = 0; b < 3; ++b)
      for (auto& id : AnchorBatch(20)) txs.push_back(std::move(id));
    std::vector<std::pair<std::string, std::string>> written;  // type, id
    if (Put("Patient", "pt")) written.emplace_back("Patient", "pt");
    for (int i = 0; i < 4; ++i)
      if (std::string id = "obs-" + std::to_string(i); Put("Observation", id)) written.emplace_back("Observation", id);

    // The RocksDB disks go first: the reads below are answered (their
    // events journaled) but no block can commit their events, which are
    // thus in the journal only when the journal loses power too.
    rocks->PowerOff();
    std::vector<std::string> events;
    for (const auto& [type, id] : written)
      if (type == "Observation")
        if (std::string ev = Read(id); !ev.empty()) events.push_back(ev);
    journal->PowerOff();
    out.acked_txs = txs.size();
    out.acked_writes = written.size();
    out.answered_reads = events.size();

    client_.reset();
    node_.reset();  // shuts down after the cut: nothing more reaches the disks
    EXPECT_TRUE(rocks->DropUnsyncedData().ok());
    journal->Cut();

    // The stores as the power cut left them, read directly.
    {
      auto chain = node::Chain::Open(data_, {});
      EXPECT_TRUE(chain.ok()) << chain.status().ToString();
      if (!chain.ok()) return out;
      for (const auto& id : txs) {
        auto h = FromHexFixed<32>(id);
        auto loc = (*chain)->store().FindTx(*h);
        if (!loc.ok() || !loc->has_value()) out.lost_txs.push_back(id);
      }
      auto vault = vault::Vault::Open(data_ + "/vault",
                                      vault::FileMasterKeyProvider::FromEnv(data_ + "/keys/vault-master.key", false));
      EXPECT_TRUE(vault.ok()) << vault.status().ToString();
      if (!vault.ok()) return out;
      auto index = custodian::FhirIndex::Open(data_ + "/fhir-index", vault->get());
      EXPECT_TRUE(index.ok()) << index.status().ToString();
      if (!index.ok()) return out;
      for (const auto& [type, id] : written) {
        auto e = (*index)->Lookup(type, id);
        if (!e.ok() || !e->has_value()) {
          out.lost_writes.push_back(type + "/" + id + ": not in the FHIR index");
          continue;
        }
        const custodian::IndexedResource& entry = **e;
        auto anchor = records::GetAnchor((*chain)->state(), entry.record_id, entry.version);
        if (!anchor) {
          out.lost_writes.push_back(type + "/" + id + ": no anchor on chain");
          continue;
        }
        auto bytes = (*vault)->Get({entry.record_id, entry.version});
        if (!bytes.ok()) {
          out.lost_writes.push_back(type + "/" + id + ": not in the vault (" + bytes.status().ToString() + ")");
        } else if (ToHex(crypto::Sha256(*bytes)) != anchor->hash) {
          out.lost_writes.push_back(type + "/" + id + ": the vault's bytes do not hash to the anchor");
        }
      }
    }

    // The restarted node resubmits what its journal holds; a transaction
    // admitted after those commits after them (the mempool is FIFO).
    cfg_.sync = true;
    StartNode();
    if (!node_) return out;
    auto marker = AnchorBatch(1);
    EXPECT_EQ(marker.size(), 1u) << "the restarted node does not commit";
    for (const auto& ev : events)
      if (!records::GetAccessEvent(node_->chain().state(), ev)) out.lost_events.push_back(ev);
    client_.reset();
    node_.reset();
    return out;
  }

  cli::DaemonConfig cfg_;
  std::string data_, chain_id_, node_id_;
  uint64_t height_ = 0;
  std::unique_ptr<cli::Daemon> node_;
  std::unique_ptr<http::Client> client_;
  std::optional<crypto::KeyPair> admin_, patient_, doctor_;
};

TEST_F(PowerLossTest, EverythingAcknowledgedSurvivesAPowerCut) {
  Outcome o = Run(Unsynced::kNone);
  EXPECT_EQ(o.acked_txs, 60u);
  EXPECT_EQ(o.acked_writes, 5u);
  EXPECT_EQ(o.answered_reads, 4u);
  EXPECT_TRUE(o.lost_txs.empty()) << ::testing::PrintToString(o.lost_txs);
  EXPECT_TRUE(o.lost_writes.empty()) << ::testing::PrintToString(o.lost_writes);
  EXPECT_TRUE(o.lost_events.empty()) << ::testing::PrintToString(o.lost_events);
}

// The negative controls: each layer's loss is seen when its syncs are left
// out, so the test above passes because the node syncs, not by luck.
TEST_F(PowerLossTest, LedgerWithoutFsyncLosesAcknowledgedTransactions) {
  Outcome o = Run(Unsynced::kLedger);
  ASSERT_EQ(o.acked_txs, 60u);
  EXPECT_EQ(o.lost_txs.size(), o.acked_txs) << "with --unsafe-no-sync the power cut lost nothing";
}

// Every acknowledged write lost, each for `why`.
::testing::AssertionResult AllLostFor(const Outcome& o, const std::string& why) {
  if (o.lost_writes.size() != o.acked_writes)
    return ::testing::AssertionFailure() << o.lost_writes.size() << " of " << o.acked_writes
                                         << " writes lost: " << ::testing::PrintToString(o.lost_writes);
  for (const auto& l : o.lost_writes)
    if (l.find(why) == std::string::npos) return ::testing::AssertionFailure() << "lost otherwise: " << l;
  return ::testing::AssertionSuccess();
}

TEST_F(PowerLossTest, VaultWithoutFsyncLosesAcknowledgedWrites) {
  Outcome o = Run(Unsynced::kVault);
  ASSERT_EQ(o.acked_writes, 5u);
  EXPECT_TRUE(o.lost_txs.empty()) << ::testing::PrintToString(o.lost_txs);
  EXPECT_TRUE(AllLostFor(o, ": not in the vault"));
}

TEST_F(PowerLossTest, IndexWithoutFsyncLosesAcknowledgedWrites) {
  Outcome o = Run(Unsynced::kIndex);
  ASSERT_EQ(o.acked_writes, 5u);
  EXPECT_TRUE(o.lost_txs.empty()) << ::testing::PrintToString(o.lost_txs);
  EXPECT_TRUE(AllLostFor(o, ": not in the FHIR index"));
}

TEST_F(PowerLossTest, JournalWithoutFsyncLosesAnsweredReads) {
  Outcome o = Run(Unsynced::kJournal);
  ASSERT_EQ(o.answered_reads, 4u);
  EXPECT_TRUE(o.lost_txs.empty()) << ::testing::PrintToString(o.lost_txs);
  EXPECT_TRUE(o.lost_writes.empty()) << ::testing::PrintToString(o.lost_writes);
  EXPECT_EQ(o.lost_events.size(), o.answered_reads) << ::testing::PrintToString(o.lost_events);
}

}  // namespace
}  // namespace medledger::test
