// The element table: the top-level elements of the FHIR R4 (4.0.1) resource
// types that medledger stores most (what Synthea writes, plus the consent,
// audit and research resources the ledger itself reasons about). Each row is
// the element's name, JSON form, cardinality and, for choice elements, the
// allowed type suffixes, transcribed from the R4 resource definitions
// (http://hl7.org/fhir/R4/<type>.html). Inherited Resource/DomainResource
// elements (id, meta, implicitRules, language, text, contained, extension,
// modifierExtension) are handled in validate.cc and not repeated here.
//
// To add a type: list every top-level element of its R4 definition (leaving
// one out makes valid resources fail), then add a test resource.
#include "fhir/validate_table.h"

#include <algorithm>

namespace medledger::fhir::internal {
namespace {

// Row builders: Opt = 0..1, Req = 1..1, Arr = 0..*, ReqArr = 1..*.
Element Opt(std::string_view n, Kind k) { return {n, k, false, false}; }
Element Req(std::string_view n, Kind k) { return {n, k, false, true}; }
Element Arr(std::string_view n, Kind k = Kind::kObject) { return {n, k, true, false}; }
Element ReqArr(std::string_view n, Kind k = Kind::kObject) { return {n, k, true, true}; }
Element Choice(std::string_view n, std::string_view types, bool required = false) {
  return {n, Kind::kChoice, false, required, types};
}

constexpr Kind S = Kind::kString;
constexpr Kind B = Kind::kBoolean;
constexpr Kind I = Kind::kInteger;
constexpr Kind O = Kind::kObject;
constexpr Kind D = Kind::kDate;
constexpr Kind DT = Kind::kDateTime;
constexpr Kind IN = Kind::kInstant;

std::vector<TypeTable> BuildTables() {
  std::vector<TypeTable> t;
  t.push_back({"AuditEvent", true, {
      Req("type", O), Arr("subtype"), Opt("action", S), Opt("period", O), Req("recorded", IN),
      Opt("outcome", S), Opt("outcomeDesc", S), Arr("purposeOfEvent"), ReqArr("agent"), Req("source", O),
      Arr("entity")}});
  t.push_back({"Bundle", false, {
      Opt("identifier", O), Req("type", S), Opt("timestamp", IN), Opt("total", I), Arr("link"), Arr("entry"),
      Opt("signature", O)}});
  t.push_back({"CarePlan", true, {
      Arr("identifier"), Arr("instantiatesCanonical", S), Arr("instantiatesUri", S), Arr("basedOn"),
      Arr("replaces"), Arr("partOf"), Req("status", S), Req("intent", S), Arr("category"), Opt("title", S),
      Opt("description", S), Req("subject", O), Opt("encounter", O), Opt("period", O), Opt("created", DT),
      Opt("author", O), Arr("contributor"), Arr("careTeam"), Arr("addresses"), Arr("supportingInfo"),
      Arr("goal"), Arr("activity"), Arr("note")}});
  t.push_back({"Claim", true, {
      Arr("identifier"), Req("status", S), Req("type", O), Opt("subType", O), Req("use", S), Req("patient", O),
      Opt("billablePeriod", O), Req("created", DT), Opt("enterer", O), Opt("insurer", O), Req("provider", O),
      Req("priority", O), Opt("fundsReserve", O), Arr("related"), Opt("prescription", O),
      Opt("originalPrescription", O), Opt("payee", O), Opt("referral", O), Opt("facility", O), Arr("careTeam"),
      Arr("supportingInfo"), Arr("diagnosis"), Arr("procedure"), ReqArr("insurance"), Opt("accident", O),
      Arr("item"), Opt("total", O)}});
  t.push_back({"Condition", true, {
      Arr("identifier"), Opt("clinicalStatus", O), Opt("verificationStatus", O), Arr("category"),
      Opt("severity", O), Opt("code", O), Arr("bodySite"), Req("subject", O), Opt("encounter", O),
      Choice("onset", "DateTime Age Period Range String"), Choice("abatement", "DateTime Age Period Range String"),
      Opt("recordedDate", DT), Opt("recorder", O), Opt("asserter", O), Arr("stage"), Arr("evidence"),
      Arr("note")}});
  t.push_back({"Consent", true, {
      Arr("identifier"), Req("status", S), Req("scope", O), ReqArr("category"), Opt("patient", O),
      Opt("dateTime", DT), Arr("performer"), Arr("organization"), Choice("source", "Attachment Reference"),
      Arr("policy"), Opt("policyRule", O), Arr("verification"), Opt("provision", O)}});
  t.push_back({"DiagnosticReport", true, {
      Arr("identifier"), Arr("basedOn"), Req("status", S), Arr("category"), Req("code", O), Opt("subject", O),
      Opt("encounter", O), Choice("effective", "DateTime Period"), Opt("issued", IN), Arr("performer"),
      Arr("resultsInterpreter"), Arr("specimen"), Arr("result"), Arr("imagingStudy"), Arr("media"),
      Opt("conclusion", S), Arr("conclusionCode"), Arr("presentedForm")}});
  t.push_back({"DocumentReference", true, {
      Opt("masterIdentifier", O), Arr("identifier"), Req("status", S), Opt("docStatus", S), Opt("type", O),
      Arr("category"), Opt("subject", O), Opt("date", IN), Arr("author"), Opt("authenticator", O),
      Opt("custodian", O), Arr("relatesTo"), Opt("description", S), Arr("securityLabel"), ReqArr("content"),
      Opt("context", O)}});
  t.push_back({"Encounter", true, {
      Arr("identifier"), Req("status", S), Arr("statusHistory"), Req("class", O), Arr("classHistory"),
      Arr("type"), Opt("serviceType", O), Opt("priority", O), Opt("subject", O), Arr("episodeOfCare"),
      Arr("basedOn"), Arr("participant"), Arr("appointment"), Opt("period", O), Opt("length", O),
      Arr("reasonCode"), Arr("reasonReference"), Arr("diagnosis"), Arr("account"), Opt("hospitalization", O),
      Arr("location"), Opt("serviceProvider", O), Opt("partOf", O)}});
  t.push_back({"ExplanationOfBenefit", true, {
      Arr("identifier"), Req("status", S), Req("type", O), Opt("subType", O), Req("use", S), Req("patient", O),
      Opt("billablePeriod", O), Req("created", DT), Opt("enterer", O), Req("insurer", O), Req("provider", O),
      Opt("priority", O), Opt("fundsReserveRequested", O), Opt("fundsReserve", O), Arr("related"),
      Opt("prescription", O), Opt("originalPrescription", O), Opt("payee", O), Opt("referral", O),
      Opt("facility", O), Opt("claim", O), Opt("claimResponse", O), Req("outcome", S), Opt("disposition", S),
      Arr("preAuthRef", S), Arr("preAuthRefPeriod"), Arr("careTeam"), Arr("supportingInfo"), Arr("diagnosis"),
      Arr("procedure"), Opt("precedence", I), ReqArr("insurance"), Opt("accident", O), Arr("item"),
      Arr("addItem"), Arr("adjudication"), Arr("total"), Opt("payment", O), Opt("formCode", O), Opt("form", O),
      Arr("processNote"), Opt("benefitPeriod", O), Arr("benefitBalance")}});
  t.push_back({"Goal", true, {
      Arr("identifier"), Req("lifecycleStatus", S), Opt("achievementStatus", O), Arr("category"),
      Opt("priority", O), Req("description", O), Req("subject", O), Choice("start", "Date CodeableConcept"),
      Arr("target"), Opt("statusDate", D), Opt("statusReason", S), Opt("expressedBy", O), Arr("addresses"),
      Arr("note"), Arr("outcomeCode"), Arr("outcomeReference")}});
  t.push_back({"Immunization", true, {
      Arr("identifier"), Req("status", S), Opt("statusReason", O), Req("vaccineCode", O), Req("patient", O),
      Opt("encounter", O), Choice("occurrence", "DateTime String", true), Opt("recorded", DT),
      Opt("primarySource", B), Opt("reportOrigin", O), Opt("location", O), Opt("manufacturer", O),
      Opt("lotNumber", S), Opt("expirationDate", D), Opt("site", O), Opt("route", O), Opt("doseQuantity", O),
      Arr("performer"), Arr("note"), Arr("reasonCode"), Arr("reasonReference"), Opt("isSubpotent", B),
      Arr("subpotentReason"), Arr("education"), Arr("programEligibility"), Opt("fundingSource", O),
      Arr("reaction"), Arr("protocolApplied")}});
  t.push_back({"MedicationRequest", true, {
      Arr("identifier"), Req("status", S), Opt("statusReason", O), Req("intent", S), Arr("category"),
      Opt("priority", S), Opt("doNotPerform", B), Choice("reported", "Boolean Reference"),
      Choice("medication", "CodeableConcept Reference", true), Req("subject", O), Opt("encounter", O),
      Arr("supportingInformation"), Opt("authoredOn", DT), Opt("requester", O), Opt("performer", O),
      Opt("performerType", O), Opt("recorder", O), Arr("reasonCode"), Arr("reasonReference"),
      Arr("instantiatesCanonical", S), Arr("instantiatesUri", S), Arr("basedOn"), Opt("groupIdentifier", O),
      Opt("courseOfTherapyType", O), Arr("insurance"), Arr("note"), Arr("dosageInstruction"),
      Opt("dispenseRequest", O), Opt("substitution", O), Opt("priorPrescription", O), Arr("detectedIssue"),
      Arr("eventHistory")}});
  t.push_back({"Observation", true, {
      Arr("identifier"), Arr("basedOn"), Arr("partOf"), Req("status", S), Arr("category"), Req("code", O),
      Opt("subject", O), Arr("focus"), Opt("encounter", O), Choice("effective", "DateTime Period Timing Instant"),
      Opt("issued", IN), Arr("performer"),
      Choice("value", "Quantity CodeableConcept String Boolean Integer Range Ratio SampledData Time DateTime Period"),
      Opt("dataAbsentReason", O), Arr("interpretation"), Arr("note"), Opt("bodySite", O), Opt("method", O),
      Opt("specimen", O), Opt("device", O), Arr("referenceRange"), Arr("hasMember"), Arr("derivedFrom"),
      Arr("component")}});
  t.push_back({"Organization", true, {
      Arr("identifier"), Opt("active", B), Arr("type"), Opt("name", S), Arr("alias", S), Arr("telecom"),
      Arr("address"), Opt("partOf", O), Arr("contact"), Arr("endpoint")}});
  t.push_back({"Patient", true, {
      Arr("identifier"), Opt("active", B), Arr("name"), Arr("telecom"), Opt("gender", S), Opt("birthDate", D),
      Choice("deceased", "Boolean DateTime"), Arr("address"), Opt("maritalStatus", O),
      Choice("multipleBirth", "Boolean Integer"), Arr("photo"), Arr("contact"), Arr("communication"),
      Arr("generalPractitioner"), Opt("managingOrganization", O), Arr("link")}});
  t.push_back({"Practitioner", true, {
      Arr("identifier"), Opt("active", B), Arr("name"), Arr("telecom"), Arr("address"), Opt("gender", S),
      Opt("birthDate", D), Arr("photo"), Arr("qualification"), Arr("communication")}});
  t.push_back({"Procedure", true, {
      Arr("identifier"), Arr("instantiatesCanonical", S), Arr("instantiatesUri", S), Arr("basedOn"),
      Arr("partOf"), Req("status", S), Opt("statusReason", O), Opt("category", O), Opt("code", O),
      Req("subject", O), Opt("encounter", O), Choice("performed", "DateTime Period String Age Range"),
      Opt("recorder", O), Opt("asserter", O), Arr("performer"), Opt("location", O), Arr("reasonCode"),
      Arr("reasonReference"), Arr("bodySite"), Opt("outcome", O), Arr("report"), Arr("complication"),
      Arr("complicationDetail"), Arr("followUp"), Arr("note"), Arr("focalDevice"), Arr("usedReference"),
      Arr("usedCode")}});
  t.push_back({"Provenance", true, {
      ReqArr("target"), Choice("occurred", "Period DateTime"), Req("recorded", IN), Arr("policy", S),
      Opt("location", O), Arr("reason"), Opt("activity", O), ReqArr("agent"), Arr("entity"), Arr("signature")}});
  t.push_back({"ResearchStudy", true, {
      Arr("identifier"), Opt("title", S), Arr("protocol"), Arr("partOf"), Req("status", S),
      Opt("primaryPurposeType", O), Opt("phase", O), Arr("category"), Arr("focus"), Arr("condition"),
      Arr("contact"), Arr("relatedArtifact"), Arr("keyword"), Arr("location"), Opt("description", S),
      Arr("enrollment"), Opt("period", O), Opt("sponsor", O), Opt("principalInvestigator", O), Arr("site"),
      Opt("reasonStopped", O), Arr("note"), Arr("arm"), Arr("objective")}});
  t.push_back({"ResearchSubject", true, {
      Arr("identifier"), Req("status", S), Opt("period", O), Req("study", O), Req("individual", O),
      Opt("assignedArm", S), Opt("actualArm", S), Opt("consent", O)}});
  std::sort(t.begin(), t.end(), [](const TypeTable& a, const TypeTable& b) { return a.type < b.type; });
  return t;
}

}  // namespace

const TypeTable* FindTypeTable(std::string_view resource_type) {
  static const std::vector<TypeTable> kTables = BuildTables();
  auto it = std::lower_bound(kTables.begin(), kTables.end(), resource_type,
                             [](const TypeTable& t, std::string_view n) { return t.type < n; });
  return (it != kTables.end() && it->type == resource_type) ? &*it : nullptr;
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
