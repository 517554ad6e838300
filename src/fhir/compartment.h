// Which patient a resource belongs to, and how sensitive it is: the two facts
// the consent and access layers need from a FHIR resource. Nothing else is
// read from the resource (no names, no identifiers, no narrative).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fhir/json.h"

namespace medledger::fhir {

// "Patient/<id>" for the patient whose compartment holds `resource`:
//   - a Patient: itself (nullopt when it has no id yet);
//   - otherwise the first of `subject`, `patient`, `beneficiary`,
//     `individual` (top level) whose Reference.reference names a Patient,
//     written relative ("Patient/1", "Patient/1/_history/2") or absolute
//     ("https://host/fhir/Patient/1"); the result drops base and version.
// nullopt when none does (e.g. an Organization, or a reference still in
// urn:uuid: form: call RewriteReferences first).
std::optional<std::string> PatientReference(const Value& resource);

// medledger's sensitivity categories. Records in these categories need
// consent that names the category (42 CFR Part 2; state HIV and mental-health
// laws), and their disclosures are logged with the category.
enum class Sensitivity { kSubstanceUse, kHiv, kMentalHealth };
std::string_view SensitivityName(Sensitivity s);  // "substance-use", "hiv", "mental-health"

// The label codes in meta.security[].code, in order, without duplicates.
std::vector<std::string> SecurityLabelCodes(const Value& resource);

// The categories `resource` is labelled with, each once, in enum order.
// Mapping from HL7 v3 codes (ActCode sensitivity and privacy-law codes):
//   substance-use  ETH (substance abuse), ETHUD (alcohol use disorder),
//                  OPIOIDUD (opioid use disorder), SUD (substance use
//                  disorder), 42CFRPart2 (the US confidentiality rule itself)
//   hiv            HIV
//   mental-health  PSY (psychiatry), PSYTHPN (psychotherapy note),
//                  MH (mental health), BH (behavioural health)
// Codes match whatever their `system`: over-labelling fails safe (more
// consent is asked), under-labelling would disclose. Other codes (R, N, V,
// SEX, STD, SDV...) are returned by SecurityLabelCodes but map to nothing.
std::vector<Sensitivity> SensitivityCategories(const Value& resource);

}  // namespace medledger::fhir
