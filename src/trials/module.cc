#include "trials/module.h"

#include "model/tx_types.h"
#include "trials/handlers.h"

namespace medledger::trials {

namespace tx = model::tx;

bool TrialModule::Handles(uint16_t type) const { return type >= tx::kTrialRegister && type <= tx::kTrialPublish; }

model::Verdict TrialModule::Apply(state::TxContext& ctx) {
  switch (ctx.tx.type) {
    case tx::kTrialRegister: return internal::Register(ctx);
    case tx::kTrialAmend: return internal::Amend(ctx);
    case tx::kTrialEnrol: return internal::Enrol(ctx);
    case tx::kTrialSubmit: return internal::Submit(ctx);
    case tx::kTrialSign: return internal::Sign(ctx);
    case tx::kTrialWithdraw: return internal::Withdraw(ctx);
    case tx::kTrialLock: return internal::Lock(ctx);
    case tx::kTrialPublish: return internal::Publish(ctx);
    default: return model::Verdict::No(model::Reject::kUnknownType, "not a trial transaction");
  }
}

}  // namespace medledger::trials
