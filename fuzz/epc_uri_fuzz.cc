// Untrusted input: EPC URNs, GS1 Digital Links and CBV values in captured
// EPCIS documents and in query parameters (MATCH_epc, EQ_bizStep).
#include <string>

#include "epcis/cbv.h"
#include "epcis/identifiers.h"

using namespace medledger::epcis;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto key = ParseGs1Uri(text);
  if (key.ok()) {
    // The canonical form is a fixed point naming the same key.
    auto again = ParseGs1Uri(key->canonical);
    if (!again.ok() || again->canonical != key->canonical || again->scheme != key->scheme ||
        again->instance_level != key->instance_level)
      __builtin_trap();
    // A URN's prefix length leads back to a URN of the same key.
    if (!key->company_prefix.empty()) {
      auto urn = ToEpcUrn(*again, key->company_prefix.size());
      if (!urn.ok()) __builtin_trap();
      auto back = ParseGs1Uri(*urn);
      if (!back.ok() || back->canonical != key->canonical) __builtin_trap();
    }
    for (size_t n = 6; n <= 12; ++n) (void)ToEpcUrn(*key, n);
  }
  auto canonical = CanonicalizeId(text);
  if (canonical.ok() && !IsGs1Uri(text) && *canonical != text) __builtin_trap();
  (void)SplitDigitalLink(text);
  for (Vocab v : {Vocab::kBizStep, Vocab::kDisposition, Vocab::kBizTransactionType, Vocab::kSourceDestType,
                  Vocab::kErrorReason, Vocab::kSensorMeasurementType, Vocab::kSensorException,
                  Vocab::kSensorComponent}) {
    auto word = NormalizeCbv(v, text);
    if (!word.ok()) continue;
    // Normalising is idempotent, also through the hash URI.
    auto twice = NormalizeCbv(v, CbvHashUri(v, *word));
    if (!twice.ok() || *twice != *word) __builtin_trap();
  }
  return 0;
}
