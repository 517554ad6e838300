// Untrusted input: FHIR JSON bodies (POST /fhir, PUT /fhir/{type}/{id}).
#include "fhir/json.h"
#include "fhir/validate.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto v = medledger::fhir::Parse(text);
  if (v.ok()) {
    std::string s = medledger::fhir::Serialize(*v);
    auto again = medledger::fhir::Parse(s);
    if (!again.ok() || medledger::fhir::Serialize(*again) != s) __builtin_trap();
    (void)medledger::fhir::ValidateResource(*v);
  }
  return 0;
}
