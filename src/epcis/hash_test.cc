#include "epcis/hash.h"

#include <gtest/gtest.h>

#include "epcis/document.h"
#include "epcis/test_data.h"

namespace medledger::epcis {
namespace {

using testing::ProjectData;
using testing::ReadFile;
using testing::ReadLines;

// The published vectors (RalphTro/epcis-event-hash-generator, MIT): every
// event's pre-hash string and hash ID, in document order.
void CheckVectors(const std::string& name) {
  auto dir = ProjectData() / "event-hash-vectors";
  std::string body = ReadFile(dir / (name + ".jsonld"));
  auto hashes = ReadLines(dir / (name + ".hashes"));
  auto prehashes = ReadLines(dir / (name + ".prehashes"));
  ASSERT_FALSE(body.empty());
  auto doc = ParseDocument(body);
  ASSERT_TRUE(doc.ok()) << doc.status().message();
  ASSERT_EQ(doc->events.size(), hashes.size());
  ASSERT_EQ(doc->events.size(), prehashes.size());
  for (size_t i = 0; i < doc->events.size(); ++i) {
    SCOPED_TRACE(name + " event " + std::to_string(i));
    auto h = HashStoredEvent(doc->raw_events[i], doc->context_json);
    ASSERT_TRUE(h.ok()) << h.status().message();
    EXPECT_EQ(h->pre_hash, prehashes[i]);
    EXPECT_EQ(h->hash_id, hashes[i]);
    EXPECT_EQ(doc->events[i].hash_id, hashes[i]);
  }
}

TEST(EventHashTest, ReferenceEventHashAlgorithmVector) { CheckVectors("ReferenceEventHashAlgorithm"); }
TEST(EventHashTest, VariousEventTypesVector) { CheckVectors("epcisDocWithVariousEventTypes"); }

TEST(EventHashTest, HashIdFormat) {
  // SHA-256 of the empty string.
  EXPECT_EQ(HashIdOf(""), "ni:///sha-256;e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855?ver=CBV2.0");
}

// A small document around one event, for the equivalence tests below.
std::string Doc(const std::string& event, const std::string& extra_context = "") {
  return R"({"@context": ["https://ref.gs1.org/standards/epcis/epcis-context.jsonld")" + extra_context +
         R"(], "type": "EPCISDocument", "schemaVersion": "2.0", "creationDate": "2024-01-01T00:00:00Z",
            "epcisBody": {"eventList": [)" + event + "]}}";
}

std::string HashOf(const std::string& event, const std::string& extra_context = "") {
  auto doc = ParseDocument(Doc(event, extra_context));
  EXPECT_TRUE(doc.ok()) << doc.status().message();
  return doc.ok() ? doc->events[0].hash_id : "";
}

const char* kShipping = R"({"type": "ObjectEvent", "eventTime": "2024-03-01T10:00:00.000+01:00",
  "eventTimeZoneOffset": "+01:00", "epcList": ["urn:epc:id:sgtin:0614141.107346.2017"], "action": "OBSERVE",
  "bizStep": "shipping", "disposition": "in_transit", "readPoint": {"id": "urn:epc:id:sgln:0614141.00777.0"},
  "sourceList": [{"type": "possessing_party", "source": "urn:epc:id:pgln:0614141.00000"}],
  "destinationList": [{"type": "possessing_party", "destination": "urn:epc:id:pgln:4012345.00000"}]})";

TEST(EventHashTest, SameEventSameHashWhateverTheSpelling) {
  std::string base = HashOf(kShipping);
  // Keys in another order, the EPC as a Digital Link on another domain with a
  // query string, the read point as its Digital Link, CBV values as CBV 1.x
  // URNs and 2.0 URIs, the time with fewer fraction digits and a UTC offset.
  std::string other = R"({"disposition": "urn:epcglobal:cbv:disp:in_transit",
    "destinationList": [{"destination": "urn:epc:id:pgln:4012345.00000", "type": "possessing_party"}],
    "bizStep": "https://ref.gs1.org/cbv/BizStep-shipping", "action": "OBSERVE",
    "readPoint": {"id": "https://example.com/414/0614141007776"},
    "epcList": ["https://brand.example.org/01/10614141073464/21/2017?17=250101"],
    "sourceList": [{"source": "https://id.gs1.org/417/0614141000005", "type": "urn:epcglobal:cbv:sdt:possessing_party"}],
    "eventTimeZoneOffset": "+01:00", "eventTime": "2024-03-01T09:00:00Z", "type": "ObjectEvent"})";
  EXPECT_EQ(HashOf(other), base);
}

TEST(EventHashTest, IgnoredFieldsLeaveTheHashAlone) {
  std::string base = HashOf(kShipping);
  std::string with = std::string(kShipping);
  with.pop_back();  // '}'
  with += R"(, "eventID": "urn:uuid:5a2f1d1e-5b47-4a8e-9c3f-0f2d7c6c1e11", "recordTime": "2024-03-01T09:05:00Z",
    "certificationInfo": "https://accreditation.example.org/cert/1",
    "errorDeclaration": {"declarationTime": "2024-03-02T00:00:00Z", "reason": "incorrect_data"}})";
  // An error declaration hashes to the ID of the event it corrects.
  EXPECT_EQ(HashOf(with), base);
}

TEST(EventHashTest, AnyChangeChangesTheHash) {
  std::string base = HashOf(kShipping);
  std::string changed = kShipping;
  changed.replace(changed.find("2017"), 4, "2018");
  EXPECT_NE(HashOf(changed), base);
  changed = kShipping;
  changed.replace(changed.find("in_transit"), 10, "in_progress");
  EXPECT_NE(HashOf(changed), base);
}

TEST(EventHashTest, NumbersHashCanonically) {
  auto event = [](const std::string& quantity) {
    return R"({"type": "ObjectEvent", "eventTime": "2024-03-01T10:00:00Z", "eventTimeZoneOffset": "+00:00",
      "action": "OBSERVE", "quantityList": [{"epcClass": "urn:epc:class:lgtin:4012345.012345.998877",
      "quantity": )" + quantity + R"(, "uom": "KGM"}]})";
  };
  std::string base = HashOf(event("600"));
  EXPECT_EQ(HashOf(event("600.0")), base);
  EXPECT_EQ(HashOf(event("6e2")), base);
  EXPECT_EQ(HashOf(event("6.000E+2")), base);
  EXPECT_NE(HashOf(event("600.5")), base);
}

TEST(EventHashTest, PreHashOfExtensionsSensorsAndIlmd) {
  std::string event = R"({"type": "ObjectEvent", "eventTime": "2024-03-01T10:00:00.1235Z",
    "eventTimeZoneOffset": "+00:00", "action": "ADD", "epcList": ["urn:epc:id:sgtin:0614141.107346.2017"],
    "bizStep": "commissioning", "readPoint": {"id": "urn:epc:id:sgln:0614141.00777.0", "ex:door": "D2"},
    "sensorElementList": [{"sensorMetadata": {"time": "2024-03-01T11:00:00+01:00",
      "deviceID": "urn:epc:id:giai:4000001.111"},
      "sensorReport": [{"type": "Temperature", "value": 26.50, "uom": "CEL"},
                       {"type": "gs1:AbsoluteHumidity", "value": 12.1, "uom": "A93", "exception": "ALARM_CONDITION"}]}],
    "ilmd": {"cbvmda:lotNumber": "LOT1", "cbvmda:itemExpirationDate": "2026-12-31"},
    "ex:note": {"ex:b": "2", "ex:a": ["y", "x"]}, "ex:flag": true})";
  auto doc = ParseDocument(Doc(event, R"(, {"ex": "https://ns.example.com/x/"})"));
  ASSERT_TRUE(doc.ok()) << doc.status().message();
  auto h = HashStoredEvent(doc->raw_events[0], doc->context_json);
  ASSERT_TRUE(h.ok()) << h.status().message();
  EXPECT_EQ(h->pre_hash,
            "eventType=ObjectEvent"
            "eventTime=2024-03-01T10:00:00.124Z"
            "eventTimeZoneOffset=+00:00"
            "epcListepc=https://id.gs1.org/01/10614141073464/21/2017"
            "action=ADD"
            "bizStep=https://ref.gs1.org/cbv/BizStep-commissioning"
            "readPointid=https://id.gs1.org/414/0614141007776"
            "sensorElement"
            "sensorMetadatatime=2024-03-01T10:00:00.000ZdeviceID=https://id.gs1.org/8004/4000001111"
            "sensorReporttype=https://gs1.org/voc/AbsoluteHumidityexception=https://gs1.org/voc/ALARM_CONDITION"
            "value=12.1uom=A93"
            "sensorReporttype=https://gs1.org/voc/Temperaturevalue=26.5uom=CEL"
            "ilmd{urn:epcglobal:cbv:mda:}itemExpirationDate=2026-12-31{urn:epcglobal:cbv:mda:}lotNumber=LOT1"
            "readPoint{https://ns.example.com/x/}door=D2"
            "{https://ns.example.com/x/}flag=true"
            "{https://ns.example.com/x/}note{https://ns.example.com/x/}a=x{https://ns.example.com/x/}a=y"
            "{https://ns.example.com/x/}b=2");
  EXPECT_EQ(doc->events[0].lot, "LOT1");
  EXPECT_EQ(doc->events[0].expiry, "2026-12-31");
}

TEST(EventHashTest, StoredEventMustStillBeValid) {
  auto h = HashStoredEvent(R"({"type": "ObjectEvent"})", R"(["https://ref.gs1.org/standards/epcis/epcis-context.jsonld"])");
  ASSERT_FALSE(h.ok());
  EXPECT_EQ(h.status().message(), "event.eventTime: required");
  h = HashStoredEvent(kShipping, "");
  ASSERT_FALSE(h.ok());
  EXPECT_EQ(h.status().message(), "@context: must include the EPCIS 2.0 context");
}

}  // namespace
}  // namespace medledger::epcis
