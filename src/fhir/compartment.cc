#include "fhir/compartment.h"

#include <algorithm>

namespace medledger::fhir {
namespace {

// "Patient/<id>" from a reference naming a Patient, else nullopt.
std::optional<std::string> PatientFromReference(std::string_view ref) {
  ref = ref.substr(0, ref.find("/_history/"));
  size_t pos;
  if (ref.rfind("Patient/", 0) == 0) {
    pos = 0;
  } else if (ref.find("://") != std::string_view::npos && (pos = ref.rfind("/Patient/")) != std::string_view::npos) {
    pos += 1;  // absolute: [base]/Patient/id
  } else {
    return std::nullopt;
  }
  std::string_view id = ref.substr(pos + 8);
  if (id.empty() || id.find_first_of("/?#") != std::string_view::npos) return std::nullopt;
  return "Patient/" + std::string(id);
}

}  // namespace

std::optional<std::string> PatientReference(const Value& resource) {
  const Value* rt = resource.Get("resourceType");
  if (rt == nullptr || !rt->is_string()) return std::nullopt;
  if (rt->string_value() == "Patient") {
    const Value* id = resource.Get("id");
    if (id == nullptr || !id->is_string() || id->string_value().empty()) return std::nullopt;
    return "Patient/" + id->string_value();
  }
  for (std::string_view key : {"subject", "patient", "beneficiary", "individual"}) {
    const Value* el = resource.Get(key);
    if (el == nullptr) continue;
    const Value* ref = el->Get("reference");
    if (ref == nullptr || !ref->is_string()) continue;
    if (auto p = PatientFromReference(ref->string_value())) return p;
  }
  return std::nullopt;
}

std::string_view SensitivityName(Sensitivity s) {
  switch (s) {
    case Sensitivity::kSubstanceUse: return "substance-use";
    case Sensitivity::kHiv: return "hiv";
    case Sensitivity::kMentalHealth: return "mental-health";
  }
  return "";
}

std::vector<std::string> SecurityLabelCodes(const Value& resource) {
  std::vector<std::string> codes;
  const Value* meta = resource.Get("meta");
  const Value* security = meta ? meta->Get("security") : nullptr;
  if (security == nullptr) return codes;
  for (const Value& coding : security->array()) {
    const Value* code = coding.Get("code");
    if (code == nullptr || !code->is_string()) continue;
    if (std::find(codes.begin(), codes.end(), code->string_value()) == codes.end())
      codes.push_back(code->string_value());
  }
  return codes;
}

std::vector<Sensitivity> SensitivityCategories(const Value& resource) {
  struct Row { std::string_view code; Sensitivity category; };
  static const Row kMap[] = {
      {"ETH", Sensitivity::kSubstanceUse}, {"ETHUD", Sensitivity::kSubstanceUse},
      {"OPIOIDUD", Sensitivity::kSubstanceUse}, {"SUD", Sensitivity::kSubstanceUse},
      {"42CFRPart2", Sensitivity::kSubstanceUse}, {"HIV", Sensitivity::kHiv},
      {"PSY", Sensitivity::kMentalHealth}, {"PSYTHPN", Sensitivity::kMentalHealth},
      {"MH", Sensitivity::kMentalHealth}, {"BH", Sensitivity::kMentalHealth},
  };
  bool has[3] = {false, false, false};
  for (const std::string& code : SecurityLabelCodes(resource))
    for (const Row& row : kMap)
      if (row.code == code) has[static_cast<int>(row.category)] = true;
  std::vector<Sensitivity> out;
  for (int i = 0; i < 3; ++i)
    if (has[i]) out.push_back(static_cast<Sensitivity>(i));
  return out;
}

}  // namespace medledger::fhir
