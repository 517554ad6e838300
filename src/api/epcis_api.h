// The GS1 EPCIS 2.0 REST binding (gs1/EPCIS "REST Bindings/openapi.yaml"),
// the part a supply-chain party's systems talk to, and DSCSA product
// verification. Handlers only route, authenticate and map to HTTP; the
// rules are src/supply's and the standard's code is src/epcis's. Contract:
// docs/SUPPLY.md.
//
//   POST    /epcis/capture          signed (RFC 9421, Content-Digest covered) by a
//                                   supply party; an EPCISDocument (JSON / JSON-LD).
//                                   202 + Location: /epcis/capture/{id}; 400
//                                   ValidationException; 413 CaptureLimitExceeded;
//                                   415 for EPCIS 1.2 XML
//   GET     /epcis/capture/{id}     signed; the capture job, with each event's outcome
//   OPTIONS /epcis/capture          the capture limits (GS1-EPCIS-Capture-Limit, ...)
//   GET     /epcis/events           signed; EPCISQueryDocument, paged (perPage,
//                                   nextPageToken, Link rel="next")
//   GET     /v1/products/verify     signed; the DSCSA product-identifier verification
//   GET     /v1/products/trace      signed; custody history of a pack or a lot
//
// Errors are RFC 7807 application/problem+json with the binding's types
// ("epcisException:ValidationException", ...).
#pragma once

#include <memory>
#include <string>

#include "api/ledger_api.h"
#include "crypto/ed25519.h"
#include "http/server.h"

namespace medledger::api {

class CaptureJobs;  // epcis_capture.cc

struct SupplyContext {
  LedgerContext* ledger = nullptr;
  const crypto::KeyPair* node_key = nullptr;
  std::string org;  // the node's organisation
  std::shared_ptr<CaptureJobs> jobs;
};

// Documents larger than this are refused with 413 under rollback: one
// capture document is one transaction (model::kMaxPayloadBytes of payload,
// less the signature fields around the document).
inline constexpr size_t kMaxCaptureDocumentBytes = 60 * 1024;
// The capture limit announced in GS1-EPCIS-Capture-Limit: events per
// document that the event count alone allows (the byte limit binds first
// for all but the smallest events).
inline constexpr size_t kMaxCaptureEvents = 500;

Status RegisterEpcisRoutes(http::Server& server, SupplyContext* ctx);    // epcis_capture.cc, epcis_query.cc
Status RegisterProductRoutes(http::Server& server, SupplyContext* ctx);  // product_api.cc
// Stops the capture workers (jobs in hand finish). Safe to call twice.
void StopEpcisRoutes(SupplyContext* ctx);

}  // namespace medledger::api
