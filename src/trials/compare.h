// Outcome switching (docs/TRIALS.md, "The comparison"): a publication's
// reported objectives against the registered ones. Pure; the module writes
// its flags on the publication's record, so every member and regulator sees
// them.
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

#include "trials/payload.h"

namespace medledger::trials {

struct Flag {
  std::string flag;       // missing_primary | demoted_primary | added_primary | amended_after_enrolment
  std::string objective;  // the objective's name as registered (as reported for added_primary); empty for amendments
  std::string reported_type;  // demoted_primary, added_primary: the type the publication gives it
  std::string registered_type;  // added_primary: its type at registration, empty when it was not registered
  int64_t version = 0;          // amended_after_enrolment: the amendment's version
  bool objectives_changed = false;  // amended_after_enrolment: whether that amendment changed the objectives
};

// The flags for `reported` against `registered` (names compared by
// NormaliseName), in this order: each registered primary objective that is
// missing or reported with another type (registered order), then each
// reported primary that was not a registered primary (reported order).
std::vector<Flag> CompareObjectives(const std::vector<Objective>& registered, const std::vector<Objective>& reported);

// Whether two objective lists are the same set of (name, type).
bool SameObjectives(const std::vector<Objective>& a, const std::vector<Objective>& b);

nlohmann::json FlagJson(const Flag& f);
nlohmann::json FlagsJson(const std::vector<Flag>& flags);

}  // namespace medledger::trials
