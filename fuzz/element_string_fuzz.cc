// Untrusted input: what a scanner delivers to product verification (a GS1
// element string, its parenthesised form, or a GS1 Digital Link).
#include <string>

#include "epcis/identifiers.h"
#include "epcis/scan.h"

using namespace medledger::epcis;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto id = ParseScannedIdentifier(text, 2025);
  if (!id.ok()) return 0;
  if (id->gtin14.size() != 14 || !HasValidCheckDigit(id->gtin14) || id->expiry.size() != 10) __builtin_trap();
  // The four elements written back as an element string read the same.
  const std::string& e = id->expiry;  // YYYY-MM-DD
  std::string yymmdd = e.substr(2, 2) + e.substr(5, 2) + e.substr(8, 2);
  std::string again = "]d201" + id->gtin14 + "17" + yymmdd + "10" + id->lot + "\x1d" "21" + id->serial;
  auto back = ParseScannedIdentifier(again, 2025);
  if (!back.ok() || back->gtin14 != id->gtin14 || back->serial != id->serial || back->lot != id->lot ||
      back->expiry != id->expiry)
    __builtin_trap();
  return 0;
}
