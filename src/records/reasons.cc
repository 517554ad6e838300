#include "records/reasons.h"

#include <algorithm>
#include <iterator>

namespace medledger::records {

namespace {
template <size_t N>
bool In(const std::string_view (&list)[N], std::string_view s) {
  return std::find(std::begin(list), std::end(list), s) != std::end(list);
}
}  // namespace

bool IsBreakGlassReason(std::string_view s) { return In(kBreakGlassReasons, s); }
bool IsDenialReason(std::string_view s) { return In(kDenialReasons, s); }
bool IsLegalHoldReason(std::string_view s) { return In(kLegalHoldReasons, s); }

std::string_view BreakGlassReasonCode(std::string_view text) {
  // The list's own entry, so the view outlives `text`.
  auto it = std::find(std::begin(kBreakGlassReasons), std::end(kBreakGlassReasons), text);
  return it != std::end(kBreakGlassReasons) ? *it : kOtherBreakGlassReason;
}

}  // namespace medledger::records
