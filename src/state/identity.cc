#include "state/identity.h"

#include <nlohmann/json.hpp>

#include "model/tx_types.h"
#include "model/value.h"

namespace medledger::state {

using model::Reject;
using model::Verdict;

uint32_t RequireRoles(const nlohmann::json& p, const char* name) {
  auto it = p.find(name);
  if (it == p.end() || !it->is_array() || it->empty())
    throw PayloadError{Verdict::No(Reject::kInvalidPayload, std::string("'") + name + "' must be a non-empty array of roles")};
  uint32_t mask = 0;
  for (const auto& r : *it) {
    auto role = r.is_string() ? model::ParseRole(r.get<std::string>()) : std::nullopt;
    if (!role) throw PayloadError{Verdict::No(Reject::kInvalidPayload, "unknown role in '" + std::string(name) + "'")};
    mask |= *role;
  }
  return mask;
}

bool IdentityModule::Handles(uint16_t type) const {
  return type == model::tx::kIdentityRegister || type == model::tx::kIdentityRevoke ||
         type == model::tx::kIdentityRotate || type == model::tx::kIdentitySetRoles;
}

namespace {
bool IsAdminOf(const IdentityRecord& signer, const std::string& org) {
  return signer.Has(model::kRoleOrgAdmin) && signer.org == org;
}
}  // namespace

Verdict IdentityModule::Apply(TxContext& ctx) {
  const auto& p = ctx.payload;
  switch (ctx.tx.type) {
    case model::tx::kIdentityRegister: {
      crypto::PublicKey key = RequireKey(p, "pubkey");
      uint32_t roles = RequireRoles(p, "roles");
      std::string org = OptionalString(p, "org", 64).value_or(ctx.signer.org);
      if (!IsAdminOf(ctx.signer, org))
        return Verdict::No(Reject::kRoleNotPermitted, "only an admin of organisation '" + org + "' may register its keys");
      if ((roles & model::kRoleMember) && !ctx.signer.Has(model::kRoleMember))
        return Verdict::No(Reject::kRoleNotPermitted, "the member role is granted by governance");
      auto o = LoadOrg(ctx.state, org);
      if (!o || !o->active) return Verdict::No(Reject::kNotFound, "organisation '" + org + "' is not an active member");
      if (LoadIdentity(ctx.state, key)) return Verdict::No(Reject::kConflict, "key is already registered");
      IdentityRecord rec;
      rec.key = key;
      rec.org = org;
      rec.roles = roles;
      rec.registered_at = ctx.height;
      rec.label = OptionalString(p, "label", 64).value_or("");
      StoreIdentity(ctx.state, rec);
      return Verdict::Accept();
    }
    case model::tx::kIdentityRevoke: {
      crypto::PublicKey key = RequireKey(p, "pubkey");
      auto rec = LoadIdentity(ctx.state, key);
      if (!rec) return Verdict::No(Reject::kNotFound, "key is not registered");
      if (key != ctx.signer.key && !IsAdminOf(ctx.signer, rec->org))
        return Verdict::No(Reject::kRoleNotPermitted, "only the key itself or an admin of its organisation may revoke it");
      if (!rec->active()) return Verdict::No(Reject::kConflict, "key is already revoked");
      rec->status = KeyStatus::kRevoked;
      rec->revoked_at = ctx.height;
      StoreIdentity(ctx.state, *rec);
      return Verdict::Accept();
    }
    case model::tx::kIdentityRotate: {
      crypto::PublicKey next = RequireKey(p, "new_pubkey");
      if (LoadIdentity(ctx.state, next)) return Verdict::No(Reject::kConflict, "new key is already registered");
      IdentityRecord old = ctx.signer;
      IdentityRecord rec = old;
      rec.key = next;
      rec.registered_at = ctx.height;
      rec.successor.clear();
      old.status = KeyStatus::kRotated;
      old.revoked_at = ctx.height;
      old.successor = crypto::PublicId(next);
      StoreIdentity(ctx.state, old);
      StoreIdentity(ctx.state, rec);
      return Verdict::Accept();
    }
    case model::tx::kIdentitySetRoles: {
      crypto::PublicKey key = RequireKey(p, "pubkey");
      uint32_t roles = RequireRoles(p, "roles");
      auto rec = LoadIdentity(ctx.state, key);
      if (!rec) return Verdict::No(Reject::kNotFound, "key is not registered");
      if (!IsAdminOf(ctx.signer, rec->org))
        return Verdict::No(Reject::kRoleNotPermitted, "only an admin of the key's organisation may change its roles");
      if ((roles & model::kRoleMember) && !(rec->roles & model::kRoleMember) && !ctx.signer.Has(model::kRoleMember))
        return Verdict::No(Reject::kRoleNotPermitted, "the member role is granted by governance");
      if (!rec->active()) return Verdict::No(Reject::kConflict, "key is revoked");
      rec->roles = roles;
      StoreIdentity(ctx.state, *rec);
      return Verdict::Accept();
    }
  }
  return Verdict::No(Reject::kUnknownType, "not an identity transaction");
}

bool AnchorModule::Handles(uint16_t type) const { return type == model::tx::kAnchorPut; }

namespace {

// The one place an anchor is written, for both paths.
Verdict PutAnchor(TxContext& ctx, const Hash32& h, std::string_view tag) {
  std::string key = "anchor/" + ToHex(h);
  if (ctx.Get(key)) return Verdict::No(Reject::kConflict, "hash already anchored");
  // Written field by field (keys in canonical order) rather than through a
  // json tree: anchors are most of a busy chain. The bytes are those of
  // EncodeState({height, signer, tag, tx}); state_test pins that.
  Bytes rec;
  rec.reserve(192 + tag.size());
  model::ObjectWriter(&rec, 4)
      .Int("height", int64_t(ctx.height))
      .Hex("signer", ctx.tx.signer.data(), ctx.tx.signer.size())
      .String("tag", tag)
      .Hex("tx", ctx.tx_id.data(), ctx.tx_id.size());
  ctx.Put(std::move(key), std::move(rec));
  return Verdict::Accept();
}

constexpr size_t kMaxAnchorTag = 128;

}  // namespace

Verdict AnchorModule::Apply(TxContext& ctx) {
  Hash32 h = RequireHash(ctx.payload, "hash");
  std::string tag = OptionalString(ctx.payload, "tag", kMaxAnchorTag).value_or("");
  return PutAnchor(ctx, h, tag);
}

std::optional<Verdict> AnchorModule::ApplyCanonical(TxContext& ctx) {
  // Takes only what Apply accepts the same way; anything else (a null tag,
  // extra fields, a bad hash) goes to Apply for its verdict and message.
  thread_local std::vector<std::pair<std::string_view, std::string_view>> fields;
  if (!model::ReadStringObject(ctx.tx.payload, 2, &fields) || fields.empty() || fields[0].first != "hash")
    return std::nullopt;
  std::string_view tag;
  if (fields.size() == 2) {
    if (fields[1].first != "tag" || fields[1].second.size() > kMaxAnchorTag) return std::nullopt;
    tag = fields[1].second;
  }
  auto h = FromHexFixed<32>(fields[0].second);
  if (!h.ok()) return std::nullopt;
  return PutAnchor(ctx, *h, tag);
}

}  // namespace medledger::state
