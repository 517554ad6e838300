// Consortium membership by governance: organisations join and leave by a
// threshold of member approvals (params.governance_threshold, fixed at
// genesis), never by editing files.
//
// Who votes: a member organisation votes through any active key of it that
// holds both the member and org_admin roles (genesis admins do). One
// approval per organisation, however many such keys it has.
//
// - governance.propose {proposal_id, action, org | org_id, expires_height?}
//     proposal_id: 16..64 lower-case hex characters, chosen by the proposer,
//       unique forever.
//     action "add_member": org = {id, name, admin: public id,
//       nodes: [public ids]}. The id must never have been used (a removed
//       organisation is not re-added under its old id); every key must be
//       unused and distinct.
//     action "remove_member": org_id of an active organisation. Rejected
//       (conflict) if fewer active organisations than the threshold, or none,
//       would remain: the consortium must always be able to reach its
//       threshold.
//     expires_height: the last height at which the proposal can be
//       approved; default height + params.max_expiry_window.
//   The proposer's organisation approves by proposing; with a threshold of 1
//   the action executes in the proposing transaction.
// - governance.approve {proposal_id}: adds the signer's organisation. When
//   the approvals of organisations that are still active reach the threshold,
//   the action executes in the same transaction:
//     add_member: org record (active, since = height), admin key with roles
//       member+org_admin, node keys with role node.
//     remove_member: org.active = false. The executor then rejects every key
//       of the organisation (revoked_key), its node can no longer sign blocks
//       (node::Chain::ApplyBlock, the audit), and its transactions in earlier
//       blocks stay valid.
//     gs1_prefix: {org_id, prefix} approves a GS1 company prefix (6..12
//       digits) for an active organisation: "gov/gs1_prefix/<prefix>" =
//       {org, proposal_id, height}. The organisation's manufacturer then
//       binds it with gs1.register_prefix (src/supply, docs/SUPPLY.md),
//       which a chain of more than one organisation requires.
//     deploy_contract / upgrade_contract: {contract: {name, version,
//       source_sha256}}, proposed only through contract.deploy and
//       contract.upgrade (src/contracts, which check the source compiles;
//       ProposeContract below): the source waits under
//       "gov/contract_src/<proposal_id>" and, on execution, becomes version
//       `version` of the contract (state/contract_record.h). A deployment
//       is version 1 of an unused name; an upgrade is the current
//       version + 1.
//   An approval of an executed or expired proposal, or a second one from the
//   same organisation, is rejected (conflict). The execution's own rules are
//   checked again when it runs (state may have changed since the proposal);
//   if they fail, the approving transaction is rejected whole.
//
// State: "gov/proposal/<proposal_id>" (a canonical value, ProposalInfo::ToJson).
#pragma once

#include <nlohmann/json.hpp>  // ProposalInfo holds a json value
#include <string>
#include <vector>

#include "state/module.h"

namespace medledger::state {

class GovernanceModule : public Module {
 public:
  const char* name() const override { return "governance"; }
  bool Handles(uint16_t type) const override;
  model::Verdict Apply(TxContext& ctx) override;
};

struct ProposalInfo {
  std::string id;
  std::string action;           // "add_member" | "remove_member" | "gs1_prefix" | "deploy_contract" | "upgrade_contract"
  std::string org_id;           // the organisation added or removed
  nlohmann::json org;           // add_member: {id, name, admin, nodes}; else null
  std::string prefix;           // gs1_prefix: the GS1 company prefix; else empty
  std::string contract_name;    // deploy_contract, upgrade_contract; else empty
  uint64_t contract_version = 0;
  std::string source_sha256;    // hex
  std::string proposer;         // public id of the proposing key
  std::string proposer_org;
  uint64_t created_at = 0;      // height
  uint64_t expires_height = 0;  // last height at which it can be approved
  std::vector<std::string> approvals;  // organisation ids, in approval order
  bool executed = false;
  uint64_t executed_at = 0;

  // "executed", "expired" (not executed and height > expires_height), or "open".
  std::string StatusAt(uint64_t height) const;
  nlohmann::json ToJson() const;
  static std::optional<ProposalInfo> FromJson(const nlohmann::json& j);
};

inline constexpr const char* kProposalPrefix = "gov/proposal/";
// Approved GS1 company prefixes (action gs1_prefix): key prefix + prefix.
inline constexpr const char* kGs1PrefixGrantPrefix = "gov/gs1_prefix/";

// contract.deploy / contract.upgrade, once the contract module has checked
// the source: a governance proposal like any other (the same voters,
// threshold and expiry; proposing approves), with proposal_id (and
// expires_height) read from ctx.payload.
struct ContractProposal {
  bool upgrade = false;
  std::string name;
  uint64_t version = 1;
  std::string source;
  std::string source_sha256;  // hex
};
model::Verdict ProposeContract(TxContext& ctx, const ContractProposal& c);

std::optional<ProposalInfo> LoadProposal(const StateReader& st, std::string_view id);
// All proposals, in proposal id order.
std::vector<ProposalInfo> ListProposals(const StateReader& st);
// All organisations ever admitted (active or removed), in id order.
std::vector<OrgRecord> ListOrgs(const StateReader& st);

}  // namespace medledger::state
