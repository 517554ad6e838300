// Untrusted input: canonical payload values inside transactions.
#include "model/value.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto v = medledger::model::DecodeValue(data, size);
  if (v.ok()) {
    auto again = medledger::model::EncodeValue(*v);
    if (!again.ok() || again->size() != size || std::memcmp(again->data(), data, size) != 0) __builtin_trap();
  }
  return 0;
}
