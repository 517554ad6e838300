// The claim routes (docs/CLAIMS.md), registered by the FHIR write routes so
// that they share its ingestion:
//   POST /fhir/Claim/$submit   the R4 operation: a Claim, a Parameters with
//       `resource`, or a Bundle holding the Claim and what it references.
//       200 with a ClaimResponse whenever one is produced (outcome complete
//       or error); 4xx OperationOutcome only for a malformed Claim.
//   POST /fhir/Task            a Task with code cancel (financialtaskcode)
//       focused on a Claim voids the claim on chain and is stored (201);
//       any other Task is an ordinary create.
// Writers are authenticated as every FHIR write is (fhir_context.h).
#pragma once

#include <memory>

#include "api/fhir_context.h"
#include "custodian/ingest.h"
#include "http/server.h"

namespace medledger::api {

void RegisterClaimRoutes(http::Server& server, FhirContext* ctx, std::shared_ptr<custodian::Ingest> ingest);

}  // namespace medledger::api
