#include "state/genesis.h"

#include <nlohmann/json.hpp>

#include "crypto/sha256.h"
#include "model/tx_types.h"
#include "model/value.h"
#include "state/identity.h"
#include "state/module.h"
#include "state/state_root.h"

namespace medledger::state {

namespace {
uint32_t RolesOf(const nlohmann::json& arr, uint32_t dflt) {
  if (arr.is_null()) return dflt;
  if (arr.is_string() && arr.get<std::string>() == "all") return model::kAllRoles;
  return RequireRoles(nlohmann::json{{"r", arr}}, "r");
}
}  // namespace

Result<Genesis> BuildGenesis(const nlohmann::json& doc) {
  Genesis g;
  if (!doc.is_object()) return InvalidArgument("genesis must be a JSON object");
  auto canonical = model::EncodeValue(doc);
  if (!canonical.ok()) return InvalidArgument("genesis: " + canonical.status().message());
  g.canonical = std::move(*canonical);

  nlohmann::json pj = {{"chain_id", doc.value("chain_id", "")},
                       {"governance_threshold", doc.value("governance_threshold", int64_t(1))}};
  if (doc.contains("block")) {
    const auto& b = doc["block"];
    if (!b.is_object()) return InvalidArgument("genesis: block must be an object");
    if (b.contains("max_txs")) pj["max_txs_per_block"] = b["max_txs"];
    if (b.contains("interval_ms")) pj["block_interval_ms"] = b["interval_ms"];
    if (b.contains("max_expiry_window")) pj["max_expiry_window"] = b["max_expiry_window"];
  }
  if (doc.contains("contracts")) {
    const auto& c = doc["contracts"];
    if (!c.is_object() || !c.contains("lua_release") || !c["lua_release"].is_number_integer() ||
        c["lua_release"].get<int64_t>() <= 0 || c["lua_release"].get<int64_t>() > 10'000'000)
      return InvalidArgument("genesis: contracts must be {\"lua_release\": LUA_VERSION_RELEASE_NUM}");
    pj["lua_release"] = c["lua_release"];
  }
  ML_ASSIGN_OR_RETURN(g.params, ChainParams::FromJson(pj));

  MemState empty;
  Overlay st(&empty);
  st.Put(kParamsKey, EncodeState(g.params.ToJson()));
  try {
    if (!doc.contains("organisations") || !doc["organisations"].is_array() || doc["organisations"].empty())
      return InvalidArgument("genesis: at least one organisation is required");
    uint64_t orgs = 0;
    for (const auto& o : doc["organisations"]) {
      OrgRecord org;
      org.id = o.at("id").get<std::string>();
      org.name = o.value("name", org.id);
      if (org.id.empty() || org.id.size() > 64) return InvalidArgument("genesis: organisation id must be 1..64 bytes");
      if (LoadOrg(st, org.id)) return InvalidArgument("genesis: duplicate organisation " + org.id);
      StoreOrg(st, org);
      orgs++;
      auto add_key = [&](const std::string& id, uint32_t roles, const std::string& label) -> Status {
        auto pk = crypto::ParsePublicId(id);
        if (!pk.ok()) return InvalidArgument("genesis: bad public id in organisation " + org.id);
        if (LoadIdentity(st, *pk)) return InvalidArgument("genesis: key listed twice");
        IdentityRecord rec;
        rec.key = *pk;
        rec.org = org.id;
        rec.roles = roles;
        rec.label = label;
        StoreIdentity(st, rec);
        return Status::Ok();
      };
      ML_RETURN_IF_ERROR(add_key(o.at("admin").get<std::string>(),
                                 RolesOf(o.value("admin_roles", nlohmann::json()), model::kRoleMember | model::kRoleOrgAdmin),
                                 "admin"));
      for (const auto& n : o.value("nodes", nlohmann::json::array()))
        ML_RETURN_IF_ERROR(add_key(n.get<std::string>(), model::kRoleNode, "node"));
    }
    if (g.params.governance_threshold > orgs)
      return InvalidArgument("genesis: governance_threshold exceeds the number of organisations");
    for (const auto& i : doc.value("identities", nlohmann::json::array())) {
      auto pk = crypto::ParsePublicId(i.at("key").get<std::string>());
      if (!pk.ok()) return InvalidArgument("genesis: bad identity key");
      std::string org = i.at("org").get<std::string>();
      if (!LoadOrg(st, org)) return InvalidArgument("genesis: identity names unknown organisation " + org);
      if (LoadIdentity(st, *pk)) return InvalidArgument("genesis: key listed twice");
      IdentityRecord rec;
      rec.key = *pk;
      rec.org = org;
      rec.roles = RolesOf(i.at("roles"), 0);
      rec.label = i.value("label", "");
      StoreIdentity(st, rec);
    }
  } catch (const nlohmann::json::exception& e) {
    return InvalidArgument(std::string("genesis: ") + e.what());
  } catch (const PayloadError& e) {
    return InvalidArgument("genesis: " + e.verdict.detail);
  }
  g.writes = st.TakeWrites();

  model::Block& b = g.block;
  b.header.height = 0;
  b.header.prev_hash = crypto::Sha256(g.canonical);
  b.header.timestamp_ms = uint64_t(doc.value("timestamp_ms", int64_t(0)));
  b.header.state_root = NextStateRoot(Hash32{}, 0, g.writes);
  b.Seal();
  return g;
}

nlohmann::json DevGenesisDoc(const std::string& chain_id, const crypto::PublicKey& admin,
                             const crypto::PublicKey& node, uint64_t timestamp_ms) {
  return {{"chain_id", chain_id},
          {"timestamp_ms", int64_t(timestamp_ms)},
          {"governance_threshold", 1},
          {"block", {{"max_txs", 5000}, {"interval_ms", 20}, {"max_expiry_window", 10000}}},
          {"organisations",
           nlohmann::json::array({{{"id", "dev"},
                                   {"name", "Development organisation"},
                                   {"admin", crypto::PublicId(admin)},
                                   {"admin_roles", "all"},
                                   {"nodes", nlohmann::json::array({crypto::PublicId(node)})}}})}};
}

}  // namespace medledger::state
