// Untrusted input: the payloads of the eight trial transactions and the
// results publication document (payload.h). Whatever the bytes, each
// decoder must return a value or refuse with PayloadError (the
// invalid_payload verdict); any other exception or a crash is a bug. A
// decoded value must also hold the decoder's promises, and the comparison
// must find nothing to flag between a list of objectives and itself.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string_view>

#include "state/module.h"
#include "trials/compare.h"
#include "trials/payload.h"

namespace {

using namespace medledger::trials;

template <typename F>
void Try(F&& f) {
  try {
    f();
  } catch (const medledger::state::PayloadError&) {
  }
}

void CheckObjectives(const std::vector<Objective>& objs) {
  if (!CompareObjectives(objs, objs).empty()) __builtin_trap();
  if (!SameObjectives(objs, objs)) __builtin_trap();
  // The JSON form decodes to the same list.
  auto again = DecodeObjectives(ObjectivesJson(objs), 64, false);
  if (!SameObjectives(objs, again)) __builtin_trap();
  (void)medledger::state::EncodeState(ObjectivesJson(objs));  // a canonical value, or a logic_error
}

void CheckStudy(const StudyDef& d) {
  bool primary = false;
  for (const auto& o : d.objectives) primary = primary || o.type == "primary";
  if (!primary || d.sites.empty()) __builtin_trap();
  for (size_t i = 1; i < d.sites.size(); ++i)
    if (!(d.sites[i - 1] < d.sites[i])) __builtin_trap();
  CheckObjectives(d.objectives);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto doc = ParsePublicationDocument(text);
  if (doc.ok()) CheckObjectives(doc->objectives);
  nlohmann::json p = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (p.is_discarded()) return 0;
  Try([&] { CheckStudy(DecodeRegister(p)); });
  Try([&] { CheckStudy(DecodeAmend(p)); });
  Try([&] { (void)DecodeEnrol(p); });
  Try([&] { (void)DecodeSubmit(p); });
  Try([&] {
    auto s = DecodeSign(p);
    if (s.printed_name.empty() || s.signed_at_ms <= 0) __builtin_trap();
  });
  Try([&] { (void)DecodeWithdraw(p); });
  Try([&] { (void)DecodeLock(p); });
  Try([&] { CheckObjectives(DecodePublish(p).objectives); });
  Try([&] { CheckObjectives(DecodeObjectives(p, 64, false)); });
  return 0;
}
