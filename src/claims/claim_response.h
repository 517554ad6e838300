// The FHIR R4 ClaimResponse for a claim's adjudication (docs/CLAIMS.md,
// "The ClaimResponse"). Pure: built from the submitted Claim and what the
// chain recorded, so any node of the provider answers the same.
#pragma once

#include <string>
#include <vector>

#include "claims/schema.h"
#include "fhir/json.h"

namespace medledger::claims {

struct ResponseInput {
  const fhir::Value* claim = nullptr;  // the submitted Claim (type, use, provider are copied)
  std::string claim_id;                // the stored Claim's FHIR id: request = Claim/<id>
  std::string patient_reference;       // "Patient/<id>" at this custodian
  std::string insurer;                 // the insurer organisation id, or "" when unknown
  std::string insurer_display;         // Coverage.payor's display, if any
  int64_t created_ms = 0;
};

// From an adjudicated (or errored) claim on chain.
fhir::Value ClaimResponse(const ResponseInput& in, const ClaimRecord& rec);
// For a claim that never reached the chain (its patient or coverage could
// not be resolved): outcome error with these errors.
fhir::Value ClaimResponseError(const ResponseInput& in, const std::vector<ClaimRecord::Error>& errors);

// Minor units as a FHIR decimal with two places ("150.00"); currencies with
// other exponents are not supported (docs/CLAIMS.md).
std::string MinorToDecimal(int64_t minor);

}  // namespace medledger::claims
