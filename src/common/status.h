// Status and Result<T>: the one error style of medledger for operational
// failures (I/O, parsing at the edges, network). A rejected transaction is not
// an error: it is a verdict (see model/verdict.h) and goes on the chain.
//
// Codes carry retry meaning, in the Abseil manner:
//   kUnavailable        transient; retry the call (etcd leader change, disk busy)
//   kAborted            a conflict; retry the whole operation (lost a CAS race)
//   kFailedPrecondition the state does not allow it; do not retry as is
//   kInvalidArgument    the input is wrong; never retry
//   kNotFound, kAlreadyExists, kPermissionDenied, kUnauthenticated,
//   kResourceExhausted  too many: a rate, quota or capacity limit; retry later
//   kTooLarge           too large: this input exceeds a size limit; never retry as is
//   kDataLoss (corruption), kInternal (a bug)
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace medledger {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,
  kNotFound,
  kAlreadyExists,
  kPermissionDenied,
  kUnauthenticated,
  kFailedPrecondition,
  kAborted,
  kUnavailable,
  kResourceExhausted,
  kDataLoss,
  kInternal,
  kGone,
  kTooLarge,
};

const char* StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message)
      : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  std::string ToString() const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

inline Status InvalidArgument(std::string m) { return {StatusCode::kInvalidArgument, std::move(m)}; }
inline Status NotFound(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
inline Status AlreadyExists(std::string m) { return {StatusCode::kAlreadyExists, std::move(m)}; }
inline Status PermissionDenied(std::string m) { return {StatusCode::kPermissionDenied, std::move(m)}; }
inline Status Unauthenticated(std::string m) { return {StatusCode::kUnauthenticated, std::move(m)}; }
inline Status FailedPrecondition(std::string m) { return {StatusCode::kFailedPrecondition, std::move(m)}; }
inline Status Aborted(std::string m) { return {StatusCode::kAborted, std::move(m)}; }
inline Status Unavailable(std::string m) { return {StatusCode::kUnavailable, std::move(m)}; }
inline Status ResourceExhausted(std::string m) { return {StatusCode::kResourceExhausted, std::move(m)}; }
inline Status DataLoss(std::string m) { return {StatusCode::kDataLoss, std::move(m)}; }
inline Status Internal(std::string m) { return {StatusCode::kInternal, std::move(m)}; }
inline Status Gone(std::string m) { return {StatusCode::kGone, std::move(m)}; }
inline Status TooLarge(std::string m) { return {StatusCode::kTooLarge, std::move(m)}; }

// Result<T> holds either a value or a non-OK Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {}  // NOLINT

  bool ok() const { return std::holds_alternative<T>(v_); }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(v_);
  }
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace medledger

// Returns early from the enclosing function when `expr` is a non-OK Status.
#define ML_RETURN_IF_ERROR(expr)               \
  do {                                         \
    ::medledger::Status _st = (expr);          \
    if (!_st.ok()) return _st;                 \
  } while (0)

#define ML_CONCAT_INNER(a, b) a##b
#define ML_CONCAT(a, b) ML_CONCAT_INNER(a, b)
// ML_ASSIGN_OR_RETURN(auto x, ExprReturningResult());
#define ML_ASSIGN_OR_RETURN(lhs, expr)                          \
  auto ML_CONCAT(_res_, __LINE__) = (expr);                     \
  if (!ML_CONCAT(_res_, __LINE__).ok())                         \
    return ML_CONCAT(_res_, __LINE__).status();                 \
  lhs = std::move(ML_CONCAT(_res_, __LINE__)).value()
