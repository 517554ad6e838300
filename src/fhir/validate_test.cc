#include "fhir/validate.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "fhir/test_util.h"

namespace medledger::fhir {
namespace {

Value J(std::string_view s) {
  auto r = Parse(s);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? std::move(r).value() : Value();
}

// Expects rejection with `location` at the start of the message.
void ExpectRejected(std::string_view json, std::string_view location) {
  Status st = ValidateResource(J(json));
  ASSERT_FALSE(st.ok()) << json;
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(st.message().rfind(std::string(location) + ":", 0), 0u) << st.message();
}

TEST(FhirValidate, AcceptsAllTestDataResources) {
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(testing::DataDir())) {
    if (entry.path().extension() != ".json") continue;
    ++files;
    Value v = testing::ParseData(entry.path().filename().string());
    ASSERT_FALSE(v.is_null()) << entry.path();
    Status st = ValidateResource(v);
    EXPECT_TRUE(st.ok()) << entry.path().filename() << ": " << st.message();
  }
  EXPECT_GE(files, 21);
}

TEST(FhirValidate, ResourceTypeList) {
  const auto& types = R4ResourceTypes();
  EXPECT_EQ(types.size(), 146u);  // 4.0.1 resourcelist: 143 DomainResources + Bundle, Binary, Parameters
  EXPECT_TRUE(std::is_sorted(types.begin(), types.end()));
  EXPECT_TRUE(IsR4ResourceType("MedicinalProductUndesirableEffect"));
  EXPECT_TRUE(IsR4ResourceType("Consent"));
  EXPECT_FALSE(IsR4ResourceType("DomainResource"));
  EXPECT_FALSE(IsR4ResourceType("patient"));
  EXPECT_FALSE(IsR4ResourceType("Citation"));  // R5 only
  EXPECT_TRUE(HasElementTable("Patient"));
  EXPECT_FALSE(HasElementTable("Medication"));
}

TEST(FhirValidate, RejectsUnknownOrMissingResourceType) {
  ExpectRejected(R"({"resourceType":"Patientt","id":"a"})", "resourceType");
  ExpectRejected(R"({"resourceType":"DomainResource"})", "resourceType");
  ExpectRejected(R"({"resourceType":7})", "resourceType");
  ExpectRejected(R"({"id":"a"})", "$this");
  EXPECT_FALSE(ValidateResource(J("[]")).ok());
  ExpectRejected(R"({"resourceType":"Bundle","type":"batch","entry":[{"resource":{"resourceType":"Nope"}}]})",
                 "Bundle.entry[0].resource.resourceType");
}

TEST(FhirValidate, RejectsBadIds) {
  ExpectRejected(R"({"resourceType":"Patient","id":"has space"})", "Patient.id");
  ExpectRejected(R"({"resourceType":"Patient","id":"a_b"})", "Patient.id");
  ExpectRejected(R"({"resourceType":"Patient","id":""})", "Patient.id");
  ExpectRejected(R"({"resourceType":"Patient","id":12})", "Patient.id");
  ExpectRejected(R"({"resourceType":"Basic","id":")" + std::string(65, 'a') + R"(","code":{"text":"x"}})",
                 "Basic.id");
  EXPECT_TRUE(ValidateResource(J(R"({"resourceType":"Patient","id":")" + std::string(64, 'a') + "\"}")).ok());
  EXPECT_TRUE(ValidateResource(J(R"({"resourceType":"Patient","id":"A-1.b"})")).ok());
  EXPECT_TRUE(IsValidId("0e99785d-8f2a-45c7-848c-d6b31d1aa50e"));
}

TEST(FhirValidate, Meta) {
  EXPECT_TRUE(ValidateResource(J(R"({"resourceType":"Patient","meta":{"versionId":"3",
      "lastUpdated":"2024-01-02T03:04:05.123Z","security":[{"code":"R"}],"tag":[{"code":"x"}],
      "profile":["http://x"]}})")).ok());
  ExpectRejected(R"({"resourceType":"Patient","meta":{"versionId":"a b"}})", "Patient.meta.versionId");
  ExpectRejected(R"({"resourceType":"Patient","meta":{"lastUpdated":"2024-01-02"}})", "Patient.meta.lastUpdated");
  ExpectRejected(R"({"resourceType":"Patient","meta":{"lastUpdated":"2024-01-02T03:04:05"}})",
                 "Patient.meta.lastUpdated");
  ExpectRejected(R"({"resourceType":"Patient","meta":[]})", "Patient.meta");
  ExpectRejected(R"({"resourceType":"Patient","meta":{"security":{"code":"R"}}})", "Patient.meta.security");
  ExpectRejected(R"({"resourceType":"Patient","meta":{"owner":"x"}})", "Patient.meta.owner");
  ExpectRejected(R"({"resourceType":"Medication","meta":{"profile":"http://x"}})", "Medication.meta.profile");
}

TEST(FhirValidate, WrongElementTypesOnKnownTypes) {
  ExpectRejected(R"({"resourceType":"Patient","active":"yes"})", "Patient.active");
  ExpectRejected(R"({"resourceType":"Patient","birthDate":12})", "Patient.birthDate");
  ExpectRejected(R"({"resourceType":"Patient","birthDate":"1970-02-30"})", "Patient.birthDate");
  ExpectRejected(R"({"resourceType":"Patient","birthDate":"1970-01-01T00:00:00Z"})", "Patient.birthDate");
  ExpectRejected(R"({"resourceType":"Patient","name":"x"})", "Patient.name");
  ExpectRejected(R"({"resourceType":"Patient","name":["x"]})", "Patient.name[0]");
  ExpectRejected(R"({"resourceType":"Patient","gender":["male"]})", "Patient.gender");
  ExpectRejected(R"({"resourceType":"Patient","managingOrganization":[{"reference":"Organization/1"}]})",
                 "Patient.managingOrganization");
  ExpectRejected(R"({"resourceType":"Patient","deceasedBoolean":"false"})", "Patient.deceasedBoolean");
  ExpectRejected(R"({"resourceType":"Patient","deceasedBoolean":false,"deceasedDateTime":"2020"})",
                 "Patient.deceasedDateTime");
  ExpectRejected(R"({"resourceType":"Patient","deceasedString":"x"})", "Patient.deceasedString");
  ExpectRejected(R"({"resourceType":"Patient","multipleBirthInteger":1.5})", "Patient.multipleBirthInteger");
  ExpectRejected(R"({"resourceType":"Observation","status":"final","code":{"text":"x"},"valueQuantity":5})",
                 "Observation.valueQuantity");
  ExpectRejected(R"({"resourceType":"Observation","status":"final","code":{"text":"x"},"issued":"2020-01-01"})",
                 "Observation.issued");
  ExpectRejected(R"({"resourceType":"Observation","status":"final","code":{"text":"x"},"valueTime":"25:00:00"})",
                 "Observation.valueTime");
  ExpectRejected(R"({"resourceType":"AuditEvent","type":{"code":"rest"},"recorded":"2020-01-01T00:00:00Z",
      "agent":{"requestor":true},"source":{"observer":{"display":"x"}}})", "AuditEvent.agent");
  ExpectRejected(R"({"resourceType":"Bundle","type":"batch","total":"3"})", "Bundle.total");
}

TEST(FhirValidate, UnknownAndMissingElements) {
  ExpectRejected(R"({"resourceType":"Patient","nickname":"x"})", "Patient.nickname");
  ExpectRejected(R"({"resourceType":"Patient","_nickname":{"id":"x"}})", "Patient._nickname");
  ExpectRejected(R"({"resourceType":"Bundle","type":"batch","text":{"status":"generated","div":"<div/>"}})",
                 "Bundle.text");  // Bundle is not a DomainResource
  ExpectRejected(R"({"resourceType":"Observation","code":{"text":"x"}})", "Observation.status");
  ExpectRejected(R"({"resourceType":"Immunization","status":"completed","vaccineCode":{"text":"x"},
      "patient":{"reference":"Patient/1"}})", "Immunization.occurrence[x]");
  // R5 shapes fail R4 validation.
  ExpectRejected(R"({"resourceType":"AuditEvent","code":{"text":"rest"},"recorded":"2020-01-01T00:00:00Z",
      "agent":[{"who":{"display":"x"}}],"source":{"observer":{"display":"x"}}})", "AuditEvent.code");
  // Types outside the table are lenient about unknown elements...
  EXPECT_TRUE(ValidateResource(J(R"({"resourceType":"Medication","whatever":{"a":1}})")).ok());
  // ...but not about the conventions.
  ExpectRejected(R"({"resourceType":"Medication","whatever":{"startDate":"yesterday"}})",
                 "Medication.whatever.startDate");
  ExpectRejected(R"({"resourceType":"Medication","id":"m","contained":[{"resourceType":"Patient","active":1}]})",
                 "Medication.contained[0].active");
}

TEST(FhirValidate, Conventions) {
  ExpectRejected(R"({"resourceType":"Patient","extension":{"url":"u","valueString":"x"}})", "Patient.extension");
  ExpectRejected(R"({"resourceType":"Patient","extension":[{"valueString":"x"}]})", "Patient.extension[0].url");
  ExpectRejected(R"({"resourceType":"Patient","extension":[{"url":"u"}]})", "Patient.extension[0]");
  ExpectRejected(R"({"resourceType":"Patient","extension":[{"url":"u","valueString":"x","valueCode":"y"}]})",
                 "Patient.extension[0]");
  ExpectRejected(R"({"resourceType":"Patient","extension":[{"url":"u","valueBoolean":"true"}]})",
                 "Patient.extension[0].valueBoolean");
  ExpectRejected(R"({"resourceType":"Patient","name":[{"id":5,"family":"x"}]})", "Patient.name[0].id");
  ExpectRejected(R"({"resourceType":"Patient","name":[{"family":""}]})", "Patient.name[0].family");
  ExpectRejected(R"({"resourceType":"Patient","name":[]})", "Patient.name");
  ExpectRejected(R"({"resourceType":"Patient","name":[{}]})", "Patient.name[0]");
  ExpectRejected(R"({"resourceType":"Patient","text":"hello"})", "Patient.text");
  ExpectRejected(R"({"resourceType":"Patient","text":{"status":"generated"}})", "Patient.text.div");
  ExpectRejected(R"({"resourceType":"Patient","_birthDate":"x"})", "Patient._birthDate");
  ExpectRejected(R"({"resourceType":"Patient","contained":{"resourceType":"Patient"}})", "Patient.contained");
  EXPECT_TRUE(ValidateResource(J(R"({"resourceType":"Patient","birthDate":"1974-12-25",
      "_birthDate":{"extension":[{"url":"http://hl7.org/fhir/StructureDefinition/patient-birthTime",
      "valueDateTime":"1974-12-25T14:35:45-05:00"}]}})")).ok());
}

// Regression: each of these once got 201 from the write API.
TEST(FhirValidate, StatusMustBeACodeOfItsRequiredValueSet) {
  ExpectRejected(R"({"resourceType":"Observation","status":"bogus","code":{"text":"x"}})", "Observation.status");
  ExpectRejected(R"({"resourceType":"Encounter","status":"done","class":{"code":"AMB"}})", "Encounter.status");
  ExpectRejected(R"({"resourceType":"Consent","status":"Active","scope":{"text":"x"},"category":[{"text":"x"}]})",
                 "Consent.status");
  ExpectRejected(R"({"resourceType":"Goal","lifecycleStatus":"bogus","description":{"text":"x"},
      "subject":{"reference":"Patient/1"}})", "Goal.lifecycleStatus");
  ExpectRejected(R"({"resourceType":"ResearchSubject","status":"enrolled","study":{"reference":"ResearchStudy/1"},
      "individual":{"reference":"Patient/1"}})", "ResearchSubject.status");
  for (const char* ok : {"registered", "preliminary", "final", "amended", "corrected", "cancelled",
                         "entered-in-error", "unknown"}) {
    std::string obs = R"({"resourceType":"Observation","status":")" + std::string(ok) + R"(","code":{"text":"x"}})";
    EXPECT_TRUE(ValidateResource(J(obs)).ok()) << ok;
  }
  EXPECT_TRUE(ValidateResource(J(R"({"resourceType":"ResearchSubject","status":"on-study-intervention",
      "study":{"reference":"ResearchStudy/1"},"individual":{"reference":"Patient/1"}})")).ok());
  // The message names the element, not the value.
  Status st = ValidateResource(J(R"({"resourceType":"Observation","status":"SECRET","code":{"text":"x"}})"));
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.message().find("SECRET"), std::string::npos) << st.message();
}

TEST(FhirValidate, QuantityElements) {
  const std::string head = R"({"resourceType":"Observation","status":"final","code":{"text":"x"},)";
  ExpectRejected(head + R"("valueQuantity":{"value":"abc","unit":"mmol/L"}})", "Observation.valueQuantity.value");
  ExpectRejected(head + R"("valueQuantity":{"value":5.4,"colour":"red"}})", "Observation.valueQuantity.colour");
  ExpectRejected(head + R"("valueQuantity":{"value":5.4,"comparator":"about"}})",
                 "Observation.valueQuantity.comparator");
  ExpectRejected(head + R"("valueQuantity":{"value":5.4,"unit":["mmol/L"]}})", "Observation.valueQuantity.unit");
  EXPECT_TRUE(ValidateResource(J(head + R"("valueQuantity":{"value":5.40,"comparator":"<=","unit":"mmol/L",
      "system":"http://unitsofmeasure.org","code":"mmol/L","id":"q","extension":[{"url":"u","valueString":"x"}]}})"))
                  .ok());
  // Its profiles are Quantities too.
  ExpectRejected(R"({"resourceType":"Condition","subject":{"reference":"Patient/1"},"onsetAge":{"value":"ten"}})",
                 "Condition.onsetAge.value");
  ExpectRejected(R"({"resourceType":"Immunization","status":"completed","vaccineCode":{"text":"x"},
      "patient":{"reference":"Patient/1"},"occurrenceDateTime":"2020","doseQuantity":{"amount":1}})",
                 "Immunization.doseQuantity.amount");
}

TEST(FhirValidate, CodingAndCodeableConceptElements) {
  const std::string head = R"({"resourceType":"Observation","status":"final",)";
  ExpectRejected(head + R"("code":{"coding":"8302-2"}})", "Observation.code.coding");
  ExpectRejected(head + R"("code":{"coding":[{"system":5,"code":"8302-2"}]}})", "Observation.code.coding[0].system");
  ExpectRejected(head + R"("code":{"coding":[{"code":"8302-2","userSelected":"yes"}]}})",
                 "Observation.code.coding[0].userSelected");
  ExpectRejected(head + R"("code":{"coding":[{"code":"8302-2","label":"x"}]}})", "Observation.code.coding[0].label");
  ExpectRejected(head + R"("code":{"text":"x","codes":[]}})", "Observation.code.codes");
  ExpectRejected(head + R"("code":[{"text":"x"}]})", "Observation.code");
  ExpectRejected(R"({"resourceType":"Encounter","status":"finished","class":{"code":{"value":"AMB"}}})",
                 "Encounter.class.code");
  // Meta.security and tag are Codings.
  ExpectRejected(R"({"resourceType":"Patient","meta":{"tag":[{"system":7}]}})", "Patient.meta.tag[0].system");
  // So is an extension's valueCoding, on any resource type.
  ExpectRejected(R"({"resourceType":"Medication","extension":[{"url":"u","valueCoding":{"system":1}}]})",
                 "Medication.extension[0].valueCoding.system");
  EXPECT_TRUE(ValidateResource(J(head + R"("code":{"coding":[{"system":"http://loinc.org","version":"2.7",
      "code":"8302-2","display":"Body height","userSelected":true}],"text":"height"}})")).ok());
}

TEST(FhirValidate, IdentifierReferenceAndPeriodElements) {
  ExpectRejected(R"({"resourceType":"Patient","identifier":[{"system":"urn:x","value":12}]})",
                 "Patient.identifier[0].value");
  ExpectRejected(R"({"resourceType":"Patient","identifier":[{"use":"primary","value":"1"}]})",
                 "Patient.identifier[0].use");
  ExpectRejected(R"({"resourceType":"Patient","identifier":[{"type":{"coding":[{"code":3}]},"value":"1"}]})",
                 "Patient.identifier[0].type.coding[0].code");
  ExpectRejected(R"({"resourceType":"Patient","identifier":[{"value":"1","period":{"start":"yesterday"}}]})",
                 "Patient.identifier[0].period.start");
  ExpectRejected(R"({"resourceType":"Patient","managingOrganization":{"reference":"Organization/1","org":"x"}})",
                 "Patient.managingOrganization.org");
  ExpectRejected(R"({"resourceType":"Patient","managingOrganization":{"identifier":{"value":1}}})",
                 "Patient.managingOrganization.identifier.value");
  ExpectRejected(R"({"resourceType":"Patient","managingOrganization":"Organization/1"})",
                 "Patient.managingOrganization");
  ExpectRejected(R"({"resourceType":"Encounter","status":"finished","class":{"code":"AMB"},
      "period":{"start":"2020-01-01","finish":"2020-01-02"}})", "Encounter.period.finish");
  EXPECT_TRUE(ValidateResource(J(R"({"resourceType":"Patient","identifier":[{"use":"official",
      "type":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v2-0203","code":"MR"}]},
      "system":"urn:x","value":"1","period":{"start":"2020","end":"2021-02-03T04:05:06Z"},
      "assigner":{"display":"x"}}],"managingOrganization":{"reference":"Organization/1",
      "type":"Organization","identifier":{"value":"o1"},"display":"x"}})")).ok());
}

TEST(FhirValidate, IntegersAre32Bit) {
  EXPECT_TRUE(ValidateResource(J(R"({"resourceType":"Patient","multipleBirthInteger":2147483647})")).ok());
  EXPECT_TRUE(ValidateResource(J(R"({"resourceType":"Bundle","type":"batch","total":0})")).ok());
  ExpectRejected(R"({"resourceType":"Patient","multipleBirthInteger":2147483648})", "Patient.multipleBirthInteger");
  ExpectRejected(R"({"resourceType":"Patient","multipleBirthInteger":-2147483649})", "Patient.multipleBirthInteger");
  ExpectRejected(R"({"resourceType":"Patient","multipleBirthInteger":99999999999999999999999})",
                 "Patient.multipleBirthInteger");
  ExpectRejected(R"({"resourceType":"Bundle","type":"batch","total":4294967296})", "Bundle.total");
  // The naming conventions apply everywhere, with the sign of the type.
  ExpectRejected(R"({"resourceType":"Medication","extension":[{"url":"u","valueInteger":3000000000}]})",
                 "Medication.extension[0].valueInteger");
  ExpectRejected(R"({"resourceType":"Medication","extension":[{"url":"u","valuePositiveInt":0}]})",
                 "Medication.extension[0].valuePositiveInt");
  ExpectRejected(R"({"resourceType":"Medication","extension":[{"url":"u","valueUnsignedInt":-1}]})",
                 "Medication.extension[0].valueUnsignedInt");
  EXPECT_TRUE(ValidateResource(J(R"({"resourceType":"Medication","extension":[{"url":"u",
      "valueUnsignedInt":0}]})")).ok());
}

TEST(FhirValidate, StringsHoldNoControlCharacters) {
  ExpectRejected(R"({"resourceType":"Patient","name":[{"family":"a\u0000b"}]})", "Patient.name[0].family");
  ExpectRejected(R"({"resourceType":"Patient","gender":"male\u001f"})", "Patient.gender");
  ExpectRejected(R"({"resourceType":"Medication","whatever":{"note":"\u0007"}})", "Medication.whatever.note");
  ExpectRejected(R"({"resourceType":"Patient","name":[{"id":"a\u0001","family":"x"}]})", "Patient.name[0].id");
  ExpectRejected(R"({"resourceType":"Patient","text":{"status":"generated","div":"<div>\u0000</div>"}})",
                 "Patient.text.div");
  EXPECT_TRUE(ValidateResource(J(R"({"resourceType":"Patient","name":[{"text":"tab\there\r\nnext line"}]})")).ok());
  EXPECT_TRUE(ValidateResource(J(R"({"resourceType":"Patient","name":[{"text":"Mej\u00eda \u00e9\u00e8"}]})")).ok());
}

TEST(FhirValidate, PrimitiveFormats) {
  for (const char* ok : {"2020", "2020-02", "2020-02-29", "2000-02-29", "0001-01-01"}) EXPECT_TRUE(IsValidDate(ok)) << ok;
  for (const char* bad : {"0000", "20", "2020-1", "2020-13", "2021-02-29", "1900-02-29", "2020-04-31", "2020-01-01T"})
    EXPECT_FALSE(IsValidDate(bad)) << bad;
  for (const char* ok : {"2020", "2020-02-29T23:59:60Z", "2019-05-31T17:06:03-04:00", "2020-01-01T00:00:00.123+14:00"})
    EXPECT_TRUE(IsValidDateTime(ok)) << ok;
  for (const char* bad : {"2020-01-01T10:00Z", "2020-01-01T10:00:00", "2020-01-01T24:00:00Z", "2020-01T10:00:00Z",
                          "2020-01-01T10:00:00+14:30", "2020-01-01T10:00:00.Z", "2020-01-01 10:00:00Z"})
    EXPECT_FALSE(IsValidDateTime(bad)) << bad;
  EXPECT_TRUE(IsValidInstant("2015-02-07T13:28:17.239+02:00"));
  EXPECT_FALSE(IsValidInstant("2015-02-07"));
  EXPECT_TRUE(IsValidTime("13:28:17.5"));
  EXPECT_FALSE(IsValidTime("13:28"));
}

TEST(FhirValidate, FormatInstant) {
  EXPECT_EQ(FormatInstant(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(FormatInstant(1796322916607), "2026-12-03T18:35:16.607Z");
  EXPECT_EQ(FormatInstant(951782400000), "2000-02-29T00:00:00.000Z");  // a leap day
  EXPECT_EQ(FormatInstant(-1), "1969-12-31T23:59:59.999Z");           // before 1970: floor, not truncation
  EXPECT_EQ(FormatInstant(253402300799999), "9999-12-31T23:59:59.999Z");
  for (int64_t ms : {int64_t(0), int64_t(-1), int64_t(1796322916607), int64_t(253402300799999)})
    EXPECT_TRUE(IsValidInstant(FormatInstant(ms))) << ms;
}

TEST(FhirValidate, MessagesDoNotQuoteValues) {
  Status st = ValidateResource(J(R"({"resourceType":"Patient","birthDate":"SECRET-1970"})"));
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.message().find("SECRET"), std::string::npos);
}

}  // namespace
}  // namespace medledger::fhir
