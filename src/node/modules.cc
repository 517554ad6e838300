#include "node/modules.h"

#include "records/register.h"

namespace medledger::node {

std::unique_ptr<state::Executor> MakeExecutor() {
  auto exec = state::Executor::Core();
  records::RegisterRecordModules(*exec);
  return exec;
}

}  // namespace medledger::node
