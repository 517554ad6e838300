// Record anchors and patient pseudonym bindings (docs/RECORDS.md).
//
// - record.anchor {record_id, patient, resource_type, version, hash,
//   labels?, patient_key?}: the custodian (signer's organisation) anchors one
//   version of a resource it stores off chain. record_id and patient (the
//   custodian's pseudonym for the patient) are random hex; hash is the
//   SHA-256 of the exact stored bytes; labels a subset of kSensitiveLabels.
//   Version 1 creates the record, each later one must be latest+1, from the
//   same custodian, with the same patient and resource type; an erased record
//   takes no new versions. The first anchor of a pseudonym must carry
//   patient_key (a registered patient identity), which binds the pseudonym to
//   that key; later anchors may repeat it but not change it.
// - record.anchor_batch {anchors:[...]}: up to kMaxBatchAnchors anchors of a
//   FHIR transaction bundle, applied in order, all or none (the first failing
//   entry rejects the whole transaction, its detail prefixed "anchors[i]: ").
// - patient.rebind {pseudonym, new_patient_key, reason, org?}: an org admin of
//   the custodian that bound the pseudonym re-binds it to a new registered
//   patient key (a lost key). Consents granted by the old key do not carry
//   over: the patient grants again with the new key.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "state/module.h"

namespace medledger::records {

inline constexpr size_t kMaxBatchAnchors = 500;

class RecordsModule : public state::Module {
 public:
  const char* name() const override { return "records"; }
  bool Handles(uint16_t type) const override;
  model::Verdict Apply(state::TxContext& ctx) override;
};

struct AnchorInfo {
  std::string record_id;
  std::string org;            // custodian
  std::string pseudonym;      // the custodian's patient pseudonym
  std::string resource_type;
  int64_t version = 0;
  std::string hash;           // hex SHA-256 of the stored bytes
  std::vector<std::string> labels;
  std::string signer;         // public id
  std::string tx;             // hex tx id
  uint64_t height = 0;
  uint64_t at_ms = 0;         // block timestamp
  bool erased = false;        // the record (all versions) was erased
};

struct PatientRecord {
  std::string record_id;
  std::string resource_type;
  int64_t latest = 0;
  bool erased = false;
};

struct PseudonymRef {
  std::string org;
  std::string pseudonym;
};

// nullopt when the record or version does not exist. An erased record's
// anchors stay readable (the hash is not PHI); callers answer Gone.
std::optional<AnchorInfo> GetAnchor(const state::StateReader& st, std::string_view record_id, int64_t version);
std::optional<AnchorInfo> GetLatestAnchor(const state::StateReader& st, std::string_view record_id);
std::optional<int64_t> LatestVersion(const state::StateReader& st, std::string_view record_id);
// Records of one pseudonym at one custodian, ordered by record id.
std::vector<PatientRecord> ListPatientRecords(const state::StateReader& st, std::string_view org,
                                              std::string_view pseudonym);
// Pseudonyms bound to a patient key, ordered by (org, pseudonym); only those
// at `org` when it is given.
std::vector<PseudonymRef> PseudonymsOf(const state::StateReader& st, const crypto::PublicKey& patient,
                                       std::optional<std::string_view> org = std::nullopt);

}  // namespace medledger::records
