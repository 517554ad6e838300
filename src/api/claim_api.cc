#include "api/claim_api.h"

#include "api/auth.h"
#include "api/http_status.h"
#include "custodian/claim_submit.h"

namespace medledger::api {

namespace {

using custodian::ClaimReply;
using custodian::ClaimService;

http::Response ToHttp(ClaimReply r) {
  if (!r.error.ok()) return FhirError(r.error, FhirWriteHttpStatus(r.error.code()));
  http::Response resp = FhirResponse(r.status, std::move(r.body));
  if (!r.location.empty()) resp.headers.push_back({"Location", r.location});
  return resp;
}

// Authenticates on the write pool (the head barrier may wait there), then
// hands the body to the claim service.
template <typename Fn>
void OnPool(const std::shared_ptr<custodian::Ingest>& ingest, const FhirContext* ctx, http::Request& req,
            http::Reply reply, Fn fn) {
  auto r = std::make_shared<http::Request>(std::move(req));
  bool posted = ingest->Post([ctx, r, reply, fn]() mutable {
    AuthFailure failure;
    auto who = AuthenticateWriter(*r, *ctx, &failure);
    if (!who.ok()) return reply(failure.status.ok() ? FhirError(who.status()) : AuthFailureResponse(failure, true));
    if (auto e = CheckFhirContentType(*r)) return reply(std::move(*e));
    fn(std::move(r->body), [reply](ClaimReply out) { reply(ToHttp(std::move(out))); });
  });
  if (!posted) reply(FhirError(Unavailable("the node is shutting down")));
}

// A financial cancel Task, told from any other Task without parsing it all.
bool IsCancelTask(const std::string& body) {
  return body.find("http://hl7.org/fhir/financial-taskcode") != std::string::npos;
}

}  // namespace

void RegisterClaimRoutes(http::Server& server, FhirContext* ctx, std::shared_ptr<custodian::Ingest> ingest) {
  auto service = std::make_shared<ClaimService>(ctx, ingest);
  server.Route("POST", "/fhir/Claim/$submit", [ingest, ctx, service](http::Request& req, http::Reply reply) {
    OnPool(ingest, ctx, req, std::move(reply),
           [service](std::string body, std::function<void(ClaimReply)> done) { service->Submit(std::move(body), done); });
  });
  server.Route("POST", "/fhir/Task", [ingest, ctx, service](http::Request& req, http::Reply reply) {
    if (!IsCancelTask(req.body))
      return HandleFhirWrite(ingest, ctx, req, std::move(reply), custodian::WriteRequest{.type = "Task"});
    OnPool(ingest, ctx, req, std::move(reply),
           [service](std::string body, std::function<void(ClaimReply)> done) { service->Cancel(std::move(body), done); });
  });
}

}  // namespace medledger::api
