// OperationOutcome: the body of every FHIR error response (and of
// Bundle.entry.response.outcome). Diagnostics must not contain patient data:
// callers pass messages built from ids and locations, as Status messages are.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "fhir/json.h"

namespace medledger::fhir {

enum class Severity { kFatal, kError, kWarning, kInformation };

// The subset of http://hl7.org/fhir/R4/valueset-issue-type.html medledger uses.
enum class IssueCode {
  kInvalid,       // the content is malformed or breaks a rule (400/422)
  kNotFound,      // 404
  kProcessing,    // a processing failure (e.g. unresolved conditional reference)
  kSecurity,      // authentication failed (401)
  kForbidden,     // authenticated but not allowed, e.g. no consent (403)
  kDeleted,       // the resource was deleted or its keys shredded (410)
  kTooCostly,     // over a size or rate limit (413/429)
  kException,     // unexpected internal or transient error (500/503)
  kConflict,      // version conflict (409/412)
  kDuplicate,     // already exists (conditional create matched several)
  kNotSupported,  // interaction or type not supported (405/501)
};

std::string_view SeverityName(Severity s);   // "fatal", "error", ...
std::string_view IssueCodeName(IssueCode c);  // "invalid", "not-found", ...

// The issue code for a non-OK Status: InvalidArgument→invalid,
// NotFound→not-found, AlreadyExists→duplicate, PermissionDenied→forbidden,
// Unauthenticated→security, FailedPrecondition→processing, Aborted→conflict,
// ResourceExhausted→too-costly, Gone→deleted, others→exception.
IssueCode IssueCodeFor(StatusCode code);

// A one-issue OperationOutcome. `expression` are FHIRPath locations of the
// problem (issue.expression); omitted when empty. The Value form is for
// embedding in a Bundle response entry.
Value OperationOutcomeValue(Severity severity, IssueCode code, std::string_view diagnostics,
                            const std::vector<std::string>& expression = {});
std::string OperationOutcome(Severity severity, IssueCode code, std::string_view diagnostics,
                             const std::vector<std::string>& expression = {});

}  // namespace medledger::fhir
