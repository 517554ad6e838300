// EPCIS 2.0 capture documents for the supply-chain integration tests
// (supply_api_test, supply_network_test): the events of one medicine pack's
// life, written with EPC URNs so that no check digit has to be computed.
//
// Company prefix 0614141 (the manufacturer's), item reference 812345: pack
// urn:epc:id:sgtin:0614141.812345.S1 is GTIN 80614141123458, serial S1.
// Locations are SGLNs; a GLN of prefix 0614141 belongs to the manufacturer
// once it has registered the prefix, the others (0860001..) to nobody.
// The tests' packs expire on 2049-12-31 (YYMMDD 491231): verification
// compares expiry with today's date, and this one stays ahead of it.
#pragma once

#include <string>
#include <vector>

namespace medledger::test::supply_docs {

inline constexpr const char* kPrefix = "0614141";
inline constexpr const char* kGtin = "80614141123458";
inline constexpr const char* kFactory = "urn:epc:id:sgln:0614141.00001.0";
inline constexpr const char* kWarehouse = "urn:epc:id:sgln:0860001.00001.0";
inline constexpr const char* kPharmacy = "urn:epc:id:sgln:0860002.00001.0";
inline constexpr const char* kOtherPharmacy = "urn:epc:id:sgln:0860003.00001.0";

inline std::string Sgtin(const std::string& serial) { return "urn:epc:id:sgtin:0614141.812345." + serial; }
// The same pack as a GS1 Digital Link on a domain other than id.gs1.org.
inline std::string PackLink(const std::string& serial) {
  return "https://example.com/01/" + std::string(kGtin) + "/21/" + serial;
}
inline std::string Sscc(const std::string& ten_digits) { return "urn:epc:id:sscc:0614141." + ten_digits; }

inline std::string Quote(const std::string& s) { return "\"" + s + "\""; }
inline std::string List(const std::vector<std::string>& ids) {
  std::string out = "[";
  for (size_t i = 0; i < ids.size(); ++i) out += (i ? "," : "") + Quote(ids[i]);
  return out + "]";
}
inline std::string Serials(const std::vector<std::string>& serials) {
  std::vector<std::string> ids;
  for (const auto& s : serials) ids.push_back(Sgtin(s));
  return List(ids);
}

// `time`: "2024-03-01T08:00:00Z"; `expiry`: YYYY-MM-DD.
inline std::string Commission(const std::string& time, const std::vector<std::string>& serials, const std::string& lot,
                              const std::string& expiry, const std::string& at = kFactory) {
  return R"({"type":"ObjectEvent","eventTime":")" + time + R"(","eventTimeZoneOffset":"+00:00","epcList":)" +
         Serials(serials) + R"(,"action":"ADD","bizStep":"commissioning","disposition":"active","readPoint":{"id":")" +
         at + R"("},"bizLocation":{"id":")" + at + R"("},"ilmd":{"cbvmda:lotNumber":")" + lot +
         R"(","cbvmda:itemExpirationDate":")" + expiry + R"("}})";
}
inline std::string Pack(const std::string& time, const std::string& sscc, const std::vector<std::string>& serials,
                        const std::string& at = kFactory) {
  return R"({"type":"AggregationEvent","eventTime":")" + time + R"(","eventTimeZoneOffset":"+00:00","parentID":")" +
         sscc + R"(","childEPCs":)" + Serials(serials) +
         R"(,"action":"ADD","bizStep":"packing","bizLocation":{"id":")" + at + R"("}})";
}
inline std::string Unpack(const std::string& time, const std::string& sscc, const std::string& at) {
  return R"({"type":"AggregationEvent","eventTime":")" + time + R"(","eventTimeZoneOffset":"+00:00","parentID":")" +
         sscc + R"(","action":"DELETE","bizStep":"unpacking","bizLocation":{"id":")" + at + R"("}})";
}
// `epcs`: full identifiers (SGTIN or SSCC URNs).
inline std::string Ship(const std::string& time, const std::vector<std::string>& epcs, const std::string& from,
                        const std::string& to) {
  return R"({"type":"ObjectEvent","eventTime":")" + time + R"(","eventTimeZoneOffset":"+00:00","epcList":)" +
         List(epcs) + R"(,"action":"OBSERVE","bizStep":"shipping","disposition":"in_transit","bizLocation":{"id":")" +
         from + R"("},"destinationList":[{"type":"location","destination":")" + to + R"("}]})";
}
inline std::string Receive(const std::string& time, const std::vector<std::string>& epcs, const std::string& at) {
  return R"({"type":"ObjectEvent","eventTime":")" + time + R"(","eventTimeZoneOffset":"+00:00","epcList":)" +
         List(epcs) + R"(,"action":"OBSERVE","bizStep":"receiving","disposition":"in_progress","bizLocation":{"id":")" +
         at + R"("}})";
}
inline std::string Dispense(const std::string& time, const std::vector<std::string>& epcs, const std::string& at) {
  return R"({"type":"ObjectEvent","eventTime":")" + time + R"(","eventTimeZoneOffset":"+00:00","epcList":)" +
         List(epcs) + R"(,"action":"OBSERVE","bizStep":"dispensing","disposition":"dispensed","bizLocation":{"id":")" +
         at + R"("}})";
}

// An EPCISDocument holding `events` (each an event's JSON text).
inline std::string Document(const std::vector<std::string>& events) {
  std::string body;
  for (size_t i = 0; i < events.size(); ++i) body += (i ? "," : "") + events[i];
  return R"({"@context":["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],)"
         R"("type":"EPCISDocument","schemaVersion":"2.0","creationDate":"2024-03-01T07:00:00Z",)"
         R"("epcisBody":{"eventList":[)" +
         body + "]}}";
}

}  // namespace medledger::test::supply_docs
