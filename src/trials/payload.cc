#include "trials/payload.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>

#include "state/module.h"

namespace medledger::trials {

using nlohmann::json;
using state::BadPayload;

namespace {

// Printable text: no control characters (C0 or DEL); multi-byte UTF-8 is
// allowed (staff names), the JSON layer has checked its encoding.
bool Printable(std::string_view s) {
  return std::none_of(s.begin(), s.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return u < 0x20 || u == 0x7f;
  });
}

std::string RequireText(const json& p, const char* name, size_t max_len) {
  std::string s = state::RequireString(p, name, max_len);
  if (!Printable(s) || NormaliseName(s).empty())
    BadPayload(std::string("payload field '") + name + "' must be printable text");
  return s;
}

std::string OptionalText(const json& p, const char* name, size_t max_len) {
  auto s = state::OptionalString(p, name, max_len);
  if (!s) return "";
  if (!Printable(*s)) BadPayload(std::string("payload field '") + name + "' must be printable text");
  return *s;
}

bool IsHex64(std::string_view s) {
  return s.size() == 64 &&
         std::all_of(s.begin(), s.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

std::string RequireSha256(const json& p, const char* name) {
  auto it = p.find(name);
  if (it == p.end() || !it->is_string() || !IsHex64(it->get_ref<const std::string&>()))
    BadPayload(std::string("payload field '") + name + "' must be a SHA-256 in 64 lower-case hex characters");
  return it->get<std::string>();
}

bool IsFhirId(std::string_view s) {
  return !s.empty() && s.size() <= 64 && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.';
  });
}

bool IsResourceType(std::string_view s) {
  if (s.empty() || s.size() > 64 || s[0] < 'A' || s[0] > 'Z') return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); });
}

template <size_t N>
bool OneOf(std::string_view s, const std::string_view (&set)[N]) {
  return std::find(std::begin(set), std::end(set), s) != std::end(set);
}

void RequireObject(const json& p) {
  if (!p.is_object()) BadPayload("payload must be a JSON object");
}

StudyDef DecodeStudy(const json& p, bool amend) {
  RequireObject(p);
  StudyDef d;
  d.study_id = state::RequireHexId(p, "study_id");
  if (amend) {
    d.version = state::RequireInt(p, "version");
    if (d.version < 2 || d.version > 1'000'000) BadPayload("payload field 'version' must be 2 or more");
    d.reason = state::RequireCode(p, "reason");
  }
  d.protocol_sha256 = RequireSha256(p, "protocol_sha256");
  d.plan_definition = state::RequireString(p, "plan_definition", 80);
  constexpr std::string_view kPlan = "PlanDefinition/";
  if (d.plan_definition.rfind(kPlan, 0) != 0 || !IsFhirId(std::string_view(d.plan_definition).substr(kPlan.size())))
    BadPayload("payload field 'plan_definition' must be PlanDefinition/<id>");
  auto it = p.find("objectives");
  if (it == p.end()) BadPayload("payload field 'objectives' is missing");
  d.objectives = DecodeObjectives(*it, 32, true);
  auto st = p.find("sites");
  if (st == p.end() || !st->is_array() || st->empty() || st->size() > 64)
    BadPayload("payload field 'sites' must be an array of 1 to 64 organisation ids");
  std::set<std::string> sites;
  for (const auto& s : *st) {
    if (!s.is_string() || !state::IsCode(s.get_ref<const std::string&>()))
      BadPayload("payload field 'sites' must hold organisation ids");
    if (!sites.insert(s.get<std::string>()).second) BadPayload("payload field 'sites' names an organisation twice");
  }
  d.sites.assign(sites.begin(), sites.end());
  if (!amend) {
    d.registry_id = state::OptionalCode(p, "registry_id").value_or("");
    d.title = OptionalText(p, "title", 256);
  }
  return d;
}

}  // namespace

std::string NormaliseName(std::string_view name) {
  std::string out;
  bool space = false;
  for (char c : name) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
      space = !out.empty();
      continue;
    }
    if (space) out.push_back(' ');
    space = false;
    out.push_back(c >= 'A' && c <= 'Z' ? char(c - 'A' + 'a') : c);
  }
  return out;
}

std::vector<Objective> DecodeObjectives(const json& arr, size_t max_items, bool need_primary) {
  if (!arr.is_array() || arr.empty() || arr.size() > max_items)
    BadPayload("'objectives' must be an array of 1 to " + std::to_string(max_items) + " objectives");
  std::vector<Objective> out;
  std::set<std::string> names;
  bool primary = false;
  for (const auto& o : arr) {
    if (!o.is_object()) BadPayload("an objective must be an object {name, type}");
    Objective x;
    x.name = RequireText(o, "name", 256);
    x.type = state::RequireString(o, "type", 16);
    if (!OneOf(x.type, kObjectiveTypes)) BadPayload("an objective's type must be primary, secondary or exploratory");
    if (!names.insert(NormaliseName(x.name)).second) BadPayload("two objectives have the name '" + x.name + "'");
    primary = primary || x.type == "primary";
    out.push_back(std::move(x));
  }
  if (need_primary && !primary) BadPayload("a study needs at least one primary objective");
  return out;
}

json ObjectivesJson(const std::vector<Objective>& objs) {
  json a = json::array();
  for (const auto& o : objs) a.push_back({{"name", o.name}, {"type", o.type}});
  return a;
}

StudyDef DecodeRegister(const json& p) { return DecodeStudy(p, false); }
StudyDef DecodeAmend(const json& p) { return DecodeStudy(p, true); }

EnrolReq DecodeEnrol(const json& p) {
  RequireObject(p);
  EnrolReq r;
  r.study_id = state::RequireHexId(p, "study_id");
  r.subject = state::RequireHexId(p, "subject");
  r.consent_record = state::OptionalHexId(p, "consent_record").value_or("");
  return r;
}

SubmitReq DecodeSubmit(const json& p) {
  RequireObject(p);
  SubmitReq r;
  r.study_id = state::RequireHexId(p, "study_id");
  r.submission_id = state::RequireHexId(p, "submission_id");
  r.subject = state::RequireHexId(p, "subject");
  r.sha256 = RequireSha256(p, "sha256");
  if (auto t = state::OptionalString(p, "resource_type", 64)) {
    if (!IsResourceType(*t)) BadPayload("payload field 'resource_type' must be a FHIR resource type name");
    r.resource_type = *t;
  }
  return r;
}

SignReq DecodeSign(const json& p) {
  RequireObject(p);
  SignReq r;
  r.record = state::RequireHexId(p, "record");
  r.record_sha256 = RequireSha256(p, "record_sha256");
  r.printed_name = RequireText(p, "printed_name", 128);
  r.meaning = state::RequireString(p, "meaning", 32);
  if (!OneOf(r.meaning, kMeanings))
    BadPayload("payload field 'meaning' must be approval, review, responsibility or authorship");
  r.signed_at_ms = state::RequireInt(p, "signed_at");
  if (r.signed_at_ms <= 0) BadPayload("payload field 'signed_at' must be milliseconds since the epoch");
  return r;
}

WithdrawReq DecodeWithdraw(const json& p) {
  RequireObject(p);
  WithdrawReq r;
  r.study_id = state::RequireHexId(p, "study_id");
  r.site = state::RequireCode(p, "site");
  r.subject = state::RequireHexId(p, "subject");
  r.reason = state::OptionalCode(p, "reason").value_or("");
  return r;
}

LockReq DecodeLock(const json& p) {
  RequireObject(p);
  return {state::RequireHexId(p, "study_id")};
}

PublishReq DecodePublish(const json& p) {
  RequireObject(p);
  PublishReq r;
  r.study_id = state::RequireHexId(p, "study_id");
  r.publication_id = state::RequireHexId(p, "publication_id");
  r.sha256 = RequireSha256(p, "sha256");
  auto it = p.find("objectives");
  if (it == p.end()) BadPayload("payload field 'objectives' is missing");
  r.objectives = DecodeObjectives(*it, 64, false);
  r.uri = OptionalText(p, "uri", 256);
  return r;
}

Result<PublicationDoc> ParsePublicationDocument(std::string_view text) {
  json d = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (d.is_discarded() || !d.is_object()) return InvalidArgument("a publication is a JSON object (docs/TRIALS.md)");
  try {
    PublicationDoc out;
    out.study_id = state::RequireHexId(d, "study_id");
    auto it = d.find("objectives");
    if (it == d.end()) BadPayload("field 'objectives' is missing");
    out.objectives = DecodeObjectives(*it, 64, false);
    out.uri = OptionalText(d, "uri", 256);
    return out;
  } catch (const state::PayloadError& e) {
    return InvalidArgument("publication: " + e.verdict.detail);
  }
}

}  // namespace medledger::trials
