#include "records/schema.h"

#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "model/tx_types.h"

namespace medledger::records {

using model::Reject;
using model::Verdict;


bool IsSensitiveLabel(std::string_view s) {
  return std::find(std::begin(kSensitiveLabels), std::end(kSensitiveLabels), s) != std::end(kSensitiveLabels);
}
bool IsGrantablePurpose(std::string_view s) {
  return std::find(std::begin(kGrantablePurposes), std::end(kGrantablePurposes), s) != std::end(kGrantablePurposes);
}
bool IsPurpose(std::string_view s) { return IsGrantablePurpose(s) || s == kBreakGlassPurpose; }


bool IsResourceType(std::string_view s) {
  if (s.empty() || s.size() > 64 || !(s[0] >= 'A' && s[0] <= 'Z')) return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); });
}






std::optional<int64_t> OptionalInt(const nlohmann::json& p, const char* name) {
  auto it = p.find(name);
  if (it == p.end() || it->is_null()) return std::nullopt;
  return state::RequireInt(p, name);
}

std::optional<bool> OptionalBool(const nlohmann::json& p, const char* name) {
  auto it = p.find(name);
  if (it == p.end() || it->is_null()) return std::nullopt;
  if (!it->is_boolean()) BadPayload(std::string("payload field '") + name + "' must be a boolean");
  return it->get<bool>();
}

std::vector<std::string> RequireStringSet(const nlohmann::json& p, const char* name, bool allow_empty,
                                          bool (*valid)(std::string_view), size_t max_items) {
  auto it = p.find(name);
  if (it == p.end() || !it->is_array() || (!allow_empty && it->empty()) || it->size() > max_items)
    BadPayload(std::string("payload field '") + name + "' must be an array of 1 to " + std::to_string(max_items) +
               " strings");
  std::vector<std::string> out;
  for (const auto& v : *it) {
    if (!v.is_string() || !valid(v.get_ref<const std::string&>()))
      BadPayload(std::string("payload field '") + name + "' has an invalid entry");
    out.push_back(v.get<std::string>());
  }
  std::sort(out.begin(), out.end());
  if (std::adjacent_find(out.begin(), out.end()) != out.end())
    BadPayload(std::string("payload field '") + name + "' has a duplicate entry");
  return out;
}

std::vector<std::string> OptionalStringSet(const nlohmann::json& p, const char* name,
                                           bool (*valid)(std::string_view), size_t max_items) {
  auto it = p.find(name);
  if (it == p.end() || it->is_null()) return {};
  return RequireStringSet(p, name, true, valid, max_items);
}



namespace {
std::string Join(std::initializer_list<std::string_view> parts) {
  std::string out;
  for (auto p : parts) {
    if (!out.empty()) out += '/';
    out += p;
  }
  return out;
}
}  // namespace

std::string RecordHeadKey(std::string_view r) { return Join({"rech", r}); }
std::string RecordVersionKey(std::string_view r, int64_t v) { return Join({"recv", r, Pad(uint64_t(v), 10)}); }
std::string PatientRecordKey(std::string_view org, std::string_view ps, std::string_view r) {
  return Join({"prec", org, ps, r});
}
std::string BindingKey(std::string_view org, std::string_view ps) { return Join({"pat", org, ps}); }
std::string PatientIndexKey(std::string_view pid, std::string_view org, std::string_view ps) {
  return Join({"patk", pid, org, ps});
}
std::string ConsentKey(std::string_view c) { return Join({"con", c}); }
std::string PatientConsentKey(std::string_view pid, std::string_view c) { return Join({"conp", pid, c}); }
std::string RepresentativeKey(std::string_view pid, std::string_view rep) { return Join({"rep", pid, rep}); }
std::string AccessEventIdKey(std::string_view e) { return Join({"acce", e}); }
std::string AccessSeqKey(std::string_view org, std::string_view ps) { return Join({"accn", org, ps}); }
std::string AccessEventKey(std::string_view org, std::string_view ps, uint64_t seq) {
  return Join({"acc", org, ps, Pad(seq)});
}
std::string RecordAccessorKey(std::string_view r, std::string_view a) { return Join({"accr", r, a}); }
std::string DisclosureIdKey(std::string_view d) { return Join({"disi", d}); }
std::string DisclosureKey(std::string_view org, std::string_view ps, int64_t at_ms, std::string_view d) {
  return Join({"dis", org, ps, Pad(uint64_t(at_ms)), d});
}
std::string SuspensionKey(std::string_view pid, std::string_view s) { return Join({"susp", pid, s}); }
std::string ErasureRequestKey(std::string_view r) { return Join({"erq", r}); }
std::string PendingErasureKey(std::string_view org, std::string_view r) { return Join({"erp", org, r}); }
std::string ErasedKey(std::string_view r) { return Join({"erased", r}); }
std::string LegalHoldKey(std::string_view r) { return Join({"hold", r}); }
std::string PaymentReadKey(std::string_view r, std::string_view org) { return Join({"payr", r, org}); }
std::string PaymentReadPrefix(std::string_view r) { return Join({"payr", r}) + "/"; }

std::optional<crypto::PublicKey> BoundPatient(const state::StateReader& st, std::string_view org,
                                              std::string_view pseudonym) {
  auto doc = LoadDoc(st, BindingKey(org, pseudonym));
  if (!doc) return std::nullopt;
  auto pk = crypto::ParsePublicId(doc->value("patient_key", ""));
  if (!pk.ok()) return std::nullopt;
  return *pk;
}

bool BoundElsewhere(const state::StateReader& st, const crypto::PublicKey& patient, std::string_view org) {
  const std::string prefix = "patk/" + crypto::PublicId(patient) + "/";
  const std::string own = prefix + std::string(org) + "/";
  bool elsewhere = false;
  // Keys sort by org, and the rule keeps them to one org: the first key
  // decides, whatever the number of pseudonyms.
  st.Scan(prefix, [&](std::string_view key, const Bytes&) {
    elsewhere = !key.starts_with(own);
    return false;
  });
  return elsewhere;
}

bool IsActiveRepresentative(const state::StateReader& st, const crypto::PublicKey& patient,
                            const crypto::PublicKey& rep, int64_t now_ms) {
  auto doc = LoadDoc(st, RepresentativeKey(crypto::PublicId(patient), crypto::PublicId(rep)));
  if (!doc) return false;
  auto until = doc->find("until_ms");
  if (until != doc->end() && until->is_number_integer() && now_ms >= until->get<int64_t>()) return false;
  return true;
}

Verdict ResolveActingPatient(const state::TxContext& ctx, crypto::PublicKey* patient) {
  *patient = ctx.tx.signer;
  if (ctx.payload.contains("patient") && !ctx.payload["patient"].is_null())
    *patient = state::RequireKey(ctx.payload, "patient");
  auto id = state::LoadIdentity(ctx.state, *patient);
  if (!id || !id->Has(model::kRolePatient)) return Verdict::No(Reject::kNotFound, "patient is not a registered patient identity");
  if (*patient == ctx.tx.signer) return Verdict::Accept();
  if (!ctx.signer.Has(model::kRoleRepresentative) ||
      !IsActiveRepresentative(ctx.state, *patient, ctx.tx.signer, int64_t(ctx.timestamp_ms)))
    return Verdict::No(Reject::kRoleNotPermitted, "signer is neither the patient nor its active representative");
  return Verdict::Accept();
}

}  // namespace medledger::records
