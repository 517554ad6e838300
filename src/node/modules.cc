#include "node/modules.h"

#include "records/register.h"
#include "state/governance.h"

namespace medledger::node {

std::unique_ptr<state::Executor> MakeExecutor() {
  auto exec = state::Executor::Core();
  exec->AddModule(std::make_unique<state::GovernanceModule>());
  records::RegisterRecordModules(*exec);
  return exec;
}

}  // namespace medledger::node
