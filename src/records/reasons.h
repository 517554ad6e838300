// The fixed vocabularies of reason codes that may go on chain
// (docs/RECORDS.md, "Reason codes").
//
// A field that accepts any code-shaped text (`[A-Za-z0-9._:-]`) can still
// carry PHI: `Ned.Hintz-born-1993-12-08` is a code by shape, and once on
// chain it cannot be erased. So access.event reasons and legal-hold reasons
// are checked against these lists, and the API seals anything else off
// chain (the vault) and puts the generic code on chain.
//
// The lists are consensus rules: a code may be appended, never removed or
// renamed (blocks that used it would no longer replay).
#pragma once

#include <string_view>

namespace medledger::records {

// access.event break_glass_reason. kOtherBreakGlassReason stands for free
// text the custodian keeps off chain (the vault record bgnote-<event_id>).
inline constexpr std::string_view kBreakGlassReasons[] = {
    "emergency-treatment", "patient-unconscious", "life-threatening", "urgent-care", "system-outage", "other"};
inline constexpr std::string_view kOtherBreakGlassReason = "other";

// access.event denial_reason: one code for each way Decide() denies
// (decision.h), plus local-policy for a denial by the organisation's own
// rules (minimum necessary, 45 CFR 164.502(b)) recorded by an org admin.
namespace denial {
inline constexpr std::string_view kUnknownPurpose = "unknown-purpose";
inline constexpr std::string_view kNotRegistered = "not-registered";          // accessor unknown, revoked or rotated
inline constexpr std::string_view kRoleNotPermitted = "role-not-permitted";   // break-glass without the practitioner role
inline constexpr std::string_view kReasonMissing = "reason-missing";          // break-glass without a reason
inline constexpr std::string_view kNoConsent = "no-consent";                  // no consent names the accessor or its org
inline constexpr std::string_view kCustodianNotConsented = "custodian-not-consented";
inline constexpr std::string_view kTypeNotConsented = "type-not-consented";
inline constexpr std::string_view kPurposeNotPermitted = "purpose-not-permitted";
inline constexpr std::string_view kConsentNotInForce = "consent-not-in-force";
inline constexpr std::string_view kSensitiveLabel = "sensitive-label";        // never says which label
inline constexpr std::string_view kConsentRevoked = "consent-revoked";
inline constexpr std::string_view kLocalPolicy = "local-policy";
}  // namespace denial
inline constexpr std::string_view kDenialReasons[] = {
    denial::kUnknownPurpose,   denial::kNotRegistered,     denial::kRoleNotPermitted,     denial::kReasonMissing,
    denial::kNoConsent,        denial::kCustodianNotConsented, denial::kTypeNotConsented, denial::kPurposeNotPermitted,
    denial::kConsentNotInForce, denial::kSensitiveLabel,   denial::kConsentRevoked,       denial::kLocalPolicy};

// record.legal_hold reason: the kind of proceeding, never its parties or
// case number (those stay in the custodian's own files).
inline constexpr std::string_view kLegalHoldReasons[] = {"litigation", "investigation", "regulatory", "court-order",
                                                         "audit", "other"};

bool IsBreakGlassReason(std::string_view s);
bool IsDenialReason(std::string_view s);
bool IsLegalHoldReason(std::string_view s);

// What goes on chain for a clinician's break-glass reason: the reason itself
// when it is in kBreakGlassReasons, else kOtherBreakGlassReason (the caller
// seals the text off chain).
std::string_view BreakGlassReasonCode(std::string_view text);

}  // namespace medledger::records
