// The exit codes of every medledger subcommand: one table, so that a script
// can tell "fix the command" from "try again later" from "someone tampered
// with something". README.md lists the same table; change both together.
//
//   0  ok
//   1  any other failure: not found (404), a local file that cannot be
//      read or written, an answer the CLI cannot use, HTTP 412 or 500, a
//      transaction rejected for a reason not listed below, a bug
//   2  usage: the command line is wrong (CLI11's parse errors), or an
//      argument or input file that the CLI or the node refuses as malformed
//      (InvalidArgument, any HTTP 4xx not listed here, a transaction
//      rejected as malformed, invalid_payload or unknown_type); do not
//      retry as is
//   3  denied: HTTP 401 or 403, or a transaction rejected as
//      role_not_permitted, unknown_signer, revoked_key or denied
//   4  gone: the record was erased (HTTP 410)
//   5  conflict: HTTP 409 (a legal hold, a version race), a transaction
//      rejected as conflict or replayed
//   6  integrity: a verification failed (`verify` found a bad block, a
//      record's bytes do not match their anchor, an inclusion proof or a
//      receipt signature does not verify; DataLoss)
//   7  the nodes of a network disagree (`network status`)
//   8  unavailable: the node cannot be reached, timed out, or answered 429
//      or 502-504, after the HTTP client's own retry; try again later
#pragma once

#include "common/status.h"

namespace medledger::cli {

enum class Exit : int {
  kOk = 0,
  kFailure = 1,
  kUsage = 2,
  kDenied = 3,
  kGone = 4,
  kConflict = 5,
  kIntegrity = 6,
  kDisagree = 7,
  kUnavailable = 8,
};

// The Status code the CLI gives a non-2xx HTTP answer: 400-499 not named
// below InvalidArgument, 401 Unauthenticated, 403 PermissionDenied, 404
// NotFound, 409 Aborted, 410 Gone, 412 FailedPrecondition, 429 and 502-504
// Unavailable, any other 5xx Internal.
StatusCode StatusCodeForHttp(int http_status);

// The exit code for an HTTP answer: kOk for 2xx, else that of
// StatusCodeForHttp.
Exit ExitForHttp(int http_status);

// The exit code for a failed Status. A rejected transaction comes back from
// ApiClient::Submit as FailedPrecondition("... rejected: <reason>: ..."); its
// reason picks the code.
Exit ExitForStatus(const Status& st);

// The reason of such a rejection ("conflict", "not_found", ...); empty for
// any other message.
std::string_view RejectReason(std::string_view message);

}  // namespace medledger::cli
