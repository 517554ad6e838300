// The identity and role registry, the first state-machine module.
//
// Rules (docs/ARCHITECTURE.md has the full table):
// - identity.register {pubkey, roles[], org, label?}: an org admin registers a
//   key for its own organisation. Granting "member" takes governance; a key
//   that was ever registered cannot be registered again.
// - identity.revoke {pubkey, reason?}: the key itself, or an admin of its org.
//   Transactions the key signed before stay valid; later ones are rejected.
// - identity.rotate {new_pubkey}: signed by the old key; the new key takes
//   over org and roles, the old one is marked rotated.
// - identity.set_roles {pubkey, roles[]}: an admin of the key's org.
// - anchor.put {hash, tag}: any member identity anchors a document hash.
#pragma once

#include "state/module.h"

namespace medledger::state {

class IdentityModule : public Module {
 public:
  const char* name() const override { return "identity"; }
  bool Handles(uint16_t type) const override;
  model::Verdict Apply(TxContext& ctx) override;
};

class AnchorModule : public Module {
 public:
  const char* name() const override { return "anchor"; }
  bool Handles(uint16_t type) const override;
  model::Verdict Apply(TxContext& ctx) override;
  // {hash} or {hash, tag} with string values: most of a busy chain.
  std::optional<model::Verdict> ApplyCanonical(TxContext& ctx) override;
  // anchor/<hash>: looked up by hash to refuse a second anchor, never listed.
  std::vector<std::string> PointKeyPrefixes() const override { return {"anchor/"}; }
};

// Parses ["practitioner","patient"] into role bits.
uint32_t RequireRoles(const nlohmann::json& p, const char* name);

}  // namespace medledger::state
