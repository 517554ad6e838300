// The transaction type registry: stable numeric codes (they are signed, so
// never renumber), names used in the JSON form, and the roles allowed to
// submit each type. Domain modules (state/) implement the types; this table
// is the one place that lists them, so the API, CLI and verifier agree.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace medledger::model {

// Roles, as bits so an identity can hold several.
enum Role : uint32_t {
  kRoleMember = 1u << 0,        // a member organisation (its admin acts for it)
  kRoleOrgAdmin = 1u << 1,
  kRolePractitioner = 1u << 2,
  kRolePatient = 1u << 3,
  kRoleAuditor = 1u << 4,
  kRoleInsurer = 1u << 5,
  kRoleManufacturer = 1u << 6,
  kRoleDistributor = 1u << 7,
  kRoleDispenser = 1u << 8,
  kRoleSponsor = 1u << 9,
  kRoleRegulator = 1u << 10,
  kRoleNode = 1u << 11,         // a node key: proposes and signs blocks
  kRoleRepresentative = 1u << 12,  // acts for a patient it was appointed by
};
inline constexpr uint32_t kAllRoles = (1u << 13) - 1;

const char* RoleName(Role r);
std::optional<Role> ParseRole(std::string_view name);
std::vector<std::string> RoleNames(uint32_t mask);

namespace tx {
// Codes are reserved in ranges per domain (docs/ARCHITECTURE.md, "Where a new
// domain's parts go"): 1-19 identities and anchors, 20-39 health records,
// 40-49 governance, 50-59 contracts, 60-99 core, 100-199 supply chain,
// 200-249 claims, 250-299 clinical trials. Blocks hold the codes: never reuse or renumber.
// Ledger core (identity registry, anchors).
inline constexpr uint16_t kIdentityRegister = 1;
inline constexpr uint16_t kIdentityRevoke = 2;
inline constexpr uint16_t kIdentityRotate = 3;
inline constexpr uint16_t kIdentitySetRoles = 4;
inline constexpr uint16_t kAnchorPut = 10;
// Health records (state/records, state/consent).
inline constexpr uint16_t kRecordAnchor = 20;
inline constexpr uint16_t kConsentGrant = 21;
inline constexpr uint16_t kConsentRevoke = 22;
inline constexpr uint16_t kAccessEvent = 23;
inline constexpr uint16_t kDisclosure = 24;
inline constexpr uint16_t kErasureRequest = 25;
inline constexpr uint16_t kErasureDecision = 26;
inline constexpr uint16_t kRepresentativeAppoint = 27;
inline constexpr uint16_t kPatientRebind = 28;
inline constexpr uint16_t kAccountingSuspend = 29;
inline constexpr uint16_t kRecordAnchorBatch = 30;
inline constexpr uint16_t kRecordLegalHold = 31;
// Consortium governance (state/governance).
inline constexpr uint16_t kGovPropose = 40;
inline constexpr uint16_t kGovApprove = 41;
inline constexpr uint16_t kNodeStateRoot = 42;
// Contracts (src/contracts; docs/CONTRACTS.md).
inline constexpr uint16_t kContractDeploy = 50;   // propose a new contract (governance: deploy_contract)
inline constexpr uint16_t kContractUpgrade = 51;  // propose its next version (governance: upgrade_contract)
inline constexpr uint16_t kContractCall = 52;     // call a function of a deployed contract
// Medicine supply chain (src/supply; docs/SUPPLY.md).
inline constexpr uint16_t kEpcisCapture = 100;        // one EPCIS capture document, its events in order
inline constexpr uint16_t kGs1RegisterPrefix = 101;   // bind a GS1 company prefix to the signer's org
inline constexpr uint16_t kProductRecall = 102;       // the manufacturer recalls a lot
inline constexpr uint16_t kProductRecallClass = 103;  // a regulator classifies a recall (I, II, III)
inline constexpr uint16_t kProductCase = 104;         // quarantine / investigate / clear / illegitimate / close
// Claims (src/claims; docs/CLAIMS.md).
inline constexpr uint16_t kClaimCoverage = 200;        // the insurer registers a member's coverage
inline constexpr uint16_t kClaimCoverageCancel = 201;  // the insurer ends it from a day of its period
inline constexpr uint16_t kClaimSubmit = 202;          // a provider's claim, adjudicated by the insurer's policy
inline constexpr uint16_t kClaimVoid = 203;            // the provider cancels a claim (FHIR Task cancel)
inline constexpr uint16_t kClaimPayment = 204;         // the insurer records a payment of a claim
inline constexpr uint16_t kClaimRestrict = 205;        // the patient restricts disclosure to a plan (164.522)
// Clinical trials (src/trials; docs/TRIALS.md).
inline constexpr uint16_t kTrialRegister = 250;  // a study, its protocol hash and primary objectives
inline constexpr uint16_t kTrialAmend = 251;     // a new protocol version
inline constexpr uint16_t kTrialEnrol = 252;     // a subject, with research consent (HRESCH)
inline constexpr uint16_t kTrialSubmit = 253;    // a site's data submission, anchored
inline constexpr uint16_t kTrialSign = 254;      // a 21 CFR Part 11 signature on a trial record
inline constexpr uint16_t kTrialWithdraw = 255;  // a subject withdraws: new data refused
inline constexpr uint16_t kTrialLock = 256;      // database lock
inline constexpr uint16_t kTrialPublish = 257;   // a results publication, checked against the objectives
}  // namespace tx

struct TxTypeInfo {
  uint16_t code;
  const char* name;
  uint32_t allowed_roles;  // the signer must hold at least one of them
};

const TxTypeInfo* FindTxType(uint16_t code);
std::optional<uint16_t> TxTypeCode(std::string_view name);
std::string_view TxTypeName(uint16_t code);  // "unknown" when not registered
const std::vector<TxTypeInfo>& AllTxTypes();

}  // namespace medledger::model
