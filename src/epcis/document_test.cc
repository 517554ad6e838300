#include "epcis/document.h"

#include <gtest/gtest.h>

#include "epcis/hash.h"

namespace medledger::epcis {
namespace {

constexpr const char* kContext = R"("https://ref.gs1.org/standards/epcis/epcis-context.jsonld")";

std::string Doc(const std::string& events, const std::string& extra_context = "") {
  return std::string(R"({"@context": [)") + kContext + extra_context +
         R"(], "type": "EPCISDocument", "schemaVersion": "2.0", "creationDate": "2024-01-01T00:00:00Z",
            "epcisBody": {"eventList": [)" + events + "]}}";
}

// A valid commissioning event; `extra` is spliced in as further members.
std::string Commissioning(const std::string& extra = "") {
  return R"({"type": "ObjectEvent", "eventTime": "2024-03-01T10:00:00.000+01:00", "eventTimeZoneOffset": "+01:00",
    "epcList": ["urn:epc:id:sgtin:0614141.107346.2017"], "action": "ADD", "bizStep": "commissioning",
    "disposition": "active", "readPoint": {"id": "urn:epc:id:sgln:0614141.00777.0"},
    "bizLocation": {"id": "urn:epc:id:sgln:0614141.00777.0"},
    "ilmd": {"cbvmda:lotNumber": "L42", "cbvmda:itemExpirationDate": "2026-06-30"})" + extra + "}";
}

// The message of the refusal of `body`, which must be InvalidArgument.
std::string Refusal(const std::string& body) {
  auto doc = ParseDocument(body);
  if (doc.ok()) return "(accepted)";
  EXPECT_EQ(doc.status().code(), StatusCode::kInvalidArgument) << doc.status().message();
  return doc.status().message();
}

// `event` with `from` replaced by `to` (once), in a document.
std::string Edited(const std::string& from, const std::string& to) {
  std::string event = Commissioning();
  size_t at = event.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  event.replace(at, from.size(), to);
  return Doc(event);
}

TEST(DocumentTest, ReadsTheEventModel) {
  std::string event = Commissioning();
  std::string body = Doc(event);
  auto doc = ParseDocument(body);
  ASSERT_TRUE(doc.ok()) << doc.status().message();
  EXPECT_EQ(doc->kind, DocumentKind::kDocument);
  EXPECT_EQ(doc->schema_version, "2.0");
  EXPECT_EQ(doc->creation_date, "2024-01-01T00:00:00Z");
  EXPECT_EQ(doc->context_json, std::string("[") + kContext + "]");
  ASSERT_EQ(doc->events.size(), 1u);
  ASSERT_EQ(doc->raw_events.size(), 1u);
  EXPECT_EQ(doc->raw_events[0], event);
  const Event& e = doc->events[0];
  EXPECT_EQ(e.type, EventType::kObject);
  EXPECT_EQ(e.action, Action::kAdd);
  EXPECT_EQ(e.event_time, "2024-03-01T10:00:00.000+01:00");
  EXPECT_EQ(e.event_time_ms, 1709283600000);
  EXPECT_EQ(e.event_time_zone_offset, "+01:00");
  EXPECT_EQ(e.epc_list, std::vector<std::string>{"https://id.gs1.org/01/10614141073464/21/2017"});
  EXPECT_EQ(e.biz_step, "commissioning");
  EXPECT_EQ(e.disposition, "active");
  EXPECT_EQ(e.read_point, "https://id.gs1.org/414/0614141007776");
  EXPECT_EQ(e.lot, "L42");
  EXPECT_EQ(e.expiry, "2026-06-30");
  // No eventID from the sender: the hash ID serves.
  EXPECT_EQ(e.event_id, e.hash_id);
  EXPECT_EQ(e.hash_id.size(), std::string("ni:///sha-256;?ver=CBV2.0").size() + 64);
}

TEST(DocumentTest, KeepsTheSendersEventIdAndReadsBareWordsFromUris) {
  auto doc = ParseDocument(Doc(Commissioning(R"(, "eventID": "urn:uuid:0c3c1a6e-6f7e-4f2b-9a37-2b6f0f0c1d2e")")));
  ASSERT_TRUE(doc.ok()) << doc.status().message();
  EXPECT_EQ(doc->events[0].event_id, "urn:uuid:0c3c1a6e-6f7e-4f2b-9a37-2b6f0f0c1d2e");
  doc = ParseDocument(Edited(R"("bizStep": "commissioning")", R"("bizStep": "urn:epcglobal:cbv:bizstep:commissioning")"));
  ASSERT_TRUE(doc.ok()) << doc.status().message();
  EXPECT_EQ(doc->events[0].biz_step, "commissioning");
  doc = ParseDocument(Edited(R"("bizStep": "commissioning")", R"("bizStep": "https://example.org/voc/filling")"));
  ASSERT_TRUE(doc.ok()) << doc.status().message();
  EXPECT_EQ(doc->events[0].biz_step, "https://example.org/voc/filling");
}

TEST(DocumentTest, ShippingWithSourcesDestinationsAndTransactions) {
  std::string event = R"({"type": "ObjectEvent", "eventTime": "2024-03-02T08:00:00Z", "eventTimeZoneOffset": "+00:00",
    "epcList": ["urn:epc:id:sscc:0614141.1234567890"], "action": "OBSERVE", "bizStep": "shipping",
    "disposition": "in_transit", "readPoint": {"id": "urn:epc:id:sgln:0614141.00777.0"},
    "bizTransactionList": [{"type": "po", "bizTransaction": "urn:epcglobal:cbv:bt:0614141000005:PO-1"}],
    "sourceList": [{"type": "owning_party", "source": "urn:epc:id:pgln:0614141.00000"}],
    "destinationList": [{"type": "possessing_party", "destination": "urn:epc:id:pgln:4012345.00000"},
                        {"type": "location", "destination": "urn:epc:id:sgln:4012345.00012.0"}]})";
  auto doc = ParseDocument(Doc(event));
  ASSERT_TRUE(doc.ok()) << doc.status().message();
  const Event& e = doc->events[0];
  ASSERT_EQ(e.destinations.size(), 2u);
  EXPECT_EQ(e.destinations[0].type, "possessing_party");
  EXPECT_EQ(e.destinations[0].id, "https://id.gs1.org/417/4012345000009");
  EXPECT_EQ(e.destinations[1].type, "location");
  ASSERT_EQ(e.sources.size(), 1u);
  EXPECT_EQ(e.sources[0].type, "owning_party");
  ASSERT_EQ(e.biz_transactions.size(), 1u);
  EXPECT_EQ(e.biz_transactions[0].type, "po");
  EXPECT_EQ(e.biz_transactions[0].id, "urn:epcglobal:cbv:bt:0614141000005:PO-1");
}

TEST(DocumentTest, AggregationAndTransformation) {
  std::string packing = R"({"type": "AggregationEvent", "eventTime": "2024-03-01T11:00:00Z",
    "eventTimeZoneOffset": "+00:00", "parentID": "urn:epc:id:sscc:0614141.1234567890",
    "childEPCs": ["urn:epc:id:sgtin:0614141.107346.2017", "urn:epc:id:sgtin:0614141.107346.2018"],
    "childQuantityList": [{"epcClass": "urn:epc:class:lgtin:0614141.107346.L42", "quantity": 10.50, "uom": "KGM"}],
    "action": "ADD", "bizStep": "packing"})";
  std::string transform = R"({"type": "TransformationEvent", "eventTime": "2024-03-01T12:00:00Z",
    "eventTimeZoneOffset": "+00:00", "inputEPCList": ["urn:epc:id:sgtin:0614141.107346.2017"],
    "outputEPCList": ["urn:epc:id:sgtin:0614141.107346.3000"],
    "ilmd": {"cbvmda:lotNumber": "L43"}})";
  auto doc = ParseDocument(Doc(packing + "," + transform));
  ASSERT_TRUE(doc.ok()) << doc.status().message();
  ASSERT_EQ(doc->events.size(), 2u);
  EXPECT_EQ(doc->events[0].parent_id, "https://id.gs1.org/00/106141412345678908");
  EXPECT_EQ(doc->events[0].child_epcs.size(), 2u);
  ASSERT_EQ(doc->events[0].child_quantity_list.size(), 1u);
  EXPECT_EQ(doc->events[0].child_quantity_list[0].epc_class, "https://id.gs1.org/01/10614141073464/10/L42");
  EXPECT_EQ(doc->events[0].child_quantity_list[0].quantity, "10.50");  // decimals travel as text
  EXPECT_EQ(doc->events[1].action, Action::kNone);
  EXPECT_EQ(doc->events[1].lot, "L43");
  EXPECT_EQ(doc->raw_events.size(), 2u);
  EXPECT_EQ(doc->raw_events[1], transform);
}

TEST(DocumentTest, QueryDocumentAndSingleEvent) {
  std::string query = std::string(R"({"@context": [)") + kContext + R"(], "type": "EPCISQueryDocument",
    "schemaVersion": "2.0", "creationDate": "2024-01-01T00:00:00Z", "epcisBody": {"queryResults":
    {"queryName": "SimpleEventQuery", "resultsBody": {"eventList": [)" + Commissioning() + "]}}}}";
  auto doc = ParseDocument(query);
  ASSERT_TRUE(doc.ok()) << doc.status().message();
  EXPECT_EQ(doc->kind, DocumentKind::kQueryDocument);
  EXPECT_EQ(doc->raw_events[0], Commissioning());

  std::string single = Commissioning(std::string(R"(, "@context": )") + kContext);
  doc = ParseDocument(single);
  ASSERT_TRUE(doc.ok()) << doc.status().message();
  EXPECT_EQ(doc->kind, DocumentKind::kEvent);
  EXPECT_EQ(doc->raw_events[0], single);
  auto again = HashStoredEvent(doc->raw_events[0], doc->context_json);
  ASSERT_TRUE(again.ok()) << again.status().message();
  EXPECT_EQ(again->hash_id, doc->events[0].hash_id);
}

TEST(DocumentTest, RefusesMissingFields) {
  EXPECT_EQ(Refusal(Edited(R"("action": "ADD", )", "")), "epcisBody.eventList[0].action: required");
  EXPECT_EQ(Refusal(Edited(R"("eventTimeZoneOffset": "+01:00",)", "")),
            "epcisBody.eventList[0].eventTimeZoneOffset: required");
  EXPECT_EQ(Refusal(Edited(R"({"id": "urn:epc:id:sgln:0614141.00777.0"})", "{}")),
            "epcisBody.eventList[0].readPoint.id: required");
  EXPECT_EQ(Refusal(Edited(R"("epcList": ["urn:epc:id:sgtin:0614141.107346.2017"], )", "")),
            "epcisBody.eventList[0]: an ObjectEvent needs epcList, a non-empty quantityList, or sensorElementList "
            "with readPoint");
  EXPECT_EQ(Refusal(Doc(R"({"type": "AggregationEvent", "eventTime": "2024-03-01T11:00:00Z",
    "eventTimeZoneOffset": "+00:00", "childEPCs": ["urn:epc:id:sgtin:0614141.107346.2017"], "action": "ADD"})")),
            "epcisBody.eventList[0].parentID: required when action is ADD or DELETE");
  EXPECT_EQ(Refusal(Doc(R"({"type": "TransactionEvent", "eventTime": "2024-03-01T11:00:00Z",
    "eventTimeZoneOffset": "+00:00", "epcList": [], "action": "ADD"})")),
            "epcisBody.eventList[0].bizTransactionList: required and non-empty");
  EXPECT_EQ(Refusal(R"({"@context": )" + std::string(kContext) + R"(, "type": "EPCISDocument",
    "creationDate": "2024-01-01T00:00:00Z", "epcisBody": {"eventList": []}})"),
            "schemaVersion: required");
  EXPECT_EQ(Refusal(R"({"@context": )" + std::string(kContext) + R"(, "type": "EPCISDocument",
    "schemaVersion": "2.0", "creationDate": "2024-01-01T00:00:00Z", "epcisBody": {}})"),
            "epcisBody.eventList: required");
}

TEST(DocumentTest, RefusesWrongTypes) {
  EXPECT_EQ(Refusal(Edited(R"("action": "ADD")", R"("action": "add")")),
            "epcisBody.eventList[0].action: must be ADD, OBSERVE or DELETE");
  EXPECT_EQ(Refusal(Edited(R"(["urn:epc:id:sgtin:0614141.107346.2017"])", R"("urn:epc:id:sgtin:0614141.107346.2017")")),
            "epcisBody.eventList[0].epcList: must be an array");
  EXPECT_EQ(Refusal(Edited(R"("bizStep": "commissioning")", R"("bizStep": 7)")),
            "epcisBody.eventList[0].bizStep: must be a string");
  EXPECT_EQ(Refusal(Edited(R"("eventTime": "2024-03-01T10:00:00.000+01:00")", R"("eventTime": "2024-03-01T10:00:00")")),
            "epcisBody.eventList[0].eventTime: must be an RFC 3339 date-time with a time zone offset, e.g. "
            "2020-03-04T11:00:30.000+01:00");
  EXPECT_EQ(Refusal(Edited(R"("eventTimeZoneOffset": "+01:00")", R"("eventTimeZoneOffset": "+15:00")")),
            "epcisBody.eventList[0].eventTimeZoneOffset: must be an offset from -14:00 to +14:00 written +hh:mm or "
            "-hh:mm");
  EXPECT_EQ(Refusal(Edited(R"("cbvmda:itemExpirationDate": "2026-06-30")", R"("cbvmda:itemExpirationDate": "260630")")),
            "epcisBody.eventList[0].ilmd.cbvmda:itemExpirationDate: must be a date YYYY-MM-DD");
  EXPECT_EQ(Refusal(Edited(R"("type": "ObjectEvent")", R"("type": "ThingEvent")")),
            "epcisBody.eventList[0].type: must be ObjectEvent, AggregationEvent, TransactionEvent, "
            "TransformationEvent or AssociationEvent");
  EXPECT_EQ(Refusal(Edited(R"("action": "ADD")", R"("action": "OBSERVE")")),
            "epcisBody.eventList[0].ilmd: only allowed with action ADD");
}

TEST(DocumentTest, RefusesBadUrisAndIdentifiers) {
  EXPECT_EQ(Refusal(Edited("urn:epc:id:sgtin:0614141.107346.2017", "not a uri")),
            "epcisBody.eventList[0].epcList[0]: must be an absolute URI");
  // The detail after "sgtin:" is identifiers.h's.
  EXPECT_EQ(Refusal(Edited("urn:epc:id:sgtin:0614141.107346.2017", "urn:epc:id:sgtin:0614141.10734.2017"))
                .rfind("epcisBody.eventList[0].epcList[0]: not a valid GS1 identifier: sgtin: ", 0),
            0u);
  EXPECT_EQ(Refusal(Edited("urn:epc:id:sgtin:0614141.107346.2017", "https://id.gs1.org/01/10614141073465/21/2017")),
            "epcisBody.eventList[0].epcList[0]: not a valid GS1 identifier: gtin: check digit 5 is wrong, expected 4");
  // The same pack twice, once as a URN and once as a Digital Link.
  EXPECT_EQ(Refusal(Edited(R"(["urn:epc:id:sgtin:0614141.107346.2017"])",
                           R"(["urn:epc:id:sgtin:0614141.107346.2017", "https://id.gs1.org/01/10614141073464/21/2017"])")),
            "epcisBody.eventList[0].epcList[1]: repeats an identifier already in the list");
}

TEST(DocumentTest, RefusesUnknownVocabularyAndFields) {
  EXPECT_EQ(Refusal(Edited(R"("bizStep": "commissioning")", R"("bizStep": "comissioning")")),
            "epcisBody.eventList[0].bizStep: unknown bizStep 'comissioning'");
  EXPECT_EQ(Refusal(Edited(R"("disposition": "active")", R"("disposition": "https://ref.gs1.org/cbv/Disp-actif")")),
            "epcisBody.eventList[0].disposition: unknown disposition 'actif'");
  EXPECT_EQ(Refusal(Edited(R"("action": "ADD")", R"("action": "ADD", "lotNumber": "L42")")),
            "epcisBody.eventList[0].lotNumber: unknown field; an extension field needs a namespace prefix declared "
            "in @context");
  EXPECT_EQ(Refusal(Edited(R"("action": "ADD")", R"("action": "ADD", "acme:lot": "L42")")),
            "epcisBody.eventList[0].acme:lot: prefix 'acme' is not declared in @context");
  EXPECT_EQ(Refusal(Edited(R"("action": "ADD")", R"("action": "ADD", "parentID": "urn:epc:id:sscc:0614141.1234567890")")),
            "epcisBody.eventList[0].parentID: not a field of ObjectEvent");
  EXPECT_EQ(Refusal(Edited(R"("cbvmda:lotNumber": "L42")", R"("lot": "L42")")),
            "epcisBody.eventList[0].ilmd.lot: unknown field; an extension field needs a namespace prefix declared "
            "in @context");
}

TEST(DocumentTest, RefusesMalformedStructuredFields) {
  EXPECT_EQ(Refusal(Doc(R"({"type": "TransformationEvent", "eventTime": "2024-03-01T12:00:00Z",
    "eventTimeZoneOffset": "+00:00", "action": "ADD", "inputEPCList": ["urn:epc:id:sgtin:0614141.107346.2017"],
    "outputEPCList": ["urn:epc:id:sgtin:0614141.107346.3000"]})")),
            "epcisBody.eventList[0].action: not a field of TransformationEvent");
  EXPECT_EQ(Refusal(Edited(R"("action": "ADD")", R"("action": "ADD", "bizTransactionList": [{"type": "po",
    "bizTransaction": "urn:epcglobal:cbv:bt:0614141000005:1", "note": "x"}])")),
            "epcisBody.eventList[0].bizTransactionList[0].note: not a field of a business transaction (type, "
            "bizTransaction)");
  EXPECT_EQ(Refusal(Edited(R"("action": "ADD")", R"("action": "ADD", "sourceList": [{"source":
    "urn:epc:id:pgln:0614141.00000"}])")),
            "epcisBody.eventList[0].sourceList[0].type: required");
  EXPECT_EQ(Refusal(Edited(R"("action": "ADD")", R"("action": "ADD", "persistentDisposition": {"set": []})")),
            "epcisBody.eventList[0].persistentDisposition.set: must be a non-empty array");
  EXPECT_EQ(Refusal(Edited(R"("action": "ADD")", R"("action": "ADD", "sensorElementList": [{"sensorReport":
    [{"value": 3}]}])")),
            "epcisBody.eventList[0].sensorElementList[0].sensorReport[0].type: required");
  EXPECT_EQ(Refusal(Edited(R"("action": "ADD")", R"("action": "ADD", "sensorElementList": [{"sensorReport":
    [{"type": "Temperature", "value": "26"}]}])")),
            "epcisBody.eventList[0].sensorElementList[0].sensorReport[0].value: must be a number");
  EXPECT_EQ(Refusal(Edited(R"("action": "ADD")", R"("action": "ADD", "sensorElementList": [{"sensorReport":
    [{"type": "Temprature"}]}])")),
            "epcisBody.eventList[0].sensorElementList[0].sensorReport[0].type: unknown sensorReport type "
            "'Temprature'");
  EXPECT_EQ(Refusal(Edited(R"("action": "ADD")", R"("action": "ADD", "quantityList": [{"epcClass":
    "urn:epc:class:lgtin:0614141.107346.L42", "quantity": "12"}])")),
            "epcisBody.eventList[0].quantityList[0].quantity: must be a number");
  EXPECT_EQ(Refusal(Edited(R"("action": "ADD")", R"("action": "ADD", "errorDeclaration": {"reason": "incorrect_data"})")),
            "epcisBody.eventList[0].errorDeclaration.declarationTime: required");
  EXPECT_EQ(Refusal(std::string(R"({"@context": [)") + kContext + R"(], "type": "EPCISQueryDocument",
    "epcisBody": {"queryResults": {"resultsBody": {"eventList": []}}}})"),
            "epcisBody.queryResults.queryName: required");
}

TEST(DocumentTest, KeepsDeclaredExtensions) {
  std::string event = Commissioning(R"(, "acme:batch": {"acme:line": 3, "acme:shift": ["a", "b"]},
                                        "https://ns.example.com/v/plain": "x")");
  auto doc = ParseDocument(Doc(event, R"(, {"acme": "https://ns.acme.example/epcis/"})"));
  ASSERT_TRUE(doc.ok()) << doc.status().message();
  EXPECT_EQ(doc->raw_events[0], event);
  // A nested key must be namespaced as well.
  EXPECT_EQ(Refusal(Doc(Commissioning(R"(, "acme:batch": {"line": 3})"), R"(, {"acme": "https://ns.acme.example/"})")),
            "epcisBody.eventList[0].acme:batch.line: unknown field; an extension field needs a namespace prefix "
            "declared in @context");
  // An event's own @context declares prefixes for that event only.
  std::string own = Commissioning(R"(, "@context": {"own": "https://own.example/"}, "own:x": "1")");
  EXPECT_TRUE(ParseDocument(Doc(own)).ok());
  EXPECT_EQ(Refusal(Doc(own + "," + Commissioning(R"(, "own:x": "1")"))),
            "epcisBody.eventList[1].own:x: prefix 'own' is not declared in @context");
}

TEST(DocumentTest, ContextRules) {
  EXPECT_EQ(Refusal(Doc(Commissioning(), R"(, "https://example.com/my-context.jsonld")")),
            "@context[1]: unknown JSON-LD context 'https://example.com/my-context.jsonld'; a node does not fetch "
            "contexts, and without its definitions the event hash cannot expand the document's keys");
  EXPECT_EQ(Refusal(R"({"@context": {"ex": "https://ex.example/"}, "type": "EPCISDocument", "schemaVersion": "2.0",
    "creationDate": "2024-01-01T00:00:00Z", "epcisBody": {"eventList": []}})"),
            "@context: must include the EPCIS 2.0 context https://ref.gs1.org/standards/epcis/epcis-context.jsonld");
  EXPECT_EQ(Refusal(Doc(Commissioning(), R"(, {"@vocab": "https://ex.example/"})")),
            "@context[1].@vocab: JSON-LD keyword not supported in an EPCIS context");
  EXPECT_EQ(Refusal(Doc(Commissioning(), R"(, {"gs1": "https://example.com/voc/"})")),
            "@context[1].gs1: redefines the EPCIS context's prefix 'gs1'");
  EXPECT_EQ(Refusal(Doc(Commissioning(), R"(, {"bizStep": {"@id": "https://ex.example/step"}})")),
            "@context[1].bizStep: redefines the EPCIS context's term 'bizStep'");
  // The GS1 Egypt healthcare context is built in; its terms are usable as keys.
  std::string hc = R"(, "https://ref.gs1eg.org/extensions/epcis/hc/2.0.0/hc-context.jsonld")";
  EXPECT_TRUE(ParseDocument(Doc(Commissioning(R"(, "recallReason": "labelling")"), hc)).ok());
  EXPECT_TRUE(ParseDocument(Doc(Commissioning(R"(, "dosageQuantityList": [{"dosageQuantity": {"quantity": 1}}])"), hc))
                  .ok());
}

TEST(DocumentTest, RefusesMalformedJson) {
  EXPECT_EQ(Refusal("{\"type\": "), "json: malformed JSON at byte 10");
  EXPECT_EQ(Refusal(Edited(R"("action": "ADD")", R"("action": "ADD", "action": "ADD")")),
            "json: duplicate key 'action'");
  EXPECT_EQ(Refusal("[]"), "the body must be a JSON object: an EPCISDocument");
  EXPECT_EQ(Refusal(Edited(R"("action": "ADD")", R"("action": "ADD", "acme:q": 1e-999)")), "json: number out of range");
}

TEST(DocumentTest, Limits) {
  ParseOptions small;
  small.max_events = 2;
  std::string three = Doc(Commissioning() + "," + Commissioning() + "," + Commissioning());
  auto doc = ParseDocument(three, small);
  ASSERT_FALSE(doc.ok());
  EXPECT_EQ(doc.status().code(), StatusCode::kTooLarge);
  EXPECT_EQ(doc.status().message(), "epcisBody.eventList: 3 events; at most 2 in one document");

  small = ParseOptions();
  small.json.max_bytes = 100;
  doc = ParseDocument(three, small);
  ASSERT_FALSE(doc.ok());
  EXPECT_EQ(doc.status().code(), StatusCode::kTooLarge);

  small = ParseOptions();
  small.json.max_values = 50;
  doc = ParseDocument(three, small);
  ASSERT_FALSE(doc.ok());
  EXPECT_EQ(doc.status().code(), StatusCode::kTooLarge);
  EXPECT_EQ(doc.status().message(), "json: more than 50 values");

  // Deep nesting stops at the limit, before any stack grows with it.
  std::string deep(100000, '[');
  EXPECT_EQ(Refusal(Doc(Commissioning(R"(, "acme:x": )" + deep))), "json: nested deeper than 32 levels");
}

}  // namespace
}  // namespace medledger::epcis
