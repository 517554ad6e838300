// The access decision: may this accessor read this record, for this purpose,
// now? A pure function of committed state and the request, so every node
// (and an auditor replaying the chain) reaches the same answer. It reads no
// clock: now_ms is the request time (or the block time when replayed).
//
// Rules, in order (docs/RECORDS.md):
//  1. An unknown purpose is denied, and so is an accessor key that is not a
//     registered identity or was revoked or rotated away.
//  2. The patient itself is allowed (basis kPatient).
//  3. An active representative of the patient is allowed (kRepresentative).
//  4. ETREAT is break-glass: allowed only to an accessor holding the
//     practitioner role and giving a non-blank reason, and always flagged
//     (kBreakGlass); consents are not consulted.
//  4b. Payment (HPAYMT) by an insurer is allowed without consent (HIPAA
//     164.506(c)) for a record that a claim adjudicated for its plan names
//     (payr/<record>/<org>, written by the claims module; the minimum
//     necessary, 164.502(b)), unless the record is labelled substance-use:
//     42 CFR Part 2 still needs the patient's consent (kPayment).
//  5. Otherwise the first consent of the patient, in consent id order, that
//     is not revoked and whose patient_org is "*" or the custodian, grantee
//     is the accessor's public id or "org:<accessor org>", types include the
//     resource type or "*", purposes include the purpose, period covers
//     now_ms, and labels include every label on the record, allows
//     (kConsent, consent_id set).
//  6. Otherwise denied. The reason names which condition failed for the
//     nearest consent but never which sensitive label the record carries.
// Every denial also carries a code from reasons.h (kDenialReasons): that
// code, not the sentence, is what an access.event puts on chain.
#pragma once

#include <string>
#include <vector>

#include "crypto/ed25519.h"
#include "state/state_view.h"

namespace medledger::records {

struct AccessRequest {
  crypto::PublicKey accessor{};
  std::string accessor_org;
  uint32_t accessor_roles = 0;  // model::Role bits of the accessor's identity
  std::string custodian_org;
  crypto::PublicKey patient{};  // the key bound to the record's pseudonym
  std::string resource_type;
  std::string record_id;            // for the payment rule (4b); may be empty
  std::vector<std::string> labels;  // the record's security labels
  std::string purpose;              // TREAT, HPAYMT, HOPERAT, HRESCH or ETREAT
  std::string break_glass_reason;
  int64_t now_ms = 0;
};

enum class Basis { kNone, kPatient, kRepresentative, kConsent, kBreakGlass, kPayment };
const char* BasisName(Basis b);  // "none", "patient", "representative", "consent", "break-glass", "payment"

struct Decision {
  bool allowed = false;
  Basis basis = Basis::kNone;
  std::string consent_id;  // set when basis is kConsent
  bool break_glass = false;
  std::string reason;      // why it was denied, for people; empty when allowed
  std::string code;        // the same as a denial code (reasons.h); empty when allowed
};

Decision Decide(const state::StateReader& st, const AccessRequest& req);

}  // namespace medledger::records
