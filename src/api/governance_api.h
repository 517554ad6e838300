// Read-only governance routes (writes are ordinary transactions through
// POST /v1/tx: governance.propose, governance.approve).
//
//   GET /v1/governance/proposals   {"height", "threshold", "proposals": [ProposalInfo JSON + "status"]}
//                                  status: open | executed | expired, as of the next block
//                                  ?status=open|executed|expired filters
//   GET /v1/orgs                   {"orgs": [{"id", "name", "active", "since"}]}, active and removed
#pragma once

#include "api/ledger_api.h"
#include "http/server.h"

namespace medledger::api {

void RegisterGovernanceRoutes(http::Server& server, LedgerContext* ctx);

}  // namespace medledger::api
