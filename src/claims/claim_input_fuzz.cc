// Untrusted input of the claims domain: a Claim/$submit body (a Claim, a
// Parameters or a Bundle, fhir/claim_input.h), a claims.submit payload
// (claims/adjudicate.h) and a policy's result (the contract's output, read
// by ReadDecisions). Whatever the bytes, each must be decoded or refused
// as a value (or PayloadError for a payload); any other exception or a
// crash is a bug. A refused body must say where; a decoded claim record
// must survive its own encoding.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string_view>

#include "claims/adjudicate.h"
#include "claims/claim_response.h"
#include "fhir/claim_input.h"
#include "state/module.h"

namespace {

using namespace medledger;

void Input(std::string_view text) {
  auto in = fhir::ClaimInput::Parse(text);
  if (!in.ok()) {
    if (in.status().message().empty()) __builtin_trap();
    return;
  }
  const fhir::Value& claim = in->claim();
  for (const char* k : {"patient", "provider", "insurer", "enterer", "facility"}) (void)in->Resolve(claim.Get(k));
  if (const fhir::Value* ins = claim.Get("insurance"); ins && ins->is_array())
    for (const auto& i : ins->array()) (void)in->Resolve(i.Get("coverage"));
  // A ClaimResponse for it can always be built (an error one here).
  claims::ResponseInput r{&claim, "", "", "", "", 0};
  (void)claims::ClaimResponseError(r, {{"unknown-patient", ""}});
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  Input(text);
  nlohmann::json p = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (p.is_discarded()) return 0;
  claims::Submission s;
  bool decoded = false;
  try {
    s = claims::ReadSubmission(p);
    decoded = true;
  } catch (const state::PayloadError&) {
  }
  if (decoded && (s.items.empty() || s.claim_key.size() != 64)) __builtin_trap();
  // The same bytes as a policy's result, for the items decoded (or one).
  std::vector<claims::Item> own(1);
  own[0].sequence = 1;
  std::vector<const claims::Item*> items;
  for (const auto& it : decoded ? s.items : own) items.push_back(&it);
  claims::ClaimRecord rec;
  std::string why;
  if (claims::ReadDecisions(p, items, &rec, &why)) {
    rec.tx = std::string(64, '0');
    rec.outcome = "complete";
    rec.currency = "USD";
    auto again = claims::ClaimRecord::FromJson(rec.tx, rec.ToJson());
    if (again.items.size() != rec.items.size() || again.Benefit() != rec.Benefit()) __builtin_trap();
    (void)state::EncodeState(rec.ToJson());
  } else if (why.empty()) {
    __builtin_trap();
  }
  return 0;
}
