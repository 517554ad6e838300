// Every published example document either parses, or, where it is
// deliberately invalid, is refused with a specific and correct message.
// The openly licensed ones are committed in tests/data/epcis; the gs1/EPCIS
// repository's examples (no explicit licence) are read from ../shared and
// skipped when it is absent.
#include <gtest/gtest.h>

#include <map>

#include "epcis/document.h"
#include "epcis/hash.h"
#include "epcis/test_data.h"

namespace medledger::epcis {
namespace {

namespace fs = std::filesystem;
using testing::ProjectData;
using testing::ReadFile;
using testing::SharedData;

// Parses `file`; every event must re-hash from its stored bytes to the same
// ID, and carry a hash ID of the right form.
void ExpectParses(const fs::path& file, size_t events) {
  SCOPED_TRACE(file.string());
  std::string body = ReadFile(file);
  ASSERT_FALSE(body.empty());
  auto doc = ParseDocument(body);
  ASSERT_TRUE(doc.ok()) << doc.status().message();
  EXPECT_EQ(doc->events.size(), events);
  for (size_t i = 0; i < doc->events.size(); ++i) {
    auto again = HashStoredEvent(doc->raw_events[i], doc->context_json);
    ASSERT_TRUE(again.ok()) << again.status().message();
    EXPECT_EQ(again->hash_id, doc->events[i].hash_id);
    EXPECT_EQ(doc->events[i].hash_id.rfind("ni:///sha-256;", 0), 0u);
    EXPECT_FALSE(doc->events[i].event_id.empty());
  }
}

void ExpectRefused(const fs::path& file, const std::string& message) {
  SCOPED_TRACE(file.string());
  std::string body = ReadFile(file);
  ASSERT_FALSE(body.empty());
  auto doc = ParseDocument(body);
  ASSERT_FALSE(doc.ok());
  EXPECT_EQ(doc.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(doc.status().message(), message);
}

TEST(ExamplesTest, OpenEpcisCaptureDocuments) {
  ExpectParses(ProjectData() / "openepcis/capture-documents/Namespaces_at_different_level.json", 5);
  // Its first event names a GRAI whose check digit is wrong (GS1 General
  // Specifications 7.9.1: 300134500077 has check digit 6, not 1): refused,
  // since packs and assets are keyed by their identifiers. With the check
  // digit right, the document parses.
  auto file = ProjectData() / "openepcis/capture-documents/Combination_of_different_event.json";
  ExpectRefused(file, "epcisBody.eventList[0].epcList[0]: not a valid GS1 identifier: grai: check digit 1 is wrong, "
                      "expected 6");
  std::string body = ReadFile(file);
  size_t at = body.find("/8003/030013450007718765");
  ASSERT_NE(at, std::string::npos);
  body.replace(at, 24, "/8003/030013450007768765");
  auto doc = ParseDocument(body);
  ASSERT_TRUE(doc.ok()) << doc.status().message();
  EXPECT_EQ(doc->events.size(), 6u);
}

TEST(ExamplesTest, OpenEpcisSingleEventParses) {
  auto file = ProjectData() / "openepcis/capture-bare-events/AggregationEvent.json";
  ExpectParses(file, 1);
  auto doc = ParseDocument(ReadFile(file));
  ASSERT_TRUE(doc.ok());
  EXPECT_EQ(doc->kind, DocumentKind::kEvent);
  EXPECT_TRUE(doc->context_json.empty());
  EXPECT_EQ(doc->events[0].type, EventType::kAggregation);
}

TEST(ExamplesTest, EgyptHealthcareCommissioningParses) {
  auto file = ProjectData() / "gs1-egypt-healthcare/GS1_Eg_EPCIS_Document.json";
  ExpectParses(file, 1);
  auto doc = ParseDocument(ReadFile(file));
  ASSERT_TRUE(doc.ok());
  const Event& e = doc->events[0];
  EXPECT_EQ(e.biz_step, "commissioning");
  EXPECT_EQ(e.action, Action::kAdd);
  ASSERT_EQ(e.epc_list.size(), 1u);
  EXPECT_EQ(e.epc_list[0].rfind("https://id.gs1.org/01/", 0), 0u);
}

TEST(ExamplesTest, OpenEpcisInvalidDocumentsAreRefused) {
  auto dir = ProjectData() / "openepcis/invalid";
  ExpectRefused(dir / "EPCISDocument_without_context.json",
                "@context: required: a JSON-LD document names the EPCIS 2.0 context "
                "https://ref.gs1.org/standards/epcis/epcis-context.jsonld");
  ExpectRefused(dir / "ObjectEvent_with_invalid_action.json",
                "epcisBody.eventList[0].action: must be ADD, OBSERVE or DELETE");
  ExpectRefused(dir / "ObjectEvent_with_invalid_eventTime_format.json",
                "epcisBody.eventList[0].eventTime: must be an RFC 3339 date-time with a time zone offset, e.g. "
                "2020-03-04T11:00:30.000+01:00");
  ExpectRefused(dir / "ObjectEvent_without_action_and_eventTime.json", "epcisBody.eventList[0].eventTime: required");
  ExpectRefused(dir / "Combination_of_events_with_missing_mandatory_fields.json",
                "epcisBody.eventList[0].action: required");
}

// The gs1/EPCIS repository's JSON-LD examples, from ../shared.
TEST(ExamplesTest, Gs1EpcisExamples) {
  fs::path dir = SharedData() / "gs1-epcis";
  if (!fs::exists(dir)) GTEST_SKIP() << dir << " is absent";
  const std::map<std::string, size_t> parses = {
      {"Example_9.6.1-ObjectEvent.jsonld", 2},
      {"Example_9.6.2-ObjectEvent.jsonld", 1},
      {"Example_9.6.3-AggregationEvent.jsonld", 1},
      {"Example_9.6.4-TransformationEvent.jsonld", 1},
      {"Example-TransactionEvents-2020_07_03y.jsonld", 2},
      {"Example-Type-sourceOrDestination,measurement,bizTransaction.jsonld", 1},
      {"PersistentDisposition-example.jsonld", 2},
      {"EPCISQueryDocument.jsonld", 2},
      {"WithDigitalLinkID/Example_9.6.1-ObjectEventWithDigitalLink.jsonld", 2},
      {"WithErrorDeclaration/ErrorDeclarationAndCorrectiveEvent.jsonld", 2},
      {"WithFullCombinationOfFields/object_event_all_possible_fields.jsonld", 1},
      {"WithFullCombinationOfFields/transaction_event_all_possible_fields.jsonld", 1},
      {"WithFullCombinationOfFields/association_event_all_possible_fields.jsonld", 1},
      {"WithFullCombinationOfFields/aggregation_event_all_possible_fields.jsonld", 1},
      {"AssociationEvent/AssociationEvent-a.jsonld", 1},
      {"AssociationEvent/AssociationEvent-b.jsonld", 1},
      {"WithSensorData/SensorDataExample1.jsonld", 1},
      {"WithSensorData/SensorDataExample2.jsonld", 1},
      {"WithSensorData/SensorDataExample8.jsonld", 1},
  };
  for (const auto& [name, events] : parses) ExpectParses(dir / name, events);
  // This example redefines the EPCIS context's cbvmda prefix
  // (urn:epcglobal:cbv:mda:) as http://example.com/cbvmda/. The EPCIS
  // context is @protected, so a JSON-LD 1.1 processor refuses the document
  // too; accepting it would make cbvmda:lotNumber mean two things.
  ExpectRefused(dir / "WithFullCombinationOfFields/transformation_event_all_possible_fields.jsonld",
                "@context[4].cbvmda: redefines the EPCIS context's prefix 'cbvmda'");
}

TEST(ExamplesTest, Gs1QueryDocumentAndErrorDeclaration) {
  fs::path dir = SharedData() / "gs1-epcis";
  if (!fs::exists(dir)) GTEST_SKIP() << dir << " is absent";
  auto query = ParseDocument(ReadFile(dir / "EPCISQueryDocument.jsonld"));
  ASSERT_TRUE(query.ok()) << query.status().message();
  EXPECT_EQ(query->kind, DocumentKind::kQueryDocument);
  auto errors = ParseDocument(ReadFile(dir / "WithErrorDeclaration/ErrorDeclarationAndCorrectiveEvent.jsonld"));
  ASSERT_TRUE(errors.ok()) << errors.status().message();
  int declarations = 0;
  for (const Event& e : errors->events) declarations += e.error_declaration.has_value();
  EXPECT_EQ(declarations, 1);
}

}  // namespace
}  // namespace medledger::epcis
