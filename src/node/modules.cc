#include "node/modules.h"

namespace medledger::node {

std::unique_ptr<state::Executor> MakeExecutor() {
  auto exec = state::Executor::Core();
  return exec;
}

}  // namespace medledger::node
