// FHIR R4 resources built from ledger state: Consent from consent records,
// AuditEvent from access events and disclosures (docs/RECORDS.md, "Access,
// audit and erasure API"). The chain holds codes and ids only; what the
// custodian keeps off chain (FHIR references from its index, a break-glass
// note, a disclosure's recipient) is added when the record is this
// custodian's own.
#pragma once

#include <nlohmann/json.hpp>

#include "common/status.h"
#include "custodian/context.h"
#include "records/access.h"
#include "records/consent.h"

namespace medledger::custodian {

// Code systems of medledger's own identifiers.
inline constexpr const char* kIdSystem = "urn:medledger:public-id";
inline constexpr const char* kOrgSystem = "urn:medledger:org";
inline constexpr const char* kRecordSystem = "urn:medledger:record-id";
inline constexpr const char* kTxSystem = "urn:medledger:tx";
inline constexpr const char* kAuditStatusSystem = "urn:medledger:audit-status";
// HL7 v3 code systems.
inline constexpr const char* kActReason = "http://terminology.hl7.org/CodeSystem/v3-ActReason";
inline constexpr const char* kActCode = "http://terminology.hl7.org/CodeSystem/v3-ActCode";

// The consent as of now_ms (active unless revoked or expired).
nlohmann::json ConsentResource(const records::ConsentInfo& ci, int64_t now_ms);
// An access event: committed (it names its transaction) or journaled here
// and not yet in a block (tagged pending, no transaction).
nlohmann::json AccessAuditEvent(const Context& ctx, const records::AccessEventInfo& e);
nlohmann::json DisclosureAuditEvent(const Context& ctx, const records::DisclosureInfo& d);

// Validates a resource built here against the FHIR rules (fhir/validate.h);
// a failure is a bug, logged and returned as kInternal.
Status ValidateBuilt(const nlohmann::json& resource);

}  // namespace medledger::custodian
