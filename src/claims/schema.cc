#include "claims/schema.h"

#include <algorithm>

#include "state/module.h"

namespace medledger::claims {

using nlohmann::json;

std::string CoverageKey(std::string_view id) { return "clm/cov/" + std::string(id); }
std::string ClaimKey(std::string_view tx) { return "clm/claim/" + std::string(tx); }
std::string BusinessKey(std::string_view k) { return "clm/key/" + std::string(k); }
std::string DuplicateKey(std::string_view h) { return "clm/dup/" + std::string(h); }
std::string RestrictedPatientKey(std::string_view provider, std::string_view pseudonym) {
  return "clm/rxp/" + std::string(provider) + "/" + std::string(pseudonym);
}
std::string PaymentKey(std::string_view id) { return "clm/pay/" + std::string(id); }
std::string RestrictionKey(std::string_view record_id, std::string_view insurer) {
  return "clm/rx/" + std::string(record_id) + "/" + std::string(insurer);
}

json Coverage::ToJson() const {
  return json{{"insurer", insurer},
              {"provider", provider},
              {"patient", patient},
              {"plan", plan},
              {"policy", policy},
              {"period_days", period_days},
              {"cancelled_from_day", cancelled_from_day ? json(*cancelled_from_day) : json()},
              {"height", int64_t(height)},
              {"tx", tx}};
}

std::optional<Coverage> LoadCoverage(const state::StateReader& st, std::string_view id) {
  auto d = state::LoadDoc(st, CoverageKey(id));
  if (!d) return std::nullopt;
  Coverage c;
  c.id = std::string(id);
  c.insurer = d->value("insurer", "");
  c.provider = d->value("provider", "");
  c.patient = d->value("patient", "");
  c.plan = d->value("plan", "");
  c.policy = d->value("policy", "");
  c.tx = d->value("tx", "");
  c.period_days = d->value("period_days", int64_t(0));
  if (auto it = d->find("cancelled_from_day"); it != d->end() && it->is_number_integer())
    c.cancelled_from_day = it->get<int64_t>();
  c.height = uint64_t(d->value("height", int64_t(0)));
  return c;
}

int64_t ClaimRecord::Benefit() const {
  int64_t sum = 0;
  for (const auto& it : items)
    for (const auto& [cat, amount] : it.adjudication)
      if (cat == "benefit") sum += amount;
  return sum;
}

json ClaimRecord::ToJson(bool with_request) const {
  json items_j = json::array();
  for (const auto& it : items) {
    json adj = json::object();
    for (const auto& [cat, amount] : it.adjudication) adj[cat] = amount;
    json i{{"sequence", it.sequence}, {"adjudication", adj}, {"reasons", it.reasons}};
    if (!it.duplicate_of.empty()) i["duplicate_of"] = it.duplicate_of;
    items_j.push_back(std::move(i));
  }
  json errors_j = json::array();
  for (const auto& e : errors) errors_j.push_back({{"code", e.code}, {"message", e.message}});
  json j{{"provider", provider},   {"patient", patient},     {"coverage", coverage},
         {"insurer", insurer},     {"policy", policy},       {"use", use},
         {"currency", currency},   {"claim_key", claim_key}, {"content", content},
         {"record", {{"id", record_id}, {"version", record_version}}},
         {"status", status},       {"outcome", outcome},     {"errors", errors_j},
         {"items", items_j},       {"dups", dups},           {"disposition", disposition},
         {"paid", paid},           {"policy_version", int64_t(policy_version)},
         {"gas_used", int64_t(gas_used)}, {"height", int64_t(height)}, {"at_ms", int64_t(at_ms)},
         {"request", with_request ? request : json()}};
  if (!replaces.empty()) j["replaces"] = replaces;
  if (!replaced_by.empty()) j["replaced_by"] = replaced_by;
  if (!void_task.empty()) j["void_task"] = void_task;
  if (!pre_auth_ref.empty()) j["pre_auth_ref"] = pre_auth_ref;
  return j;
}

ClaimRecord ClaimRecord::FromJson(const std::string& tx, const json& d) {
  ClaimRecord c;
  c.tx = tx;
  auto s = [&](const char* k) { return d.value(k, std::string()); };
  c.provider = s("provider");
  c.patient = s("patient");
  c.coverage = s("coverage");
  c.insurer = s("insurer");
  c.policy = s("policy");
  c.use = s("use");
  c.currency = s("currency");
  c.claim_key = s("claim_key");
  c.content = s("content");
  c.status = s("status");
  c.outcome = s("outcome");
  c.replaces = s("replaces");
  c.replaced_by = s("replaced_by");
  c.void_task = s("void_task");
  c.disposition = s("disposition");
  c.pre_auth_ref = s("pre_auth_ref");
  if (auto r = d.find("record"); r != d.end() && r->is_object()) {
    c.record_id = r->value("id", "");
    c.record_version = r->value("version", int64_t(0));
  }
  for (const auto& e : d.value("errors", json::array())) c.errors.push_back({e.value("code", ""), e.value("message", "")});
  for (const auto& i : d.value("items", json::array())) {
    ItemDecision it;
    it.sequence = i.value("sequence", int64_t(0));
    const json adj = i.value("adjudication", json::object());  // kept alive for the loop
    for (const auto& [cat, amount] : adj.items()) it.adjudication.emplace_back(cat, amount.get<int64_t>());
    it.reasons = i.value("reasons", std::vector<std::string>());
    it.duplicate_of = i.value("duplicate_of", "");
    c.items.push_back(std::move(it));
  }
  c.dups = d.value("dups", std::vector<std::string>());
  c.paid = d.value("paid", int64_t(0));
  c.policy_version = uint64_t(d.value("policy_version", int64_t(0)));
  c.gas_used = uint64_t(d.value("gas_used", int64_t(0)));
  c.height = uint64_t(d.value("height", int64_t(0)));
  c.at_ms = uint64_t(d.value("at_ms", int64_t(0)));
  c.request = d.value("request", json());
  return c;
}

std::optional<ClaimRecord> LoadClaim(const state::StateReader& st, std::string_view tx_hex) {
  auto d = state::LoadDoc(st, ClaimKey(tx_hex));
  if (!d) return std::nullopt;
  return ClaimRecord::FromJson(std::string(tx_hex), *d);
}

std::optional<std::string> ClaimByBusinessKey(const state::StateReader& st, std::string_view claim_key) {
  auto d = state::LoadDoc(st, BusinessKey(claim_key));
  if (!d) return std::nullopt;
  return d->value("tx", std::string());
}

bool IsRepeatModifier(std::string_view m) {
  static constexpr std::string_view kRepeat[] = {"59", "76", "77", "91", "XE", "XP", "XS", "XU"};
  return std::find(std::begin(kRepeat), std::end(kRepeat), m) != std::end(kRepeat);
}

bool IsErrorCode(std::string_view c) {
  return std::find(std::begin(kErrorCodes), std::end(kErrorCodes), c) != std::end(kErrorCodes);
}

}  // namespace medledger::claims
