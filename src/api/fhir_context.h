// What the FHIR API handlers share: the custodian's services (its context:
// custodian/context.h) and the node's ledger API context, through which
// requests are authenticated.
//
// The FHIR API is split by direction; each handler file only routes,
// authenticates and turns the custodian's answers into HTTP:
//   fhir_write.cc  metadata, POST /fhir (transaction/batch bundles),
//                  POST/PUT /fhir/{type}[/{id}] (custodian/ingest.h)
//   fhir_read.cc   signed (RFC 9421) reads, $everything, Consent and
//                  AuditEvent search, disclosures, erasure, legal holds,
//                  anchors (custodian/read_service.h)
#pragma once

#include "api/ledger_api.h"
#include "custodian/context.h"
#include "http/server.h"

namespace medledger::api {

struct FhirContext : custodian::Context {
  LedgerContext* ledger = nullptr;
};

// Each returns an error if its state (index, journal) cannot be opened.
Status RegisterFhirWriteRoutes(http::Server& server, FhirContext* ctx);
Status RegisterFhirReadRoutes(http::Server& server, FhirContext* ctx);

}  // namespace medledger::api
