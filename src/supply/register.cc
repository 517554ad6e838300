#include "supply/register.h"

#include "supply/capture.h"
#include "supply/case.h"
#include "supply/recall.h"
#include "supply/registry.h"

namespace medledger::supply {

void RegisterSupplyModules(state::Executor& exec) {
  exec.AddModule(std::make_unique<PrefixModule>());
  exec.AddModule(std::make_unique<CaptureModule>());
  exec.AddModule(std::make_unique<RecallModule>());
  exec.AddModule(std::make_unique<CaseModule>());
}

}  // namespace medledger::supply
