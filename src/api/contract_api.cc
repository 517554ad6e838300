#include "api/contract_api.h"

#include <nlohmann/json.hpp>

#include "api/auth.h"
#include "contracts/module.h"
#include "node/mempool.h"
#include "model/block.h"
#include "model/tx_types.h"
#include "state/contract_record.h"

namespace medledger::api {

using nlohmann::json;

namespace {

constexpr uint32_t kReaderRoles =
    model::kRoleMember | model::kRoleOrgAdmin | model::kRoleNode | model::kRoleAuditor | model::kRoleRegulator;

void Route(http::Server& server, LedgerContext* ctx, const char* path, Authenticator::Then then) {
  server.Route("GET", path, [ctx, then](http::Request& req, http::Reply reply) {
    ctx->auth->Authenticate(req, std::move(reply), AuthNeed{}, false, then);
  });
}

void HandleContract(LedgerContext* ctx, http::Request& req, const state::Caller&, http::Reply reply) {
  const std::string& name = req.params[0];
  if (!state::ValidContractName(name))
    return reply(http::Response::Error(400, "malformed", "a contract name is 1..64 characters of a-z 0-9 _ - ."));
  const auto& st = ctx->chain->state();
  auto rec = state::LoadContract(st, name);
  if (!rec) return reply(http::Response::Error(404, "not_found", "no contract " + name));
  json out = {{"name", rec->name},
              {"version", rec->version},
              {"source_sha256", rec->source_sha256},
              {"height", rec->height},
              {"proposal_id", rec->proposal_id}};
  if (req.Query("source") == "1") out["source"] = state::LoadContractSource(st, name, rec->version).value_or("");
  reply(http::Response::Json(200, out.dump()));
}

void HandleCall(LedgerContext* ctx, http::Request& req, const state::Caller& caller, http::Reply reply) {
  auto id = FromHexFixed<32>(req.params[0]);
  if (!id.ok()) return reply(http::Response::Error(400, "malformed", "a transaction id is 64 hex characters"));
  const std::string hex = ToHex(*id);
  auto loc = ctx->chain->store().FindTx(*id);
  if (!loc.ok()) return reply(http::Response::Error(503, "unavailable", loc.status().message()));
  if (!loc->has_value()) {
    if (ctx->pool->Lookup(*id).state == node::TxState::kPending)
      return reply(http::Response::Json(200, json{{"tx", hex}, {"status", "pending"}}.dump()));
    return reply(http::Response::Error(404, "not_found", "no such transaction"));
  }
  auto bytes = ctx->chain->store().GetBlock((*loc)->height);
  if (!bytes.ok()) return reply(http::Response::Error(503, "unavailable", bytes.status().message()));
  auto b = model::DecodeBlock(*bytes);
  const uint32_t idx = (*loc)->index;
  if (!b.ok() || idx >= b->txs.size()) return reply(http::Response::Error(500, "internal", "block unreadable"));
  const model::Transaction& t = b->txs[idx];
  if (t.type != model::tx::kContractCall)
    return reply(http::Response::Error(404, "not_found", "transaction " + hex + " is not a contract call"));
  if (t.signer != caller.pk && !(caller.identity.active() && caller.Has(kReaderRoles)))
    return reply(http::Response::Error(403, "forbidden", "a call's outcome is for its signer and the ledger's readers"));
  const model::Verdict& v = b->results[idx];
  json out = {{"tx", hex}, {"height", (*loc)->height}};
  if (!v.ok()) {
    out["status"] = "failed";
    out["reason"] = model::RejectName(v.reason);
    out["message"] = v.detail;
    return reply(http::Response::Json(200, out.dump()));
  }
  auto call = contracts::LoadCall(ctx->chain->state(), hex);
  if (!call) return reply(http::Response::Error(500, "internal", "committed call without its outcome in state"));
  out["status"] = "committed";
  out["contract"] = call->contract;
  out["version"] = call->version;
  out["fn"] = call->fn;
  out["result"] = call->result;
  out["gas_used"] = call->gas_used;
  reply(http::Response::Json(200, out.dump()));
}

}  // namespace

void RegisterContractRoutes(http::Server& server, LedgerContext* ctx) {
  // The more specific route first: "calls" is not a contract name to look up.
  Route(server, ctx, "/v1/contracts/calls/{tx}", [ctx](http::Request& r, const state::Caller& c, http::Reply rep) {
    HandleCall(ctx, r, c, std::move(rep));
  });
  Route(server, ctx, "/v1/contracts/{name}", [ctx](http::Request& r, const state::Caller& c, http::Reply rep) {
    HandleContract(ctx, r, c, std::move(rep));
  });
}

}  // namespace medledger::api
