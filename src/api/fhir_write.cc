// The FHIR write routes (docs/RECORDS.md, "Ingestion and the local index"):
//   GET  /fhir/metadata           CapabilityStatement
//   POST /fhir                    Bundle transaction (all or nothing) | batch
//   POST /fhir/{type}             create, server-assigned id
//   PUT  /fhir/{type}/{id}        create with that id, or a new version
//   GET  /fhir/$custodian-subject the custodian subject key's public id
//
// Routing, authentication and HTTP only: the custodian's ingestion
// (custodian/ingest.h) plans, stores, indexes and anchors. Everything of a
// write, the signature check included, runs on the ingestion's write pool,
// never on an HTTP I/O thread.
#include <nlohmann/json.hpp>

#include "api/auth.h"
#include "api/claim_api.h"
#include "api/fhir_context.h"
#include "api/http_signature.h"
#include "api/http_status.h"
#include "custodian/ingest.h"
#include "fhir/capability.h"
#include "fhir/json.h"
#include "fhir/validate.h"
#include "model/tx_types.h"

namespace medledger::api {

using custodian::Ingest;
using nlohmann::json;

// Checks the signature (api/auth.h: bound to this node, since a write
// replayed at a sibling node would be a second write) and that the signer is
// a member of the custodian org holding org_admin or practitioner. Runs on a
// write-pool thread: the head barrier may wait there.
Result<state::Caller> AuthenticateWriter(const http::Request& req, const FhirContext& ctx, AuthFailure* failure) {
  ML_ASSIGN_OR_RETURN(auto c, ctx.ledger->auth->Verify(req, AuthNeed{.bound_to_node = true}, failure));
  if (c.org() != ctx.org) return PermissionDenied("the signing key belongs to another organisation");
  if (!c.Has(model::kRoleOrgAdmin | model::kRolePractitioner))
    return PermissionDenied("writing records needs the org_admin or practitioner role");
  return c;
}

// FHIR's own type, or plain JSON (RFC 8259); anything else is not a
// resource (FHIR R4 http.html#mime-type): 415.
std::optional<http::Response> CheckFhirContentType(const http::Request& req) {
  const std::string t = req.MediaType();
  if (t == "application/fhir+json" || t == "application/json") return std::nullopt;
  Status st = InvalidArgument(t.empty() ? "Content-Type is required (application/fhir+json)"
                                        : "Content-Type " + t.substr(0, 64) + " is not accepted (application/fhir+json)");
  return FhirError(st, 415);
}

namespace {

http::Response ToHttp(custodian::WriteReply r) {
  if (!r.error.ok()) return FhirError(r.error, FhirWriteHttpStatus(r.error.code()));
  http::Response resp = FhirResponse(r.status, std::move(r.body));
  if (!r.location.empty()) resp.headers.push_back({"Location", r.location});
  if (!r.etag.empty()) resp.headers.push_back({"ETag", r.etag});
  if (!r.anchor_tx.empty()) resp.headers.push_back({"X-Medledger-Anchor-Tx", r.anchor_tx});
  if (!r.anchor_hash.empty()) resp.headers.push_back({"X-Medledger-Anchor-Hash", r.anchor_hash});
  return resp;
}

void HandleWrite(const std::shared_ptr<Ingest>& ingest, const FhirContext* ctx, http::Request& req, http::Reply reply,
                 custodian::WriteRequest w) {
  auto r = std::make_shared<http::Request>(std::move(req));
  bool posted = ingest->Post([ingest, ctx, r, reply, w = std::move(w)]() mutable {
    AuthFailure failure;
    auto who = AuthenticateWriter(*r, *ctx, &failure);
    if (!who.ok()) {
      if (failure.status.ok()) return reply(FhirError(who.status()));
      return reply(AuthFailureResponse(failure, true));
    }
    if (auto e = CheckFhirContentType(*r)) return reply(std::move(*e));
    if (auto p = r->Header(kPatientHeader)) w.patient_key = *p;
    else if (auto q = r->Query("patient")) w.patient_key = *q;
    w.prefer = r->Header("Prefer");
    if (!w.bundle) w.if_none_exist = r->Header("If-None-Exist");
    w.body = std::move(r->body);
    ingest->Write(std::move(w), [reply](custodian::WriteReply out) { reply(ToHttp(std::move(out))); });
  });
  if (!posted) reply(FhirError(Unavailable("the node is shutting down")));
}

}  // namespace

void HandleFhirWrite(const std::shared_ptr<Ingest>& ingest, const FhirContext* ctx, http::Request& req,
                     http::Reply reply, custodian::WriteRequest w) {
  HandleWrite(ingest, ctx, req, std::move(reply), std::move(w));
}

namespace {

std::string CapabilityJson() {
  fhir::CapabilityOptions o;
  o.date = fhir::FormatInstant(custodian::NowMs());
  o.software_version = "0.1";
  using I = fhir::Interaction;
  for (auto t : fhir::R4ResourceTypes()) {
    if (t == "Bundle" || t == "Binary" || t == "Parameters") continue;
    fhir::ResourceCapability rc;
    rc.type = std::string(t);
    rc.interactions = {I::kRead, I::kVread, I::kCreate, I::kUpdate};
    rc.conditional_create = true;
    rc.conditional_update = true;
    if (t == "Consent" || t == "AuditEvent") {
      rc.interactions.push_back(I::kSearchType);
      rc.search_params.push_back({"patient", "reference"});
    }
    o.resources.push_back(std::move(rc));
  }
  return fhir::CapabilityStatement(o);
}

}  // namespace

Status RegisterFhirWriteRoutes(http::Server& server, FhirContext* ctx) {
  ML_ASSIGN_OR_RETURN(auto ingest, Ingest::Open(ctx, [](StatusCode c) { return FhirWriteHttpStatus(c); }));
  std::string capability = CapabilityJson();

  server.Route("GET", "/fhir/metadata", [capability](http::Request&, http::Reply reply) {
    reply(FhirResponse(200, capability));
  });
  server.Route("POST", "/fhir", [ingest, ctx](http::Request& req, http::Reply reply) {
    HandleWrite(ingest, ctx, req, std::move(reply), custodian::WriteRequest{.bundle = true});
  });
  server.Route("POST", "/fhir/{type}", [ingest, ctx](http::Request& req, http::Reply reply) {
    HandleWrite(ingest, ctx, req, std::move(reply), custodian::WriteRequest{.type = req.params[0]});
  });
  server.Route("PUT", "/fhir/{type}/{id}", [ingest, ctx](http::Request& req, http::Reply reply) {
    HandleWrite(ingest, ctx, req, std::move(reply),
                custodian::WriteRequest{.type = req.params[0], .id = req.params[1]});
  });
  // Claim/$submit and the void Task write through the same ingestion.
  RegisterClaimRoutes(server, ctx, ingest);
  // The public id of the custodian subject key, for the org admin who
  // registers it (GET answers no PHI).
  server.Route("GET", "/fhir/$custodian-subject", [id = ingest->custodian_subject()](http::Request&, http::Reply reply) {
    reply(http::Response::Json(200, json{{"custodian_subject", id}}.dump()));
  });
  return Status::Ok();
}

}  // namespace medledger::api
