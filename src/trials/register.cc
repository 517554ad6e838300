#include "trials/register.h"

#include "trials/module.h"

namespace medledger::trials {

void RegisterTrialModules(state::Executor& exec) { exec.AddModule(std::make_unique<TrialModule>()); }

}  // namespace medledger::trials
