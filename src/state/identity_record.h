// Identity records in state: key "id/<public id>".
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>

#include "crypto/ed25519.h"
#include "state/state_view.h"

namespace medledger::state {

enum class KeyStatus { kActive = 0, kRevoked = 1, kRotated = 2 };

struct IdentityRecord {
  crypto::PublicKey key{};
  std::string org;            // the organisation that registered it
  uint32_t roles = 0;         // model::Role bits
  KeyStatus status = KeyStatus::kActive;
  uint64_t registered_at = 0;
  uint64_t revoked_at = 0;    // height from which it is no longer valid
  std::string successor;      // public id of the rotated-to key
  std::string label;          // non-identifying label ("node", "admin", ...)

  bool active() const { return status == KeyStatus::kActive; }
  bool Has(uint32_t role_bits) const { return (roles & role_bits) != 0; }
  nlohmann::json ToJson() const;
  static std::optional<IdentityRecord> FromJson(const nlohmann::json& j);
};

std::string IdentityKey(const crypto::PublicKey& pk);
std::optional<IdentityRecord> LoadIdentity(const StateReader& st, const crypto::PublicKey& pk);
void StoreIdentity(class Overlay& st, const IdentityRecord& rec);

// Organisations: key "org/<id>".
struct OrgRecord {
  std::string id;
  std::string name;
  bool active = true;
  uint64_t since = 0;
  nlohmann::json ToJson() const;
};
std::optional<OrgRecord> LoadOrg(const StateReader& st, std::string_view id);
void StoreOrg(class Overlay& st, const OrgRecord& rec);

}  // namespace medledger::state
