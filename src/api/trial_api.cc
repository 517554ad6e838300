#include "api/trial_api.h"

#include <nlohmann/json.hpp>

#include "api/auth.h"
#include "model/tx_types.h"
#include "state/module.h"
#include "trials/read.h"

namespace medledger::api {

using nlohmann::json;

namespace {

// Patients and representatives read their own records through the FHIR
// API; the trial registry is for the organisations' people and nodes.
constexpr uint32_t kReaderRoles = model::kAllRoles & ~(model::kRolePatient | model::kRoleRepresentative);

using Handler = void (*)(LedgerContext*, http::Request&, http::Reply);

void Route(http::Server& server, LedgerContext* ctx, const char* path, Handler h) {
  server.Route("GET", path, [ctx, h](http::Request& req, http::Reply reply) {
    ctx->auth->Authenticate(req, std::move(reply), AuthNeed{}, false,
                            [ctx, h](http::Request& r, const state::Caller& caller, http::Reply rep) {
                              if (!caller.identity.active() || !caller.Has(kReaderRoles))
                                return rep(http::Response::Error(403, "forbidden",
                                                                 "trial records are for the organisations' staff, "
                                                                 "nodes, sponsors and regulators"));
                              h(ctx, r, std::move(rep));
                            });
  });
}

bool ValidId(const std::string& id, http::Reply& reply) {
  if (state::IsHexId(id)) return true;
  reply(http::Response::Error(400, "malformed", "an id is 16 to 64 lower-case hex characters"));
  return false;
}

void HandleList(LedgerContext* ctx, http::Request&, http::Reply reply) {
  reply(http::Response::Json(200, json{{"studies", trials::ListStudies(ctx->chain->state())}}.dump()));
}

void HandleStudy(LedgerContext* ctx, http::Request& req, http::Reply reply) {
  if (!ValidId(req.params[0], reply)) return;
  auto s = trials::GetStudy(ctx->chain->state(), req.params[0]);
  if (!s) return reply(http::Response::Error(404, "not_found", "no study " + req.params[0]));
  reply(http::Response::Json(200, s->dump()));
}

void HandleSubjects(LedgerContext* ctx, http::Request& req, http::Reply reply) {
  if (!ValidId(req.params[0], reply)) return;
  const auto& st = ctx->chain->state();
  if (!trials::GetStudy(st, req.params[0]))
    return reply(http::Response::Error(404, "not_found", "no study " + req.params[0]));
  reply(http::Response::Json(200, json{{"subjects", trials::ListSubjects(st, req.params[0])}}.dump()));
}

void HandleSubmissions(LedgerContext* ctx, http::Request& req, http::Reply reply) {
  if (!ValidId(req.params[0], reply)) return;
  std::string subject = req.Query("subject").value_or("");
  if (!subject.empty() && !ValidId(subject, reply)) return;
  const auto& st = ctx->chain->state();
  if (!trials::GetStudy(st, req.params[0]))
    return reply(http::Response::Error(404, "not_found", "no study " + req.params[0]));
  reply(http::Response::Json(200, json{{"submissions", trials::ListSubmissions(st, req.params[0], subject)}}.dump()));
}

void HandleRecord(LedgerContext* ctx, http::Request& req, http::Reply reply) {
  if (!ValidId(req.params[0], reply)) return;
  auto r = trials::GetRecord(ctx->chain->state(), req.params[0]);
  if (!r) return reply(http::Response::Error(404, "not_found", "no trial record " + req.params[0]));
  reply(http::Response::Json(200, r->dump()));
}

}  // namespace

void RegisterTrialRoutes(http::Server& server, LedgerContext* ctx) {
  // The more specific route first: "records" is not a study id (nor hex).
  Route(server, ctx, "/v1/trials/records/{record}", HandleRecord);
  Route(server, ctx, "/v1/trials/{study}/subjects", HandleSubjects);
  Route(server, ctx, "/v1/trials/{study}/submissions", HandleSubmissions);
  Route(server, ctx, "/v1/trials/{study}", HandleStudy);
  Route(server, ctx, "/v1/trials", HandleList);
}

}  // namespace medledger::api
