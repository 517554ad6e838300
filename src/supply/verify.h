// Read helpers for the API (pure functions over committed state): DSCSA
// product-identifier verification and custody traces (docs/SUPPLY.md,
// "Verification", "Traces").
//
// Expiry needs a clock, which state rules do not have: the caller passes
// today's date (UTC), and "expired" is decided here, at query time. Recalls
// are decided here too, from the pack's commissioned lot.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "state/state_view.h"
#include "supply/case.h"
#include "supply/object.h"
#include "supply/recall.h"

namespace medledger::supply {

struct VerifyResult {
  // The first that applies: illegitimate, suspect (quarantined and under
  // investigation included), unknown, mismatch, recalled, expired,
  // decommissioned, dispensed, verified.
  std::string status;
  // GTIN and serial known, and the lot and expiry equal those of the
  // commissioning.
  bool identifier_match = false;
  // Everything that applies, in this order: illegitimate,
  // illegitimate_closed, suspect, quarantined, under_investigation, unknown,
  // not_commissioned, prefix_not_registered, lot_mismatch, expiry_mismatch,
  // recalled, expired, decommissioned, destroyed, dispensed,
  // partially_dispensed, not_saleable, in_transit, aggregated.
  std::vector<std::string> flags;
  // Event hash ids (ni:///sha-256;...): the commissioning, the events of
  // the active suspect marks, and the event that set the disposition.
  std::vector<std::string> evidence;
  std::vector<Mark> suspect;     // the active marks (reason, event, seq)
  std::string disposition;       // as seen through its containers
  std::string manufacturer_org;  // who commissioned it
  std::optional<RecallInfo> recall;
  std::optional<CaseInfo> case_info;
};

// gtin14: 14 digits; lot: AI 10 as given; expiry and today: YYYY-MM-DD
// (the caller expands YYMMDD, day 00 included, epcis::ExpandGs1Date).
VerifyResult Verify(const state::StateReader& st, std::string_view gtin14, std::string_view serial,
                    std::string_view lot, std::string_view expiry_yyyy_mm_dd, std::string_view today_yyyy_mm_dd);

struct TraceEvent {
  uint64_t seq = 0;
  std::string hash_id;  // ni:///sha-256;...
  std::string event_id, type, action, biz_step, disposition, read_point, biz_location, event_time;
  int64_t event_time_ms = 0;
  std::string org;  // who captured it
  std::string via;  // the container's identifier, when the event named a container it was in; else empty
  bool retracted = false;
};

struct Trace {
  std::vector<std::string> epcs;     // the object(s) traced
  std::vector<TraceEvent> events;    // in ledger order
  std::vector<std::string> parties;  // organisations that captured any of them, sorted
  std::string manufacturer_org;      // the commissioning organisation ("" if none)
  bool truncated = false;            // TraceLot: more packs than max_packs
};

// The custody history of one object: the events that name it, and those of
// each container while it was inside. nullopt when no event names it.
std::optional<Trace> TraceObject(const state::StateReader& st, std::string_view canonical_epc);
std::optional<Trace> TracePack(const state::StateReader& st, std::string_view gtin14, std::string_view serial);
// Every commissioned pack of a lot, merged (at most max_packs packs).
Trace TraceLot(const state::StateReader& st, std::string_view gtin14, std::string_view lot, size_t max_packs = 1000);

// Whether a caller may see a trace's custody chain: trading relationships
// are confidential under DSCSA, so only the manufacturer, the parties in
// the chain and regulators (role bits, model::kRoleRegulator) may.
bool MayViewCustody(const Trace& t, std::string_view caller_org, uint32_t caller_roles);

}  // namespace medledger::supply
