// The CapabilityStatement served at GET [base]/metadata (FHIR R4 4.0.1): what
// the server supports. The caller lists the resources, interactions and
// search parameters by hand (api/fhir_write.cc, CapabilityJson), not from
// the routes: a route added or removed there must be added or removed in
// that list too. Pure: the date is passed in.
#pragma once

#include <string>
#include <vector>

namespace medledger::fhir {

// R4 TypeRestfulInteraction codes.
enum class Interaction { kRead, kVread, kUpdate, kPatch, kDelete, kHistoryInstance, kHistoryType, kCreate, kSearchType };
std::string_view InteractionName(Interaction i);  // "read", "vread", "history-instance", "search-type", ...

struct SearchParam {
  std::string name;  // "patient"
  std::string type;  // number, date, string, token, reference, composite, quantity, uri, special
};

struct ResourceCapability {
  std::string type;  // an R4 resource type, e.g. "Patient"
  std::vector<Interaction> interactions;
  std::vector<SearchParam> search_params;
  bool conditional_create = false;
  bool conditional_update = false;
};

struct CapabilityOptions {
  std::string date;              // FHIR dateTime of the statement, e.g. build or start time
  std::string software_name = "medledger";
  std::string software_version;  // omitted when empty
  std::string implementation_url;  // base URL; implementation omitted when empty
  std::vector<ResourceCapability> resources;
  bool transaction = true;       // system interaction "transaction"
  bool batch = true;             // system interaction "batch"
};

// JSON text of the statement: status active, kind instance, fhirVersion
// 4.0.1, format [json, application/fhir+json], one rest entry in mode
// server. Resources appear in the order given; versioning "versioned",
// readHistory true when vread is supported.
std::string CapabilityStatement(const CapabilityOptions& options);

}  // namespace medledger::fhir
