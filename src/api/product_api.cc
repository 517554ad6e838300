// GET /v1/products/verify and GET /v1/products/trace (api/epcis_api.h;
// docs/SUPPLY.md, "Verification", "Traces"). The identifier is read here
// (fields, a GS1 Digital Link, or a scanner's element string: epcis/scan.h);
// the answer is supply::Verify / supply::Trace* over committed state, with
// today's date (UTC) for expiry, since state rules have no clock.
#include <ctime>
#include <nlohmann/json.hpp>

#include "api/auth.h"
#include "api/epcis_api.h"
#include "api/http_status.h"
#include "epcis/identifiers.h"
#include "epcis/scan.h"
#include "model/tx_types.h"
#include "node/orderer.h"
#include "supply/verify.h"

namespace medledger::api {

using nlohmann::json;

namespace {

struct Today {
  std::string date;  // YYYY-MM-DD, UTC
  int year = 0;
};

Today Now() {
  time_t s = time_t(node::NowMs() / 1000);
  std::tm tm{};
  gmtime_r(&s, &tm);
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
  return {buf, tm.tm_year + 1900};
}

// ?code=<Digital Link or element string>, or ?gtin=&serial=&lot=&expiry=YYMMDD
// (and ?custody=1 for the custody chain, read by HandleVerify).
Result<epcis::ProductIdentifier> ReadIdentifier(const http::Request& req, int year) {
  if (auto code = req.Query("code")) return epcis::ParseScannedIdentifier(*code, year);
  epcis::ProductIdentifier id;
  auto gtin = req.Query("gtin");
  auto serial = req.Query("serial");
  auto lot = req.Query("lot");
  auto expiry = req.Query("expiry");
  if (!gtin || !serial || !lot || !expiry || gtin->empty() || serial->empty() || lot->empty() || expiry->empty())
    return InvalidArgument(std::string(epcis::kIncompleteIdentifier) +
                           ": gtin, serial, lot and expiry (YYMMDD) are all required, or code=");
  ML_ASSIGN_OR_RETURN(id.gtin14, epcis::NormalizeGtin(*gtin));
  ML_ASSIGN_OR_RETURN(id.expiry, epcis::ExpandGs1Date(*expiry, year));
  id.serial = *serial;
  id.lot = *lot;
  return id;
}

json TraceJson(const supply::Trace& t) {
  json events = json::array();
  for (const auto& e : t.events)
    events.push_back({{"seq", e.seq},         {"hash", e.hash_id},         {"eventID", e.event_id},
                      {"type", e.type},       {"action", e.action},        {"bizStep", e.biz_step},
                      {"disposition", e.disposition}, {"readPoint", e.read_point}, {"bizLocation", e.biz_location},
                      {"eventTime", e.event_time}, {"org", e.org},         {"via", e.via},
                      {"retracted", e.retracted}});
  return {{"epcs", t.epcs},       {"manufacturer", t.manufacturer_org}, {"parties", t.parties},
          {"events", events},     {"truncated", t.truncated}};
}

void HandleVerify(SupplyContext* ctx, http::Request& req, const state::Caller& caller, http::Reply reply) {
  const Today today = Now();
  auto id = ReadIdentifier(req, today.year);
  if (!id.ok()) return reply(ErrorResponse(id.status()));
  const auto& st = ctx->ledger->chain->state();
  supply::VerifyResult v = supply::Verify(st, id->gtin14, id->serial, id->lot, id->expiry, today.date);
  json out = {{"status", v.status},
              {"identifierMatch", v.identifier_match},
              {"flags", v.flags},
              {"evidence", v.evidence},
              {"gtin", id->gtin14},
              {"serial", id->serial},
              {"lot", id->lot},
              {"expiry", id->expiry},
              {"checkedOn", today.date}};
  if (!v.disposition.empty()) out["disposition"] = v.disposition;
  json suspect = json::array();
  for (const auto& m : v.suspect) suspect.push_back({{"reason", m.reason}, {"event", m.event}});
  if (!suspect.empty()) out["suspect"] = suspect;
  if (v.recall)
    out["recall"] = {{"lot", v.recall->lot}, {"reason", v.recall->reason}, {"class", v.recall->recall_class},
                     {"tx", v.recall->tx}};
  if (v.case_info) out["case"] = {{"step", v.case_info->step}};
  // The custody chain only when asked (?custody=1: it was 73% of a
  // verification's node CPU when always attached, bench/README.md), and only
  // for those DSCSA lets see trading relationships.
  if (req.Query("custody").value_or("") == "1")
    if (auto trace = supply::TracePack(st, id->gtin14, id->serial);
        trace && supply::MayViewCustody(*trace, caller.org(), caller.identity.roles))
      out["custody"] = TraceJson(*trace);
  reply(http::Response::Json(200, out.dump()));
}

// ?epc=<URN or Digital Link>, ?gtin=&serial=, or ?gtin=&lot= (every pack).
void HandleTrace(SupplyContext* ctx, http::Request& req, const state::Caller& caller, http::Reply reply) {
  const auto& st = ctx->ledger->chain->state();
  std::optional<supply::Trace> t;
  auto gtin = req.Query("gtin");
  if (auto epc = req.Query("epc")) {
    auto c = epcis::CanonicalizeId(*epc);
    if (!c.ok()) return reply(ErrorResponse(c.status()));
    t = supply::TraceObject(st, *c);
  } else if (gtin && req.Query("serial")) {
    auto g = epcis::NormalizeGtin(*gtin);
    if (!g.ok()) return reply(ErrorResponse(g.status()));
    t = supply::TracePack(st, *g, *req.Query("serial"));
  } else if (gtin && req.Query("lot")) {
    auto g = epcis::NormalizeGtin(*gtin);
    if (!g.ok()) return reply(ErrorResponse(g.status()));
    t = supply::TraceLot(st, *g, *req.Query("lot"));
    if (t->events.empty()) t.reset();
  } else {
    return reply(ErrorResponse(InvalidArgument("give epc=, gtin= with serial=, or gtin= with lot=")));
  }
  if (!t) return reply(ErrorResponse(NotFound("no event names this product")));
  if (!supply::MayViewCustody(*t, caller.org(), caller.identity.roles))
    return reply(ErrorResponse(PermissionDenied(
        "the custody chain is shown to the manufacturer, the parties in it and regulators (DSCSA)")));
  reply(http::Response::Json(200, TraceJson(*t).dump()));
}

}  // namespace

Status RegisterProductRoutes(http::Server& server, SupplyContext* ctx) {
  Authenticator* auth = ctx->ledger->auth;
  // Any registered identity may verify (a read derived from the chain).
  server.Route("GET", "/v1/products/verify", [ctx, auth](http::Request& req, http::Reply reply) {
    auth->Authenticate(req, std::move(reply), AuthNeed{}, false,
                       [ctx](http::Request& r, const state::Caller& c, http::Reply rep) {
                         HandleVerify(ctx, r, c, std::move(rep));
                       });
  });
  server.Route("GET", "/v1/products/trace", [ctx, auth](http::Request& req, http::Reply reply) {
    auth->Authenticate(req, std::move(reply), AuthNeed{}, false,
                       [ctx](http::Request& r, const state::Caller& c, http::Reply rep) {
                         HandleTrace(ctx, r, c, std::move(rep));
                       });
  });
  return Status::Ok();
}

}  // namespace medledger::api
