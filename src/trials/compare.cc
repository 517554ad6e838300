#include "trials/compare.h"

#include <map>
#include <nlohmann/json.hpp>

namespace medledger::trials {

using nlohmann::json;

namespace {
std::map<std::string, const Objective*> ByName(const std::vector<Objective>& objs) {
  std::map<std::string, const Objective*> m;
  for (const auto& o : objs) m.emplace(NormaliseName(o.name), &o);
  return m;
}
}  // namespace

std::vector<Flag> CompareObjectives(const std::vector<Objective>& registered, const std::vector<Objective>& reported) {
  std::vector<Flag> out;
  auto reg = ByName(registered);
  auto rep = ByName(reported);
  for (const auto& o : registered) {
    if (o.type != "primary") continue;
    auto it = rep.find(NormaliseName(o.name));
    if (it == rep.end()) {
      out.push_back({"missing_primary", o.name, "", "", 0, false});
    } else if (it->second->type != "primary") {
      out.push_back({"demoted_primary", o.name, it->second->type, "", 0, false});
    }
  }
  for (const auto& o : reported) {
    if (o.type != "primary") continue;
    auto it = reg.find(NormaliseName(o.name));
    if (it == reg.end()) {
      out.push_back({"added_primary", o.name, "primary", "", 0, false});
    } else if (it->second->type != "primary") {
      out.push_back({"added_primary", o.name, "primary", it->second->type, 0, false});
    }
  }
  return out;
}

bool SameObjectives(const std::vector<Objective>& a, const std::vector<Objective>& b) {
  if (a.size() != b.size()) return false;
  auto ma = ByName(a);
  for (const auto& o : b) {
    auto it = ma.find(NormaliseName(o.name));
    if (it == ma.end() || it->second->type != o.type) return false;
  }
  return true;
}

json FlagJson(const Flag& f) {
  json j = {{"flag", f.flag}};
  if (!f.objective.empty()) j["objective"] = f.objective;
  if (!f.reported_type.empty()) j["reported_type"] = f.reported_type;
  if (f.flag == "added_primary") j["registered_type"] = f.registered_type.empty() ? "none" : f.registered_type;
  if (f.flag == "amended_after_enrolment") {
    j["version"] = f.version;
    j["objectives_changed"] = f.objectives_changed;
  }
  return j;
}

json FlagsJson(const std::vector<Flag>& flags) {
  json a = json::array();
  for (const auto& f : flags) a.push_back(FlagJson(f));
  return a;
}

}  // namespace medledger::trials
