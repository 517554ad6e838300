// The demo's insurance claims (`make demo`, cli/demo_cmd.cc; issue 16 part
// 2; docs/CLAIMS.md). Runs against a fresh demo network, after the health
// data:
//   - both example policies deployed by governance (proposed by org1,
//     approved by org2): policies/simple.lua as "simple-plan",
//     policies/managed.lua as "managed-plan";
//   - an insurer at org2 (keys/plan-insurer.key), a patient at org1
//     (keys/claims-patient.key) with a Patient and an Encounter there; the
//     patient tells the insurer its pseudonym at org1, and the insurer
//     registers coverage (gold, managed-plan); org1 keeps the FHIR Coverage
//     carrying the on-chain coverage id;
//   - claims by org1 through Claim/$submit: an office visit with a lab
//     panel (paid less the co-pay), the same services again (duplicates),
//     an MRI without prior authorisation (denied); the insurer pays the
//     first claim.
// `check` is called between steps. Returns what demo.json keeps ("claims").
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <string>

#include "cli/demo_supply.h"
#include "common/status.h"

namespace medledger::cli {

Result<nlohmann::json> LoadDemoClaims(const DemoOrgRef& org1, const DemoOrgRef& org2, const std::string& key_dir,
                                      const std::function<Status()>& check);

std::string DemoClaimsSummary(const nlohmann::json& claims, const std::string& bin,
                              const std::function<std::string(const std::string&)>& show);

}  // namespace medledger::cli
