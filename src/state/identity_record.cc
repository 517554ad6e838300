#include "state/identity_record.h"

#include <nlohmann/json.hpp>

#include "model/tx_types.h"
#include "state/module.h"

namespace medledger::state {

nlohmann::json IdentityRecord::ToJson() const {
  nlohmann::json j = {{"key", crypto::PublicId(key)},
                      {"org", org},
                      {"roles", int64_t(roles)},
                      {"status", int64_t(status)},
                      {"registered_at", int64_t(registered_at)},
                      {"revoked_at", int64_t(revoked_at)}};
  if (!successor.empty()) j["successor"] = successor;
  if (!label.empty()) j["label"] = label;
  return j;
}

std::optional<IdentityRecord> IdentityRecord::FromJson(const nlohmann::json& j) {
  try {
    IdentityRecord r;
    auto pk = crypto::ParsePublicId(j.at("key").get<std::string>());
    if (!pk.ok()) return std::nullopt;
    r.key = *pk;
    r.org = j.at("org").get<std::string>();
    r.roles = uint32_t(j.at("roles").get<int64_t>());
    r.status = KeyStatus(j.at("status").get<int64_t>());
    r.registered_at = uint64_t(j.at("registered_at").get<int64_t>());
    r.revoked_at = uint64_t(j.at("revoked_at").get<int64_t>());
    r.successor = j.value("successor", "");
    r.label = j.value("label", "");
    return r;
  } catch (const nlohmann::json::exception&) {
    return std::nullopt;
  }
}

std::string IdentityKey(const crypto::PublicKey& pk) { return "id/" + crypto::PublicId(pk); }

std::optional<IdentityRecord> LoadIdentity(const StateReader& st, const crypto::PublicKey& pk) {
  auto j = DecodeState(st.Get(IdentityKey(pk)));
  if (!j) return std::nullopt;
  return IdentityRecord::FromJson(*j);
}

void StoreIdentity(Overlay& st, const IdentityRecord& rec) {
  st.Put(IdentityKey(rec.key), EncodeState(rec.ToJson()));
}

nlohmann::json OrgRecord::ToJson() const {
  return {{"id", id}, {"name", name}, {"active", active}, {"since", int64_t(since)}};
}

std::optional<OrgRecord> LoadOrg(const StateReader& st, std::string_view id) {
  auto j = DecodeState(st.Get("org/" + std::string(id)));
  if (!j) return std::nullopt;
  OrgRecord r;
  r.id = j->value("id", "");
  r.name = j->value("name", "");
  r.active = j->value("active", false);
  r.since = uint64_t(j->value("since", int64_t(0)));
  return r;
}

void StoreOrg(Overlay& st, const OrgRecord& rec) { st.Put("org/" + rec.id, EncodeState(rec.ToJson())); }

}  // namespace medledger::state
