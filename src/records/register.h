// Registers the health-record modules (records, consent, access, erasure,
// legal holds) with an executor. Call once per executor, after the core
// modules.
#pragma once

#include "state/executor.h"

namespace medledger::records {

void RegisterRecordModules(state::Executor& exec);

}  // namespace medledger::records
