#include "model/tx_types.h"

namespace medledger::model {

namespace {
constexpr const char* kRoleNames[] = {
    "member", "org_admin", "practitioner", "patient", "auditor", "insurer", "manufacturer",
    "distributor", "dispenser", "sponsor", "regulator", "node", "representative"};

constexpr uint32_t kAnyMember = kAllRoles;
constexpr uint32_t kAdmins = kRoleOrgAdmin;
constexpr uint32_t kPatientSide = kRolePatient | kRoleRepresentative;
constexpr uint32_t kSupplyParties = kRoleManufacturer | kRoleDistributor | kRoleDispenser | kRoleRegulator;
}  // namespace

const char* RoleName(Role r) {
  for (int i = 0; i < 13; ++i)
    if (r == (1u << i)) return kRoleNames[i];
  return "unknown";
}

std::optional<Role> ParseRole(std::string_view name) {
  for (int i = 0; i < 13; ++i)
    if (name == kRoleNames[i]) return Role(1u << i);
  return std::nullopt;
}

std::vector<std::string> RoleNames(uint32_t mask) {
  std::vector<std::string> out;
  for (int i = 0; i < 13; ++i)
    if (mask & (1u << i)) out.emplace_back(kRoleNames[i]);
  return out;
}

const std::vector<TxTypeInfo>& AllTxTypes() {
  static const std::vector<TxTypeInfo> kTypes = {
      {tx::kIdentityRegister, "identity.register", kAdmins},
      {tx::kIdentityRevoke, "identity.revoke", kAnyMember},  // own key, or an admin of its org
      {tx::kIdentityRotate, "identity.rotate", kAnyMember},  // only the key itself
      {tx::kIdentitySetRoles, "identity.set_roles", kAdmins},
      {tx::kAnchorPut, "anchor.put", kAnyMember},
      {tx::kRecordAnchor, "record.anchor", kRoleOrgAdmin | kRolePractitioner | kRoleNode},
      {tx::kConsentGrant, "consent.grant", kPatientSide},
      {tx::kConsentRevoke, "consent.revoke", kPatientSide},
      {tx::kAccessEvent, "access.event", kRoleOrgAdmin | kRoleNode},
      {tx::kDisclosure, "disclosure.record", kRoleOrgAdmin | kRolePractitioner | kRoleNode},
      {tx::kErasureRequest, "erasure.request", kPatientSide},
      {tx::kErasureDecision, "erasure.decision", kRoleOrgAdmin | kRoleNode},
      {tx::kRepresentativeAppoint, "representative.appoint", kPatientSide | kRoleOrgAdmin},
      {tx::kPatientRebind, "patient.rebind", kRoleOrgAdmin},
      {tx::kAccountingSuspend, "accounting.suspend", kRoleRegulator | kRoleAuditor},
      {tx::kRecordAnchorBatch, "record.anchor_batch", kRoleOrgAdmin | kRolePractitioner | kRoleNode},
      {tx::kRecordLegalHold, "record.legal_hold", kAdmins},  // of the record's custodian
      {tx::kGovPropose, "governance.propose", kRoleOrgAdmin},
      {tx::kGovApprove, "governance.approve", kRoleOrgAdmin},
      {tx::kNodeStateRoot, "node.state_root", kRoleNode},
      {tx::kContractDeploy, "contract.deploy", kRoleOrgAdmin},    // a governance voter: member + org_admin
      {tx::kContractUpgrade, "contract.upgrade", kRoleOrgAdmin},  // the same
      {tx::kContractCall, "contract.call", kAllRoles},          // the contract decides who may do what
      {tx::kEpcisCapture, "epcis.capture", kSupplyParties | kRoleNode},  // the party, or its organisation's node
      {tx::kGs1RegisterPrefix, "gs1.register_prefix", kRoleManufacturer},
      {tx::kProductRecall, "product.recall", kRoleManufacturer},
      {tx::kProductRecallClass, "product.recall_class", kRoleRegulator},
      {tx::kProductCase, "product.case", kSupplyParties},
      {tx::kClaimCoverage, "claims.coverage", kRoleInsurer},
      {tx::kClaimCoverageCancel, "claims.coverage_cancel", kRoleInsurer},
      {tx::kClaimSubmit, "claims.submit", kRoleOrgAdmin | kRolePractitioner | kRoleNode},  // the provider
      {tx::kClaimVoid, "claims.void", kRoleOrgAdmin | kRolePractitioner | kRoleNode},
      {tx::kClaimPayment, "claims.payment", kRoleInsurer},
      {tx::kClaimRestrict, "claims.restrict", kPatientSide},
      {tx::kTrialRegister, "trial.register", kRoleSponsor},
      {tx::kTrialAmend, "trial.amend", kRoleSponsor},
      {tx::kTrialEnrol, "trial.enrol", kRolePractitioner},
      {tx::kTrialSubmit, "trial.submit", kRolePractitioner | kRoleNode},
      {tx::kTrialSign, "trial.sign", kRolePractitioner | kRoleSponsor | kRoleRegulator},  // a person, never an admin
      {tx::kTrialWithdraw, "trial.withdraw", kPatientSide | kRolePractitioner},
      {tx::kTrialLock, "trial.lock", kRoleSponsor},
      {tx::kTrialPublish, "trial.publish", kRoleSponsor},
  };
  return kTypes;
}

const TxTypeInfo* FindTxType(uint16_t code) {
  for (const auto& t : AllTxTypes())
    if (t.code == code) return &t;
  return nullptr;
}

std::optional<uint16_t> TxTypeCode(std::string_view name) {
  for (const auto& t : AllTxTypes())
    if (name == t.name) return t.code;
  return std::nullopt;
}

std::string_view TxTypeName(uint16_t code) {
  const TxTypeInfo* t = FindTxType(code);
  return t ? std::string_view(t->name) : std::string_view("unknown");
}

}  // namespace medledger::model
