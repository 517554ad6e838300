// The encrypted vault: the node's off-chain store of record versions (FHIR
// resources exactly as the server returns them), with erasure by
// crypto-shredding. Formats, key schema and operating procedures: docs/VAULT.md.
//
// Key hierarchy (all keys 32 bytes, all wrapping XChaCha20-Poly1305 with
// associated data that names what is wrapped):
//   master key   from a MasterKeyProvider; never stored in the vault directory
//   patient key  one per patient pseudonym, random, wrapped by the master key
//   record key   one per record version, random, wrapped by the patient key
// A version's bytes are sealed under its record key with associated data that
// binds the record id and version, so a ciphertext or a wrapped key moved to
// another record or version fails authentication.
//
// Identifiers: record ids and patient pseudonyms become RocksDB keys, so they
// must be random pseudonyms, never derived from PHI (NewRecordId() makes one).
// Both must match [A-Za-z0-9._-]{1,64}; anything else is kInvalidArgument.
//
// Errors, for every method:
//   kInvalidArgument    a malformed id or pseudonym, duplicate ids in a batch
//   kGone               the record (or its patient) was erased
//   kNotFound           no such record version
//   kAlreadyExists      the version is already stored with other bytes
//   kDataLoss           authentication failed (tampered ciphertext or wrapped
//                       key) or an undecodable entry; nothing is returned
//   kPermissionDenied   the master key does not open this vault
//   kUnavailable        disk I/O failed; retry
// Messages name record ids and versions only, never content.
//
// Thread safety: a Vault may be used from many threads at once. Writes (Put,
// PutBatch, EnsurePatient, Erase*, ReapplyErasures, RotateMasterKey) are
// serialized among themselves. Reads (Get, Versions, IsErased) never wait for
// writers: each reads one RocksDB snapshot with the master key that goes with
// it, so it sees every write batch whole or not at all (a version is there
// with its key, or erased, never half-erased). Compact() runs beside both.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/bytes.h"
#include "common/status.h"
#include "crypto/aead.h"

namespace rocksdb {
class FileSystem;
}

namespace medledger::vault {

// The seam through which the vault obtains its master key.
class MasterKeyProvider {
 public:
  virtual ~MasterKeyProvider() = default;
  // Returns the master key. kPermissionDenied for a wrong passphrase,
  // kDataLoss for a damaged key store. The caller wipes the returned key.
  virtual Result<crypto::AeadKey> Load() = 0;
  // The file that holds the key, if any; Vault::Open refuses a key file inside
  // the vault directory (the key would travel with every copy of the data).
  virtual std::string KeyFilePath() const { return {}; }
};

// The default provider: a key file outside the vault directory (for example
// DATA_DIR/keys/vault-master.key), created with mode 0600 in a 0700 directory.
// With a passphrase the file holds the master key sealed under a key derived
// by Argon2id (crypto/kdf.h); without one it holds the key itself
// (development only: anyone who can read the file can read the vault).
// Files readable by group or others are refused, as ssh does.
class FileMasterKeyProvider : public MasterKeyProvider {
 public:
  struct Options {
    std::string passphrase;  // empty: unprotected key file
    bool create_if_missing = false;
    // Argon2id cost for new files; existing files carry their own. The
    // defaults are libsodium's MODERATE (about 0.5 s, 256 MiB).
    uint64_t kdf_ops = 3;
    size_t kdf_mem_bytes = size_t(256) << 20;
  };
  FileMasterKeyProvider(std::string path, Options opts);
  ~FileMasterKeyProvider() override;
  // Options.passphrase from the environment variable MEDLEDGER_VAULT_PASSPHRASE
  // (empty when unset).
  static std::unique_ptr<FileMasterKeyProvider> FromEnv(std::string path,
                                                        bool create_if_missing);

  Result<crypto::AeadKey> Load() override;
  std::string KeyFilePath() const override { return path_; }

  // Writes a new random master key to `path` under `opts`. kAlreadyExists if
  // the file exists (rotation writes a new file; it never overwrites).
  static Status Create(const std::string& path, const Options& opts);

 private:
  std::string path_;
  Options opts_;
};

struct VaultOptions {
  // Sync every write to disk before it returns.
  bool sync = true;
  bool create_if_missing = true;
  // Erase and ErasePatient run Compact() before returning, so the erased keys
  // are physically gone when they return. Turn off to erase many records and
  // call Compact() once.
  bool compact_after_erase = true;
  // Tests only: every file of the vault goes through this file system (a
  // fault-injecting one, tests/power_loss_test.cc). Null: the real disk.
  std::shared_ptr<rocksdb::FileSystem> file_system;
};

struct RecordVersionId {
  std::string record_id;
  uint32_t version = 0;
};

struct PutItem {
  std::string patient_pseudonym;
  RecordVersionId id;
  std::string plain;
};

// A fresh random record id: 32 lower-case hex characters.
std::string NewRecordId();

class Vault {
 public:
  // Opens (or creates) the vault in `dir`, created with mode 0700. The master
  // key is loaded once and kept in locked memory until the vault closes.
  // kPermissionDenied if the key does not open an existing vault;
  // kInvalidArgument if the provider's key file lies inside `dir`.
  static Result<std::unique_ptr<Vault>> Open(const std::string& dir,
                                             std::unique_ptr<MasterKeyProvider> mk,
                                             VaultOptions opts = {});
  ~Vault();
  Vault(const Vault&) = delete;
  Vault& operator=(const Vault&) = delete;

  // Creates the patient key if absent. kGone if the patient was erased: an
  // erased pseudonym is never reused; mint a new one.
  Status EnsurePatient(std::string_view patient_pseudonym);

  // Stores one version (creating the patient key if absent) and returns the
  // SHA-256 of `plain`, the hash anchored on chain. Storing the same bytes
  // again is a no-op that returns the same hash, so a node may retry a write
  // whose outcome it did not see. kInvalidArgument if the record already
  // belongs to another patient; kGone if the record or patient was erased.
  Result<Hash32> Put(std::string_view patient_pseudonym, const RecordVersionId& id,
                     std::string_view plain);
  // Stores all items or none, in one synced RocksDB write batch (a FHIR
  // transaction bundle). Returns the hashes in item order.
  Result<std::vector<Hash32>> PutBatch(const std::vector<PutItem>& items);

  // The bytes exactly as stored.
  Result<std::string> Get(const RecordVersionId& id) const;
  // The stored versions of a record, ascending; empty if none or erased.
  Result<std::vector<uint32_t>> Versions(std::string_view record_id) const;
  Result<bool> IsErased(std::string_view record_id) const;

  // Crypto-shredding of every version of a record: deletes the wrapped record
  // keys and the ciphertexts and writes a tombstone (record id only), all in
  // one synced batch; then Compact() if VaultOptions.compact_after_erase.
  // Idempotent; erasing an id never stored here still leaves a tombstone, so
  // later Puts of that id are refused.
  Status Erase(std::string_view record_id);
  // Deletes the patient key and, through the patient's index, every record of
  // that patient as Erase does. Idempotent.
  Status ErasePatient(std::string_view patient_pseudonym);
  // After a restore from backup: applies again the erasures recorded on chain
  // (a backup taken before an erasure still holds the keys), then Compact().
  // The node calls this before it serves.
  Status ReapplyErasures(const std::vector<std::string>& record_ids,
                         const std::vector<std::string>& patient_pseudonyms = {});

  // Flushes the memtable, rewrites every SST file (bottommost level forced)
  // and deletes obsolete SST, WAL and info-log files, so that deleted entries
  // no longer exist in any file of the vault directory. Cost grows with the
  // vault's size.
  Status Compact();

  // Rewraps every patient key under the key from `next`, in one synced batch,
  // then Compact() so no entry wrapped by the old key is left on disk. `next`
  // must already store its key durably (see docs/VAULT.md, rotation).
  Status RotateMasterKey(std::unique_ptr<MasterKeyProvider> next);

  struct Impl;

 private:
  explicit Vault(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace medledger::vault
