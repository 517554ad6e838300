// The one list of state-machine modules a node runs. The node, the offline
// auditor and the tests all build their executor here, so they can never
// disagree about which transaction types exist.
#pragma once

#include <memory>

#include "state/executor.h"

namespace medledger::node {

std::unique_ptr<state::Executor> MakeExecutor();

}  // namespace medledger::node
