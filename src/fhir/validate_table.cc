// The element table: the top-level elements of the FHIR R4 (4.0.1) resource
// types that medledger stores most (what Synthea writes, plus the consent,
// audit and research resources the ledger itself reasons about). Each row is
// the element's name, JSON form, cardinality and, for choice elements, the
// allowed type suffixes, transcribed from the R4 resource definitions
// (http://hl7.org/fhir/R4/<type>.html). Inherited Resource/DomainResource
// elements (id, meta, implicitRules, language, text, contained, extension,
// modifierExtension) are handled in validate.cc and not repeated here.
//
// Elements of the six checked datatypes (Quantity, Coding, CodeableConcept,
// Identifier, Reference, Period) carry their kind; other complex types and
// backbone elements are kObject. `status` elements carry their required
// value set.
//
// To add a type: list every top-level element of its R4 definition (leaving
// one out makes valid resources fail), then add a test resource.
#include "fhir/validate_table.h"

#include <algorithm>

namespace medledger::fhir::internal {
namespace {

// Row builders: Opt = 0..1, Req = 1..1, Arr = 0..*, ReqArr = 1..*; ReqCode
// and OptCode: a code with a required binding to `codes`.
Element Opt(std::string_view n, Kind k) { return {n, k, false, false}; }
Element Req(std::string_view n, Kind k) { return {n, k, false, true}; }
Element Arr(std::string_view n, Kind k = Kind::kObject) { return {n, k, true, false}; }
Element ReqArr(std::string_view n, Kind k = Kind::kObject) { return {n, k, true, true}; }
Element Choice(std::string_view n, std::string_view types, bool required = false) {
  return {n, Kind::kChoice, false, required, types};
}
Element ReqCode(std::string_view n, std::string_view codes) { return {n, Kind::kString, false, true, {}, codes}; }
Element OptCode(std::string_view n, std::string_view codes) { return {n, Kind::kString, false, false, {}, codes}; }

constexpr Kind S = Kind::kString;
constexpr Kind B = Kind::kBoolean;
constexpr Kind I = Kind::kInteger;
constexpr Kind O = Kind::kObject;
constexpr Kind D = Kind::kDate;
constexpr Kind DT = Kind::kDateTime;
constexpr Kind IN = Kind::kInstant;
constexpr Kind DEC = Kind::kDecimal;
constexpr Kind Q = Kind::kQuantity;
constexpr Kind CD = Kind::kCoding;
constexpr Kind CC = Kind::kCodeableConcept;
constexpr Kind IDF = Kind::kIdentifier;
constexpr Kind R = Kind::kReference;
constexpr Kind P = Kind::kPeriod;

// The required value sets of the `status` elements (FHIR R4 4.0.1,
// http://hl7.org/fhir/R4/valueset-<name>.html; a required binding admits no
// other code).
constexpr std::string_view kRequestStatus = "draft active on-hold revoked completed entered-in-error unknown";
constexpr std::string_view kFmStatus = "active cancelled draft entered-in-error";
constexpr std::string_view kClaimUse = "claim preauthorization predetermination";
constexpr std::string_view kRemittanceOutcome = "queued complete error partial";
constexpr std::string_view kPublicationStatus = "draft active retired unknown";
constexpr std::string_view kTaskStatus =
    "draft requested received accepted rejected ready cancelled in-progress on-hold failed completed entered-in-error";
constexpr std::string_view kTaskIntent =
    "unknown proposal plan order original-order reflex-order filler-order instance-order option";
constexpr std::string_view kRequestPriority = "routine urgent asap stat";
constexpr std::string_view kConsentState = "draft proposed active rejected inactive entered-in-error";
constexpr std::string_view kDiagnosticReportStatus =
    "registered partial preliminary final amended corrected appended cancelled entered-in-error unknown";
constexpr std::string_view kDocumentReferenceStatus = "current superseded entered-in-error";
constexpr std::string_view kEncounterStatus =
    "planned arrived triaged in-progress onleave finished cancelled entered-in-error unknown";
constexpr std::string_view kGoalStatus =
    "proposed planned accepted active on-hold completed cancelled entered-in-error rejected";
constexpr std::string_view kImmunizationStatus = "completed entered-in-error not-done";
constexpr std::string_view kMedicationRequestStatus =
    "active on-hold cancelled completed entered-in-error stopped draft unknown";
constexpr std::string_view kObservationStatus =
    "registered preliminary final amended corrected cancelled entered-in-error unknown";
constexpr std::string_view kEventStatus =
    "preparation in-progress not-done on-hold stopped completed entered-in-error unknown";
constexpr std::string_view kResearchStudyStatus =
    "active administratively-completed approved closed-to-accrual closed-to-accrual-and-intervention completed "
    "disapproved in-review temporarily-closed-to-accrual temporarily-closed-to-accrual-and-intervention withdrawn";
constexpr std::string_view kResearchSubjectStatus =
    "candidate eligible follow-up ineligible not-registered off-study on-study on-study-intervention "
    "on-study-observation pending-on-study potential-candidate screening withdrawn";

std::vector<TypeTable> BuildTables() {
  std::vector<TypeTable> t;
  t.push_back({"AuditEvent", true, {
      Req("type", CD), Arr("subtype", CD), Opt("action", S), Opt("period", P), Req("recorded", IN),
      Opt("outcome", S), Opt("outcomeDesc", S), Arr("purposeOfEvent", CC), ReqArr("agent"), Req("source", O),
      Arr("entity")}});
  t.push_back({"Bundle", false, {
      Opt("identifier", IDF), Req("type", S), Opt("timestamp", IN), Opt("total", I), Arr("link"), Arr("entry"),
      Opt("signature", O)}});
  t.push_back({"CarePlan", true, {
      Arr("identifier", IDF), Arr("instantiatesCanonical", S), Arr("instantiatesUri", S), Arr("basedOn", R),
      Arr("replaces", R), Arr("partOf", R), ReqCode("status", kRequestStatus), Req("intent", S), Arr("category", CC),
      Opt("title", S), Opt("description", S), Req("subject", R), Opt("encounter", R), Opt("period", P),
      Opt("created", DT), Opt("author", R), Arr("contributor", R), Arr("careTeam", R), Arr("addresses", R),
      Arr("supportingInfo", R), Arr("goal", R), Arr("activity"), Arr("note")}});
  t.push_back({"Claim", true, {
      Arr("identifier", IDF), ReqCode("status", kFmStatus), Req("type", CC), Opt("subType", CC), Req("use", S),
      Req("patient", R), Opt("billablePeriod", P), Req("created", DT), Opt("enterer", R), Opt("insurer", R),
      Req("provider", R), Req("priority", CC), Opt("fundsReserve", CC), Arr("related"), Opt("prescription", R),
      Opt("originalPrescription", R), Opt("payee", O), Opt("referral", R), Opt("facility", R), Arr("careTeam"),
      Arr("supportingInfo"), Arr("diagnosis"), Arr("procedure"), ReqArr("insurance"), Opt("accident", O),
      Arr("item"), Opt("total", O)}});
  t.push_back({"ClaimResponse", true, {
      Arr("identifier", IDF), ReqCode("status", kFmStatus), Req("type", CC), Opt("subType", CC),
      ReqCode("use", kClaimUse), Req("patient", R), Req("created", DT), Req("insurer", R), Opt("requestor", R),
      Opt("request", R), ReqCode("outcome", kRemittanceOutcome), Opt("disposition", S), Opt("preAuthRef", S),
      Opt("preAuthPeriod", P), Opt("payeeType", CC), Arr("item"), Arr("addItem"), Arr("adjudication"), Arr("total"),
      Opt("payment", O), Opt("fundsReserve", CC), Opt("formCode", CC), Opt("form", O), Arr("processNote"),
      Arr("communicationRequest", R), Arr("insurance"), Arr("error")}});
  t.push_back({"Coverage", true, {
      Arr("identifier", IDF), ReqCode("status", kFmStatus), Opt("type", CC), Opt("policyHolder", R),
      Opt("subscriber", R), Opt("subscriberId", S), Req("beneficiary", R), Opt("dependent", S),
      Opt("relationship", CC), Opt("period", P), ReqArr("payor", R), Arr("class"), Opt("order", I),
      Opt("network", S), Arr("costToBeneficiary"), Opt("subrogation", B), Arr("contract", R)}});
  t.push_back({"Condition", true, {
      Arr("identifier", IDF), Opt("clinicalStatus", CC), Opt("verificationStatus", CC), Arr("category", CC),
      Opt("severity", CC), Opt("code", CC), Arr("bodySite", CC), Req("subject", R), Opt("encounter", R),
      Choice("onset", "DateTime Age Period Range String"), Choice("abatement", "DateTime Age Period Range String"),
      Opt("recordedDate", DT), Opt("recorder", R), Opt("asserter", R), Arr("stage"), Arr("evidence"),
      Arr("note")}});
  t.push_back({"Consent", true, {
      Arr("identifier", IDF), ReqCode("status", kConsentState), Req("scope", CC), ReqArr("category", CC),
      Opt("patient", R), Opt("dateTime", DT), Arr("performer", R), Arr("organization", R),
      Choice("source", "Attachment Reference"), Arr("policy"), Opt("policyRule", CC), Arr("verification"),
      Opt("provision", O)}});
  t.push_back({"DiagnosticReport", true, {
      Arr("identifier", IDF), Arr("basedOn", R), ReqCode("status", kDiagnosticReportStatus), Arr("category", CC),
      Req("code", CC), Opt("subject", R), Opt("encounter", R), Choice("effective", "DateTime Period"),
      Opt("issued", IN), Arr("performer", R), Arr("resultsInterpreter", R), Arr("specimen", R), Arr("result", R),
      Arr("imagingStudy", R), Arr("media"), Opt("conclusion", S), Arr("conclusionCode", CC),
      Arr("presentedForm")}});
  t.push_back({"DocumentReference", true, {
      Opt("masterIdentifier", IDF), Arr("identifier", IDF), ReqCode("status", kDocumentReferenceStatus),
      Opt("docStatus", S), Opt("type", CC), Arr("category", CC), Opt("subject", R), Opt("date", IN),
      Arr("author", R), Opt("authenticator", R), Opt("custodian", R), Arr("relatesTo"), Opt("description", S),
      Arr("securityLabel", CC), ReqArr("content"), Opt("context", O)}});
  t.push_back({"Encounter", true, {
      Arr("identifier", IDF), ReqCode("status", kEncounterStatus), Arr("statusHistory"), Req("class", CD),
      Arr("classHistory"), Arr("type", CC), Opt("serviceType", CC), Opt("priority", CC), Opt("subject", R),
      Arr("episodeOfCare", R), Arr("basedOn", R), Arr("participant"), Arr("appointment", R), Opt("period", P),
      Opt("length", Q), Arr("reasonCode", CC), Arr("reasonReference", R), Arr("diagnosis"), Arr("account", R),
      Opt("hospitalization", O), Arr("location"), Opt("serviceProvider", R), Opt("partOf", R)}});
  t.push_back({"ExplanationOfBenefit", true, {
      Arr("identifier", IDF), ReqCode("status", kFmStatus), Req("type", CC), Opt("subType", CC), Req("use", S),
      Req("patient", R), Opt("billablePeriod", P), Req("created", DT), Opt("enterer", R), Req("insurer", R),
      Req("provider", R), Opt("priority", CC), Opt("fundsReserveRequested", CC), Opt("fundsReserve", CC),
      Arr("related"), Opt("prescription", R), Opt("originalPrescription", R), Opt("payee", O),
      Opt("referral", R), Opt("facility", R), Opt("claim", R), Opt("claimResponse", R), Req("outcome", S),
      Opt("disposition", S), Arr("preAuthRef", S), Arr("preAuthRefPeriod", P), Arr("careTeam"),
      Arr("supportingInfo"), Arr("diagnosis"), Arr("procedure"), Opt("precedence", I), ReqArr("insurance"),
      Opt("accident", O), Arr("item"), Arr("addItem"), Arr("adjudication"), Arr("total"), Opt("payment", O),
      Opt("formCode", CC), Opt("form", O), Arr("processNote"), Opt("benefitPeriod", P), Arr("benefitBalance")}});
  t.push_back({"Goal", true, {
      Arr("identifier", IDF), ReqCode("lifecycleStatus", kGoalStatus), Opt("achievementStatus", CC),
      Arr("category", CC), Opt("priority", CC), Req("description", CC), Req("subject", R),
      Choice("start", "Date CodeableConcept"), Arr("target"), Opt("statusDate", D), Opt("statusReason", S),
      Opt("expressedBy", R), Arr("addresses", R), Arr("note"), Arr("outcomeCode", CC),
      Arr("outcomeReference", R)}});
  t.push_back({"Immunization", true, {
      Arr("identifier", IDF), ReqCode("status", kImmunizationStatus), Opt("statusReason", CC),
      Req("vaccineCode", CC), Req("patient", R), Opt("encounter", R), Choice("occurrence", "DateTime String", true),
      Opt("recorded", DT), Opt("primarySource", B), Opt("reportOrigin", CC), Opt("location", R),
      Opt("manufacturer", R), Opt("lotNumber", S), Opt("expirationDate", D), Opt("site", CC), Opt("route", CC),
      Opt("doseQuantity", Q), Arr("performer"), Arr("note"), Arr("reasonCode", CC), Arr("reasonReference", R),
      Opt("isSubpotent", B), Arr("subpotentReason", CC), Arr("education"), Arr("programEligibility", CC),
      Opt("fundingSource", CC), Arr("reaction"), Arr("protocolApplied")}});
  t.push_back({"MedicationRequest", true, {
      Arr("identifier", IDF), ReqCode("status", kMedicationRequestStatus), Opt("statusReason", CC),
      Req("intent", S), Arr("category", CC), Opt("priority", S), Opt("doNotPerform", B),
      Choice("reported", "Boolean Reference"), Choice("medication", "CodeableConcept Reference", true),
      Req("subject", R), Opt("encounter", R), Arr("supportingInformation", R), Opt("authoredOn", DT),
      Opt("requester", R), Opt("performer", R), Opt("performerType", CC), Opt("recorder", R),
      Arr("reasonCode", CC), Arr("reasonReference", R), Arr("instantiatesCanonical", S),
      Arr("instantiatesUri", S), Arr("basedOn", R), Opt("groupIdentifier", IDF), Opt("courseOfTherapyType", CC),
      Arr("insurance", R), Arr("note"), Arr("dosageInstruction"), Opt("dispenseRequest", O),
      Opt("substitution", O), Opt("priorPrescription", R), Arr("detectedIssue", R), Arr("eventHistory", R)}});
  t.push_back({"Observation", true, {
      Arr("identifier", IDF), Arr("basedOn", R), Arr("partOf", R), ReqCode("status", kObservationStatus),
      Arr("category", CC), Req("code", CC), Opt("subject", R), Arr("focus", R), Opt("encounter", R),
      Choice("effective", "DateTime Period Timing Instant"), Opt("issued", IN), Arr("performer", R),
      Choice("value", "Quantity CodeableConcept String Boolean Integer Range Ratio SampledData Time DateTime Period"),
      Opt("dataAbsentReason", CC), Arr("interpretation", CC), Arr("note"), Opt("bodySite", CC),
      Opt("method", CC), Opt("specimen", R), Opt("device", R), Arr("referenceRange"), Arr("hasMember", R),
      Arr("derivedFrom", R), Arr("component")}});
  t.push_back({"Organization", true, {
      Arr("identifier", IDF), Opt("active", B), Arr("type", CC), Opt("name", S), Arr("alias", S), Arr("telecom"),
      Arr("address"), Opt("partOf", R), Arr("contact"), Arr("endpoint", R)}});
  t.push_back({"Patient", true, {
      Arr("identifier", IDF), Opt("active", B), Arr("name"), Arr("telecom"), Opt("gender", S),
      Opt("birthDate", D), Choice("deceased", "Boolean DateTime"), Arr("address"), Opt("maritalStatus", CC),
      Choice("multipleBirth", "Boolean Integer"), Arr("photo"), Arr("contact"), Arr("communication"),
      Arr("generalPractitioner", R), Opt("managingOrganization", R), Arr("link")}});
  t.push_back({"PlanDefinition", true, {
      Opt("url", S), Arr("identifier", IDF), Opt("version", S), Opt("name", S), Opt("title", S), Opt("subtitle", S),
      Opt("type", CC), ReqCode("status", kPublicationStatus), Opt("experimental", B),
      Choice("subject", "CodeableConcept Reference"), Opt("date", DT), Opt("publisher", S), Arr("contact"),
      Opt("description", S), Arr("useContext"), Arr("jurisdiction", CC), Opt("purpose", S), Opt("usage", S),
      Opt("copyright", S), Opt("approvalDate", D), Opt("lastReviewDate", D), Opt("effectivePeriod", P),
      Arr("topic", CC), Arr("author"), Arr("editor"), Arr("reviewer"), Arr("endorser"), Arr("relatedArtifact"),
      Arr("library", S), Arr("goal"), Arr("action")}});
  t.push_back({"Practitioner", true, {
      Arr("identifier", IDF), Opt("active", B), Arr("name"), Arr("telecom"), Arr("address"), Opt("gender", S),
      Opt("birthDate", D), Arr("photo"), Arr("qualification"), Arr("communication", CC)}});
  t.push_back({"Procedure", true, {
      Arr("identifier", IDF), Arr("instantiatesCanonical", S), Arr("instantiatesUri", S), Arr("basedOn", R),
      Arr("partOf", R), ReqCode("status", kEventStatus), Opt("statusReason", CC), Opt("category", CC),
      Opt("code", CC), Req("subject", R), Opt("encounter", R),
      Choice("performed", "DateTime Period String Age Range"), Opt("recorder", R), Opt("asserter", R),
      Arr("performer"), Opt("location", R), Arr("reasonCode", CC), Arr("reasonReference", R),
      Arr("bodySite", CC), Opt("outcome", CC), Arr("report", R), Arr("complication", CC),
      Arr("complicationDetail", R), Arr("followUp", CC), Arr("note"), Arr("focalDevice"),
      Arr("usedReference", R), Arr("usedCode", CC)}});
  t.push_back({"Provenance", true, {
      ReqArr("target", R), Choice("occurred", "Period DateTime"), Req("recorded", IN), Arr("policy", S),
      Opt("location", R), Arr("reason", CC), Opt("activity", CC), ReqArr("agent"), Arr("entity"),
      Arr("signature")}});
  t.push_back({"ResearchStudy", true, {
      Arr("identifier", IDF), Opt("title", S), Arr("protocol", R), Arr("partOf", R),
      ReqCode("status", kResearchStudyStatus), Opt("primaryPurposeType", CC), Opt("phase", CC),
      Arr("category", CC), Arr("focus", CC), Arr("condition", CC), Arr("contact"), Arr("relatedArtifact"),
      Arr("keyword", CC), Arr("location", CC), Opt("description", S), Arr("enrollment", R), Opt("period", P),
      Opt("sponsor", R), Opt("principalInvestigator", R), Arr("site", R), Opt("reasonStopped", CC), Arr("note"),
      Arr("arm"), Arr("objective")}});
  t.push_back({"ResearchSubject", true, {
      Arr("identifier", IDF), ReqCode("status", kResearchSubjectStatus), Opt("period", P), Req("study", R),
      Req("individual", R), Opt("assignedArm", S), Opt("actualArm", S), Opt("consent", R)}});
  std::sort(t.begin(), t.end(), [](const TypeTable& a, const TypeTable& b) { return a.type < b.type; });
  t.push_back({"Task", true, {
      Arr("identifier", IDF), Opt("instantiatesCanonical", S), Opt("instantiatesUri", S), Arr("basedOn", R),
      Opt("groupIdentifier", IDF), Arr("partOf", R), ReqCode("status", kTaskStatus), Opt("statusReason", CC),
      Opt("businessStatus", CC), ReqCode("intent", kTaskIntent), OptCode("priority", kRequestPriority),
      Opt("code", CC), Opt("description", S), Opt("focus", R), Opt("for", R), Opt("encounter", R),
      Opt("executionPeriod", P), Opt("authoredOn", DT), Opt("lastModified", DT), Opt("requester", R),
      Arr("performerType", CC), Opt("owner", R), Opt("location", R), Opt("reasonCode", CC),
      Opt("reasonReference", R), Arr("insurance", R), Arr("note"), Arr("relevantHistory", R),
      Opt("restriction", O), Arr("input"), Arr("output")}});
  return t;
}

}  // namespace

const TypeTable* FindTypeTable(std::string_view resource_type) {
  static const std::vector<TypeTable> kTables = BuildTables();
  auto it = std::lower_bound(kTables.begin(), kTables.end(), resource_type,
                             [](const TypeTable& t, std::string_view n) { return t.type < n; });
  return (it != kTables.end() && it->type == resource_type) ? &*it : nullptr;
}

// The six datatypes whose elements are checked (R4 4.0.1,
// http://hl7.org/fhir/R4/datatypes.html). Element and extension are their
// only inherited members (id, extension), handled in validate.cc.
const TypeTable* FindDatatypeTable(Kind kind) {
  static const TypeTable kQuantityTable{"Quantity", false, {
      Opt("value", DEC), OptCode("comparator", "< <= >= >"), Opt("unit", S), Opt("system", S), Opt("code", S)},
      true};
  static const TypeTable kCodingTable{"Coding", false, {
      Opt("system", S), Opt("version", S), Opt("code", S), Opt("display", S), Opt("userSelected", B)}, true};
  static const TypeTable kCodeableConceptTable{"CodeableConcept", false, {Arr("coding", CD), Opt("text", S)}, true};
  static const TypeTable kIdentifierTable{"Identifier", false, {
      OptCode("use", "usual official temp secondary old"), Opt("type", CC), Opt("system", S), Opt("value", S),
      Opt("period", P), Opt("assigner", R)}, true};
  static const TypeTable kReferenceTable{"Reference", false, {
      Opt("reference", S), Opt("type", S), Opt("identifier", IDF), Opt("display", S)}, true};
  static const TypeTable kPeriodTable{"Period", false, {Opt("start", DT), Opt("end", DT)}, true};
  switch (kind) {
    case Kind::kQuantity: return &kQuantityTable;
    case Kind::kCoding: return &kCodingTable;
    case Kind::kCodeableConcept: return &kCodeableConceptTable;
    case Kind::kIdentifier: return &kIdentifierTable;
    case Kind::kReference: return &kReferenceTable;
    case Kind::kPeriod: return &kPeriodTable;
    default: return nullptr;
  }
}

Kind DatatypeKind(std::string_view t) {
  if (t == "Quantity" || t == "Age" || t == "Count" || t == "Distance" || t == "Duration" ||
      t == "SimpleQuantity" || t == "MoneyQuantity")
    return Kind::kQuantity;
  if (t == "Coding") return Kind::kCoding;
  if (t == "CodeableConcept") return Kind::kCodeableConcept;
  if (t == "Identifier") return Kind::kIdentifier;
  if (t == "Reference") return Kind::kReference;
  if (t == "Period") return Kind::kPeriod;
  return Kind::kObject;
}

const std::vector<std::string_view>& ResourceTypeNames() {
  // FHIR R4 4.0.1 http://hl7.org/fhir/R4/resourcelist.html, sorted.
  static const std::vector<std::string_view> kNames = {
      "Account", "ActivityDefinition", "AdverseEvent", "AllergyIntolerance", "Appointment",
      "AppointmentResponse", "AuditEvent", "Basic", "Binary", "BiologicallyDerivedProduct", "BodyStructure",
      "Bundle", "CapabilityStatement", "CarePlan", "CareTeam", "CatalogEntry", "ChargeItem",
      "ChargeItemDefinition", "Claim", "ClaimResponse", "ClinicalImpression", "CodeSystem", "Communication",
      "CommunicationRequest", "CompartmentDefinition", "Composition", "ConceptMap", "Condition", "Consent",
      "Contract", "Coverage", "CoverageEligibilityRequest", "CoverageEligibilityResponse", "DetectedIssue",
      "Device", "DeviceDefinition", "DeviceMetric", "DeviceRequest", "DeviceUseStatement", "DiagnosticReport",
      "DocumentManifest", "DocumentReference", "EffectEvidenceSynthesis", "Encounter", "Endpoint",
      "EnrollmentRequest", "EnrollmentResponse", "EpisodeOfCare", "EventDefinition", "Evidence",
      "EvidenceVariable", "ExampleScenario", "ExplanationOfBenefit", "FamilyMemberHistory", "Flag", "Goal",
      "GraphDefinition", "Group", "GuidanceResponse", "HealthcareService", "ImagingStudy", "Immunization",
      "ImmunizationEvaluation", "ImmunizationRecommendation", "ImplementationGuide", "InsurancePlan", "Invoice",
      "Library", "Linkage", "List", "Location", "Measure", "MeasureReport", "Media", "Medication",
      "MedicationAdministration", "MedicationDispense", "MedicationKnowledge", "MedicationRequest",
      "MedicationStatement", "MedicinalProduct", "MedicinalProductAuthorization",
      "MedicinalProductContraindication", "MedicinalProductIndication", "MedicinalProductIngredient",
      "MedicinalProductInteraction", "MedicinalProductManufactured", "MedicinalProductPackaged",
      "MedicinalProductPharmaceutical", "MedicinalProductUndesirableEffect", "MessageDefinition",
      "MessageHeader", "MolecularSequence", "NamingSystem", "NutritionOrder", "Observation",
      "ObservationDefinition", "OperationDefinition", "OperationOutcome", "Organization",
      "OrganizationAffiliation", "Parameters", "Patient", "PaymentNotice", "PaymentReconciliation", "Person",
      "PlanDefinition", "Practitioner", "PractitionerRole", "Procedure", "Provenance", "Questionnaire",
      "QuestionnaireResponse", "RelatedPerson", "RequestGroup", "ResearchDefinition",
      "ResearchElementDefinition", "ResearchStudy", "ResearchSubject", "RiskAssessment",
      "RiskEvidenceSynthesis", "Schedule", "SearchParameter", "ServiceRequest", "Slot", "Specimen",
      "SpecimenDefinition", "StructureDefinition", "StructureMap", "Subscription", "Substance",
      "SubstanceNucleicAcid", "SubstancePolymer", "SubstanceProtein", "SubstanceReferenceInformation",
      "SubstanceSourceMaterial", "SubstanceSpecification", "SupplyDelivery", "SupplyRequest", "Task",
      "TerminologyCapabilities", "TestReport", "TestScript", "ValueSet", "VerificationResult",
      "VisionPrescription"};
  return kNames;
}

}  // namespace medledger::fhir::internal
