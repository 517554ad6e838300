// Internal to src/trials: the handlers TrialModule::Apply dispatches to, and
// what they share. Not part of the library's interface.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "model/verdict.h"
#include "state/module.h"

namespace medledger::trials::internal {

model::Verdict Register(state::TxContext& ctx);
model::Verdict Amend(state::TxContext& ctx);
model::Verdict Lock(state::TxContext& ctx);
model::Verdict Publish(state::TxContext& ctx);
model::Verdict Enrol(state::TxContext& ctx);
model::Verdict Submit(state::TxContext& ctx);
model::Verdict Withdraw(state::TxContext& ctx);
model::Verdict Sign(state::TxContext& ctx);

// The fields every record written by a transaction carries.
nlohmann::json Stamp(const state::TxContext& ctx);
// The tri/rec/<record> entry that lets trial.sign find a record.
void PutRecord(state::TxContext& ctx, const std::string& record, const char* kind, const std::string& study_id,
               const std::string& key, const std::string& sha256);
// The current (latest) version document of a study.
std::optional<nlohmann::json> LatestVersion(const state::StateReader& st, const std::string& study_id,
                                            const nlohmann::json& study);
bool IsSite(const nlohmann::json& version, const std::string& org);

}  // namespace medledger::trials::internal
