// The claims module (docs/CLAIMS.md): coverage, claims adjudicated by the
// insurer's policy contract, duplicates, corrections, voids, payments and
// the patient's restrictions. Deterministic: the policy runs in the
// contract sandbox with the block's height and time.
//
//   claims.coverage        {coverage_id, patient, provider, plan, policy, period_days}
//       by an insurer; its organisation is the coverage's insurer.
//   claims.coverage_cancel {coverage_id, from_day}
//   claims.submit          the provider's claim (docs/CLAIMS.md, "claims.submit")
//   claims.void            {claim, task}  the provider cancels a claim
//   claims.payment         {payment_id, claim, amount, currency}  by the insurer
//   claims.restrict        {restriction_id, provider, pseudonym, record, insurer, patient?}
//       by the patient (or a representative): no disclosure of that record
//       to that plan ("*": any) for payment (HIPAA 164.522(a)(1)(vi)).
#pragma once

#include "contracts/module.h"
#include "state/executor.h"
#include "state/module.h"

namespace medledger::claims {

class ClaimsModule : public state::Module {
 public:
  const char* name() const override { return "claims"; }
  bool Handles(uint16_t type) const override;
  model::Verdict Apply(state::TxContext& ctx) override;
  // Policies never run at admission (it runs on the HTTP threads): a claim
  // or a void is checked for shape, parties and state only.
  std::optional<model::Verdict> Admit(state::TxContext& ctx) override;
  // Claims, business keys, duplicates and payments are read by exact key
  // only (restrictions and payment reads are scanned: not listed).
  std::vector<std::string> PointKeyPrefixes() const override {
    return {"clm/claim/", "clm/key/", "clm/dup/", "clm/pay/"};
  }

 private:
  model::Verdict RegisterCoverage(state::TxContext& ctx);
  model::Verdict CancelCoverage(state::TxContext& ctx);
  model::Verdict Submit(state::TxContext& ctx);
  model::Verdict Void(state::TxContext& ctx);
  model::Verdict Pay(state::TxContext& ctx);
  model::Verdict Restrict(state::TxContext& ctx);

  contracts::Invoker invoker_;
};

void RegisterClaimsModules(state::Executor& exec);

}  // namespace medledger::claims
