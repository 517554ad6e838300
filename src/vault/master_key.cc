// FileMasterKeyProvider: the master key file (format in docs/VAULT.md).
// The Argon2id derivation itself is crypto/kdf.h.
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "crypto/kdf.h"
#include "crypto/keyfile.h"
#include "vault/vault.h"

namespace medledger::vault {
namespace {

constexpr const char* kFileType = "medledger-vault-master-key";
constexpr int kFileVersion = 1;
constexpr std::string_view kFileAd = "medledger/vault/v1/master-key-file";
// Limits on the cost an existing file may ask for, so a damaged or hostile
// file cannot make Load() allocate without bound.
constexpr uint64_t kMaxOps = 64;
constexpr uint64_t kMaxMem = uint64_t(4) << 30;

Result<crypto::AeadKey> DeriveKey(const std::string& passphrase, const Bytes& salt,
                                  uint64_t ops, uint64_t mem) {
  if (salt.size() != crypto::kKdfSaltBytes || ops < crypto::kKdfMinOps || ops > kMaxOps ||
      mem < crypto::kKdfMinMemBytes || mem > kMaxMem) {
    return DataLoss("vault: master key file has invalid key-derivation parameters");
  }
  auto k = crypto::DeriveKeyArgon2id(passphrase, salt, ops, mem);
  if (!k.ok() && k.status().code() == StatusCode::kResourceExhausted)
    return ResourceExhausted("vault: not enough memory to derive the master key wrapping key");
  return k;
}

}  // namespace

FileMasterKeyProvider::FileMasterKeyProvider(std::string path, Options opts)
    : path_(std::move(path)), opts_(std::move(opts)) {}

FileMasterKeyProvider::~FileMasterKeyProvider() {
  crypto::Wipe(opts_.passphrase.data(), opts_.passphrase.size());
}

std::unique_ptr<FileMasterKeyProvider> FileMasterKeyProvider::FromEnv(std::string path,
                                                                      bool create_if_missing) {
  Options o;
  if (const char* p = std::getenv("MEDLEDGER_VAULT_PASSPHRASE")) o.passphrase = p;
  o.create_if_missing = create_if_missing;
  return std::make_unique<FileMasterKeyProvider>(std::move(path), std::move(o));
}

Status FileMasterKeyProvider::Create(const std::string& path, const Options& opts) {
  std::error_code ec;
  if (std::filesystem::exists(path, ec)) {
    return AlreadyExists("vault: master key file " + path + " already exists");
  }
  std::filesystem::path parent = std::filesystem::path(path).parent_path();
  if (!parent.empty() && !std::filesystem::exists(parent, ec)) {
    std::filesystem::create_directories(parent, ec);
    if (ec) return Unavailable("vault: cannot create " + parent.string() + ": " + ec.message());
    std::filesystem::permissions(parent, std::filesystem::perms::owner_all, ec);
  }
  crypto::AeadKey master = crypto::RandomKey();
  nlohmann::json j;
  j["type"] = kFileType;
  j["version"] = kFileVersion;
  if (opts.passphrase.empty()) {
    j["kdf"] = "none";
    j["key"] = ToHex(master);
  } else {
    Bytes salt(crypto::kKdfSaltBytes);
    crypto::RandomBytes(salt.data(), salt.size());
    auto wrap = DeriveKey(opts.passphrase, salt, opts.kdf_ops, opts.kdf_mem_bytes);
    if (!wrap.ok()) {
      crypto::Wipe(master.data(), master.size());
      return wrap.status();
    }
    j["kdf"] = "argon2id13";
    j["ops"] = opts.kdf_ops;
    j["mem"] = uint64_t(opts.kdf_mem_bytes);
    j["salt"] = ToHex(salt);
    j["sealed"] = ToHex(crypto::Seal(*wrap, master.data(), master.size(), kFileAd));
    crypto::Wipe(wrap->data(), wrap->size());
  }
  crypto::Wipe(master.data(), master.size());
  std::string text = j.dump();
  if (j.contains("key")) {
    std::string& hex = j["key"].get_ref<std::string&>();
    crypto::Wipe(hex.data(), hex.size());
  }
  Status st = crypto::WriteFileAtomic(path, text + "\n", 0600);
  crypto::Wipe(text.data(), text.size());
  return st;
}

Result<crypto::AeadKey> FileMasterKeyProvider::Load() {
  struct stat sb;
  if (::stat(path_.c_str(), &sb) != 0) {
    if (errno != ENOENT) return Unavailable("vault: cannot stat master key file " + path_);
    if (!opts_.create_if_missing) return NotFound("vault: no master key file at " + path_);
    ML_RETURN_IF_ERROR(Create(path_, opts_));
    if (::stat(path_.c_str(), &sb) != 0) return Unavailable("vault: cannot stat " + path_);
  }
  if (sb.st_mode & 077) {
    return PermissionDenied("vault: master key file " + path_ +
                            " is readable by group or others; chmod 600 it");
  }
  ML_ASSIGN_OR_RETURN(std::string text, crypto::ReadFile(path_));
  nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  crypto::Wipe(text.data(), text.size());
  auto str = [&](const char* name) -> std::string {
    auto it = j.find(name);
    return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  if (!j.is_object() || str("type") != kFileType || !j.contains("version") ||
      !j["version"].is_number_integer() || j["version"].get<int>() != kFileVersion) {
    return DataLoss("vault: " + path_ + " is not a medledger vault master key file");
  }
  const std::string kdf = str("kdf");
  crypto::AeadKey key;
  if (kdf == "none") {
    if (!opts_.passphrase.empty()) {
      return FailedPrecondition("vault: a passphrase is set but master key file " + path_ +
                                " is not passphrase-protected");
    }
    std::string hex = str("key");
    auto k = FromHexFixed<32>(hex);
    crypto::Wipe(hex.data(), hex.size());
    if (j["key"].is_string()) {
      std::string& in_json = j["key"].get_ref<std::string&>();
      crypto::Wipe(in_json.data(), in_json.size());
    }
    if (!k.ok()) return DataLoss("vault: master key file " + path_ + " is damaged");
    key = *k;
  } else if (kdf == "argon2id13") {
    if (opts_.passphrase.empty()) {
      return PermissionDenied("vault: master key file " + path_ +
                              " needs a passphrase (MEDLEDGER_VAULT_PASSPHRASE)");
    }
    auto salt = FromHex(str("salt"));
    auto sealed = FromHex(str("sealed"));
    if (!salt.ok() || !sealed.ok() || !j.contains("ops") || !j["ops"].is_number_unsigned() ||
        !j.contains("mem") || !j["mem"].is_number_unsigned()) {
      return DataLoss("vault: master key file " + path_ + " is damaged");
    }
    ML_ASSIGN_OR_RETURN(crypto::AeadKey wrap,
                        DeriveKey(opts_.passphrase, *salt, j["ops"].get<uint64_t>(),
                                  j["mem"].get<uint64_t>()));
    auto plain = crypto::Open(wrap, *sealed, kFileAd);
    crypto::Wipe(wrap.data(), wrap.size());
    if (!plain.ok() || plain->size() != key.size()) {
      return PermissionDenied("vault: wrong passphrase for master key file " + path_ +
                              " (or the file was altered)");
    }
    std::copy(plain->begin(), plain->end(), key.begin());
    crypto::Wipe(plain->data(), plain->size());
  } else {
    return DataLoss("vault: master key file " + path_ + " names an unknown kdf");
  }
  return key;
}

}  // namespace medledger::vault
