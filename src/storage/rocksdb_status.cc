#include "storage/rocksdb_status.h"

#include <string>

namespace medledger::storage {

Status FromRocks(const rocksdb::Status& s, std::string_view module, std::string_view what,
                 bool with_detail) {
  using C = rocksdb::Status::Code;
  StatusCode code = StatusCode::kInternal;
  bool io_class = false;
  switch (s.code()) {
    case C::kOk: return Status::Ok();
    case C::kNotFound: code = StatusCode::kNotFound; break;
    case C::kCorruption: code = StatusCode::kDataLoss; break;
    case C::kNotSupported: code = StatusCode::kFailedPrecondition; io_class = true; break;
    case C::kInvalidArgument: code = StatusCode::kFailedPrecondition; break;
    case C::kIOError:
      code = s.IsNoSpace() ? StatusCode::kResourceExhausted : StatusCode::kUnavailable;
      io_class = true;
      break;
    case C::kIncomplete:
    case C::kShutdownInProgress:
    case C::kTimedOut:
    case C::kBusy:
    case C::kExpired:
    case C::kTryAgain:
      code = StatusCode::kUnavailable;
      io_class = true;
      break;
    case C::kAborted: code = StatusCode::kAborted; break;
    default: break;  // kMergeInProgress, kColumnFamilyDropped, ...: kInternal
  }
  std::string msg = std::string(module) + ": " + std::string(what) + " failed (rocksdb " +
                    std::to_string(static_cast<int>(s.code())) + ")";
  if (io_class || with_detail) msg += ": " + s.ToString();
  return Status(code, std::move(msg));
}

}  // namespace medledger::storage
