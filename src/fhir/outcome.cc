#include "fhir/outcome.h"

namespace medledger::fhir {

std::string_view SeverityName(Severity s) {
  switch (s) {
    case Severity::kFatal: return "fatal";
    case Severity::kError: return "error";
    case Severity::kWarning: return "warning";
    case Severity::kInformation: return "information";
  }
  return "error";
}

std::string_view IssueCodeName(IssueCode c) {
  switch (c) {
    case IssueCode::kInvalid: return "invalid";
    case IssueCode::kNotFound: return "not-found";
    case IssueCode::kProcessing: return "processing";
    case IssueCode::kSecurity: return "security";
    case IssueCode::kForbidden: return "forbidden";
    case IssueCode::kDeleted: return "deleted";
    case IssueCode::kTooCostly: return "too-costly";
    case IssueCode::kException: return "exception";
    case IssueCode::kConflict: return "conflict";
    case IssueCode::kDuplicate: return "duplicate";
    case IssueCode::kNotSupported: return "not-supported";
  }
  return "exception";
}

IssueCode IssueCodeFor(StatusCode code) {
  switch (code) {
    case StatusCode::kInvalidArgument: return IssueCode::kInvalid;
    case StatusCode::kNotFound: return IssueCode::kNotFound;
    case StatusCode::kAlreadyExists: return IssueCode::kDuplicate;
    case StatusCode::kPermissionDenied: return IssueCode::kForbidden;
    case StatusCode::kUnauthenticated: return IssueCode::kSecurity;
    case StatusCode::kFailedPrecondition: return IssueCode::kProcessing;
    case StatusCode::kAborted: return IssueCode::kConflict;
    case StatusCode::kResourceExhausted:
    case StatusCode::kTooLarge: return IssueCode::kTooCostly;
    case StatusCode::kGone: return IssueCode::kDeleted;
    case StatusCode::kOk: return IssueCode::kProcessing;
    case StatusCode::kUnavailable:
    case StatusCode::kDataLoss:
    case StatusCode::kInternal: return IssueCode::kException;
  }
  return IssueCode::kException;
}

Value OperationOutcomeValue(Severity severity, IssueCode code, std::string_view diagnostics,
                            const std::vector<std::string>& expression) {
  Value issue = Value::MakeObject();
  issue.Set("severity", Value(SeverityName(severity)));
  issue.Set("code", Value(IssueCodeName(code)));
  if (!diagnostics.empty()) issue.Set("diagnostics", Value(diagnostics));
  if (!expression.empty()) {
    Value exprs = Value::MakeArray();
    for (const std::string& e : expression) exprs.Append(Value(e));
    issue.Set("expression", std::move(exprs));
  }
  Value issues = Value::MakeArray();
  issues.Append(std::move(issue));
  Value oo = Value::MakeObject();
  oo.Set("resourceType", Value("OperationOutcome"));
  oo.Set("issue", std::move(issues));
  return oo;
}

std::string OperationOutcome(Severity severity, IssueCode code, std::string_view diagnostics,
                             const std::vector<std::string>& expression) {
  return Serialize(OperationOutcomeValue(severity, code, diagnostics, expression));
}

}  // namespace medledger::fhir
