#include "custodian/fhir_resources.h"

#include <spdlog/spdlog.h>

#include "custodian/fhir_index.h"
#include "fhir/json.h"
#include "fhir/outcome.h"
#include "fhir/validate.h"
#include "records/reasons.h"

namespace medledger::custodian {

using nlohmann::json;

namespace {

std::string SensitiveLabelCode(std::string_view label) {
  if (label == "hiv") return "HIV";
  if (label == "substance-use") return "ETH";
  if (label == "mental-health") return "PSY";
  return std::string(label);
}

json Coding(const char* system, std::string code) { return {{"system", system}, {"code", std::move(code)}}; }

json IdRef(const std::string& who) {
  if (who.rfind("org:", 0) == 0)
    return {{"type", "Organization"}, {"identifier", {{"system", kOrgSystem}, {"value", who.substr(4)}}}};
  return {{"identifier", {{"system", kIdSystem}, {"value", who}}}};
}

json AuditType(const char* code, const char* display) {
  return {{"system", "http://dicom.nema.org/resources/ontology/DCM"}, {"code", code}, {"display", display}};
}

}  // namespace

json ConsentResource(const records::ConsentInfo& ci, int64_t now_ms) {
  bool active = !ci.revoked && (!ci.until_ms || now_ms < *ci.until_ms);
  json provision = {{"type", "permit"}};
  if (ci.not_before_ms || ci.until_ms) {
    json period = json::object();
    if (ci.not_before_ms) period["start"] = fhir::FormatInstant(*ci.not_before_ms);
    if (ci.until_ms) period["end"] = fhir::FormatInstant(*ci.until_ms);
    provision["period"] = period;
  }
  json actor_ref = IdRef(ci.grantee);
  provision["actor"] = json::array(
      {{{"role", {{"coding", json::array({Coding("http://terminology.hl7.org/CodeSystem/v3-ParticipationType", "IRCP")})}}},
        {"reference", actor_ref}}});
  provision["action"] = json::array(
      {{{"coding", json::array({Coding("http://terminology.hl7.org/CodeSystem/consentaction", "access")})}}});
  json purposes = json::array();
  for (const auto& p : ci.purposes) purposes.push_back(Coding(kActReason, p));
  provision["purpose"] = purposes;
  if (!(ci.types.size() == 1 && ci.types[0] == "*")) {
    json cls = json::array();
    for (const auto& t : ci.types) cls.push_back(Coding("http://hl7.org/fhir/resource-types", t));
    provision["class"] = cls;
  }
  if (!ci.labels.empty()) {
    json labels = json::array();
    for (const auto& l : ci.labels) labels.push_back(Coding(kActCode, SensitiveLabelCode(l)));
    provision["securityLabel"] = labels;
  }
  json c = {
      {"resourceType", "Consent"},
      {"id", ci.consent_id},
      {"identifier", json::array({{{"system", kTxSystem}, {"value", ci.tx}}})},
      {"status", active ? "active" : "inactive"},
      {"scope", {{"coding", json::array({Coding("http://terminology.hl7.org/CodeSystem/consentscope", "patient-privacy")})}}},
      {"category", json::array({{{"coding", json::array({Coding("http://loinc.org", "59284-0")})}}})},
      {"patient", IdRef(ci.patient)},
      {"performer", json::array({IdRef(ci.granted_by)})},
      {"policyRule", {{"coding", json::array({Coding(kActCode, "OPTIN")})}}},
      {"provision", provision}};
  if (ci.patient_org != "*") c["organization"] = json::array({IdRef("org:" + ci.patient_org)});
  return c;
}

// Validates a resource built here; a failure is a bug, logged and reported.
Status ValidateBuilt(const json& resource) {
  auto v = fhir::Parse(resource.dump());
  if (!v.ok()) return Internal("built resource does not parse: " + v.status().message());
  Status st = fhir::ValidateResource(*v);
  if (!st.ok()) spdlog::error("built {} fails validation: {}", resource.value("resourceType", "?"), st.message());
  return st;
}


json AccessAuditEvent(const Context& ctx, const records::AccessEventInfo& e) {
  json purpose = {{"coding", json::array({Coding(kActReason, e.purpose)})}};
  json agent = {{"type", {{"coding", json::array({Coding("http://terminology.hl7.org/CodeSystem/v3-ParticipationType", "IRCP")})}}},
                {"who", IdRef(e.accessor)},
                {"requestor", true},
                {"purposeOfUse", json::array({purpose})}};
  if (!e.accessor_org.empty()) agent["altId"] = e.accessor_org;
  json what = {{"identifier", {{"system", kRecordSystem}, {"value", e.record_id}}}};
  if (e.org == ctx.org && ctx.index) {
    auto ref = ctx.index->LookupRecord(e.record_id);
    if (ref.ok() && *ref) what["reference"] = (*ref)->type + "/" + (*ref)->id + "/_history/" + std::to_string(e.version);
  }
  json detail = json::array({{{"type", "version"}, {"valueString", std::to_string(e.version)}}});
  if (!e.basis.empty()) detail.push_back({{"type", "basis"}, {"valueString", e.basis}});
  if (!e.consent_id.empty()) detail.push_back({{"type", "consent"}, {"valueString", "Consent/" + e.consent_id}});
  if (e.break_glass) {
    detail.push_back({{"type", "break-glass-reason"}, {"valueString", e.break_glass_reason}});
    if (e.org == ctx.org && e.break_glass_reason == records::kOtherBreakGlassReason) {
      auto note = ctx.vault->Get({"bgnote-" + e.event_id, 1});
      if (note.ok()) detail.push_back({{"type", "break-glass-note"}, {"valueString", *note}});
    }
  }
  json ev = {
      {"resourceType", "AuditEvent"},
      {"id", e.event_id},
      {"type", Coding("http://terminology.hl7.org/CodeSystem/audit-event-type", "rest")},
      {"subtype", json::array({Coding("http://hl7.org/fhir/restful-interaction", "read")})},
      {"action", "R"},
      {"recorded", fhir::FormatInstant(e.at_ms)},
      // R4 AuditEventOutcome: 0 success; a refused read is 4, "minor
      // failure" (the request ended normally with a 4xx answer), not 8/12.
      {"outcome", e.granted ? "0" : "4"},
      {"purposeOfEvent", json::array({purpose})},
      {"agent", json::array({agent})},
      {"source", {{"site", e.org},
                  {"observer", IdRef("org:" + e.org)},
                  {"type", json::array({Coding("http://terminology.hl7.org/CodeSystem/security-source-type", "4")})}}},
      {"entity", json::array({{{"what", what},
                               {"type", Coding("http://terminology.hl7.org/CodeSystem/audit-entity-type", "2")},
                               {"detail", detail}},
                              {{"what", {{"identifier", {{"system", kTxSystem}, {"value", e.tx}}}}},
                               {"type", Coding("http://terminology.hl7.org/CodeSystem/audit-entity-type", "4")},
                               {"description", "access.event transaction, block " + std::to_string(e.height)}}})}};
  if (!e.granted) ev["outcomeDesc"] = e.denial_reason;
  if (e.break_glass)
    ev["meta"]["security"] = json::array({{{"system", kActCode}, {"code", "BTG"}, {"display", "break the glass"}}});
  if (e.tx.empty()) {
    // Journaled here, not in a block yet (PendingAccessEvents): no
    // transaction to name, and tagged so that nobody takes it for committed.
    ev["entity"].erase(1);
    ev["meta"]["tag"] = json::array({{{"system", kAuditStatusSystem}, {"code", "pending"},
                                      {"display", "journaled by the custodian, not yet in a block"}}});
  }
  return ev;
}

json DisclosureAuditEvent(const Context& ctx, const records::DisclosureInfo& d) {
  json recipient = {{"who", {{"identifier", {{"system", "urn:medledger:recipient-ref"}, {"value", d.recipient_ref}}}}},
                    {"requestor", false}};
  if (d.org == ctx.org) {
    auto local = ctx.vault->Get({"disc-" + d.disclosure_id, 1});
    if (local.ok()) {
      json j = json::parse(*local, nullptr, false);
      if (j.is_object()) {
        std::string name = j.value("name", ""), address = j.value("address", "");
        if (!name.empty()) recipient["name"] = name;
        if (!address.empty()) recipient["who"]["display"] = address;
      }
    }
  }
  json entities = json::array();
  for (const auto& rid : d.record_ids) {
    json what = {{"identifier", {{"system", kRecordSystem}, {"value", rid}}}};
    if (d.org == ctx.org && ctx.index) {
      auto ref = ctx.index->LookupRecord(rid);
      if (ref.ok() && *ref) what["reference"] = (*ref)->type + "/" + (*ref)->id;
    }
    entities.push_back({{"what", what}, {"type", Coding("http://terminology.hl7.org/CodeSystem/audit-entity-type", "2")}});
  }
  entities.push_back({{"what", {{"identifier", {{"system", kTxSystem}, {"value", d.tx}}}}},
                      {"type", Coding("http://terminology.hl7.org/CodeSystem/audit-entity-type", "4")},
                      {"description", "disclosure.record transaction, block " + std::to_string(d.height) +
                                          "; description " + d.description}});
  json purpose = {{"coding", json::array({Coding(kActReason, d.purpose)})}};
  return {{"resourceType", "AuditEvent"},
          {"id", d.disclosure_id},
          {"type", AuditType("110106", "Export")},
          {"action", "R"},
          {"recorded", fhir::FormatInstant(d.at_ms)},
          {"outcome", "0"},
          {"purposeOfEvent", json::array({purpose})},
          {"agent", json::array({{{"who", IdRef("org:" + d.org)}, {"requestor", true}, {"purposeOfUse", json::array({purpose})}},
                                 recipient})},
          {"source", {{"site", d.org}, {"observer", IdRef("org:" + d.org)}}},
          {"entity", entities}};
}

}  // namespace medledger::custodian
