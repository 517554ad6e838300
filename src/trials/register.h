// Registers the clinical-trial module with an executor. Call once per
// executor, after the record modules (enrolment decides consent with
// records::Decide), beside supply::RegisterSupplyModules.
#pragma once

#include "state/executor.h"

namespace medledger::trials {

void RegisterTrialModules(state::Executor& exec);

}  // namespace medledger::trials
