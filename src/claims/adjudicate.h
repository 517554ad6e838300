// claims.submit: the facts of a provider's claim, checked and given to the
// insurer's policy (docs/CLAIMS.md, "claims.submit"). Internal to
// src/claims.
#pragma once

#include <optional>

#include "claims/schema.h"
#include "contracts/module.h"
#include "state/module.h"

namespace medledger::claims {

model::Verdict ApplySubmit(contracts::Invoker& invoker, state::TxContext& ctx);
// Admission's check of a claims.submit: everything ApplySubmit rejects, but
// no policy call (its outcome is the block's).
model::Verdict AdmitSubmit(state::TxContext& ctx);

// Takes an active claim out of force (voided, or replaced by a correction):
// the policy's release gives back what the claim used of the member's
// limits, and its duplicate and business keys are freed. A failing release
// is the verdict to reject with; nullopt on success. Does not store `c`.
std::optional<model::Verdict> Retire(contracts::Invoker& invoker, state::TxContext& ctx, ClaimRecord& c,
                                     const std::string& status);

}  // namespace medledger::claims
