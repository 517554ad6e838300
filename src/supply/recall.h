// Recalls (docs/SUPPLY.md, "product.recall, product.recall_class").
//
// - product.recall {gtin, lot, reason?}: the holder of the GTIN's company
//   prefix (manufacturer role) recalls a lot [role_not_permitted for anyone
//   else, or when no one holds the prefix; conflict when already recalled].
// - product.recall_class {gtin, lot, class: I | II | III}: a regulator
//   classifies a recall [not_found without one; conflict for the class it
//   already has]. A reclassification keeps the earlier ones in history.
//
// A recall is one key per lot. Whether a pack is recalled is decided when it
// is read (verify.h), from its commissioned lot: no pack, and no pack inside
// a case, is ever rewritten for it.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "state/module.h"

namespace medledger::supply {

class RecallModule : public state::Module {
 public:
  const char* name() const override { return "recall"; }
  bool Handles(uint16_t type) const override;
  model::Verdict Apply(state::TxContext& ctx) override;
};

struct RecallInfo {
  std::string gtin, lot;
  std::string org;     // the manufacturer
  std::string by;      // its key
  std::string reason;  // a code; may be empty
  uint64_t height = 0, at_ms = 0;
  std::string tx;
  std::string recall_class;  // "I", "II", "III"; empty until a regulator classifies it
  std::string class_by, class_tx;
  uint64_t class_height = 0;
  std::vector<std::string> class_history;  // earlier classes, oldest first
};

std::optional<RecallInfo> GetRecall(const state::StateReader& st, std::string_view gtin14, std::string_view lot);
// Recalls of one GTIN (every one when `gtin14` is empty), by GTIN then lot key.
std::vector<RecallInfo> ListRecalls(const state::StateReader& st, std::string_view gtin14 = "");

}  // namespace medledger::supply
