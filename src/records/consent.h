// Patient consent and representatives (docs/RECORDS.md).
//
// - consent.grant {consent_id, patient?, patient_org, grantee, types,
//   purposes, labels?, not_before_ms?, until_ms?}: signed by the patient
//   (patient absent or equal to the signer) or its active representative
//   (patient = the represented patient's public id). patient_org is the
//   custodian whose records it covers, or "*"; grantee a public id or
//   "org:<org id>" (an existing organisation); types resource type names or
//   ["*"]; purposes a non-empty subset of TREAT, HPAYMT, HOPERAT, HRESCH
//   (ETREAT is break-glass and cannot be granted); labels the sensitive
//   categories the grant explicitly includes; the period is
//   [not_before_ms, until_ms) in milliseconds since the epoch.
// - consent.revoke {consent_id}: the consent's patient or its active
//   representative. A revoked consent stays listed, marked revoked.
// - representative.appoint {patient, representative, kind, until_ms?}: the
//   patient itself, or an org admin of the organisation that registered the
//   patient's identity (a minor's parent, a guardian). kind is parent,
//   guardian or personal-representative; the representative must be a
//   registered identity holding the representative role. Appointing the same
//   pair again replaces the appointment; an until_ms at or before the block
//   time ends it.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "state/module.h"

namespace medledger::records {

class ConsentModule : public state::Module {
 public:
  const char* name() const override { return "consent"; }
  bool Handles(uint16_t type) const override;
  model::Verdict Apply(state::TxContext& ctx) override;
};

struct ConsentInfo {
  std::string consent_id;
  std::string patient;        // public id
  std::string patient_org;    // custodian org or "*"
  std::string grantee;        // public id or "org:<id>"
  std::vector<std::string> types;     // sorted; ["*"] for all
  std::vector<std::string> purposes;  // sorted
  std::vector<std::string> labels;    // sorted sensitive labels included
  std::optional<int64_t> not_before_ms;
  std::optional<int64_t> until_ms;
  std::string granted_by;     // signer public id (patient or representative)
  std::string tx;
  uint64_t height = 0;
  bool revoked = false;
  std::string revoked_by;
  uint64_t revoked_height = 0;

  // Whether the period covers now_ms (ignores revocation).
  bool InPeriod(int64_t now_ms) const;
  static std::optional<ConsentInfo> FromJson(std::string consent_id, const nlohmann::json& j);
};

struct RepresentativeInfo {
  std::string representative;  // public id
  std::string kind;
  std::optional<int64_t> until_ms;
  std::string appointed_by;
  std::string tx;
  uint64_t height = 0;
  bool ActiveAt(int64_t now_ms) const { return !until_ms || now_ms < *until_ms; }
};

std::optional<ConsentInfo> GetConsent(const state::StateReader& st, std::string_view consent_id);
// All consents of a patient, revoked included, ordered by consent id.
std::vector<ConsentInfo> ListConsents(const state::StateReader& st, const crypto::PublicKey& patient);
// All appointments of a patient, ended ones included, ordered by public id.
std::vector<RepresentativeInfo> GetRepresentatives(const state::StateReader& st, const crypto::PublicKey& patient);

}  // namespace medledger::records
