// Clinical-trial reads (docs/TRIALS.md, "API"). Signed requests, as every
// chain-derived read; writes are transactions (POST /v1/txs).
//
//   GET /v1/trials                          {studies: [study record, ...]}
//   GET /v1/trials/{study}                  the study: versions, lock, publications with
//                                           their flags, each with its Part 11 signatures
//   GET /v1/trials/{study}/subjects         {subjects: [...]}: pseudonyms, status
//                                           (on-study | withdrawn), signatures
//   GET /v1/trials/{study}/submissions      {submissions: [...]}, ?subject=<pseudonym>
//   GET /v1/trials/records/{record}         any trial record by its id (a trial tx id or
//                                           a submission id): {record, kind, study_id,
//                                           sha256, document, signatures}; what a
//                                           signer checks before trial.sign
//   Readable by every active identity of an active organisation except
//   patients and representatives (members, admins, nodes, staff, sponsors,
//   regulators, auditors): registrations and publications are public to the
//   consortium so that outcome switching is visible; the rest holds no
//   patient data (pseudonyms and hashes). 400 for a malformed id, 404 for
//   an unknown one.
#pragma once

#include "api/ledger_api.h"
#include "http/server.h"

namespace medledger::api {

void RegisterTrialRoutes(http::Server& server, LedgerContext* ctx);

}  // namespace medledger::api
