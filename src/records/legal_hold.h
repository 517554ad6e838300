// Legal holds on records (docs/RECORDS.md).
//
// - record.legal_hold {record_id, hold, reason?}: an org admin of the
//   record's custodian sets (hold true, with a reason from
//   kLegalHoldReasons) or releases (hold false, no reason) a hold. While a
//   hold is set, erasure.decision "erased" for the record is rejected
//   (erasure.h); "refused" stays valid.
//
// The hold lives on chain, not in one node's files, because the chain is the
// only store every node of the organisation shares: a hold set through one
// node binds an erasure decided by any other. Members see that a record (a
// random id) is held and the kind of proceeding; parties and case numbers
// stay off chain.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "state/module.h"

namespace medledger::records {

class LegalHoldModule : public state::Module {
 public:
  const char* name() const override { return "legal_hold"; }
  bool Handles(uint16_t type) const override;
  model::Verdict Apply(state::TxContext& ctx) override;
};

struct LegalHoldInfo {
  std::string record_id;
  std::string org;     // the record's custodian
  std::string reason;  // a kLegalHoldReasons code
  std::string set_by;  // public id of the org admin
  uint64_t height = 0;
  uint64_t at_ms = 0;  // block timestamp
  std::string tx;
};

// nullopt when the record is not under a hold.
std::optional<LegalHoldInfo> GetLegalHold(const state::StateReader& st, std::string_view record_id);
// Holds on the records of one custodian, ordered by record id.
std::vector<LegalHoldInfo> ListLegalHolds(const state::StateReader& st, std::string_view org);

}  // namespace medledger::records
