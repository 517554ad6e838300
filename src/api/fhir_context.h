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
#include "custodian/ingest.h"
#include "state/caller.h"
#include "http/server.h"

namespace medledger::api {

struct FhirContext : custodian::Context {
  LedgerContext* ledger = nullptr;
};

// The write path fhir_write.cc exports, for the routes that store resources
// through the same ingestion (claim_api.cc: Claim/$submit, the void Task):
// the writer's authentication (a signed request bound to this node, by a
// member of the custodian with org_admin or practitioner), the FHIR content
// type check (415), and a plain create or update.
struct AuthFailure;
Result<state::Caller> AuthenticateWriter(const http::Request& req, const FhirContext& ctx, AuthFailure* failure);
std::optional<http::Response> CheckFhirContentType(const http::Request& req);
void HandleFhirWrite(const std::shared_ptr<custodian::Ingest>& ingest, const FhirContext* ctx, http::Request& req,
                     http::Reply reply, custodian::WriteRequest w);

// Each returns an error if its state (index, journal) cannot be opened.
Status RegisterFhirWriteRoutes(http::Server& server, FhirContext* ctx);
Status RegisterFhirReadRoutes(http::Server& server, FhirContext* ctx);

}  // namespace medledger::api
