// The clinical-trial module (docs/TRIALS.md): one state::Module for the
// eight trial transactions, 250-257. Deterministic: block height and time
// from the context, no clock, no I/O.
//
// Who may do what, and the verdicts (the role table in model/tx_types.cc is
// checked first, by the executor):
//  - trial.register {study_id, protocol_sha256, plan_definition, objectives,
//    sites, registry_id?, title?}: a sponsor key; its organisation becomes
//    the study's sponsor. Study id used [conflict]; a site unknown
//    [not_found].
//  - trial.amend {study_id, version, reason, protocol_sha256,
//    plan_definition, objectives, sites}: a sponsor key of the sponsor
//    organisation [role_not_permitted]; version other than latest + 1, or
//    the database locked [conflict]. An amendment after the first enrolment
//    is marked, and every later publication carries the flag.
//  - trial.enrol {study_id, subject, consent_record?}: a practitioner of a
//    site of the current version [role_not_permitted]; the subject is the
//    site's pseudonym, bound to a patient key [not_found]; the patient's
//    research consent is decided as reads are (records::Decide, purpose
//    HRESCH, resource type ResearchSubject) [denied]; enrolled already or
//    locked [conflict]. consent_record: an anchored Consent record of the
//    same pseudonym at the site [not_found, conflict].
//  - trial.submit {study_id, submission_id, subject, sha256,
//    resource_type?}: a practitioner or node of the subject's site (the
//    subject must be enrolled there) [not_found]; the subject withdrawn,
//    the research consent revoked or ended, the database locked, or the
//    submission id used [conflict].
//  - trial.sign {record, record_sha256, printed_name, meaning, signed_at}:
//    21 CFR Part 11. A person's key: one holding org_admin or node is
//    refused (§11.100(a)) [role_not_permitted]; a sponsor key of the
//    sponsor organisation, a practitioner of the sponsor or of a site, or a
//    regulator [role_not_permitted]; the record unknown [not_found];
//    record_sha256 not the record's hash (§11.70) [conflict]; signed_at more
//    than 24 h before or 5 min after the block time [invalid_payload]; a
//    printed name other than the one the key signed with before, or the
//    same signer, record and meaning again [conflict].
//  - trial.withdraw {study_id, site, subject, reason?}: the patient bound to
//    the pseudonym, its active representative, or a practitioner of the
//    site [role_not_permitted]; not enrolled [not_found]; withdrawn already
//    [conflict]. The subject's earlier data stay.
//  - trial.lock {study_id}: the sponsor [role_not_permitted]; locked
//    already [conflict]. No enrolment, data or amendment after it.
//  - trial.publish {study_id, publication_id, sha256, objectives, uri?}: the
//    sponsor, after the lock [conflict]; publication id used [conflict].
//    Accepted whatever it reports: the comparison's flags (compare.h) are
//    written with it.
// Unknown study [not_found]; bad fields [invalid_payload].
#pragma once

#include "state/module.h"

namespace medledger::trials {

class TrialModule : public state::Module {
 public:
  const char* name() const override { return "trials"; }
  bool Handles(uint16_t type) const override;
  model::Verdict Apply(state::TxContext& ctx) override;
};

// The window of a signature's signed_at around the block time.
inline constexpr int64_t kSignedAtBeforeMs = 24LL * 3600 * 1000;
inline constexpr int64_t kSignedAtAfterMs = 5LL * 60 * 1000;
// The resource type and purpose an enrolment's consent decision asks for.
inline constexpr const char* kEnrolResourceType = "ResearchSubject";
inline constexpr const char* kResearchPurpose = "HRESCH";

}  // namespace medledger::trials
