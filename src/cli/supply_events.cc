#include "cli/supply_events.h"

#include <ctime>
#include <thread>

#include "common/date_scan.h"
#include "epcis/identifiers.h"

namespace medledger::cli {

using nlohmann::json;

namespace {

std::string Pad(const std::string& s, size_t width) {
  return s.size() >= width ? s : std::string(width - s.size(), '0') + s;
}

// The item or location reference that fills the number to `digits` with
// the company prefix (GS1 numbers have a fixed length).
std::string Fill(const std::string& prefix, const std::string& ref, size_t digits) {
  return Pad(ref, digits > prefix.size() ? digits - prefix.size() : 0);
}

json At(json e, const std::string& sgln) {
  e["readPoint"] = {{"id", sgln}};
  e["bizLocation"] = {{"id", sgln}};
  return e;
}

json Base(const char* type, const char* action, int64_t at_ms) {
  return {{"type", type}, {"eventTime", IsoUtc(at_ms)}, {"eventTimeZoneOffset", "+00:00"}, {"action", action}};
}

}  // namespace

std::string Gtin14(const std::string& prefix, char indicator, const std::string& item_ref) {
  std::string digits = indicator + prefix + Fill(prefix, item_ref, 12);
  return digits + epcis::Gs1CheckDigit(digits);
}

std::string SgtinUrn(const std::string& prefix, char indicator, const std::string& item_ref,
                     const std::string& serial) {
  return "urn:epc:id:sgtin:" + prefix + "." + indicator + Fill(prefix, item_ref, 12) + "." + serial;
}

std::string SsccUrn(const std::string& prefix, uint64_t serial_ref) {
  return "urn:epc:id:sscc:" + prefix + ".0" + Fill(prefix, std::to_string(serial_ref), 16);
}

std::string SglnUrn(const std::string& prefix, const std::string& location_ref) {
  return "urn:epc:id:sgln:" + prefix + "." + Fill(prefix, location_ref, 12) + ".0";
}

std::string IsoUtc(int64_t unix_ms) { return FormatUtcMillis(unix_ms); }

int64_t UnixMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

json CommissionEvent(const std::vector<std::string>& epcs, int64_t at_ms, const std::string& sgln,
                     const std::string& lot, const std::string& expiry) {
  json e = At(Base("ObjectEvent", "ADD", at_ms), sgln);
  e["epcList"] = epcs;
  e["bizStep"] = "commissioning";
  e["disposition"] = "active";
  e["ilmd"] = {{"cbvmda:lotNumber", lot}, {"cbvmda:itemExpirationDate", expiry}};
  return e;
}

json PackEvent(const std::string& parent, const std::vector<std::string>& children, int64_t at_ms,
               const std::string& sgln) {
  json e = At(Base("AggregationEvent", "ADD", at_ms), sgln);
  e["parentID"] = parent;
  e["childEPCs"] = children;
  e["bizStep"] = "packing";
  e["disposition"] = "in_progress";
  return e;
}

json UnpackEvent(const std::string& parent, int64_t at_ms, const std::string& sgln) {
  json e = At(Base("AggregationEvent", "DELETE", at_ms), sgln);
  e["parentID"] = parent;
  e["childEPCs"] = json::array();
  e["bizStep"] = "unpacking";
  e["disposition"] = "in_progress";
  return e;
}

json ObserveEvent(const std::vector<std::string>& epcs, int64_t at_ms, const std::string& sgln,
                  const std::string& biz_step, const std::string& disposition) {
  json e = At(Base("ObjectEvent", "OBSERVE", at_ms), sgln);
  e["epcList"] = epcs;
  e["bizStep"] = biz_step;
  e["disposition"] = disposition;
  return e;
}

json ShipEvent(const std::vector<std::string>& epcs, int64_t at_ms, const std::string& from_sgln,
               const std::string& to_sgln) {
  json e = ObserveEvent(epcs, at_ms, from_sgln, "shipping", "in_transit");
  e["destinationList"] = {{{"type", "location"}, {"destination", to_sgln}}};
  return e;
}

std::string EpcisDocument(const json& events, int64_t created_ms) {
  return json{{"@context", {"https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"}},
              {"type", "EPCISDocument"},
              {"schemaVersion", "2.0"},
              {"creationDate", IsoUtc(created_ms)},
              {"epcisBody", {{"eventList", events}}}}
      .dump();
}

size_t EpcCount(const json& event) {
  size_t n = event.contains("parentID") ? 1 : 0;
  for (const char* list : {"epcList", "childEPCs"})
    if (event.contains(list)) n += event[list].size();
  return n;
}

Result<std::string> PostCapture(ApiClient& c, const crypto::KeyPair& party, const std::string& document) {
  http::HeaderList h = {{"Content-Type", "application/ld+json"},
                        {"GS1-Capture-Error-Behaviour", "rollback"},
                        {"GS1-EPCIS-Version", "2.0.0"},
                        {"GS1-CBV-Version", "2.0.0"}};
  ML_ASSIGN_OR_RETURN(auto r, c.SignedRequest(party, "POST", "/epcis/capture", document, h));
  if (r.status != 202)
    return FailedPrecondition("capture refused: HTTP " + std::to_string(r.status) + ": " + ErrorText(r));
  auto location = r.Header("Location");
  if (!location) return Internal("the node answered 202 without a Location");
  return *location;
}

Result<json> AwaitCapture(ApiClient& c, const crypto::KeyPair& party, const std::string& location,
                          std::chrono::seconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    ML_ASSIGN_OR_RETURN(json j, c.GetSignedJson(party, location));
    if (!j.value("running", true)) {
      if (j.value("success", false)) return j.value("events", json::array());
      std::string why = "the capture was refused";
      for (const auto& e : j.value("errors", json::array())) why = e.value("detail", why);
      return FailedPrecondition(location + ": " + why);
    }
    if (std::chrono::steady_clock::now() > deadline)
      return Unavailable("the capture " + location + " is still running after " + std::to_string(timeout.count()) +
                         " s");
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

}  // namespace medledger::cli
