#include "node/modules.h"

#include "claims/module.h"
#include "contracts/module.h"
#include "records/register.h"
#include "state/governance.h"
#include "supply/register.h"
#include "trials/register.h"

namespace medledger::node {

std::unique_ptr<state::Executor> MakeExecutor() {
  auto exec = state::Executor::Core();
  exec->AddModule(std::make_unique<state::GovernanceModule>());
  records::RegisterRecordModules(*exec);
  supply::RegisterSupplyModules(*exec);
  contracts::RegisterContractModules(*exec);
  claims::RegisterClaimsModules(*exec);
  trials::RegisterTrialModules(*exec);
  return exec;
}

}  // namespace medledger::node
