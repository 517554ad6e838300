// Registers the supply-chain modules (GS1 prefixes, EPCIS capture, recalls,
// product cases) with an executor. Call once per executor, after the core
// modules, beside records::RegisterRecordModules.
#pragma once

#include "state/executor.h"

namespace medledger::supply {

void RegisterSupplyModules(state::Executor& exec);

}  // namespace medledger::supply
