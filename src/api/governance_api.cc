#include "api/governance_api.h"

#include <nlohmann/json.hpp>

#include "state/governance.h"

namespace medledger::api {

using nlohmann::json;

void RegisterGovernanceRoutes(http::Server& server, LedgerContext* ctx) {
  server.Route("GET", "/v1/governance/proposals", [ctx](http::Request& req, http::Reply reply) {
    auto filter = req.Query("status");
    if (filter && *filter != "open" && *filter != "executed" && *filter != "expired")
      return reply(http::Response::Error(400, "malformed", "status must be open, executed or expired"));
    // Read the height first: a proposal read afterwards is at least as new,
    // so "open" is never reported for one that the chain already expired.
    uint64_t height = ctx->chain->Meta().height;
    json list = json::array();
    for (const auto& p : state::ListProposals(ctx->chain->state())) {
      std::string status = p.StatusAt(height + 1);
      if (filter && *filter != status) continue;
      json j = p.ToJson();
      j["status"] = status;
      list.push_back(std::move(j));
    }
    json out = {{"height", height},
                {"threshold", ctx->chain->params().governance_threshold},
                {"proposals", std::move(list)}};
    reply(http::Response::Json(200, out.dump()));
  });

  server.Route("GET", "/v1/orgs", [ctx](http::Request&, http::Reply reply) {
    json list = json::array();
    for (const auto& o : state::ListOrgs(ctx->chain->state())) list.push_back(o.ToJson());
    reply(http::Response::Json(200, json{{"orgs", std::move(list)}}.dump()));
  });
}

}  // namespace medledger::api
