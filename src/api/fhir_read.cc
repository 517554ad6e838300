// The read side of the FHIR API: routes, authentication and HTTP around the
// custodian's read service (custodian/read_service.h), which decides. Contract
// and formats: docs/RECORDS.md, "Access, audit and erasure API".
//
//   GET  /fhir/{type}/{id}                  signed; the latest version
//   GET  /fhir/{type}/{id}/_history/{vid}   signed; one version
//   GET  /fhir/Patient/{id}/$everything     signed; Bundle searchset of what the caller may read
//   GET  /fhir/Consent?patient=PID          signed; patient, representative or auditor
//   GET  /fhir/AuditEvent?patient=PID[&_accounting=true]   same callers
//   POST /fhir/{type}/{id}/$erase           signed; body: the patient's erasure.request tx (JSON)
//   POST /v1/disclosures                    signed by the custodian's staff; records a disclosure
//   GET  /v1/admin/legal-hold               signed; the custodian's holds on chain (org admins, auditors)
//   GET  /v1/records?reference=Type/id      signed; record id, latest version, erased
//   GET  /v1/records/{record_id}/{version}  signed; the on-chain anchor
//   GET  /v1/patients/me/pseudonyms         signed; the signer's own pseudonyms
//   GET  /v1/peers?org=ORG                  signed; ORG's nodes in the peer directory
//
// Handlers run on the HTTP I/O threads and never wait there: the service
// answers through callbacks on its own threads.
#include <nlohmann/json.hpp>

#include "api/auth.h"
#include "api/fhir_context.h"
#include "api/fhir_forward.h"
#include "api/http_signature.h"
#include "api/http_status.h"
#include "custodian/read_service.h"
#include "model/transaction.h"
#include "model/tx_json.h"

namespace medledger::api {

using custodian::ReadService;
using nlohmann::json;
using state::Caller;

namespace {

std::string BaseUrl(const http::Request& req) {
  auto host = req.Header("host");
  return "http://" + (host ? *host : std::string("localhost")) + "/fhir";
}

// A positive decimal version, else nullopt.
std::optional<int64_t> ParseVersion(const std::string& s) {
  char* end = nullptr;
  long long v = std::strtoll(s.c_str(), &end, 10);
  if (s.empty() || *end || v <= 0) return std::nullopt;
  return v;
}

http::Response SearchBundle(const std::string& base, const std::vector<json>& resources) {
  json entries = json::array();
  for (const auto& r : resources)
    entries.push_back({{"fullUrl", base + "/" + r["resourceType"].get<std::string>() + "/" + r["id"].get<std::string>()},
                       {"resource", r},
                       {"search", {{"mode", "match"}}}});
  json b = {{"resourceType", "Bundle"}, {"type", "searchset"}, {"total", resources.size()}};
  if (!entries.empty()) b["entry"] = entries;
  return FhirResponse(200, b.dump());
}

Result<records::PurposeOfUse> ReadPurpose(const http::Request& req) {
  return records::ResolvePurpose(req.Header(kPurposeHeader), req.Header(kBreakGlassHeader));
}

using Service = std::shared_ptr<ReadService>;

void HandleRead(const Service& s, const FhirContext* ctx, http::Request& req, const Caller& c, http::Reply reply,
                std::optional<std::string> vid) {
  // Cross-organisation reads (fhir_forward.h): `via` names the node that
  // forwarded this one, whose hop signature api/auth.h checked.
  if (!c.via.empty())
    reply = [reply, via = c.via](http::Response r) {
      r.headers.emplace_back(std::string(kForwardedByHeader), via);
      reply(std::move(r));
    };
  auto purpose = ReadPurpose(req);
  if (!purpose.ok()) return reply(FhirError(purpose.status()));
  // Another custodian named: answered by a forwarding worker.
  if (MaybeForwardRead(ctx, req, reply, vid)) return;
  std::optional<int64_t> version;
  if (vid) {
    version = ParseVersion(*vid);
    if (!version) return reply(FhirError(NotFound("no such version")));
  }
  // A break-glass read served without a confirmed chain head says so.
  const bool unconfirmed = c.head_unconfirmed;
  s->Read(c, req.params[0], req.params[1], version, *purpose,
          [reply, unconfirmed](Result<custodian::ReadResult> r) {
            if (!r.ok()) return reply(FhirError(r.status()));
            http::Response resp = FhirResponse(200, std::move(r->bytes));
            const auto& a = r->anchor;
            resp.headers.emplace_back("ETag", "W/\"" + std::to_string(a.version) + "\"");
            resp.headers.emplace_back("X-Medledger-Anchor", a.hash);
            resp.headers.emplace_back("X-Medledger-Record-Id", a.record_id);
            resp.headers.emplace_back("X-Medledger-Version", std::to_string(a.version));
            if (!r->event_id.empty()) resp.headers.emplace_back("X-Medledger-Access-Event", r->event_id);
            if (r->break_glass) resp.headers.emplace_back("X-Medledger-Break-Glass", "true");
            if (unconfirmed) resp.headers.emplace_back("X-Medledger-Head-Unconfirmed", "true");
            reply(std::move(resp));
          });
}

void HandleEverything(const Service& s, http::Request& req, const Caller& c, http::Reply reply) {
  auto purpose = ReadPurpose(req);
  if (!purpose.ok()) return reply(FhirError(purpose.status()));
  s->Everything(c, req.params[0], *purpose,
                [reply, base = BaseUrl(req)](Result<std::vector<custodian::EverythingEntry>> r) {
                  if (!r.ok()) return reply(FhirError(r.status()));
                  // The stored bytes go out as they are, not re-serialized.
                  std::string entries;
                  for (const auto& e : *r) {
                    if (!entries.empty()) entries += ",";
                    entries += "{\"fullUrl\":" + json(base + "/" + e.type + "/" + e.id).dump() +
                               ",\"resource\":" + e.bytes + ",\"search\":{\"mode\":\"match\"}}";
                  }
                  std::string body = "{\"resourceType\":\"Bundle\",\"type\":\"searchset\",\"total\":" +
                                     std::to_string(r->size());
                  body += r->empty() ? "}" : ",\"entry\":[" + entries + "]}";
                  reply(FhirResponse(200, std::move(body)));
                });
}

void HandleConsentSearch(const Service& s, http::Request& req, const Caller& c, http::Reply reply) {
  auto r = s->Consents(c, req.Query("patient").value_or(""));
  if (!r.ok()) return reply(FhirError(r.status()));
  reply(SearchBundle(BaseUrl(req), *r));
}

void HandleAuditSearch(const Service& s, http::Request& req, const Caller& c, http::Reply reply) {
  auto acc = req.Query("_accounting");
  auto r = s->AuditEvents(c, req.Query("patient").value_or(""), acc && (*acc == "true" || *acc == "1"));
  if (!r.ok()) return reply(FhirError(r.status()));
  reply(SearchBundle(BaseUrl(req), *r));
}

void HandleDisclosure(const Service& s, http::Request& req, const Caller& c, http::Reply reply) {
  json b = json::parse(req.body, nullptr, false);
  if (!b.is_object()) return reply(FhirError(InvalidArgument("body must be a JSON object")));
  custodian::DisclosureRequest d;
  auto str = [&](const char* k) { return b.contains(k) && b[k].is_string() ? b[k].get<std::string>() : ""; };
  d.patient = str("patient");
  d.recipient_name = str("recipient_name");
  d.recipient_address = str("recipient_address");
  d.description = str("description");
  d.purpose = str("purpose");
  if (b.contains("records")) {
    if (!b["records"].is_array()) return reply(FhirError(InvalidArgument("records must be an array of Type/id")));
    for (const auto& r : b["records"]) d.records.push_back(r.is_string() ? r.get<std::string>() : "");
  }
  if (b.contains("at_ms") && b["at_ms"].is_number_integer()) d.at_ms = b["at_ms"].get<int64_t>();
  s->Disclose(c, std::move(d), [reply](Result<custodian::DisclosureReceipt> r) {
    if (!r.ok()) return reply(FhirError(r.status()));
    json out = {{"disclosure_id", r->disclosure_id}, {"recipient_ref", r->recipient_ref}, {"tx", r->tx},
                {"height", r->height}};
    reply(http::Response::Json(201, out.dump()));
  });
}

void HandleListHolds(const Service& s, http::Request&, const Caller& c, http::Reply reply) {
  auto r = s->LegalHolds(c);
  if (!r.ok()) return reply(FhirError(r.status()));
  reply(http::Response::Json(200, r->dump()));
}

void HandleErase(const Service& s, http::Request& req, const Caller& c, http::Reply reply) {
  auto parsed = json::parse(req.body, nullptr, false);
  auto tx = parsed.is_discarded() ? Result<model::Transaction>(InvalidArgument("body is not JSON"))
                                  : model::TxFromJson(parsed);
  if (!tx.ok())
    return reply(FhirError(
        InvalidArgument("body must be the signed erasure.request transaction: " + tx.status().message())));
  s->Erase(c, req.params[0], req.params[1], std::move(*tx), [reply](Result<json> r) {
    if (!r.ok()) return reply(FhirError(r.status()));
    reply(http::Response::Json(200, r->dump()));
  });
}

void HandleRecordLookup(const Service& s, http::Request& req, const Caller& c, http::Reply reply) {
  auto r = s->LookupRecord(c, req.Query("reference").value_or(""));
  if (!r.ok()) return reply(ErrorResponse(r.status()));
  reply(http::Response::Json(200, r->dump()));
}

void HandleOwnPseudonyms(const Service& s, http::Request&, const Caller& c, http::Reply reply) {
  auto r = s->OwnPseudonyms(c);
  if (!r.ok()) return reply(ErrorResponse(r.status()));
  reply(http::Response::Json(200, r->dump()));
}

void HandleAnchor(const Service& s, http::Request& req, const Caller& c, http::Reply reply) {
  auto v = ParseVersion(req.params[1]);
  if (!v) return reply(ErrorResponse(InvalidArgument("bad version")));
  auto r = s->Anchor(c, req.params[0], *v);
  if (!r.ok()) return reply(ErrorResponse(r.status()));
  reply(http::Response::Json(200, r->dump()));
}

// Any registered, active key may ask: a patient's client finds each of its
// custodians' nodes here. Node URLs are what members publish to each other,
// not PHI; asking names an organisation, not a patient.
void HandlePeers(const FhirContext* ctx, http::Request& req, http::Reply reply) {
  std::string org = req.Query("org").value_or("");
  if (org.empty() || org.size() > 64) return reply(ErrorResponse(InvalidArgument("?org=ORG is required")));
  auto peers = DirectoryPeers(ctx, org);
  if (!peers.ok()) return reply(ErrorResponse(peers.status()));
  json nodes = json::array();
  for (const auto& p : *peers) nodes.push_back({{"node_id", p.node_id}, {"url", p.url}});
  reply(http::Response::Json(200, json{{"org", org}, {"nodes", nodes}}.dump()));
}

}  // namespace

Status RegisterFhirReadRoutes(http::Server& server, FhirContext* ctx) {
  // Re-applies on-chain erasures and replays the access journal before
  // anything is served.
  ML_ASSIGN_OR_RETURN(auto opened, ReadService::Open(ctx));
  Service s(std::move(opened));

  // Every route is signed: api/auth.h verifies the caller first. Reads may
  // come forwarded from another organisation's node; writes to the chain on
  // the patient's behalf (erasure, disclosures) are bound to this node.
  Authenticator* auth = ctx->ledger->auth;
  using Handler = void (*)(const Service&, http::Request&, const Caller&, http::Reply);
  auto signed_route = [&](const char* method, const char* path, AuthNeed need, Handler h) {
    server.Route(method, path, [s, auth, need, h](http::Request& req, http::Reply reply) {
      auth->Authenticate(req, std::move(reply), need, true,
                         [s, h](http::Request& r, const Caller& c, http::Reply rep) { h(s, r, c, std::move(rep)); });
    });
  };
  const AuthNeed read{.bound_to_node = false, .allow_hop = true, .break_glass_without_head = true};
  const AuthNeed local{};
  const AuthNeed bound{.bound_to_node = true, .allow_hop = false};
  for (const char* path : {"/fhir/{type}/{id}", "/fhir/{type}/{id}/_history/{vid}"}) {
    const bool history = std::string_view(path).find("_history") != std::string_view::npos;
    server.Route("GET", path, [s, ctx, auth, read, history](http::Request& req, http::Reply reply) {
      auth->Authenticate(req, std::move(reply), read, true,
                         [s, ctx, history](http::Request& r, const Caller& c, http::Reply rep) {
                           std::optional<std::string> vid;
                           if (history) vid = r.params[2];
                           HandleRead(s, ctx, r, c, std::move(rep), vid);
                         });
    });
  }
  signed_route("GET", "/fhir/Patient/{id}/$everything", local, HandleEverything);
  signed_route("GET", "/fhir/Consent", local, HandleConsentSearch);
  signed_route("GET", "/fhir/AuditEvent", local, HandleAuditSearch);
  signed_route("POST", "/fhir/{type}/{id}/$erase", bound, HandleErase);
  signed_route("POST", "/v1/disclosures", bound, HandleDisclosure);
  signed_route("GET", "/v1/admin/legal-hold", local, HandleListHolds);
  signed_route("GET", "/v1/records", local, HandleRecordLookup);
  signed_route("GET", "/v1/records/{record_id}/{version}", local, HandleAnchor);
  signed_route("GET", "/v1/patients/me/pseudonyms", local, HandleOwnPseudonyms);
  server.Route("GET", "/v1/peers", [ctx, auth, local](http::Request& req, http::Reply reply) {
    auth->Authenticate(req, std::move(reply), local, false,
                       [ctx](http::Request& r, const Caller&, http::Reply rep) { HandlePeers(ctx, r, std::move(rep)); });
  });
  return Status::Ok();
}

}  // namespace medledger::api
