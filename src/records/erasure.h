// Erasure (GDPR Art. 17) requests and the custodian's decisions
// (docs/RECORDS.md).
//
// - erasure.request {request_id, record_id, patient?}: the record's patient
//   (the key bound to its pseudonym) or that patient's active
//   representative (patient = the represented patient's public id). One
//   pending request per record; an erased record takes none.
// - erasure.decision {request_id, decision, reason?, legal_hold?}: the
//   record's custodian (node or org admin). decision "refused" needs a reason
//   code, or legal_hold true (reason then defaults to "legal-hold");
//   "erased" cannot carry legal_hold, and is rejected while the record is
//   under a legal hold (legal_hold.h). An erased record takes no new
//   versions, reads of it answer Gone, and "erased/<record_id>" lists it,
//   with the organisations that were granted access to it (Art. 19), so a
//   node restored from backup re-applies the erasure before serving. The
//   off-chain keys are destroyed by the custodian; the chain records the
//   decision.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "state/module.h"

namespace medledger::records {

class ErasureModule : public state::Module {
 public:
  const char* name() const override { return "erasure"; }
  bool Handles(uint16_t type) const override;
  model::Verdict Apply(state::TxContext& ctx) override;
};

struct ErasureRequestInfo {
  std::string request_id;
  std::string record_id;
  std::string org;
  std::string patient;       // public id
  std::string requested_by;  // public id (patient or representative)
  std::string status;        // "pending", "erased" or "refused"
  std::string reason;
  bool legal_hold = false;
  uint64_t height = 0;         // of the request
  uint64_t decided_height = 0;
  std::string tx;
  std::string decided_tx;
};

struct ErasedRecord {
  std::string record_id;
  std::string org;
  std::string request_id;
  int64_t versions = 0;  // versions 1..versions were erased
  std::vector<std::string> recipients;  // orgs granted access before (Art. 19), sorted
  uint64_t height = 0;
  uint64_t at_ms = 0;
  std::string tx;
};

bool IsErased(const state::StateReader& st, std::string_view record_id);
std::optional<ErasedRecord> GetErased(const state::StateReader& st, std::string_view record_id);
// Every erased record, ordered by record id.
std::vector<ErasedRecord> ListErased(const state::StateReader& st);
std::optional<ErasureRequestInfo> GetErasureRequest(const state::StateReader& st, std::string_view request_id);
// Requests awaiting the custodian's decision, ordered by request id.
std::vector<ErasureRequestInfo> ListPendingErasures(const state::StateReader& st, std::string_view org);

}  // namespace medledger::records
