#include "vault/vault.h"

#include <rocksdb/db.h>
#include <rocksdb/env.h>
#include <rocksdb/file_system.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/options.h>
#include <rocksdb/snapshot.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>
#include <sodium.h>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <set>

#include "crypto/sha256.h"
#include "storage/rocksdb_erasure.h"
#include "storage/rocksdb_status.h"

namespace medledger::vault {
namespace {

// RocksDB key schema (docs/VAULT.md): one byte of kind, then identifiers.
constexpr char kMetaPrefix = 'M';
constexpr char kPatientKeyPrefix = 'P';
constexpr char kPatientErasedPrefix = 'X';
constexpr char kRecordKeyPrefix = 'K';
constexpr char kCiphertextPrefix = 'C';
constexpr char kRecordErasedPrefix = 'E';
constexpr char kPatientIndexPrefix = 'I';

constexpr uint32_t kSchemaVersion = 1;
constexpr uint8_t kValueVersion = 1;
constexpr size_t kWrappedKeySize = 32 + crypto::kAeadOverhead;
constexpr size_t kMaxIdLength = 64;

const std::string kSchemaKey = std::string(1, kMetaPrefix) + "schema";
const std::string kMasterCheckKey = std::string(1, kMetaPrefix) + "master-check";
constexpr std::string_view kMasterCheckAd = "medledger/vault/v1/master-check";
constexpr std::string_view kMasterCheckPlain = "medledger vault master key check";

bool ValidId(std::string_view s) {
  if (s.empty() || s.size() > kMaxIdLength) return false;
  for (char c : s) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

Status CheckRecordId(std::string_view id) {
  if (!ValidId(id)) return InvalidArgument("vault: malformed record id");
  return Status::Ok();
}
Status CheckPseudonym(std::string_view p) {
  if (!ValidId(p)) return InvalidArgument("vault: malformed patient pseudonym");
  return Status::Ok();
}

void AppendU32(std::string* s, uint32_t v) {
  for (int i = 3; i >= 0; --i) s->push_back(char(uint8_t(v >> (8 * i))));
}
uint32_t ReadU32(const char* p) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v = (v << 8) | uint8_t(p[i]);
  return v;
}

std::string Prefixed(char kind, std::string_view a) {
  std::string k(1, kind);
  k.append(a);
  return k;
}
// Every key of a record's versions starts with this; '\0' cannot occur in an
// id, so "ab" never matches the versions of "abc".
std::string VersionPrefix(char kind, std::string_view record_id) {
  std::string k = Prefixed(kind, record_id);
  k.push_back('\0');
  return k;
}
std::string VersionKey(char kind, std::string_view record_id, uint32_t version) {
  std::string k = VersionPrefix(kind, record_id);
  AppendU32(&k, version);
  return k;
}
std::string IndexPrefix(std::string_view pseudonym) {
  std::string k = Prefixed(kPatientIndexPrefix, pseudonym);
  k.push_back('\0');
  return k;
}

std::string PatientKeyAd(std::string_view pseudonym) {
  std::string ad("medledger/vault/v1/patient-key");
  ad.push_back('\0');
  ad.append(pseudonym);
  return ad;
}
std::string RecordKeyAd(std::string_view pseudonym, std::string_view record_id,
                        uint32_t version) {
  std::string ad("medledger/vault/v1/record-key");
  ad.push_back('\0');
  ad.append(pseudonym);
  ad.push_back('\0');
  ad.append(record_id);
  ad.push_back('\0');
  AppendU32(&ad, version);
  return ad;
}
std::string CiphertextAd(std::string_view record_id, uint32_t version) {
  std::string ad("medledger/vault/v1/record");
  ad.push_back('\0');
  ad.append(record_id);
  ad.push_back('\0');
  AppendU32(&ad, version);
  return ad;
}

std::string VersionName(const RecordVersionId& id) {
  return "record " + id.record_id + " version " + std::to_string(id.version);
}

// A key that wipes itself.
class KeyHolder {
 public:
  KeyHolder() { k_.fill(0); }
  ~KeyHolder() { crypto::Wipe(k_.data(), k_.size()); }
  KeyHolder(const KeyHolder&) = delete;
  KeyHolder& operator=(const KeyHolder&) = delete;
  crypto::AeadKey& get() { return k_; }
  const crypto::AeadKey& get() const { return k_; }

 private:
  crypto::AeadKey k_;
};

// Opens a sealed 32-byte key.
Status Unwrap(const crypto::AeadKey& kek, const Bytes& sealed, std::string_view ad,
              crypto::AeadKey* out, const std::string& what) {
  auto plain = crypto::Open(kek, sealed, ad);
  if (!plain.ok() || plain->size() != out->size()) {
    if (plain.ok()) crypto::Wipe(plain->data(), plain->size());
    return DataLoss("vault: authentication failed for the " + what +
                    " (tampered or wrapped under another key)");
  }
  std::copy(plain->begin(), plain->end(), out->begin());
  crypto::Wipe(plain->data(), plain->size());
  return Status::Ok();
}

// Converts a RocksDB status at the module edge (storage/rocksdb_status.h).
// Pass `with_detail` while opening.
Status FromRocks(const rocksdb::Status& s, const std::string& what, bool with_detail = false) {
  return storage::FromRocks(s, "vault", what, with_detail);
}

// Is `inner` the directory `outer` or inside it?
bool PathInside(const std::filesystem::path& inner, const std::filesystem::path& outer) {
  std::error_code ec;
  auto a = std::filesystem::weakly_canonical(std::filesystem::absolute(inner, ec), ec);
  auto b = std::filesystem::weakly_canonical(std::filesystem::absolute(outer, ec), ec);
  auto ai = a.begin();
  for (auto bi = b.begin(); bi != b.end(); ++bi, ++ai) {
    if (bi->empty()) continue;  // a trailing separator
    if (ai == a.end() || *ai != *bi) return false;
  }
  return true;
}

rocksdb::Options VaultRocksOptions(bool create_if_missing) {
  rocksdb::Options o;
  o.create_if_missing = create_if_missing;
  o.max_background_jobs = 2;
  o.wal_recovery_mode = rocksdb::WALRecoveryMode::kPointInTimeRecovery;
  // Obsolete WAL files are deleted, never archived or recycled, and nothing
  // is compressed (values are ciphertexts, incompressible anyway), so that a
  // Compact() after an erasure leaves no file holding an erased key, and a
  // byte scan cannot miss one in a compressed form.
  storage::SetErasureOptions(&o);
  o.max_total_wal_size = 64 << 20;
  // The info LOG never holds values; at WARN it holds almost nothing at all.
  o.info_log_level = rocksdb::InfoLogLevel::WARN_LEVEL;
  o.keep_log_file_num = 2;
  o.max_log_file_size = 1 << 20;
  rocksdb::BlockBasedTableOptions t;
  t.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  o.table_factory.reset(rocksdb::NewBlockBasedTableFactory(t));
  return o;
}

}  // namespace

std::string NewRecordId() {
  auto r = crypto::RandomArray<16>();
  return ToHex(r);
}

struct Vault::Impl {
  std::string dir;
  VaultOptions opts;
  std::unique_ptr<rocksdb::Env> env;  // set only with a test file system; outlives db
  std::unique_ptr<rocksdb::DB> db;
  rocksdb::WriteOptions write;
  // The master key, in guarded, mlock-ed memory from sodium_malloc; freed
  // (and zeroed) by sodium_free.
  crypto::AeadKey* master = nullptr;
  // Serializes writers (Put*, Ensure*, Erase*, Rotate).
  std::mutex write_mu;
  // Held while the master key changes, and while a reader takes its snapshot
  // and its copy of the key, so that the two always match.
  mutable std::mutex key_mu;
  std::mutex compact_mu;

  // What a read sees: a snapshot (null: the latest state, for writers, which
  // hold write_mu) and the master key that goes with it.
  struct View {
    const rocksdb::Snapshot* snap = nullptr;
    const crypto::AeadKey* master = nullptr;
  };
  View WriterView() const { return View{nullptr, master}; }
  class ReadView;

  ~Impl() {
    if (db) {
      db->Close().PermitUncheckedError();
      db.reset();
    }
    if (master) sodium_free(master);
  }

  // Value of `key`, or nullopt.
  Result<std::optional<std::string>> Read(const View& view, const std::string& key,
                                          const std::string& what) const {
    std::string v;
    rocksdb::ReadOptions ro;
    ro.snapshot = view.snap;
    rocksdb::Status s = db->Get(ro, key, &v);
    if (s.IsNotFound()) return std::optional<std::string>();
    if (!s.ok()) return FromRocks(s, what);
    return std::optional<std::string>(std::move(v));
  }
  Result<bool> Exists(const View& view, const std::string& key, const std::string& what) const {
    ML_ASSIGN_OR_RETURN(auto v, Read(view, key, what));
    return v.has_value();
  }

  // Calls fn(key, value) for every key starting with `prefix`, in order;
  // fn returns false to stop.
  Status Scan(const View& view, const std::string& prefix, const std::string& what,
              const std::function<bool(std::string_view, std::string_view)>& fn) const {
    std::string upper = prefix;
    // Prefixes here never end in 0xff (kinds are letters, ids are ASCII, the
    // separator is '\0'), so incrementing the last byte bounds the range.
    upper.back() = char(uint8_t(upper.back()) + 1);
    rocksdb::Slice upper_slice(upper);
    rocksdb::ReadOptions ro;
    ro.iterate_upper_bound = &upper_slice;
    ro.snapshot = view.snap;
    std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(ro));
    for (it->Seek(prefix); it->Valid(); it->Next()) {
      if (!fn(std::string_view(it->key().data(), it->key().size()),
              std::string_view(it->value().data(), it->value().size()))) {
        break;
      }
    }
    if (!it->status().ok()) return FromRocks(it->status(), what);
    return Status::Ok();
  }

  Status Write(rocksdb::WriteBatch* batch, const std::string& what) {
    return FromRocks(db->Write(write, batch), what);
  }

  // The owner recorded in a record-key entry, and the wrapped key.
  struct RecordKeyEntry {
    std::string pseudonym;
    Bytes wrapped;
  };
  static Result<RecordKeyEntry> DecodeRecordKey(std::string_view v, const std::string& name) {
    ByteReader r(v);
    RecordKeyEntry e;
    uint8_t ver = r.U8();
    e.pseudonym = r.VarString(kMaxIdLength);
    e.wrapped = r.Var(kWrappedKeySize);
    if (!r.ok() || !r.AtEnd() || ver != kValueVersion || !ValidId(e.pseudonym) ||
        e.wrapped.size() != kWrappedKeySize) {
      return DataLoss("vault: undecodable key entry for " + name);
    }
    return e;
  }
  static std::string EncodeRecordKey(std::string_view pseudonym, const Bytes& wrapped) {
    Bytes b;
    ByteWriter w(&b);
    w.U8(kValueVersion);
    w.Var(pseudonym);
    w.Var(wrapped);
    return std::string(AsStringView(b));
  }
  static std::string EncodeSealed(const Bytes& sealed) {
    std::string v(1, char(kValueVersion));
    v.append(AsStringView(sealed));
    return v;
  }
  static Result<Bytes> DecodeSealed(std::string_view v, const std::string& what) {
    if (v.size() < 1 + crypto::kAeadOverhead || uint8_t(v[0]) != kValueVersion) {
      return DataLoss("vault: undecodable " + what);
    }
    return Bytes(v.begin() + 1, v.end());
  }

  // The owner of a record, from its first stored version; empty if none.
  Result<std::string> Owner(const View& view, std::string_view record_id) const {
    std::string owner;
    Status decode_error;
    ML_RETURN_IF_ERROR(Scan(view, VersionPrefix(kRecordKeyPrefix, record_id), "reading record keys",
                            [&](std::string_view, std::string_view v) {
                              auto e = DecodeRecordKey(v, "record " + std::string(record_id));
                              if (!e.ok()) {
                                decode_error = e.status();
                              } else {
                                owner = e->pseudonym;
                              }
                              return false;
                            }));
    ML_RETURN_IF_ERROR(decode_error);
    return owner;
  }

  // Unwraps the patient key into `out`. kGone if the patient was erased,
  // kNotFound if it never existed.
  Status PatientKey(const View& view, std::string_view pseudonym, crypto::AeadKey* out) const {
    ML_ASSIGN_OR_RETURN(auto v, Read(view, Prefixed(kPatientKeyPrefix, pseudonym), "reading a patient key"));
    if (!v) {
      ML_ASSIGN_OR_RETURN(bool erased, Exists(view, Prefixed(kPatientErasedPrefix, pseudonym),
                                              "reading a patient tombstone"));
      if (erased) return Gone("vault: the patient was erased");
      return NotFound("vault: no patient key");
    }
    ML_ASSIGN_OR_RETURN(Bytes sealed, DecodeSealed(*v, "patient key entry"));
    return Unwrap(*view.master, sealed, PatientKeyAd(pseudonym), out, "patient key");
  }

  Result<std::string> GetAt(const View& view, const RecordVersionId& id) const {
    ML_RETURN_IF_ERROR(CheckRecordId(id.record_id));
    const std::string name = VersionName(id);
    ML_ASSIGN_OR_RETURN(bool erased, Exists(view, Prefixed(kRecordErasedPrefix, id.record_id),
                                            "reading a record tombstone"));
    if (erased) return Gone("vault: " + name + " was erased");
    ML_ASSIGN_OR_RETURN(auto kv, Read(view, VersionKey(kRecordKeyPrefix, id.record_id, id.version),
                                      "reading a record key"));
    if (!kv) return NotFound("vault: no " + name);
    ML_ASSIGN_OR_RETURN(RecordKeyEntry e, DecodeRecordKey(*kv, name));
    KeyHolder pk;
    Status st = PatientKey(view, e.pseudonym, &pk.get());
    if (st.code() == StatusCode::kNotFound) return DataLoss("vault: patient key of " + name + " is missing");
    ML_RETURN_IF_ERROR(st);
    KeyHolder rk;
    ML_RETURN_IF_ERROR(Unwrap(pk.get(), e.wrapped, RecordKeyAd(e.pseudonym, id.record_id, id.version),
                              &rk.get(), "record key of " + name));
    ML_ASSIGN_OR_RETURN(auto cv, Read(view, VersionKey(kCiphertextPrefix, id.record_id, id.version),
                                      "reading a ciphertext"));
    if (!cv) return DataLoss("vault: ciphertext of " + name + " is missing");
    ML_ASSIGN_OR_RETURN(Bytes sealed, DecodeSealed(*cv, "ciphertext of " + name));
    auto plain = crypto::Open(rk.get(), sealed, CiphertextAd(id.record_id, id.version));
    if (!plain.ok()) {
      return DataLoss("vault: authentication failed for " + name +
                      " (the ciphertext was tampered with or moved)");
    }
    std::string out(AsStringView(*plain));
    crypto::Wipe(plain->data(), plain->size());
    return out;
  }

  // Adds the deletions of one record's erasure to `batch`.
  Status EraseRecordInto(std::string_view record_id, rocksdb::WriteBatch* batch) const {
    std::set<std::string> owners;
    std::vector<std::string> keys;
    Status decode_error;
    const View view = WriterView();
    ML_RETURN_IF_ERROR(Scan(view, VersionPrefix(kRecordKeyPrefix, record_id), "reading record keys",
                            [&](std::string_view k, std::string_view v) {
                              keys.emplace_back(k);
                              auto e = DecodeRecordKey(v, "record " + std::string(record_id));
                              if (e.ok()) owners.insert(e->pseudonym);
                              return true;
                            }));
    ML_RETURN_IF_ERROR(Scan(view, VersionPrefix(kCiphertextPrefix, record_id), "reading ciphertexts",
                            [&](std::string_view k, std::string_view) {
                              keys.emplace_back(k);
                              return true;
                            }));
    for (const auto& k : keys) {
      ML_RETURN_IF_ERROR(FromRocks(batch->Delete(k), "staging an erasure"));
    }
    for (const auto& owner : owners) {
      std::string ik = IndexPrefix(owner);
      ik.append(record_id);
      ML_RETURN_IF_ERROR(FromRocks(batch->Delete(ik), "staging an erasure"));
    }
    const std::string marker(1, char(kValueVersion));
    return FromRocks(batch->Put(Prefixed(kRecordErasedPrefix, record_id), marker),
                     "staging an erasure");
  }

  Status ErasePatientInto(std::string_view pseudonym, rocksdb::WriteBatch* batch) const {
    std::vector<std::string> records;
    const std::string prefix = IndexPrefix(pseudonym);
    ML_RETURN_IF_ERROR(Scan(WriterView(), prefix, "reading the patient index",
                            [&](std::string_view k, std::string_view) {
                              records.emplace_back(k.substr(prefix.size()));
                              return true;
                            }));
    for (const auto& r : records) {
      if (!ValidId(r)) return DataLoss("vault: undecodable patient index entry");
      ML_RETURN_IF_ERROR(EraseRecordInto(r, batch));
    }
    ML_RETURN_IF_ERROR(
        FromRocks(batch->Delete(Prefixed(kPatientKeyPrefix, pseudonym)), "staging an erasure"));
    const std::string marker(1, char(kValueVersion));
    return FromRocks(batch->Put(Prefixed(kPatientErasedPrefix, pseudonym), marker),
                     "staging an erasure");
  }

  // Stages the puts of `items` into one batch and writes it. Holds mu.
  Result<std::vector<Hash32>> PutLocked(const std::vector<PutItem>& items) {
    rocksdb::WriteBatch batch;
    std::map<std::string, std::unique_ptr<KeyHolder>> patient_keys;  // this batch's
    std::map<std::string, std::string> owners;                       // record -> patient
    std::set<std::pair<std::string, uint32_t>> seen;
    std::vector<Hash32> hashes;
    hashes.reserve(items.size());
    const View view = WriterView();

    for (const PutItem& item : items) {
      ML_RETURN_IF_ERROR(CheckPseudonym(item.patient_pseudonym));
      ML_RETURN_IF_ERROR(CheckRecordId(item.id.record_id));
      const std::string name = VersionName(item.id);
      const std::string& rid = item.id.record_id;
      const uint32_t ver = item.id.version;
      if (!seen.emplace(rid, ver).second) {
        return InvalidArgument("vault: " + name + " appears twice in one batch");
      }
      ML_ASSIGN_OR_RETURN(bool erased, Exists(view, Prefixed(kRecordErasedPrefix, rid),
                                              "reading a record tombstone"));
      if (erased) return Gone("vault: " + name + " was erased");

      auto owner_it = owners.find(rid);
      if (owner_it == owners.end()) {
        ML_ASSIGN_OR_RETURN(std::string owner, Owner(view, rid));
        if (owner.empty()) owner = item.patient_pseudonym;
        owner_it = owners.emplace(rid, std::move(owner)).first;
      }
      if (owner_it->second != item.patient_pseudonym) {
        return InvalidArgument("vault: record " + rid + " belongs to another patient");
      }
      Hash32 hash = crypto::Sha256(item.plain);

      // The same version again: a no-op if the bytes are the same.
      ML_ASSIGN_OR_RETURN(auto existing, Read(view, VersionKey(kRecordKeyPrefix, rid, ver),
                                              "reading a record key"));
      if (existing) {
        ML_ASSIGN_OR_RETURN(std::string old, GetAt(view, item.id));
        bool same = crypto::Sha256(old) == hash;
        crypto::Wipe(old.data(), old.size());
        if (!same) return AlreadyExists("vault: " + name + " is already stored with other bytes");
        hashes.push_back(hash);
        continue;
      }

      auto pk_it = patient_keys.find(item.patient_pseudonym);
      if (pk_it == patient_keys.end()) {
        auto holder = std::make_unique<KeyHolder>();
        Status st = PatientKey(view, item.patient_pseudonym, &holder->get());
        if (st.code() == StatusCode::kNotFound) {
          holder->get() = crypto::RandomKey();
          Bytes sealed = crypto::Seal(*master, holder->get().data(), holder->get().size(),
                                      PatientKeyAd(item.patient_pseudonym));
          ML_RETURN_IF_ERROR(FromRocks(
              batch.Put(Prefixed(kPatientKeyPrefix, item.patient_pseudonym), EncodeSealed(sealed)),
              "staging a patient key"));
        } else {
          ML_RETURN_IF_ERROR(st);
        }
        pk_it = patient_keys.emplace(item.patient_pseudonym, std::move(holder)).first;
      }

      KeyHolder rk;
      rk.get() = crypto::RandomKey();
      Bytes wrapped = crypto::Seal(pk_it->second->get(), rk.get().data(), rk.get().size(),
                                   RecordKeyAd(item.patient_pseudonym, rid, ver));
      Bytes sealed = crypto::Seal(rk.get(), reinterpret_cast<const uint8_t*>(item.plain.data()),
                                  item.plain.size(), CiphertextAd(rid, ver));
      std::string index_key = IndexPrefix(item.patient_pseudonym);
      index_key.append(rid);
      rocksdb::Status s = batch.Put(VersionKey(kRecordKeyPrefix, rid, ver),
                                    EncodeRecordKey(item.patient_pseudonym, wrapped));
      if (s.ok()) s = batch.Put(VersionKey(kCiphertextPrefix, rid, ver), EncodeSealed(sealed));
      if (s.ok()) s = batch.Put(index_key, rocksdb::Slice());
      ML_RETURN_IF_ERROR(FromRocks(s, "staging " + name));
      hashes.push_back(hash);
    }
    if (batch.Count() > 0) ML_RETURN_IF_ERROR(Write(&batch, "writing record versions"));
    return hashes;
  }
};

Vault::Vault(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Vault::~Vault() = default;

Result<std::unique_ptr<Vault>> Vault::Open(const std::string& dir,
                                           std::unique_ptr<MasterKeyProvider> mk,
                                           VaultOptions opts) {
  if (dir.empty()) return InvalidArgument("vault: empty directory");
  if (!mk) return InvalidArgument("vault: no master key provider");
  if (sodium_init() < 0) return Internal("vault: libsodium failed to initialize");
  const std::string key_file = mk->KeyFilePath();
  if (!key_file.empty() && PathInside(key_file, dir)) {
    return InvalidArgument("vault: the master key file must not lie inside the vault directory " +
                           dir);
  }

  std::error_code ec;
  if (!std::filesystem::exists(dir, ec)) {
    if (!opts.create_if_missing) return NotFound("vault: no vault in " + dir);
    std::filesystem::create_directories(dir, ec);
    if (ec) return Unavailable("vault: cannot create " + dir + ": " + ec.message());
    std::filesystem::permissions(dir, std::filesystem::perms::owner_all, ec);
    if (ec) return Unavailable("vault: cannot restrict " + dir + ": " + ec.message());
  }

  auto impl = std::make_unique<Impl>();
  impl->dir = dir;
  impl->opts = opts;
  impl->write.sync = opts.sync;
  impl->master = static_cast<crypto::AeadKey*>(sodium_malloc(sizeof(crypto::AeadKey)));
  if (!impl->master) return ResourceExhausted("vault: cannot allocate locked memory for the key");
  {
    ML_ASSIGN_OR_RETURN(crypto::AeadKey k, mk->Load());
    *impl->master = k;
    crypto::Wipe(k.data(), k.size());
  }

  rocksdb::Options rocks_opts = VaultRocksOptions(opts.create_if_missing);
  if (opts.file_system) {
    impl->env = rocksdb::NewCompositeEnv(opts.file_system);
    rocks_opts.env = impl->env.get();
  }
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(rocks_opts, dir, &raw);
  if (!s.ok()) return FromRocks(s, "opening the vault in " + dir, true);
  impl->db.reset(raw);

  ML_ASSIGN_OR_RETURN(auto schema, impl->Read(impl->WriterView(), kSchemaKey, "reading the schema version"));
  ML_ASSIGN_OR_RETURN(auto check, impl->Read(impl->WriterView(), kMasterCheckKey, "reading the master key check"));
  if (schema) {
    ByteReader r(*schema);
    uint32_t v = r.U32();
    if (!r.ok() || !r.AtEnd() || v != kSchemaVersion) {
      return FailedPrecondition("vault: " + dir + " has an unknown schema version");
    }
    if (!check) return DataLoss("vault: the master key check entry is missing");
    ML_ASSIGN_OR_RETURN(Bytes sealed, Impl::DecodeSealed(*check, "master key check"));
    auto plain = crypto::Open(*impl->master, sealed, kMasterCheckAd);
    if (!plain.ok() || AsStringView(*plain) != kMasterCheckPlain) {
      return PermissionDenied("vault: the master key does not open the vault in " + dir);
    }
  } else {
    std::unique_ptr<rocksdb::Iterator> it(impl->db->NewIterator(rocksdb::ReadOptions()));
    it->SeekToFirst();
    if (it->Valid()) return FailedPrecondition("vault: " + dir + " is not a medledger vault");
    Bytes v;
    ByteWriter(&v).U32(kSchemaVersion);
    rocksdb::WriteBatch batch;
    s = batch.Put(kSchemaKey, rocksdb::Slice(reinterpret_cast<const char*>(v.data()), v.size()));
    Bytes sealed = crypto::Seal(*impl->master, reinterpret_cast<const uint8_t*>(kMasterCheckPlain.data()),
                                kMasterCheckPlain.size(), kMasterCheckAd);
    if (s.ok()) s = batch.Put(kMasterCheckKey, Impl::EncodeSealed(sealed));
    ML_RETURN_IF_ERROR(FromRocks(s, "staging the vault header"));
    rocksdb::WriteOptions w;
    w.sync = true;
    ML_RETURN_IF_ERROR(FromRocks(impl->db->Write(w, &batch), "writing the vault header"));
  }
  return std::unique_ptr<Vault>(new Vault(std::move(impl)));
}

Status Vault::EnsurePatient(std::string_view patient_pseudonym) {
  ML_RETURN_IF_ERROR(CheckPseudonym(patient_pseudonym));
  std::lock_guard lock(impl_->write_mu);
  KeyHolder pk;
  Status st = impl_->PatientKey(impl_->WriterView(), patient_pseudonym, &pk.get());
  if (st.code() != StatusCode::kNotFound) return st;
  pk.get() = crypto::RandomKey();
  Bytes sealed = crypto::Seal(*impl_->master, pk.get().data(), pk.get().size(),
                              PatientKeyAd(patient_pseudonym));
  rocksdb::WriteBatch batch;
  ML_RETURN_IF_ERROR(FromRocks(
      batch.Put(Prefixed(kPatientKeyPrefix, patient_pseudonym), Impl::EncodeSealed(sealed)),
      "staging a patient key"));
  return impl_->Write(&batch, "writing a patient key");
}

Result<Hash32> Vault::Put(std::string_view patient_pseudonym, const RecordVersionId& id,
                          std::string_view plain) {
  std::vector<PutItem> items(1);
  items[0].patient_pseudonym = std::string(patient_pseudonym);
  items[0].id = id;
  items[0].plain = std::string(plain);
  Result<std::vector<Hash32>> r = [&] {
    std::lock_guard lock(impl_->write_mu);
    return impl_->PutLocked(items);
  }();
  crypto::Wipe(items[0].plain.data(), items[0].plain.size());
  if (!r.ok()) return r.status();
  return r->front();
}

Result<std::vector<Hash32>> Vault::PutBatch(const std::vector<PutItem>& items) {
  std::lock_guard lock(impl_->write_mu);
  return impl_->PutLocked(items);
}

// A reader's consistent view: a snapshot and a copy of the master key taken
// together, without blocking on writers.
class Vault::Impl::ReadView {
 public:
  explicit ReadView(const Impl& impl) {
    std::lock_guard lock(impl.key_mu);
    snap_ = std::make_unique<rocksdb::ManagedSnapshot>(impl.db.get());
    key_.get() = *impl.master;
  }
  View view() const { return View{snap_->snapshot(), &key_.get()}; }

 private:
  std::unique_ptr<rocksdb::ManagedSnapshot> snap_;
  KeyHolder key_;
};

Result<std::string> Vault::Get(const RecordVersionId& id) const {
  Impl::ReadView rv(*impl_);
  return impl_->GetAt(rv.view(), id);
}

Result<std::vector<uint32_t>> Vault::Versions(std::string_view record_id) const {
  ML_RETURN_IF_ERROR(CheckRecordId(record_id));
  Impl::ReadView rv(*impl_);
  const Impl::View view = rv.view();
  std::vector<uint32_t> out;
  ML_ASSIGN_OR_RETURN(bool erased, impl_->Exists(view, Prefixed(kRecordErasedPrefix, record_id),
                                                 "reading a record tombstone"));
  if (erased) return out;
  const std::string prefix = VersionPrefix(kRecordKeyPrefix, record_id);
  Status bad;
  ML_RETURN_IF_ERROR(impl_->Scan(view, prefix, "listing versions",
                                 [&](std::string_view k, std::string_view) {
                                   if (k.size() != prefix.size() + 4) {
                                     bad = DataLoss("vault: undecodable record key entry");
                                     return false;
                                   }
                                   out.push_back(ReadU32(k.data() + prefix.size()));
                                   return true;
                                 }));
  ML_RETURN_IF_ERROR(bad);
  return out;
}

Result<bool> Vault::IsErased(std::string_view record_id) const {
  ML_RETURN_IF_ERROR(CheckRecordId(record_id));
  return impl_->Exists(Impl::View{nullptr, nullptr}, Prefixed(kRecordErasedPrefix, record_id), "reading a record tombstone");
}

Status Vault::Erase(std::string_view record_id) {
  ML_RETURN_IF_ERROR(CheckRecordId(record_id));
  {
    std::lock_guard lock(impl_->write_mu);
    rocksdb::WriteBatch batch;
    ML_RETURN_IF_ERROR(impl_->EraseRecordInto(record_id, &batch));
    ML_RETURN_IF_ERROR(impl_->Write(&batch, "erasing record " + std::string(record_id)));
  }
  return impl_->opts.compact_after_erase ? Compact() : Status::Ok();
}

Status Vault::ErasePatient(std::string_view patient_pseudonym) {
  ML_RETURN_IF_ERROR(CheckPseudonym(patient_pseudonym));
  {
    std::lock_guard lock(impl_->write_mu);
    rocksdb::WriteBatch batch;
    ML_RETURN_IF_ERROR(impl_->ErasePatientInto(patient_pseudonym, &batch));
    ML_RETURN_IF_ERROR(impl_->Write(&batch, "erasing a patient"));
  }
  return impl_->opts.compact_after_erase ? Compact() : Status::Ok();
}

Status Vault::ReapplyErasures(const std::vector<std::string>& record_ids,
                              const std::vector<std::string>& patient_pseudonyms) {
  for (const auto& r : record_ids) ML_RETURN_IF_ERROR(CheckRecordId(r));
  for (const auto& p : patient_pseudonyms) ML_RETURN_IF_ERROR(CheckPseudonym(p));
  {
    std::lock_guard lock(impl_->write_mu);
    rocksdb::WriteBatch batch;
    for (const auto& p : patient_pseudonyms) {
      ML_RETURN_IF_ERROR(impl_->ErasePatientInto(p, &batch));
    }
    for (const auto& r : record_ids) ML_RETURN_IF_ERROR(impl_->EraseRecordInto(r, &batch));
    ML_RETURN_IF_ERROR(impl_->Write(&batch, "re-applying erasures"));
  }
  return Compact();
}

Status Vault::Compact() {
  std::lock_guard lock(impl_->compact_mu);
  return storage::CompactAndPurge(impl_->db.get(), "vault");
}

Status Vault::RotateMasterKey(std::unique_ptr<MasterKeyProvider> next) {
  if (!next) return InvalidArgument("vault: no master key provider");
  const std::string key_file = next->KeyFilePath();
  if (!key_file.empty() && PathInside(key_file, impl_->dir)) {
    return InvalidArgument("vault: the master key file must not lie inside the vault directory");
  }
  KeyHolder fresh;
  {
    ML_ASSIGN_OR_RETURN(crypto::AeadKey k, next->Load());
    fresh.get() = k;
    crypto::Wipe(k.data(), k.size());
  }
  {
    std::lock_guard lock(impl_->write_mu);
    rocksdb::WriteBatch batch;
    Status inner;
    const std::string prefix(1, kPatientKeyPrefix);
    ML_RETURN_IF_ERROR(impl_->Scan(
        impl_->WriterView(), prefix, "reading patient keys", [&](std::string_view k, std::string_view v) {
          std::string_view pseudonym = k.substr(1);
          auto sealed = Impl::DecodeSealed(v, "patient key entry");
          if (!sealed.ok()) {
            inner = sealed.status();
            return false;
          }
          KeyHolder pk;
          inner = Unwrap(*impl_->master, *sealed, PatientKeyAd(pseudonym), &pk.get(), "patient key");
          if (!inner.ok()) return false;
          Bytes rewrapped =
              crypto::Seal(fresh.get(), pk.get().data(), pk.get().size(), PatientKeyAd(pseudonym));
          inner = FromRocks(batch.Put(k, Impl::EncodeSealed(rewrapped)), "staging a patient key");
          return inner.ok();
        }));
    ML_RETURN_IF_ERROR(inner);
    Bytes check = crypto::Seal(fresh.get(), reinterpret_cast<const uint8_t*>(kMasterCheckPlain.data()),
                               kMasterCheckPlain.size(), kMasterCheckAd);
    ML_RETURN_IF_ERROR(FromRocks(batch.Put(kMasterCheckKey, Impl::EncodeSealed(check)),
                                 "staging the master key check"));
    rocksdb::WriteOptions w;
    w.sync = true;
    std::lock_guard key_lock(impl_->key_mu);
    ML_RETURN_IF_ERROR(FromRocks(impl_->db->Write(w, &batch), "rewrapping patient keys"));
    *impl_->master = fresh.get();
  }
  return Compact();
}

}  // namespace medledger::vault
