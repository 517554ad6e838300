// GS1 company prefixes on the ledger (docs/SUPPLY.md, "gs1.register_prefix").
//
// - gs1.register_prefix {prefix}: binds a GS1 company prefix (6..12 digits)
//   to the signer's organisation (manufacturer role). A prefix that overlaps
//   a bound one (one is a prefix of the other) is refused [conflict]: every
//   GTIN, GLN and SSCC then has at most one holder. On a chain with more
//   than one active organisation the binding needs a governance grant
//   (governance.propose action gs1_prefix, state/governance.h) for the
//   signer's organisation [role_not_permitted without one]; on a
//   one-organisation (development) chain the signer alone registers.
//
// A GTIN, a GLN or an SSCC carries no prefix boundary, so its holder is
// found by looking up each 6..12-digit candidate (epcis::
// CompanyPrefixCandidates); with no overlaps at most one matches.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "epcis/identifiers.h"
#include "state/module.h"

namespace medledger::supply {

class PrefixModule : public state::Module {
 public:
  const char* name() const override { return "gs1_prefix"; }
  bool Handles(uint16_t type) const override;
  model::Verdict Apply(state::TxContext& ctx) override;
};

struct PrefixInfo {
  std::string prefix;
  std::string org;            // the holder
  std::string registered_by;  // public id of the manufacturer key
  std::string proposal_id;    // the governance grant; empty on a one-organisation chain
  uint64_t height = 0;
  std::string tx;
};

std::optional<PrefixInfo> GetPrefix(const state::StateReader& st, std::string_view prefix);
// The holder of a GTIN-14's company prefix, if one is bound.
std::optional<PrefixInfo> HolderOfGtin(const state::StateReader& st, std::string_view gtin14);
// The holder of a number whose company prefix starts at its first digit
// (a GLN-13, a PGLN, an SSCC without its extension digit).
std::optional<PrefixInfo> HolderOfNumber(const state::StateReader& st, std::string_view number);
// The holder of a GS1 key's company prefix: GTIN for SGTIN/LGTIN/GTIN, the
// GLN for SGLN/PGLN, the SSCC after its extension digit; nullopt for other
// schemes.
std::optional<PrefixInfo> HolderOfKey(const state::StateReader& st, const epcis::Gs1Key& key);
// Every bound prefix in prefix order.
std::vector<PrefixInfo> ListPrefixes(const state::StateReader& st);

}  // namespace medledger::supply
