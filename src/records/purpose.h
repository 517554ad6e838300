// The purpose of use a reader states (the X-Purpose-Of-Use header, HL7
// v3 ActReason), and the break-glass reason that may go with it. Shared by
// the API, which reads the headers, and the custodian, which decides reads.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"

namespace medledger::records {

struct PurposeOfUse {
  std::string code;                // TREAT, HPAYMT, HOPERAT, HRESCH or ETREAT
  std::string break_glass_reason;  // trimmed; only with ETREAT
};

// treatment, payment, operations, research, emergency (or break-glass), or
// the ActReason code itself, in any case. nullopt for anything else.
std::optional<std::string> ParsePurposeCode(std::string_view s);

// The stated purpose and break-glass reason (either may be absent). A stated
// reason turns treatment into emergency treatment; a reason with any other
// purpose, a missing or an unknown purpose is kInvalidArgument.
Result<PurposeOfUse> ResolvePurpose(const std::optional<std::string>& purpose,
                                    const std::optional<std::string>& break_glass_reason);

}  // namespace medledger::records
