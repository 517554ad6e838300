// The access log, disclosures and accounting suspensions (docs/RECORDS.md).
//
// - access.event {event_id, accessor, record_id, version, purpose, outcome,
//   basis?, consent_id?, break_glass_reason?, denial_reason?, at_ms}: signed
//   by the record's custodian (its node or an org admin) for every read,
//   granted or denied. It records what the custodian decided at read time
//   and is not decided again (a consent revoked since then does not make the
//   event invalid). outcome "granted" needs basis (patient, representative,
//   consent, break-glass): consent needs consent_id, a consent of the
//   record's patient; break-glass needs purpose ETREAT and a reason.
//   outcome "denied" needs denial_reason and takes no basis or consent_id.
//   Both reasons are codes of fixed vocabularies (reasons.h:
//   kBreakGlassReasons, kDenialReasons); the API seals a clinician's free
//   text in the vault and puts "other" on chain.
//   at_ms may be at most kMaxClockSkewMs after the block time.
//   Events are kept per patient pseudonym in commit order, and each granted
//   accessor is kept per record (GDPR Art. 19 recipients).
// - disclosure.record {disclosure_id, patient, recipient_ref, description,
//   purpose, at_ms, record_ids?}: a disclosure made outside the read path
//   (public health, courts, oversight...). patient is the custodian's
//   pseudonym; recipient_ref the SHA-256 hex of the recipient's name and
//   address, which stay off chain; description and purpose are codes.
// - accounting.suspend {suspension_id, patient | (org, pseudonym), agency,
//   until_ms, recipient_ref?}: an oversight agency or law enforcement (via a
//   regulator or auditor key) suspends the patient's accounting of
//   disclosures (to recipient_ref only, when given) until until_ms
//   (45 CFR 164.528(a)(2)).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "state/module.h"

namespace medledger::records {

inline constexpr int64_t kMaxClockSkewMs = 5 * 60 * 1000;

class AccessModule : public state::Module {
 public:
  const char* name() const override { return "access"; }
  bool Handles(uint16_t type) const override;
  model::Verdict Apply(state::TxContext& ctx) override;
};

struct AccessEventInfo {
  std::string event_id;
  std::string org;        // custodian
  std::string pseudonym;
  uint64_t seq = 0;       // per pseudonym, from 1, in commit order
  std::string accessor;   // public id
  std::string accessor_org;  // empty when the accessor is not a registered identity
  std::string record_id;
  int64_t version = 0;
  std::string resource_type;
  std::string purpose;
  bool granted = false;
  std::string basis;      // empty when denied
  std::string consent_id;
  bool break_glass = false;
  std::string break_glass_reason;
  std::string denial_reason;
  int64_t at_ms = 0;
  uint64_t height = 0;
  std::string tx;         // hex id of the access.event transaction
  std::string signer;
};

struct RecordAccessor {
  std::string accessor;  // public id
  std::string org;
  uint64_t first_height = 0;
  uint64_t last_height = 0;
  int64_t count = 0;
};

struct DisclosureInfo {
  std::string disclosure_id;
  std::string org;
  std::string pseudonym;
  std::string recipient_ref;
  std::string description;
  std::string purpose;
  std::vector<std::string> record_ids;
  int64_t at_ms = 0;
  uint64_t height = 0;
  std::string tx;
};

struct SuspensionInfo {
  std::string suspension_id;
  std::string agency;
  std::string recipient_ref;  // empty: all disclosures
  int64_t until_ms = 0;
  uint64_t height = 0;
  std::string tx;
};

// Events of one pseudonym in commit order.
std::vector<AccessEventInfo> ListAccessEvents(const state::StateReader& st, std::string_view org,
                                              std::string_view pseudonym);
// Events of every pseudonym bound to the patient key, ordered by
// (height, org, seq).
std::vector<AccessEventInfo> ListAccessEvents(const state::StateReader& st, const crypto::PublicKey& patient);
std::optional<AccessEventInfo> GetAccessEvent(const state::StateReader& st, std::string_view event_id);
// Accessors that were granted a record, ordered by public id.
std::vector<RecordAccessor> ListRecordAccessors(const state::StateReader& st, std::string_view record_id);
std::vector<SuspensionInfo> ListSuspensions(const state::StateReader& st, const crypto::PublicKey& patient);

// Purposes that 45 CFR 164.528 leaves out of an accounting of disclosures:
// treatment, payment, operations, and disclosures to the patient (PATRQT).
bool ExcludedFromAccounting(std::string_view purpose);
// Disclosures of the patient ordered by (at_ms, org, pseudonym, id), from
// since_ms on. With accounting set, leaves out ExcludedFromAccounting
// purposes and those covered by a suspension in force at now_ms.
std::vector<DisclosureInfo> ListDisclosures(const state::StateReader& st, const crypto::PublicKey& patient,
                                            bool accounting, int64_t since_ms, int64_t now_ms);

}  // namespace medledger::records
