// Read helpers for the API and the CLI (docs/TRIALS.md, "Reads"): free
// functions over committed state. Every record comes back with its Part 11
// signatures ("signatures": [{printed_name, meaning, signed_at,
// signed_at_utc, manifestation, ...}], oldest first), so that every
// human-readable form of a record shows them (21 CFR 11.50(b)).
//
// The documents are the state documents of docs/TRIALS.md, "State keys",
// as JSON, with the signatures added.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "state/state_view.h"

namespace medledger::trials {

// The study: its record, "versions" (oldest first, each with its
// signatures), "publications" (with their flags and signatures) and, when
// locked, "lock" with its signatures.
std::optional<nlohmann::json> GetStudy(const state::StateReader& st, std::string_view study_id);
// Every study's record (no versions), by study id.
std::vector<nlohmann::json> ListStudies(const state::StateReader& st);
// The study's subjects by site then pseudonym, each with the signatures on
// its enrolment (and withdrawal, "withdrawal_signatures").
std::vector<nlohmann::json> ListSubjects(const state::StateReader& st, std::string_view study_id);
// The study's submissions in block order, each with its signatures; only
// those of `subject` when it is not empty.
std::vector<nlohmann::json> ListSubmissions(const state::StateReader& st, std::string_view study_id,
                                            std::string_view subject = "");
// The signatures on a record (a trial tx id or a submission id), oldest first.
nlohmann::json ListSignatures(const state::StateReader& st, std::string_view record);
// A record by its id: {record, kind, study_id, sha256, document, signatures}.
std::optional<nlohmann::json> GetRecord(const state::StateReader& st, std::string_view record);

}  // namespace medledger::trials
