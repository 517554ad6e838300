// The custodian-local, off-chain FHIR index: which record a FHIR `Type/id`
// is, which pseudonym a Patient has (and the patient key it is bound to),
// and which resources carry an identifier (for conditional references such
// as `Organization?identifier=system|value`). Format: docs/RECORDS.md,
// "Ingestion and the local index".
//
// No PHI in plaintext: every key is a kind byte followed by
// HMAC-SHA256(blind key, what it names) and every value is sealed
// (XChaCha20-Poly1305) under a seal key, with the RocksDB key as associated
// data. Both keys are derived from one random index key kept in the vault
// (so it is protected by the vault master key, its passphrase and its
// rotation), never written to the index directory.
//
// Thread safety: reads may run from any thread; Write calls are serialized
// internally. Callers that read-then-write (the FHIR write path) hold their
// own lock around the whole sequence.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "vault/vault.h"

namespace rocksdb {
class FileSystem;
}

namespace medledger::custodian {

struct IndexedResource {
  std::string type;       // FHIR resource type
  std::string id;         // FHIR logical id
  std::string record_id;  // the vault / on-chain record id (random hex)
  std::string pseudonym;  // the patient's pseudonym, or the custodian pseudonym
  uint32_t version = 0;   // latest version written by this node
  // Identifiers indexed for this version ("system|value"), so the next
  // version can remove the ones it drops. Sealed like every value.
  std::vector<std::string> identifiers;
  // The record was erased: the entry is a tombstone without identifiers,
  // kept so that reads of Type/id still find the record and answer 410.
  bool erased = false;
};

struct IndexedPatient {
  std::string pseudonym;    // random 32 hex, per patient per custodian
  std::string patient_key;  // the public id it is bound to ("" until known)
};

class FhirIndex {
 public:
  // Opens (or creates) the index in `dir` (mode 0700). The index key is read
  // from `vault` (record kIndexKeyRecord), created there on first use.
  // `file_system` is for tests (a fault-injecting one); null: the real disk.
  static Result<std::shared_ptr<FhirIndex>> Open(const std::string& dir, vault::Vault* vault,
                                                 std::shared_ptr<rocksdb::FileSystem> file_system = nullptr);
  ~FhirIndex();

  Result<std::optional<IndexedResource>> Lookup(std::string_view type, std::string_view id) const;
  Result<std::optional<IndexedResource>> LookupRecord(std::string_view record_id) const;
  Result<std::optional<IndexedPatient>> LookupPatient(std::string_view patient_id) const;
  // FHIR ids of resources of `type` carrying identifier system|value
  // (system may be empty: an identifier written without system).
  Result<std::vector<std::string>> FindByIdentifier(std::string_view type, std::string_view system,
                                                    std::string_view value) const;
  // The custodian's pseudonym for resources that belong to no patient
  // (Organization, Practitioner, Location...), created on first use.
  Result<std::string> CustodianPseudonym();
  // HMAC-SHA256 (hex) of `what` under the custodian's claims key, which is
  // derived from the index key and so never leaves this organisation's
  // vault: the keyed hashes a claim puts on chain (business identifier,
  // duplicate check, docs/CLAIMS.md) cannot be reversed by other members.
  std::string ClaimsDigest(std::string_view what) const;

  // A set of changes applied atomically by Write.
  class Batch {
   public:
    // Writes the resource entry (by type/id and by record id) and moves its
    // identifier entries from `previous` (may be null) to `entry`.
    void PutResource(const IndexedResource& entry, const IndexedResource* previous);
    void PutPatient(std::string_view patient_id, const IndexedPatient& p);
    bool empty() const { return ops_.empty(); }

   private:
    friend class FhirIndex;
    struct Op {
      enum Kind { kPut, kAddId, kRemoveId } kind;
      std::string raw_key;    // blinded key
      std::string value;      // kPut: plaintext JSON; kAddId/kRemoveId: the FHIR id
    };
    std::vector<Op> ops_;
    const FhirIndex* owner_ = nullptr;
  };
  Batch NewBatch() const;
  // Applies `batch` in one RocksDB write, synced unless `sync` is false.
  // With `undo`, fills it with the raw previous values of every touched key,
  // for Restore(). An unsynced write is visible to lookups at once and
  // durable after the next Sync() (or synced write): group commit, where
  // several writes share one sync.
  struct Undo {
    std::vector<std::pair<std::string, std::optional<std::string>>> previous;  // raw key → sealed value
  };
  Status Write(const Batch& batch, Undo* undo = nullptr, bool sync = true);
  Status Restore(const Undo& undo);
  // Makes every earlier write durable (one WAL sync).
  Status Sync();

  // Erasure of records (GDPR Art. 17; docs/RECORDS.md, "Erasure"): for each
  // record the index knows, removes its FHIR id from every identifier entry
  // it was indexed under (deleting entries left empty) and rewrites its
  // Type/id and record entries as tombstones without identifiers, in one
  // synced write; then Compact(), so that no file of the index directory
  // still holds an older version of those entries. Record ids the index does
  // not know are skipped; erasing again only compacts.
  Status EraseRecords(const std::vector<std::string>& record_ids);
  // Flushes the memtable (the WAL holding older versions becomes obsolete),
  // rewrites every SST file (bottommost level forced) and deletes obsolete
  // SST and WAL files, as vault::Vault::Compact does. Cost grows with the
  // index's size.
  Status Compact();

  // The key that binds the custodian pseudonym on chain (the custodian
  // subject; it signs nothing), relative to DATA_DIR. `init` makes it for a
  // development chain and lists it in the genesis with the patient role; a
  // node without one makes it at first start.
  static constexpr const char* kCustodianSubjectKeyFile = "keys/fhir-custodian-subject.key";

  // The fixed vault coordinates of the index key.
  static constexpr const char* kIndexKeyRecord = "medledger-fhir-index-key";
  static constexpr const char* kIndexKeyPseudonym = "medledger-fhir-index";

  struct Impl;

 private:
  explicit FhirIndex(std::unique_ptr<Impl> impl);
  std::string ResourceKey(std::string_view type, std::string_view id) const;
  std::string RecordKey(std::string_view record_id) const;
  std::string PatientKey(std::string_view patient_id) const;
  std::string IdentifierKey(std::string_view type, std::string_view system_value) const;
  std::unique_ptr<Impl> impl_;
};

// HMAC-SHA256 (RFC 2104) over the project's SHA-256.
Hash32 HmacSha256(const uint8_t* key, size_t key_len, std::string_view msg);

}  // namespace medledger::custodian
