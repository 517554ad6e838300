// Untrusted input: a contract call's JSON arguments. They go JSON -> Lua ->
// JSON through an identity contract; whatever the input, the call must end
// in a value or a clean failure, and a value must equal the input's mapping
// (arrays and objects kept, numbers beyond int64 as decimal strings).
#include <cstdint>
#include <string_view>

#include "contracts/sandbox.h"

namespace {
const medledger::contracts::Contract& Identity() {
  static const auto* c = new medledger::contracts::Contract(
      medledger::contracts::Contract::Compile("function id(a) return a end", "id").value());
  return *c;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace medledger::contracts;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  nlohmann::json args = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (args.is_discarded()) return 0;
  Limits limits;
  limits.gas = 2'000'000;
  limits.memory_bytes = 8u << 20;
  auto r = Call(Identity(), "id", args, CallEnv{}, nullptr, limits);
  if (!r.ok()) __builtin_trap();  // no operational failure without state
  if (r->ok()) {
    // A second round trip is a fixed point.
    auto again = Call(Identity(), "id", r->result, CallEnv{}, nullptr, limits);
    if (!again.ok() || !again->ok() || again->result != r->result) __builtin_trap();
    (void)r->result.dump();  // valid UTF-8, or dump would throw
  }
  return 0;
}
