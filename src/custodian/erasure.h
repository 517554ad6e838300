// Erasure at the custodian (GDPR Art. 17; docs/RECORDS.md, "Erasure"): the
// decision on a committed erasure.request, then the destruction of the
// record's keys in the vault and of its identifiers in the index, and a
// receipt signed by the node key. A legal hold on chain refuses it.
//
// DecideErasure blocks (it waits for the decision's block and compacts the
// vault): callers run it on a worker thread (custodian/read_service.h).
#pragma once

#include <functional>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

#include "common/status.h"
#include "custodian/context.h"

namespace medledger::custodian {

struct ErasureRequest {
  std::string reference;  // Type/id, "" when unknown (a leftover request)
  std::string record_id;
  std::string request_id;
  std::string request_tx;  // hex id of the committed erasure.request
};

// Submits the decision and, when it is "erased", destroys the record here.
// The receipt on success; kFailedPrecondition when a legal hold refuses it
// (the refusal is on chain), kUnavailable when the decision did not commit.
Result<nlohmann::json> DecideErasure(const Context& ctx, const ErasureRequest& req);

// At start-up, before serving: destroys again, in the vault and the index,
// what the chain says was erased here (a restored backup, or a node stopped
// between the chain and the vault, still holds it).
Status ReapplyErasures(const Context& ctx);

// Erasure requests of this organisation's records that are on chain but
// undecided, each as a job that decides it and logs the outcome. The erase
// call decides each request it submits; a request stays pending if the node
// stopped between the two, or if it reached the chain by another way (POST
// /v1/tx). A pending request blocks any new one for the record, so the
// patient could never ask again. Another node of the organisation may decide
// the same request first; the chain then rejects this decision as already
// made, which is harmless.
std::vector<std::function<void()>> LeftoverErasures(const Context& ctx);

}  // namespace medledger::custodian
