// Captured EPCIS events in state: each event as received (its JSON text and
// the document's @context) under its event hash, the facts the rules and
// queries read, the few indexes a query needs, and the read helpers the
// API's GET /epcis/events uses (docs/SUPPLY.md, "Events in state").
//
// Events are numbered in ledger order (seq, from 1); every query answers in
// that order and pages by it, so a page token stays valid while events are
// added after it.
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "epcis/event.h"
#include "state/state_view.h"

namespace medledger::supply {

// What the rules and the query filters read of an event: its parsed fields
// (identifiers canonical, CBV values bare words), and who captured it.
struct Facts {
  uint64_t seq = 0;
  std::string hash;  // 64 hex
  std::string event_id;
  epcis::EventType type = epcis::EventType::kObject;
  epcis::Action action = epcis::Action::kNone;
  std::string event_time;
  int64_t event_time_ms = 0;
  std::string biz_step, disposition, read_point, biz_location;
  std::vector<std::string> epcs, children, inputs, outputs;  // canonical identifiers
  std::string parent;
  std::vector<std::string> classes;  // epcClass of every quantity list
  std::vector<epcis::SourceDest> sources, destinations;
  std::optional<std::string> lot, expiry;
  std::string org;    // the capturing organisation
  std::string party;  // public id of the key that signed the capture

  static Facts From(const epcis::Event& e);
  nlohmann::json ToJson() const;
  static Facts FromJson(const nlohmann::json& j);
};

// The role of an identifier in an event, as the epc index records it.
enum class Role : char { kEpc = 'e', kParent = 'p', kChild = 'c', kInput = 'i', kOutput = 'o', kClass = 'q' };

struct Retraction {
  std::string tx;  // the transaction of the error declaration
  std::string capture_id;
  std::string declaration_time;
  std::string reason;  // CBV error reason (bare word) or URI; may be empty
  std::vector<std::string> corrective_event_ids;
  uint64_t height = 0;
};

struct StoredEvent {
  Facts facts;
  std::string json;     // the event as received
  std::string context;  // the document's @context as received (JSON text)
  std::string capture_id, tx;
  uint64_t height = 0;
  std::string outcome, reason;        // as the capture recorded them
  std::vector<std::string> released;  // children an aggregation DELETE without childEPCs took out
  std::optional<Retraction> retracted;
};

// Writes a new event, its sequence key and its indexes. `roles`: every
// identifier the event names with its role (the epc index keys it by Oid).
// oids[i] is OidOf(ids[i].first), which the caller's rule engine already knows.
void PutEvent(state::Overlay& st, const StoredEvent& e, const std::vector<std::pair<std::string, Role>>& ids,
              const std::vector<std::string>& oids);
// Rewrites the record of an event already stored (retraction).
void UpdateEvent(state::Overlay& st, const StoredEvent& e);
// The next event sequence number, counted in sup/evn.
uint64_t NextEventSeq(state::Overlay& st);

std::optional<StoredEvent> GetEvent(const state::StateReader& st, std::string_view hash_hex);
std::optional<StoredEvent> GetEventBySeq(const state::StateReader& st, uint64_t seq);
// The events that name `oid` (epc index), in ledger order, with their role.
std::vector<std::pair<uint64_t, Role>> EventsOf(const state::StateReader& st, std::string_view oid);

// GET /epcis/events, on the parameters the API has already read and
// canonicalised (identifiers as epcis::CanonicalizeId gives them, CBV
// values as bare words). Within one field the values are alternatives;
// fields combine with AND. Times are UTC milliseconds.
struct EventQuery {
  std::vector<std::string> event_types;      // "ObjectEvent", ...
  std::vector<std::string> match_epc;        // MATCH_epc: epcList, childEPCs, inputs, outputs
  std::vector<std::string> match_any_epc;    // MATCH_anyEPC: those and parentID
  std::vector<std::string> match_parent;     // MATCH_parentID
  std::vector<std::string> match_epc_class;  // MATCH_epcClass: quantity lists
  std::vector<std::string> biz_steps, dispositions, biz_locations, read_points, lots;
  std::optional<int64_t> ge_event_time_ms, lt_event_time_ms;
  std::optional<std::string> ge_expiry, lt_expiry;  // ILMD itemExpirationDate, YYYY-MM-DD
  bool include_retracted = true;                    // EPCIS answers corrected events too, with their declaration
};

struct EventPage {
  std::vector<StoredEvent> events;
  std::string next_page_token;  // empty on the last page
};

// At most `per_page` events after `page_token` (empty: from the start).
// InvalidArgument for a token this function did not hand out.
Result<EventPage> QueryEvents(const state::StateReader& st, const EventQuery& q, std::string_view page_token,
                              size_t per_page);
// Whether a stored event meets every filter of `q`.
bool Matches(const StoredEvent& e, const EventQuery& q);

}  // namespace medledger::supply
