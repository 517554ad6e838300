// Contract reads (docs/CONTRACTS.md, "API"). Signed requests, as every
// chain-derived read; writes are transactions (POST /v1/tx).
//
//   GET /v1/contracts/{name}          {name, version, source_sha256, height, proposal_id}
//                                     ?source=1 adds the current version's source
//   GET /v1/contracts/calls/{tx}      a contract.call's outcome:
//     committed: {tx, status: "committed", height, contract, version, fn, result, gas_used}
//     failed:    {tx, status: "failed", height, reason, message}  (the block's verdict;
//                reason contract_error | gas_exhausted | memory_exhausted | forbidden | ...)
//     pending:   {tx, status: "pending"}; unknown: 404
//   Readable by the call's signer and by the ledger's readers (members,
//   org admins, nodes, auditors, regulators).
#pragma once

#include "api/ledger_api.h"
#include "http/server.h"

namespace medledger::api {

void RegisterContractRoutes(http::Server& server, LedgerContext* ctx);

}  // namespace medledger::api
