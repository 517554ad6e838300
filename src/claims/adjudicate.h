// claims.submit: the facts of a provider's claim, checked and given to the
// insurer's policy (docs/CLAIMS.md, "claims.submit"). Internal to
// src/claims.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "claims/schema.h"
#include "contracts/module.h"
#include "state/module.h"

namespace medledger::claims {

// A claims.submit payload, decoded (docs/CLAIMS.md, "claims.submit").
struct Item {  // one service line
  int64_t sequence = 0, units = 1, charge = 0;
  std::string system, code, dup;
  std::vector<std::string> modifiers;
};

struct Submission {
  std::string claim_key, content, record_id, coverage, patient, use, currency, related_prior;
  int64_t record_version = 0, service_day = 0;
  std::optional<std::pair<std::string, int64_t>> encounter;
  std::vector<std::string> records, pre_auth;
  std::vector<Item> items;
};

// Decodes a claims.submit payload; a bad field throws state::PayloadError.
Submission ReadSubmission(const nlohmann::json& p);
// Reads a policy's result (untrusted: the contract's output) into `out`'s
// item decisions, for the items it was given; false, with `why`, when it
// has another shape than docs/CLAIMS.md says.
bool ReadDecisions(const nlohmann::json& r, const std::vector<const Item*>& items, ClaimRecord* out, std::string* why);

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
