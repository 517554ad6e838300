// State of the claims domain (docs/CLAIMS.md): the key layout, the records
// the module keeps and the read helpers the API uses. The builders here are
// the only place that spells the keys.
//
// Nothing here carries PHI: patients are pseudonyms at the provider,
// coverage periods and service dates are day counts relative to each other
// (no date), duplicates and business identifiers are keyed hashes made off
// chain, and the rest are codes and integer amounts.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "state/state_view.h"

namespace medledger::claims {

std::string CoverageKey(std::string_view coverage_id);          // clm/cov/<id>
std::string ClaimKey(std::string_view tx_hex);                  // clm/claim/<tx>
std::string BusinessKey(std::string_view claim_key);            // clm/key/<keyed hash of Claim.identifier>
std::string DuplicateKey(std::string_view line);                // clm/dup/<keyed hash of the service>/<units>
std::string PaymentKey(std::string_view payment_id);            // clm/pay/<id>
std::string RestrictionKey(std::string_view record_id, std::string_view insurer);  // clm/rx/<record>/<insurer|*>
// Marks a patient with any restriction at a provider, so that a claim for
// anyone else reads one key, not one per record it names.
std::string RestrictedPatientKey(std::string_view provider, std::string_view pseudonym);  // clm/rxp/<provider>/<pseud>

// A member's coverage, registered by the insurer.
struct Coverage {
  std::string id, insurer, provider, patient, plan, policy, tx;
  int64_t period_days = 0;
  std::optional<int64_t> cancelled_from_day;
  uint64_t height = 0;
  nlohmann::json ToJson() const;
};
std::optional<Coverage> LoadCoverage(const state::StateReader& st, std::string_view coverage_id);

// One item's decision, as the ClaimResponse shows it.
struct ItemDecision {
  int64_t sequence = 0;
  // category -> amount in minor units: submitted, eligible, copay,
  // deductible, benefit.
  std::vector<std::pair<std::string, int64_t>> adjudication;
  std::vector<std::string> reasons;  // "ar001", or "system|code"
  std::string duplicate_of;          // the claim tx whose item this repeats
};

// What a claims.submit came to. `outcome` is the FHIR processing status:
// complete, or error (errors set, no item decisions).
struct ClaimRecord {
  std::string tx, provider, patient, coverage, insurer, policy, use, currency;
  std::string claim_key, content, record_id;
  int64_t record_version = 0;
  std::string status;  // active | replaced | voided
  std::string replaces, replaced_by, void_task;
  std::string outcome;  // complete | error
  struct Error {
    std::string code, message;
  };
  std::vector<Error> errors;
  std::vector<ItemDecision> items;
  std::vector<std::string> dups;  // the duplicate keys this claim holds
  std::string disposition, pre_auth_ref;
  int64_t paid = 0;
  uint64_t policy_version = 0, gas_used = 0, height = 0, at_ms = 0;
  nlohmann::json request;  // the policy's input (for release), null on error
  int64_t Benefit() const;  // the sum of the items' benefit
  // `request` is left out when !with_request (the caller moves it in).
  nlohmann::json ToJson(bool with_request = true) const;
  static ClaimRecord FromJson(const std::string& tx, const nlohmann::json& j);
};
std::optional<ClaimRecord> LoadClaim(const state::StateReader& st, std::string_view tx_hex);
// The claim a business key (a keyed hash of Claim.identifier) was last
// adjudicated under, if any.
std::optional<std::string> ClaimByBusinessKey(const state::StateReader& st, std::string_view claim_key);

// Modifiers that make a repeat of the same service on the same day
// legitimate (CPT/HCPCS): 59 distinct procedural service, 76 and 77 repeat
// procedure, 91 repeat clinical laboratory test, XE XP XS XU.
bool IsRepeatModifier(std::string_view m);

// The identifier system of a coverage's on-chain id, which the provider's
// FHIR Coverage carries so that a Claim's insurance.coverage finds it.
inline constexpr const char* kCoverageIdSystem = "https://medledger.example/fhir/NamingSystem/coverage";

// The adjudication-error codes of an outcome "error" (docs/CLAIMS.md).
inline constexpr std::string_view kErrorCodes[] = {
    "unknown-patient", "unknown-member", "no-coverage",      "unknown-plan", "unknown-insurer",
    "restricted",      "not-adjudicable", "policy-failed"};
bool IsErrorCode(std::string_view c);

}  // namespace medledger::claims
