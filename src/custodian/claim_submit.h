// The provider's side of a claim (docs/CLAIMS.md, "Submitting a claim"):
// Claim/$submit and the void Task, off chain. Resolves the Claim's patient,
// coverage and encounter against this custodian's own records, stores the
// Claim like any record (custodian/ingest.h: vault, index, anchor), puts the
// claim's facts on chain as claims.submit (no PHI: pseudonym, codes, minor
// units, keyed hashes, days), waits for its block, and answers the
// ClaimResponse built from what the chain recorded.
//
// Knows no HTTP: answers are values; api/claim_api.cc routes and
// authenticates.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "common/status.h"
#include "custodian/context.h"
#include "custodian/ingest.h"

namespace medledger::custodian {

struct ClaimReply {
  Status error;  // the request is malformed or could not be processed (an OperationOutcome)
  int status = 200;
  std::string body;  // the ClaimResponse, or for a void the stored Task
  std::string location;
};

class ClaimService {
 public:
  ClaimService(Context* ctx, std::shared_ptr<Ingest> ingest) : ctx_(ctx), ingest_(std::move(ingest)) {}

  // Both run on the ingest's write pool (Ingest::Post) and answer through
  // `done`, possibly on another pool thread.
  void Submit(std::string body, std::function<void(ClaimReply)> done);
  // A Task with code cancel (financialtaskcode) focused on a Claim of this
  // provider: the Task is stored and claims.void put on chain.
  void Cancel(std::string body, std::function<void(ClaimReply)> done);

  struct Prepared;  // claim_submit.cc

 private:
  void Store(std::shared_ptr<Prepared> p, std::function<void(ClaimReply)> done);
  void Adjudicate(std::shared_ptr<Prepared> p, std::function<void(ClaimReply)> done);

  Context* ctx_;
  std::shared_ptr<Ingest> ingest_;
};

}  // namespace medledger::custodian
