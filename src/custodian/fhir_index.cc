#include "custodian/fhir_index.h"

#include <rocksdb/db.h>
#include <rocksdb/env.h>
#include <rocksdb/file_system.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/options.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>

#include "crypto/aead.h"
#include "crypto/sha256.h"
#include "storage/rocksdb_erasure.h"
#include "storage/rocksdb_status.h"

namespace medledger::custodian {

using nlohmann::json;

Hash32 HmacSha256(const uint8_t* key, size_t key_len, std::string_view msg) {
  std::array<uint8_t, 64> k{};
  if (key_len > 64) {
    Hash32 h = crypto::Sha256(key, key_len);
    std::copy(h.begin(), h.end(), k.begin());
  } else {
    std::copy(key, key + key_len, k.begin());
  }
  std::array<uint8_t, 64> ipad, opad;
  for (size_t i = 0; i < 64; ++i) {
    ipad[i] = k[i] ^ 0x36;
    opad[i] = k[i] ^ 0x5c;
  }
  crypto::Sha256Builder inner;
  Hash32 ih = inner.Add(ipad).Add(msg).Finish();
  crypto::Sha256Builder outer;
  Hash32 out = outer.Add(opad).Add(ih).Finish();
  crypto::Wipe(k.data(), k.size());
  crypto::Wipe(ipad.data(), ipad.size());
  crypto::Wipe(opad.data(), opad.size());
  return out;
}

namespace {

// Converts a RocksDB status at the module edge (storage/rocksdb_status.h).
// Pass `with_detail` while opening.
Status FromRocks(const rocksdb::Status& s, const char* what, bool with_detail = false) {
  return storage::FromRocks(s, "fhir index", what, with_detail);
}

std::string AdFor(const std::string& raw_key) {
  std::string ad = "medledger/fhir-index/v1";
  ad.push_back('\0');
  return ad + raw_key;
}

// Kind bytes of the key schema (docs/RECORDS.md).
constexpr char kMeta = 'M', kRes = 'R', kRec = 'D', kPat = 'P', kIdent = 'I';

json ResourceJson(const IndexedResource& r) {
  json j = {{"type", r.type}, {"id", r.id}, {"record_id", r.record_id}, {"pseudonym", r.pseudonym},
            {"version", r.version}, {"identifiers", r.identifiers}};
  if (r.erased) j["erased"] = true;
  return j;
}
IndexedResource ResourceFrom(const json& j) {
  IndexedResource r;
  r.type = j.value("type", "");
  r.id = j.value("id", "");
  r.record_id = j.value("record_id", "");
  r.pseudonym = j.value("pseudonym", "");
  r.version = j.value("version", 0u);
  if (j.contains("identifiers")) r.identifiers = j["identifiers"].get<std::vector<std::string>>();
  r.erased = j.value("erased", false);
  return r;
}

}  // namespace

struct FhirIndex::Impl {
  std::shared_ptr<rocksdb::FileSystem> fs;  // a test's, or null
  std::unique_ptr<rocksdb::Env> env;        // over fs; outlives db
  std::unique_ptr<rocksdb::DB> db;
  crypto::AeadKey blind{};
  crypto::AeadKey seal{};
  crypto::AeadKey claims{};
  std::mutex write_mu;
  std::mutex compact_mu;  // one Compact() at a time (file deletions are paused and resumed)
  rocksdb::WriteOptions wo;

  ~Impl() {
    crypto::Wipe(blind.data(), blind.size());
    crypto::Wipe(seal.data(), seal.size());
    crypto::Wipe(claims.data(), claims.size());
  }

  std::string Blind(char kind, std::string_view what) const {
    std::string msg(1, kind);
    msg.push_back('\0');
    msg.append(what);
    Hash32 h = HmacSha256(blind.data(), blind.size(), msg);
    std::string key(1, kind);
    key.append(reinterpret_cast<const char*>(h.data()), h.size());
    return key;
  }
  std::string Seal(const std::string& raw_key, std::string_view plain) const {
    Bytes b = crypto::Seal(seal, reinterpret_cast<const uint8_t*>(plain.data()), plain.size(),
                           AdFor(raw_key));
    return std::string(b.begin(), b.end());
  }
  Result<std::optional<std::string>> GetRaw(const std::string& raw_key) const {
    std::string v;
    auto s = db->Get(rocksdb::ReadOptions(), raw_key, &v);
    if (s.IsNotFound()) return std::optional<std::string>();
    ML_RETURN_IF_ERROR(FromRocks(s, "read"));
    return std::optional<std::string>(std::move(v));
  }
  Result<std::optional<json>> GetJson(const std::string& raw_key) const {
    ML_ASSIGN_OR_RETURN(auto raw, GetRaw(raw_key));
    if (!raw) return std::optional<json>();
    ML_ASSIGN_OR_RETURN(auto plain, crypto::Open(seal, Bytes(raw->begin(), raw->end()),
                                                 AdFor(raw_key)));
    auto j = json::parse(plain.begin(), plain.end(), nullptr, false);
    if (j.is_discarded()) return DataLoss("fhir index: undecodable entry");
    return std::optional<json>(std::move(j));
  }
};

FhirIndex::FhirIndex(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
FhirIndex::~FhirIndex() = default;

Result<std::shared_ptr<FhirIndex>> FhirIndex::Open(const std::string& dir, vault::Vault* vault,
                                                   std::shared_ptr<rocksdb::FileSystem> file_system) {
  // The index key lives in the vault, sealed under the vault's key hierarchy.
  std::string key_bytes;
  auto got = vault->Get({kIndexKeyRecord, 1});
  if (got.ok()) {
    key_bytes = std::move(*got);
  } else if (got.status().code() == StatusCode::kNotFound) {
    auto k = crypto::RandomKey();
    key_bytes = ToHex(k);
    crypto::Wipe(k.data(), k.size());
    ML_RETURN_IF_ERROR(vault->Put(kIndexKeyPseudonym, {kIndexKeyRecord, 1}, key_bytes).status());
  } else {
    return got.status();
  }
  ML_ASSIGN_OR_RETURN(auto master, FromHexFixed<32>(key_bytes));
  crypto::Wipe(key_bytes.data(), key_bytes.size());

  auto impl = std::make_unique<Impl>();
  impl->blind = HmacSha256(master.data(), master.size(), "medledger/fhir-index/v1/blind");
  impl->seal = HmacSha256(master.data(), master.size(), "medledger/fhir-index/v1/seal");
  impl->claims = HmacSha256(master.data(), master.size(), "medledger/claims/v1/keyed-hash");
  crypto::Wipe(master.data(), master.size());

  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  ::chmod(dir.c_str(), 0700);
  rocksdb::Options o;
  o.create_if_missing = true;
  o.info_log_level = rocksdb::InfoLogLevel::WARN_LEVEL;
  o.keep_log_file_num = 2;
  // As in the vault (docs/VAULT.md): obsolete WAL files are deleted, never
  // archived or recycled, and nothing is compressed, so that after an
  // erasure's Compact() no file holds an older version of an erased entry,
  // and a byte scan of the directory sees what is there.
  storage::SetErasureOptions(&o);
  // Most look-ups while ingesting miss (new server-assigned ids): a bloom
  // filter answers those without reading every SST file.
  rocksdb::BlockBasedTableOptions t;
  t.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  o.table_factory.reset(rocksdb::NewBlockBasedTableFactory(t));
  o.memtable_whole_key_filtering = true;
  o.memtable_prefix_bloom_size_ratio = 0.05;
  if (file_system) {
    impl->fs = std::move(file_system);
    impl->env = rocksdb::NewCompositeEnv(impl->fs);
    o.env = impl->env.get();
  }
  rocksdb::DB* raw = nullptr;
  ML_RETURN_IF_ERROR(FromRocks(rocksdb::DB::Open(o, dir, &raw), "open", /*with_detail=*/true));
  impl->db.reset(raw);
  impl->wo.sync = true;
  return std::shared_ptr<FhirIndex>(new FhirIndex(std::move(impl)));
}

std::string FhirIndex::ResourceKey(std::string_view type, std::string_view id) const {
  return impl_->Blind(kRes, std::string(type) + "/" + std::string(id));
}
std::string FhirIndex::RecordKey(std::string_view record_id) const { return impl_->Blind(kRec, record_id); }
std::string FhirIndex::PatientKey(std::string_view patient_id) const { return impl_->Blind(kPat, patient_id); }
std::string FhirIndex::IdentifierKey(std::string_view type, std::string_view system_value) const {
  return impl_->Blind(kIdent, std::string(type) + std::string(1, '\0') + std::string(system_value));
}

Result<std::optional<IndexedResource>> FhirIndex::Lookup(std::string_view type, std::string_view id) const {
  ML_ASSIGN_OR_RETURN(auto j, impl_->GetJson(ResourceKey(type, id)));
  if (!j) return std::optional<IndexedResource>();
  return std::optional<IndexedResource>(ResourceFrom(*j));
}

Result<std::optional<IndexedResource>> FhirIndex::LookupRecord(std::string_view record_id) const {
  ML_ASSIGN_OR_RETURN(auto j, impl_->GetJson(RecordKey(record_id)));
  if (!j) return std::optional<IndexedResource>();
  return std::optional<IndexedResource>(ResourceFrom(*j));
}

Result<std::optional<IndexedPatient>> FhirIndex::LookupPatient(std::string_view patient_id) const {
  ML_ASSIGN_OR_RETURN(auto j, impl_->GetJson(PatientKey(patient_id)));
  if (!j) return std::optional<IndexedPatient>();
  return std::optional<IndexedPatient>(IndexedPatient{j->value("pseudonym", ""), j->value("patient_key", "")});
}

Result<std::vector<std::string>> FhirIndex::FindByIdentifier(std::string_view type, std::string_view system,
                                                             std::string_view value) const {
  ML_ASSIGN_OR_RETURN(auto j, impl_->GetJson(IdentifierKey(type, std::string(system) + "|" + std::string(value))));
  if (!j) return std::vector<std::string>();
  return j->get<std::vector<std::string>>();
}

std::string FhirIndex::ClaimsDigest(std::string_view what) const {
  return ToHex(HmacSha256(impl_->claims.data(), impl_->claims.size(), what));
}

Result<std::string> FhirIndex::CustodianPseudonym() {
  std::lock_guard<std::mutex> l(impl_->write_mu);
  std::string key = impl_->Blind(kMeta, "custodian-pseudonym");
  ML_ASSIGN_OR_RETURN(auto j, impl_->GetJson(key));
  if (j) return j->value("pseudonym", "");
  std::string ps = vault::NewRecordId();
  auto s = impl_->db->Put(impl_->wo, key, impl_->Seal(key, json{{"pseudonym", ps}}.dump()));
  ML_RETURN_IF_ERROR(FromRocks(s, "write"));
  return ps;
}

FhirIndex::Batch FhirIndex::NewBatch() const {
  Batch b;
  b.owner_ = this;
  return b;
}

void FhirIndex::Batch::PutResource(const IndexedResource& e, const IndexedResource* previous) {
  std::string plain = ResourceJson(e).dump();
  ops_.push_back({Op::kPut, owner_->ResourceKey(e.type, e.id), plain});
  ops_.push_back({Op::kPut, owner_->RecordKey(e.record_id), plain});
  if (previous)
    for (const auto& sv : previous->identifiers)
      if (std::find(e.identifiers.begin(), e.identifiers.end(), sv) == e.identifiers.end())
        ops_.push_back({Op::kRemoveId, owner_->IdentifierKey(e.type, sv), e.id});
  for (const auto& sv : e.identifiers) ops_.push_back({Op::kAddId, owner_->IdentifierKey(e.type, sv), e.id});
}

void FhirIndex::Batch::PutPatient(std::string_view patient_id, const IndexedPatient& p) {
  ops_.push_back({Op::kPut, owner_->PatientKey(patient_id),
                  json{{"pseudonym", p.pseudonym}, {"patient_key", p.patient_key}}.dump()});
}

Status FhirIndex::Write(const Batch& batch, Undo* undo, bool sync) {
  std::lock_guard<std::mutex> l(impl_->write_mu);
  rocksdb::WriteBatch wb;
  // Identifier sets are read-modify-write; several ops may touch one key.
  std::map<std::string, std::vector<std::string>> sets;
  std::map<std::string, std::optional<std::string>> previous;
  auto remember = [&](const std::string& k) -> Status {
    if (previous.count(k)) return Status::Ok();
    ML_ASSIGN_OR_RETURN(auto raw, impl_->GetRaw(k));
    previous[k] = std::move(raw);
    return Status::Ok();
  };
  for (const auto& op : batch.ops_) {
    ML_RETURN_IF_ERROR(remember(op.raw_key));
    if (op.kind == Batch::Op::kPut) {
      auto s = wb.Put(op.raw_key, impl_->Seal(op.raw_key, op.value));
      ML_RETURN_IF_ERROR(FromRocks(s, "batch"));
      continue;
    }
    auto it = sets.find(op.raw_key);
    if (it == sets.end()) {
      ML_ASSIGN_OR_RETURN(auto j, impl_->GetJson(op.raw_key));
      it = sets.emplace(op.raw_key, j ? j->get<std::vector<std::string>>() : std::vector<std::string>()).first;
    }
    auto& ids = it->second;
    auto pos = std::find(ids.begin(), ids.end(), op.value);
    if (op.kind == Batch::Op::kAddId && pos == ids.end()) ids.push_back(op.value);
    if (op.kind == Batch::Op::kRemoveId && pos != ids.end()) ids.erase(pos);
  }
  for (const auto& [k, ids] : sets) {
    rocksdb::Status s = ids.empty() ? wb.Delete(k) : wb.Put(k, impl_->Seal(k, json(ids).dump()));
    ML_RETURN_IF_ERROR(FromRocks(s, "batch"));
  }
  rocksdb::WriteOptions wo = impl_->wo;
  wo.sync = sync;
  ML_RETURN_IF_ERROR(FromRocks(impl_->db->Write(wo, &wb), "write"));
  if (undo)
    for (auto& [k, v] : previous) undo->previous.emplace_back(k, std::move(v));
  return Status::Ok();
}

Status FhirIndex::Sync() { return FromRocks(impl_->db->SyncWAL(), "sync"); }

Status FhirIndex::EraseRecords(const std::vector<std::string>& record_ids) {
  Batch b = NewBatch();
  for (const auto& rid : record_ids) {
    ML_ASSIGN_OR_RETURN(auto e, LookupRecord(rid));
    if (!e || (e->erased && e->identifiers.empty())) continue;
    // Type/id, record id, pseudonym and version stay: no PHI, and what a
    // read needs to find the record and answer 410.
    IndexedResource tomb = *e;
    tomb.identifiers.clear();
    tomb.erased = true;
    b.PutResource(tomb, &*e);
  }
  if (!b.empty()) ML_RETURN_IF_ERROR(Write(b));
  return Compact();
}

Status FhirIndex::Compact() {
  std::lock_guard<std::mutex> l(impl_->compact_mu);
  return storage::CompactAndPurge(impl_->db.get(), "fhir index");
}

Status FhirIndex::Restore(const Undo& undo) {
  std::lock_guard<std::mutex> l(impl_->write_mu);
  rocksdb::WriteBatch wb;
  for (const auto& [k, v] : undo.previous) {
    auto s = v ? wb.Put(k, *v) : wb.Delete(k);
    ML_RETURN_IF_ERROR(FromRocks(s, "batch"));
  }
  return FromRocks(impl_->db->Write(impl_->wo, &wb), "write");
}

}  // namespace medledger::custodian
