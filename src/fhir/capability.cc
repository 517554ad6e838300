#include "fhir/capability.h"

#include <algorithm>

#include "fhir/json.h"

namespace medledger::fhir {
namespace {

Value Obj(std::initializer_list<std::pair<std::string_view, Value>> members) {
  Value v = Value::MakeObject();
  for (const auto& [k, m] : members) v.Set(k, m);
  return v;
}

}  // namespace

std::string_view InteractionName(Interaction i) {
  switch (i) {
    case Interaction::kRead: return "read";
    case Interaction::kVread: return "vread";
    case Interaction::kUpdate: return "update";
    case Interaction::kPatch: return "patch";
    case Interaction::kDelete: return "delete";
    case Interaction::kHistoryInstance: return "history-instance";
    case Interaction::kHistoryType: return "history-type";
    case Interaction::kCreate: return "create";
    case Interaction::kSearchType: return "search-type";
  }
  return "";
}

std::string CapabilityStatement(const CapabilityOptions& o) {
  Value cs = Value::MakeObject();
  cs.Set("resourceType", Value("CapabilityStatement"));
  cs.Set("status", Value("active"));
  cs.Set("date", Value(o.date));
  cs.Set("kind", Value("instance"));
  Value software = Obj({{"name", Value(o.software_name)}});
  if (!o.software_version.empty()) software.Set("version", Value(o.software_version));
  cs.Set("software", std::move(software));
  if (!o.implementation_url.empty())
    cs.Set("implementation", Obj({{"description", Value(o.software_name)}, {"url", Value(o.implementation_url)}}));
  cs.Set("fhirVersion", Value("4.0.1"));
  Value formats = Value::MakeArray();
  formats.Append(Value("json"));
  formats.Append(Value("application/fhir+json"));
  cs.Set("format", std::move(formats));

  Value resources = Value::MakeArray();
  for (const ResourceCapability& r : o.resources) {
    Value res = Obj({{"type", Value(r.type)}});
    Value interactions = Value::MakeArray();
    for (Interaction i : r.interactions) interactions.Append(Obj({{"code", Value(InteractionName(i))}}));
    if (interactions.size() > 0) res.Set("interaction", std::move(interactions));
    bool vread = std::find(r.interactions.begin(), r.interactions.end(), Interaction::kVread) != r.interactions.end();
    res.Set("versioning", Value("versioned"));
    res.Set("readHistory", Value(vread));
    bool create = std::find(r.interactions.begin(), r.interactions.end(), Interaction::kCreate) != r.interactions.end();
    bool update = std::find(r.interactions.begin(), r.interactions.end(), Interaction::kUpdate) != r.interactions.end();
    if (update) res.Set("updateCreate", Value(false));  // ids are assigned by the server
    if (create) res.Set("conditionalCreate", Value(r.conditional_create));
    if (update) res.Set("conditionalUpdate", Value(r.conditional_update));
    Value params = Value::MakeArray();
    for (const SearchParam& p : r.search_params) params.Append(Obj({{"name", Value(p.name)}, {"type", Value(p.type)}}));
    if (params.size() > 0) res.Set("searchParam", std::move(params));
    resources.Append(std::move(res));
  }
  Value rest = Obj({{"mode", Value("server")}});
  if (resources.size() > 0) rest.Set("resource", std::move(resources));
  Value system = Value::MakeArray();
  if (o.transaction) system.Append(Obj({{"code", Value("transaction")}}));
  if (o.batch) system.Append(Obj({{"code", Value("batch")}}));
  if (system.size() > 0) rest.Set("interaction", std::move(system));
  Value rests = Value::MakeArray();
  rests.Append(std::move(rest));
  cs.Set("rest", std::move(rests));
  return Serialize(cs);
}

}  // namespace medledger::fhir
