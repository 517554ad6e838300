// Vault tests. Several of them read the on-disk formats of docs/VAULT.md
// directly (through a second RocksDB handle, after the vault is closed) to
// tamper with entries and to learn the exact wrapped-key bytes that the
// shredding tests then hunt for in every file of the data directory.
#include "vault/vault.h"

#include <gtest/gtest.h>
#include <rocksdb/db.h>
#include <sys/stat.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "crypto/keyfile.h"
#include "crypto/sha256.h"

namespace medledger::vault {
namespace {

namespace fs = std::filesystem;

class FixedKeyProvider : public MasterKeyProvider {
 public:
  explicit FixedKeyProvider(crypto::AeadKey k) : k_(k) {}
  Result<crypto::AeadKey> Load() override { return k_; }

 private:
  crypto::AeadKey k_;
};

// The distinctive name planted in the test resources; must never reach disk
// in plaintext.
std::string UniqueName() { return "Zqxvorthwyn" + NewRecordId().substr(0, 12); }

// A real FHIR Patient resource (tests/data/fhir) with its family name replaced
// by `name`; a small literal resource if the file is absent.
std::string PatientResource(const std::string& name) {
  std::string text;
  std::ifstream f(std::string(MEDLEDGER_SOURCE_DIR) + "/tests/data/fhir/Patient-example.json",
                  std::ios::binary);
  if (f) {
    std::stringstream ss;
    ss << f.rdbuf();
    text = ss.str();
  }
  if (text.find("Chalmers") == std::string::npos) {
    text = R"({"resourceType":"Patient","id":"example","name":[{"family":"Chalmers",)"
           R"("given":["Peter"]}],"birthDate":"1974-12-25"})";
  }
  for (size_t p; (p = text.find("Chalmers")) != std::string::npos;) text.replace(p, 8, name);
  return text;
}

// Every regular file under `root` (recursively) whose raw bytes contain
// `needle`.
std::vector<std::string> FilesContaining(const fs::path& root, std::string_view needle) {
  std::vector<std::string> hits;
  if (needle.empty()) return hits;
  for (const auto& e : fs::recursive_directory_iterator(root)) {
    if (!e.is_regular_file()) continue;
    std::ifstream f(e.path(), std::ios::binary);
    std::string data((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    if (data.find(needle) != std::string::npos) hits.push_back(e.path().string());
  }
  return hits;
}

std::string Str(const Bytes& b) { return std::string(AsStringView(b)); }

// --- the on-disk schema of docs/VAULT.md, written out independently ---
std::string U32Be(uint32_t v) {
  std::string s;
  for (int i = 3; i >= 0; --i) s.push_back(char(uint8_t(v >> (8 * i))));
  return s;
}
std::string KKey(const std::string& rid, uint32_t v) { return "K" + rid + '\0' + U32Be(v); }
std::string CKey(const std::string& rid, uint32_t v) { return "C" + rid + '\0' + U32Be(v); }
std::string PKey(const std::string& p) { return "P" + p; }
std::string PatientAd(const std::string& p) {
  return std::string("medledger/vault/v1/patient-key") + '\0' + p;
}
std::string RecordAd(const std::string& p, const std::string& rid, uint32_t v) {
  return std::string("medledger/vault/v1/record-key") + '\0' + p + '\0' + rid + '\0' + U32Be(v);
}

// A second handle on a closed vault's RocksDB directory.
class RawDb {
 public:
  explicit RawDb(const std::string& dir) {
    rocksdb::DB* db = nullptr;
    rocksdb::Options o;
    rocksdb::Status s = rocksdb::DB::Open(o, dir, &db);
    EXPECT_TRUE(s.ok()) << s.ToString();
    db_.reset(db);
  }
  std::string Get(const std::string& k) {
    std::string v;
    rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), k, &v);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return v;
  }
  void Put(const std::string& k, const std::string& v) {
    rocksdb::WriteOptions w;
    w.sync = true;
    ASSERT_TRUE(db_->Put(w, k, v).ok());
  }

 private:
  std::unique_ptr<rocksdb::DB> db_;
};

// The wrapped record key stored in a K entry: u8 1, Var(pseudonym), Var(wrapped).
Bytes WrappedRecordKey(const std::string& k_value) {
  ByteReader r(k_value);
  EXPECT_EQ(r.U8(), 1);
  r.VarString(64);
  Bytes w = r.Var(1000);
  EXPECT_TRUE(r.ok() && r.AtEnd());
  EXPECT_EQ(w.size(), 72u);
  return w;
}
Bytes StripVersion(const std::string& v) {
  EXPECT_FALSE(v.empty());
  EXPECT_EQ(uint8_t(v[0]), 1);
  return Bytes(v.begin() + 1, v.end());
}
crypto::AeadKey ToKey(const Bytes& b) {
  crypto::AeadKey k{};
  EXPECT_EQ(b.size(), 32u);
  std::copy(b.begin(), b.end(), k.begin());
  return k;
}

class VaultTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "medledger-vault-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    data_dir_ = tmpl;
    vault_dir_ = (data_dir_ / "vault").string();
    key_file_ = (data_dir_ / "keys" / "vault-master.key").string();
  }
  void TearDown() override {
    vault_.reset();
    std::error_code ec;
    fs::remove_all(data_dir_, ec);
    for (const auto& d : extra_dirs_) fs::remove_all(d, ec);
  }

  std::unique_ptr<MasterKeyProvider> Provider(bool create = true) {
    FileMasterKeyProvider::Options o;
    o.create_if_missing = create;
    return std::make_unique<FileMasterKeyProvider>(key_file_, o);
  }
  void OpenVault(VaultOptions opts = {}) {
    vault_.reset();
    auto v = Vault::Open(vault_dir_, Provider(), opts);
    ASSERT_TRUE(v.ok()) << v.status().ToString();
    vault_ = std::move(v).value();
  }
  crypto::AeadKey MasterKey() {
    auto k = FileMasterKeyProvider(key_file_, {}).Load();
    EXPECT_TRUE(k.ok()) << k.status().ToString();
    return *k;
  }
  std::string TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "medledger-vault-aux-XXXXXX").string();
    EXPECT_NE(::mkdtemp(tmpl.data()), nullptr);
    extra_dirs_.push_back(tmpl);
    return tmpl;
  }

  fs::path data_dir_;
  std::string vault_dir_;
  std::string key_file_;
  std::unique_ptr<Vault> vault_;
  std::vector<std::string> extra_dirs_;
};

TEST_F(VaultTest, RoundTripByteForByte) {
  OpenVault();
  const std::string name = UniqueName();
  const std::string resource = PatientResource(name);
  const std::string rid = NewRecordId();
  auto h = vault_->Put("pat01", {rid, 1}, resource);
  ASSERT_TRUE(h.ok()) << h.status().ToString();
  EXPECT_EQ(*h, crypto::Sha256(resource));
  auto got = vault_->Get({rid, 1});
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(*got, resource);

  // Arbitrary bytes, NULs and the empty string come back exactly.
  std::string binary("\0\x01\xff{\"a\":1}\0", 10);
  ASSERT_TRUE(vault_->Put("pat01", {rid, 2}, binary).ok());
  ASSERT_TRUE(vault_->Put("pat01", {rid, 3}, "").ok());
  EXPECT_EQ(*vault_->Get({rid, 2}), binary);
  EXPECT_EQ(*vault_->Get({rid, 3}), "");
  EXPECT_EQ(*vault_->Versions(rid), (std::vector<uint32_t>{1, 2, 3}));

  EXPECT_EQ(vault_->Get({rid, 9}).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(vault_->Get({NewRecordId(), 1}).status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(vault_->Versions(NewRecordId())->empty());
}

TEST_F(VaultTest, ReopenPersists) {
  const std::string rid = NewRecordId();
  const std::string resource = PatientResource(UniqueName());
  OpenVault();
  ASSERT_TRUE(vault_->Put("pat01", {rid, 1}, resource).ok());
  vault_.reset();
  OpenVault();
  EXPECT_EQ(*vault_->Get({rid, 1}), resource);
  EXPECT_EQ(*vault_->Versions(rid), std::vector<uint32_t>{1});
}

TEST_F(VaultTest, PutIsIdempotentForTheSameBytesOnly) {
  OpenVault();
  const std::string rid = NewRecordId();
  auto h1 = vault_->Put("pat01", {rid, 1}, "one");
  auto h2 = vault_->Put("pat01", {rid, 1}, "one");
  ASSERT_TRUE(h1.ok() && h2.ok());
  EXPECT_EQ(*h1, *h2);
  EXPECT_EQ(vault_->Put("pat01", {rid, 1}, "two").status().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(*vault_->Get({rid, 1}), "one");
  // A record belongs to one patient.
  EXPECT_EQ(vault_->Put("pat02", {rid, 2}, "x").status().code(), StatusCode::kInvalidArgument);
}

TEST_F(VaultTest, RejectsIdsThatCouldCarryPhi) {
  OpenVault();
  for (std::string bad : {std::string(), std::string("John Smith"), std::string(65, 'a'),
                          std::string("a/b"), std::string("a\0b", 3), std::string("jöhn")}) {
    EXPECT_EQ(vault_->Put("pat01", {bad, 1}, "x").status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(vault_->Put(bad, {NewRecordId(), 1}, "x").status().code(),
              StatusCode::kInvalidArgument);
    EXPECT_EQ(vault_->Get({bad, 1}).status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(vault_->Erase(bad).code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(vault_->EnsurePatient(bad).code(), StatusCode::kInvalidArgument);
  }
}

TEST_F(VaultTest, PlaintextNeverReachesDisk) {
  OpenVault();
  const std::string name = UniqueName();
  const std::string rid = NewRecordId();
  ASSERT_TRUE(vault_->Put("pat01", {rid, 1}, PatientResource(name)).ok());
  EXPECT_TRUE(FilesContaining(data_dir_, name).empty());  // WAL
  ASSERT_TRUE(vault_->Compact().ok());
  EXPECT_TRUE(FilesContaining(data_dir_, name).empty());  // SST
  vault_.reset();
  EXPECT_TRUE(FilesContaining(data_dir_, name).empty());
  // The MRN and address of the resource are not there either.
  EXPECT_TRUE(FilesContaining(data_dir_, "534 Erewhon").empty());
  EXPECT_TRUE(FilesContaining(data_dir_, "resourceType").empty());
}

TEST_F(VaultTest, TamperedCiphertextIsDataLossAndReturnsNothing) {
  const std::string rid = NewRecordId();
  OpenVault();
  ASSERT_TRUE(vault_->Put("pat01", {rid, 1}, PatientResource(UniqueName())).ok());
  vault_.reset();
  {
    RawDb raw(vault_dir_);
    std::string c = raw.Get(CKey(rid, 1));
    c[c.size() / 2] ^= 0x01;
    raw.Put(CKey(rid, 1), c);
  }
  OpenVault();
  auto got = vault_->Get({rid, 1});
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(got.status().message().find("authentication failed"), std::string::npos);
}

TEST_F(VaultTest, TamperedWrappedKeysAreDataLoss) {
  const std::string rid = NewRecordId();
  const std::string rid2 = NewRecordId();
  OpenVault();
  ASSERT_TRUE(vault_->Put("pat01", {rid, 1}, "a").ok());
  ASSERT_TRUE(vault_->Put("pat02", {rid2, 1}, "b").ok());
  vault_.reset();
  {
    RawDb raw(vault_dir_);
    std::string k = raw.Get(KKey(rid, 1));
    k.back() ^= 0x80;  // inside the wrapped record key's tag
    raw.Put(KKey(rid, 1), k);
    std::string p = raw.Get(PKey("pat02"));
    p[5] ^= 0x01;  // inside the nonce of the wrapped patient key
    raw.Put(PKey("pat02"), p);
  }
  OpenVault();
  for (const auto& id : {RecordVersionId{rid, 1}, RecordVersionId{rid2, 1}}) {
    auto got = vault_->Get(id);
    ASSERT_FALSE(got.ok());
    EXPECT_EQ(got.status().code(), StatusCode::kDataLoss) << got.status().ToString();
    EXPECT_NE(got.status().message().find("authentication failed"), std::string::npos);
  }
}

TEST_F(VaultTest, SwappedEntriesFailAuthentication) {
  const std::string a = NewRecordId(), b = NewRecordId();
  OpenVault();
  ASSERT_TRUE(vault_->Put("pat01", {a, 1}, "record a").ok());
  ASSERT_TRUE(vault_->Put("pat01", {b, 1}, "record b").ok());
  ASSERT_TRUE(vault_->Put("pat01", {a, 2}, "record a v2").ok());
  vault_.reset();
  {
    // Swap the ciphertexts of two records.
    RawDb raw(vault_dir_);
    std::string ca = raw.Get(CKey(a, 1)), cb = raw.Get(CKey(b, 1));
    raw.Put(CKey(a, 1), cb);
    raw.Put(CKey(b, 1), ca);
  }
  OpenVault();
  EXPECT_EQ(vault_->Get({a, 1}).status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(vault_->Get({b, 1}).status().code(), StatusCode::kDataLoss);
  vault_.reset();
  {
    // Move key and ciphertext together: b's pair under a's id, and version 2
    // of a under version 1. The associated data names the record and version.
    RawDb raw(vault_dir_);
    raw.Put(KKey(a, 1), raw.Get(KKey(b, 1)));
    raw.Put(CKey(a, 1), raw.Get(CKey(a, 1)));  // now b's ciphertext
    raw.Put(KKey(b, 1), raw.Get(KKey(a, 2)));
    raw.Put(CKey(b, 1), raw.Get(CKey(a, 2)));
  }
  OpenVault();
  EXPECT_EQ(vault_->Get({a, 1}).status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(vault_->Get({b, 1}).status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(*vault_->Get({a, 2}), "record a v2");
}

TEST_F(VaultTest, EraseAnswersGoneAndIsIdempotent) {
  OpenVault();
  const std::string rid = NewRecordId(), keep = NewRecordId();
  ASSERT_TRUE(vault_->Put("pat01", {rid, 1}, "v1").ok());
  ASSERT_TRUE(vault_->Put("pat01", {rid, 2}, "v2").ok());
  ASSERT_TRUE(vault_->Put("pat01", {keep, 1}, "kept").ok());
  EXPECT_FALSE(*vault_->IsErased(rid));
  ASSERT_TRUE(vault_->Erase(rid).ok());
  EXPECT_TRUE(*vault_->IsErased(rid));
  EXPECT_EQ(vault_->Get({rid, 1}).status().code(), StatusCode::kGone);
  EXPECT_EQ(vault_->Get({rid, 2}).status().code(), StatusCode::kGone);
  EXPECT_EQ(vault_->Get({rid, 7}).status().code(), StatusCode::kGone);
  EXPECT_TRUE(vault_->Versions(rid)->empty());
  EXPECT_EQ(vault_->Put("pat01", {rid, 3}, "v3").status().code(), StatusCode::kGone);
  ASSERT_TRUE(vault_->Erase(rid).ok());
  EXPECT_EQ(*vault_->Get({keep, 1}), "kept");

  // An id never stored here still gets a tombstone.
  const std::string never = NewRecordId();
  ASSERT_TRUE(vault_->Erase(never).ok());
  EXPECT_EQ(vault_->Put("pat01", {never, 1}, "x").status().code(), StatusCode::kGone);

  vault_.reset();
  OpenVault();
  EXPECT_EQ(vault_->Get({rid, 1}).status().code(), StatusCode::kGone);
  EXPECT_EQ(*vault_->Get({keep, 1}), "kept");
}

// THE SHREDDING TEST: after erasure and compaction no file of the data
// directory holds the erased record's wrapped keys, record keys, ciphertexts
// or plaintext.
TEST_F(VaultTest, ErasureLeavesNoTraceInAnyFile) {
  const std::string rid = NewRecordId(), keep = NewRecordId();
  const std::string name = UniqueName();
  const std::string resource = PatientResource(name);
  OpenVault();
  ASSERT_TRUE(vault_->Put("pat01", {rid, 1}, resource).ok());
  ASSERT_TRUE(vault_->Put("pat01", {keep, 1}, "another record of the same patient").ok());
  // Version 2 goes into an SST of its own, version 3 stays in the WAL and
  // memtable, so erasure has to reach every kind of file.
  ASSERT_TRUE(vault_->Compact().ok());
  ASSERT_TRUE(vault_->Put("pat01", {rid, 2}, resource + " v2").ok());
  ASSERT_TRUE(vault_->Compact().ok());
  ASSERT_TRUE(vault_->Put("pat01", {rid, 3}, resource + " v3").ok());
  vault_.reset();

  // Learn the exact secrets from the stored entries.
  std::vector<std::string> needles;  // wrapped keys, record keys, ciphertexts
  {
    crypto::AeadKey master = MasterKey();
    RawDb raw(vault_dir_);
    auto pk = crypto::Open(master, StripVersion(raw.Get(PKey("pat01"))), PatientAd("pat01"));
    ASSERT_TRUE(pk.ok());
    for (uint32_t v : {1u, 2u, 3u}) {
      Bytes wrapped = WrappedRecordKey(raw.Get(KKey(rid, v)));
      auto rk = crypto::Open(ToKey(*pk), wrapped, RecordAd("pat01", rid, v));
      ASSERT_TRUE(rk.ok());
      needles.push_back(Str(wrapped));
      needles.push_back(Str(*rk));
      Bytes sealed = StripVersion(raw.Get(CKey(rid, v)));
      needles.push_back(Str(sealed).substr(24, 64));  // a stretch of ciphertext
    }
  }
  // Not vacuous: the wrapped keys and ciphertexts are findable before erasure
  // (the record keys themselves are never stored, wrapped or not).
  for (size_t i = 0; i < needles.size(); ++i) {
    if (i % 3 == 1) {
      EXPECT_TRUE(FilesContaining(data_dir_, needles[i]).empty());
    } else {
      EXPECT_FALSE(FilesContaining(data_dir_, needles[i]).empty()) << "needle " << i;
    }
  }

  OpenVault();
  ASSERT_TRUE(vault_->Erase(rid).ok());  // compacts (compact_after_erase)
  EXPECT_EQ(vault_->Get({rid, 1}).status().code(), StatusCode::kGone);
  vault_.reset();
  // Reopen a few times: info-log rotation and WAL replay leave nothing behind.
  for (int i = 0; i < 3; ++i) {
    OpenVault();
    EXPECT_EQ(*vault_->Get({keep, 1}), "another record of the same patient");
    vault_.reset();
  }
  for (size_t i = 0; i < needles.size(); ++i) {
    auto hits = FilesContaining(data_dir_, needles[i]);
    EXPECT_TRUE(hits.empty()) << "needle " << i << " found in " << (hits.empty() ? "" : hits[0]);
  }
  EXPECT_TRUE(FilesContaining(data_dir_, name).empty());
}

// Why Compact() exists: a logical erasure alone leaves the wrapped key in an
// older SST file, and this test's scan sees it there.
TEST_F(VaultTest, WithoutCompactionTheWrappedKeyLingers) {
  const std::string rid = NewRecordId();
  VaultOptions opts;
  opts.compact_after_erase = false;
  OpenVault(opts);
  ASSERT_TRUE(vault_->Put("pat01", {rid, 1}, "x").ok());
  ASSERT_TRUE(vault_->Compact().ok());
  vault_.reset();
  std::string wrapped;
  {
    RawDb raw(vault_dir_);
    wrapped = Str(WrappedRecordKey(raw.Get(KKey(rid, 1))));
  }
  OpenVault(opts);
  ASSERT_TRUE(vault_->Erase(rid).ok());
  EXPECT_EQ(vault_->Get({rid, 1}).status().code(), StatusCode::kGone);
  EXPECT_FALSE(FilesContaining(data_dir_, wrapped).empty());
  ASSERT_TRUE(vault_->Compact().ok());
  EXPECT_TRUE(FilesContaining(data_dir_, wrapped).empty());
}

TEST_F(VaultTest, ErasePatientShredsEveryRecord) {
  const std::string name = UniqueName();
  std::vector<std::string> rids = {NewRecordId(), NewRecordId(), NewRecordId()};
  const std::string other = NewRecordId();
  OpenVault();
  for (const auto& r : rids) ASSERT_TRUE(vault_->Put("pat01", {r, 1}, PatientResource(name)).ok());
  ASSERT_TRUE(vault_->Put("pat02", {other, 1}, "other patient").ok());
  vault_.reset();
  std::vector<std::string> needles;
  {
    RawDb raw(vault_dir_);
    needles.push_back(Str(StripVersion(raw.Get(PKey("pat01")))));
    for (const auto& r : rids) needles.push_back(Str(WrappedRecordKey(raw.Get(KKey(r, 1)))));
  }
  for (const auto& n : needles) EXPECT_FALSE(FilesContaining(data_dir_, n).empty());

  OpenVault();
  ASSERT_TRUE(vault_->ErasePatient("pat01").ok());
  ASSERT_TRUE(vault_->ErasePatient("pat01").ok());  // idempotent
  for (const auto& r : rids) {
    EXPECT_EQ(vault_->Get({r, 1}).status().code(), StatusCode::kGone);
    EXPECT_TRUE(*vault_->IsErased(r));
  }
  EXPECT_EQ(*vault_->Get({other, 1}), "other patient");
  EXPECT_EQ(vault_->EnsurePatient("pat01").code(), StatusCode::kGone);
  EXPECT_EQ(vault_->Put("pat01", {NewRecordId(), 1}, "new").status().code(), StatusCode::kGone);
  vault_.reset();
  for (const auto& n : needles) EXPECT_TRUE(FilesContaining(data_dir_, n).empty());
  EXPECT_TRUE(FilesContaining(data_dir_, name).empty());
}

TEST_F(VaultTest, ReapplyErasuresAfterRestoreFromBackup) {
  const std::string gone = NewRecordId(), kept = NewRecordId(), pat_rec = NewRecordId();
  OpenVault();
  ASSERT_TRUE(vault_->Put("pat01", {gone, 1}, "erase me").ok());
  ASSERT_TRUE(vault_->Put("pat01", {kept, 1}, "keep me").ok());
  ASSERT_TRUE(vault_->Put("pat02", {pat_rec, 1}, "erase my patient").ok());
  vault_.reset();
  const std::string backup = TempDir() + "/vault";
  fs::copy(vault_dir_, backup, fs::copy_options::recursive);
  std::string wrapped;
  {
    RawDb raw(vault_dir_);
    wrapped = Str(WrappedRecordKey(raw.Get(KKey(gone, 1))));
  }
  OpenVault();
  ASSERT_TRUE(vault_->Erase(gone).ok());
  ASSERT_TRUE(vault_->ErasePatient("pat02").ok());
  vault_.reset();

  // Restore: the backup predates the erasures and still holds the keys.
  fs::remove_all(vault_dir_);
  fs::copy(backup, vault_dir_, fs::copy_options::recursive);
  OpenVault();
  EXPECT_EQ(*vault_->Get({gone, 1}), "erase me");
  ASSERT_TRUE(vault_->ReapplyErasures({gone}, {"pat02"}).ok());
  EXPECT_EQ(vault_->Get({gone, 1}).status().code(), StatusCode::kGone);
  EXPECT_EQ(vault_->Get({pat_rec, 1}).status().code(), StatusCode::kGone);
  EXPECT_EQ(*vault_->Get({kept, 1}), "keep me");
  ASSERT_TRUE(vault_->ReapplyErasures({gone}, {"pat02"}).ok());  // idempotent
  vault_.reset();
  EXPECT_TRUE(FilesContaining(data_dir_, wrapped).empty());
}

TEST_F(VaultTest, MasterKeyFileIsPrivateAndOutsideTheVault) {
  OpenVault();
  struct stat sb;
  ASSERT_EQ(::stat(key_file_.c_str(), &sb), 0);
  EXPECT_EQ(sb.st_mode & 0777, 0600u);
  ASSERT_EQ(::stat((data_dir_ / "keys").c_str(), &sb), 0);
  EXPECT_EQ(sb.st_mode & 077, 0u);
  ASSERT_EQ(::stat(vault_dir_.c_str(), &sb), 0);
  EXPECT_EQ(sb.st_mode & 077, 0u);
  for (const auto& e : fs::recursive_directory_iterator(vault_dir_)) {
    EXPECT_NE(e.path().filename(), "vault-master.key");
  }
  vault_.reset();

  // A key file inside the vault directory is refused.
  FileMasterKeyProvider::Options o;
  o.create_if_missing = true;
  auto inside = Vault::Open(
      vault_dir_, std::make_unique<FileMasterKeyProvider>(vault_dir_ + "/sub/../master.key", o));
  EXPECT_EQ(inside.status().code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(fs::exists(vault_dir_ + "/master.key"));

  // A key file readable by others is refused.
  ASSERT_EQ(::chmod(key_file_.c_str(), 0644), 0);
  auto loose = Vault::Open(vault_dir_, Provider());
  EXPECT_EQ(loose.status().code(), StatusCode::kPermissionDenied);
}

TEST_F(VaultTest, WrongMasterKeyFailsCleanly) {
  const std::string rid = NewRecordId();
  OpenVault();
  ASSERT_TRUE(vault_->Put("pat01", {rid, 1}, "x").ok());
  vault_.reset();
  auto wrong = Vault::Open(vault_dir_, std::make_unique<FixedKeyProvider>(crypto::RandomKey()));
  EXPECT_EQ(wrong.status().code(), StatusCode::kPermissionDenied);

  // A missing key file is not silently replaced by a new one.
  const std::string elsewhere = TempDir() + "/k.key";
  FileMasterKeyProvider::Options o;
  auto missing = Vault::Open(vault_dir_, std::make_unique<FileMasterKeyProvider>(elsewhere, o));
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);

  // A damaged key file.
  const std::string damaged = TempDir() + "/damaged.key";
  ASSERT_TRUE(crypto::WriteFileAtomic(damaged, "{\"type\":\"medledger-vault-master-key\"", 0600).ok());
  auto bad = Vault::Open(vault_dir_, std::make_unique<FileMasterKeyProvider>(damaged, o));
  EXPECT_EQ(bad.status().code(), StatusCode::kDataLoss);
  OpenVault();
  EXPECT_EQ(*vault_->Get({rid, 1}), "x");
}

TEST_F(VaultTest, PassphraseProtectedKeyFile) {
  FileMasterKeyProvider::Options o;
  o.passphrase = "correct horse battery staple";
  o.create_if_missing = true;
  o.kdf_ops = 1;              // cheap for the test; files record their own cost
  o.kdf_mem_bytes = 1 << 20;
  const std::string rid = NewRecordId();
  {
    auto v = Vault::Open(vault_dir_, std::make_unique<FileMasterKeyProvider>(key_file_, o));
    ASSERT_TRUE(v.ok()) << v.status().ToString();
    ASSERT_TRUE((*v)->Put("pat01", {rid, 1}, "secret").ok());
  }
  auto text = crypto::ReadFile(key_file_);
  ASSERT_TRUE(text.ok());
  EXPECT_NE(text->find("argon2id13"), std::string::npos);
  EXPECT_EQ(text->find("\"key\""), std::string::npos);

  auto wrong_opts = o;
  wrong_opts.passphrase = "wrong";
  auto wrong = Vault::Open(vault_dir_, std::make_unique<FileMasterKeyProvider>(key_file_, wrong_opts));
  EXPECT_EQ(wrong.status().code(), StatusCode::kPermissionDenied);
  auto none_opts = o;
  none_opts.passphrase.clear();
  auto none = Vault::Open(vault_dir_, std::make_unique<FileMasterKeyProvider>(key_file_, none_opts));
  EXPECT_EQ(none.status().code(), StatusCode::kPermissionDenied);

  ::setenv("MEDLEDGER_VAULT_PASSPHRASE", o.passphrase.c_str(), 1);
  auto right = Vault::Open(vault_dir_, FileMasterKeyProvider::FromEnv(key_file_, false));
  ::unsetenv("MEDLEDGER_VAULT_PASSPHRASE");
  ASSERT_TRUE(right.ok()) << right.status().ToString();
  EXPECT_EQ(*(*right)->Get({rid, 1}), "secret");
}

TEST_F(VaultTest, RotateMasterKey) {
  const std::string rid = NewRecordId();
  OpenVault();
  ASSERT_TRUE(vault_->Put("pat01", {rid, 1}, "before rotation").ok());
  ASSERT_TRUE(vault_->EnsurePatient("pat02").ok());
  vault_.reset();
  std::string old_wrapped;
  {
    RawDb raw(vault_dir_);
    old_wrapped = Str(StripVersion(raw.Get(PKey("pat01"))));
  }
  OpenVault();
  const std::string next_file = (data_dir_ / "keys" / "vault-master-2.key").string();
  ASSERT_TRUE(FileMasterKeyProvider::Create(next_file, {}).ok());
  EXPECT_EQ(FileMasterKeyProvider::Create(next_file, {}).code(), StatusCode::kAlreadyExists);
  ASSERT_TRUE(
      vault_->RotateMasterKey(std::make_unique<FileMasterKeyProvider>(next_file,
                                                                      FileMasterKeyProvider::Options{}))
          .ok());
  EXPECT_EQ(*vault_->Get({rid, 1}), "before rotation");
  ASSERT_TRUE(vault_->Put("pat02", {NewRecordId(), 1}, "after rotation").ok());
  vault_.reset();

  EXPECT_EQ(Vault::Open(vault_dir_, Provider(false)).status().code(),
            StatusCode::kPermissionDenied);
  auto v = Vault::Open(vault_dir_, std::make_unique<FileMasterKeyProvider>(
                                       next_file, FileMasterKeyProvider::Options{}));
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(*(*v)->Get({rid, 1}), "before rotation");
  v->reset();
  // The patient key wrapped under the old master key is gone from disk.
  EXPECT_TRUE(FilesContaining(vault_dir_, old_wrapped).empty());
}

TEST_F(VaultTest, PutBatchIsAllOrNothing) {
  OpenVault();
  const std::string erased = NewRecordId();
  ASSERT_TRUE(vault_->Erase(erased).ok());
  const std::string a = NewRecordId(), b = NewRecordId();
  std::vector<PutItem> items = {{"pat01", {a, 1}, "a"}, {"pat03", {b, 1}, "b"},
                                {"pat01", {erased, 1}, "c"}};
  EXPECT_EQ(vault_->PutBatch(items).status().code(), StatusCode::kGone);
  EXPECT_EQ(vault_->Get({a, 1}).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(vault_->Get({b, 1}).status().code(), StatusCode::kNotFound);

  items[2] = {"pat01", {a, 1}, "dup"};
  EXPECT_EQ(vault_->PutBatch(items).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(vault_->Get({a, 1}).status().code(), StatusCode::kNotFound);

  items[2] = {"pat01", {a, 2}, "a2"};
  auto hashes = vault_->PutBatch(items);
  ASSERT_TRUE(hashes.ok()) << hashes.status().ToString();
  ASSERT_EQ(hashes->size(), 3u);
  EXPECT_EQ((*hashes)[1], crypto::Sha256(std::string("b")));
  EXPECT_EQ(*vault_->Get({a, 1}), "a");
  EXPECT_EQ(*vault_->Get({b, 1}), "b");
  EXPECT_EQ(*vault_->Get({a, 2}), "a2");
}

TEST_F(VaultTest, ConcurrentGetsWithPutsAndErasures) {
  VaultOptions opts;
  opts.sync = false;
  opts.compact_after_erase = false;
  OpenVault(opts);
  std::vector<std::string> stable;
  for (int i = 0; i < 20; ++i) {
    stable.push_back(NewRecordId());
    ASSERT_TRUE(vault_->Put("pat01", {stable.back(), 1}, "stable " + std::to_string(i)).ok());
  }
  std::atomic<bool> stop{false};
  std::atomic<int> failures{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 4; ++t) {
    readers.emplace_back([&, t] {
      for (int n = 0; !stop; ++n) {
        int i = (n + t) % 20;
        auto got = vault_->Get({stable[i], 1});
        if (!got.ok() || *got != "stable " + std::to_string(i)) ++failures;
      }
    });
  }
  for (int i = 0; i < 200; ++i) {
    std::string rid = NewRecordId();
    ASSERT_TRUE(vault_->Put("pat0" + std::to_string(i % 5), {rid, 1}, "churn").ok());
    if (i % 3 == 0) {
      ASSERT_TRUE(vault_->Erase(rid).ok());
    }
    if (i % 50 == 0) {
      ASSERT_TRUE(vault_->Compact().ok());
    }
  }
  stop = true;
  for (auto& t : readers) t.join();
  EXPECT_EQ(failures.load(), 0);
}

}  // namespace
}  // namespace medledger::vault
