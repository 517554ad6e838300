// State key layout and payload checks shared by the health-record modules.
// The full key schema, with each value's fields, is in docs/RECORDS.md; the
// builders here are the only place that spells the keys.
//
// Nothing here, or in any key or value these modules write, carries PHI:
// pseudonyms and ids are random hex chosen off chain, hashes are SHA-256,
// and the rest are codes, heights and timestamps.
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "crypto/ed25519.h"
#include "state/module.h"
#include "state/state_view.h"

namespace medledger::records {

// The payload helpers every domain shares (state/module.h).
using state::BadPayload;
using state::IsCode;
using state::IsHexId;
using state::LoadDoc;
using state::OptionalCode;
using state::OptionalHexId;
using state::Pad;
using state::RequireCode;
using state::RequireHexId;

// Sensitive categories a record can carry and a consent must name.
inline constexpr std::string_view kSensitiveLabels[] = {"substance-use", "hiv", "mental-health"};
// Purposes of use (v3 ActReason) a consent may grant; ETREAT is break-glass
// and is never granted.
inline constexpr std::string_view kGrantablePurposes[] = {"TREAT", "HPAYMT", "HOPERAT", "HRESCH"};
inline constexpr std::string_view kBreakGlassPurpose = "ETREAT";

bool IsSensitiveLabel(std::string_view s);
bool IsGrantablePurpose(std::string_view s);
bool IsPurpose(std::string_view s);  // grantable or ETREAT
// Hex ids (IsHexId) here are record ids, pseudonyms, consent, event,
// request and disclosure ids; codes (IsCode) reasons, descriptions, agencies.
// A FHIR resource type name: [A-Z][A-Za-z]{0,63}.
bool IsResourceType(std::string_view s);

// Payload helpers; a bad field throws state::PayloadError (kInvalidPayload).
std::optional<int64_t> OptionalInt(const nlohmann::json& p, const char* name);
std::optional<bool> OptionalBool(const nlohmann::json& p, const char* name);
// A JSON array of unique strings, each accepted by `valid`; sorted on return.
std::vector<std::string> RequireStringSet(const nlohmann::json& p, const char* name, bool allow_empty,
                                          bool (*valid)(std::string_view), size_t max_items = 64);
std::vector<std::string> OptionalStringSet(const nlohmann::json& p, const char* name,
                                           bool (*valid)(std::string_view), size_t max_items = 64);

// Key builders (docs/RECORDS.md).
std::string RecordHeadKey(std::string_view record_id);                        // rech/<record_id>
std::string RecordVersionKey(std::string_view record_id, int64_t version);   // recv/<record_id>/<v:010>
std::string PatientRecordKey(std::string_view org, std::string_view pseudonym,
                             std::string_view record_id);                     // prec/<org>/<pseud>/<record_id>
std::string BindingKey(std::string_view org, std::string_view pseudonym);    // pat/<org>/<pseud>
std::string PatientIndexKey(std::string_view patient_id, std::string_view org,
                            std::string_view pseudonym);                      // patk/<patient>/<org>/<pseud>
std::string ConsentKey(std::string_view consent_id);                          // con/<consent_id>
std::string PatientConsentKey(std::string_view patient_id, std::string_view consent_id);  // conp/<patient>/<id>
std::string RepresentativeKey(std::string_view patient_id, std::string_view rep_id);      // rep/<patient>/<rep>
std::string AccessEventIdKey(std::string_view event_id);                      // acce/<event_id>
std::string AccessSeqKey(std::string_view org, std::string_view pseudonym);  // accn/<org>/<pseud>
std::string AccessEventKey(std::string_view org, std::string_view pseudonym, uint64_t seq);  // acc/<org>/<pseud>/<seq:020>
std::string RecordAccessorKey(std::string_view record_id, std::string_view accessor_id);    // accr/<record_id>/<accessor>
std::string DisclosureIdKey(std::string_view disclosure_id);                  // disi/<id>
std::string DisclosureKey(std::string_view org, std::string_view pseudonym, int64_t at_ms,
                          std::string_view disclosure_id);                    // dis/<org>/<pseud>/<at:020>/<id>
std::string SuspensionKey(std::string_view patient_id, std::string_view suspension_id);  // susp/<patient>/<id>
std::string ErasureRequestKey(std::string_view request_id);                   // erq/<request_id>
std::string PendingErasureKey(std::string_view org, std::string_view request_id);  // erp/<org>/<request_id>
std::string ErasedKey(std::string_view record_id);                            // erased/<record_id>
std::string LegalHoldKey(std::string_view record_id);                         // hold/<record_id>
// A plan's read of a record for payment, allowed by an adjudicated claim
// that names the record (written by the claims module; HIPAA 164.506(c)).
std::string PaymentReadKey(std::string_view record_id, std::string_view insurer_org);  // payr/<record_id>/<org>
std::string PaymentReadPrefix(std::string_view record_id);                    // payr/<record_id>/

// The patient key bound to a custodian's pseudonym, if any.
std::optional<crypto::PublicKey> BoundPatient(const state::StateReader& st, std::string_view org,
                                              std::string_view pseudonym);

// Whether `patient` binds a pseudonym at any custodian other than `org`. A
// patient key binds pseudonyms at one custodian only (docs/RECORDS.md, "One
// key per custodian"): a key bound at two would link the patient's records
// there for every member reading the chain.
bool BoundElsewhere(const state::StateReader& st, const crypto::PublicKey& patient, std::string_view org);

// Whether `rep` is an appointed representative of `patient` at time now_ms
// (appointment present and now_ms < until_ms when until_ms is set).
bool IsActiveRepresentative(const state::StateReader& st, const crypto::PublicKey& patient,
                            const crypto::PublicKey& rep, int64_t now_ms);

// The patient a patient-side transaction acts for: payload field `patient`
// (a public id), or the signer when it is absent. The signer must be that
// patient or its active representative at the block time; otherwise the
// verdict is kRoleNotPermitted (kNotFound when the patient is not a
// registered identity).
model::Verdict ResolveActingPatient(const state::TxContext& ctx, crypto::PublicKey* patient);

}  // namespace medledger::records
