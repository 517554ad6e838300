#include "records/purpose.h"

#include <cctype>

namespace medledger::records {

std::optional<std::string> ParsePurposeCode(std::string_view s) {
  std::string l;
  for (char c : s) l.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  if (l == "treatment" || l == "treat") return "TREAT";
  if (l == "payment" || l == "hpaymt") return "HPAYMT";
  if (l == "operations" || l == "hoperat") return "HOPERAT";
  if (l == "research" || l == "hresch") return "HRESCH";
  if (l == "emergency" || l == "etreat" || l == "break-glass") return "ETREAT";
  return std::nullopt;
}

Result<PurposeOfUse> ResolvePurpose(const std::optional<std::string>& purpose,
                                    const std::optional<std::string>& break_glass_reason) {
  if (!purpose)
    return InvalidArgument(
        "X-Purpose-Of-Use is required (treatment, payment, operations, research, or an ActReason code)");
  auto code = ParsePurposeCode(*purpose);
  if (!code) return InvalidArgument("unknown purpose of use");
  PurposeOfUse p;
  p.code = *code;
  std::string r = break_glass_reason.value_or("");
  while (!r.empty() && r.back() == ' ') r.pop_back();
  while (!r.empty() && r.front() == ' ') r.erase(0, 1);
  if (!r.empty() && p.code == "TREAT") p.code = "ETREAT";  // a stated emergency is break-glass
  if (!r.empty() && p.code != "ETREAT")
    return InvalidArgument("X-Break-Glass-Reason goes with purpose ETREAT (emergency treatment)");
  p.break_glass_reason = std::move(r);
  return p;
}

}  // namespace medledger::records
