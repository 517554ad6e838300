#include "records/register.h"

#include "records/access.h"
#include "records/consent.h"
#include "records/erasure.h"
#include "records/legal_hold.h"
#include "records/records.h"

namespace medledger::records {

void RegisterRecordModules(state::Executor& exec) {
  exec.AddModule(std::make_unique<RecordsModule>());
  exec.AddModule(std::make_unique<ConsentModule>());
  exec.AddModule(std::make_unique<AccessModule>());
  exec.AddModule(std::make_unique<ErasureModule>());
  exec.AddModule(std::make_unique<LegalHoldModule>());
}

}  // namespace medledger::records
