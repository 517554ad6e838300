// Suspect-product investigations (DSCSA §582): product.case (docs/SUPPLY.md,
// "product.case").
//
// product.case {gtin, serial, step, note_code?, fda3911_ref?}, by the pack's
// custodian (the organisation holding it, through its containers), the
// holder of the GTIN's prefix (the manufacturer), or a regulator
// [role_not_permitted otherwise]; the pack must have been named by an event
// [not_found]. Steps and the transitions allowed:
//
//   (none), clear, close  -> quarantine | investigate
//   quarantine            -> investigate | clear | illegitimate
//   investigate           -> quarantine | clear | illegitimate
//   illegitimate          -> close (a regulator only)
//
// Anything else is [conflict]. `illegitimate` must carry fda3911_ref, the
// FDA Form 3911 notification [invalid_payload without]; only it and `close`
// take one. `clear` and `close` resolve the pack's suspect marks recorded so
// far (its own and those of its containers while it was inside); a later
// violation makes it suspect again.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "state/module.h"

namespace medledger::supply {

class CaseModule : public state::Module {
 public:
  const char* name() const override { return "product_case"; }
  bool Handles(uint16_t type) const override;
  model::Verdict Apply(state::TxContext& ctx) override;
};

struct CaseStep {
  std::string step;
  std::string by, org;  // key and organisation
  std::string as;       // "custodian", "manufacturer" or "regulator"
  std::string note_code, fda3911_ref;
  uint64_t height = 0, at_ms = 0;
  std::string tx;
};

struct CaseInfo {
  std::string gtin, serial;
  std::string step;  // the latest step
  std::vector<CaseStep> history;
};

std::optional<CaseInfo> GetCase(const state::StateReader& st, std::string_view gtin14, std::string_view serial);

}  // namespace medledger::supply
