// The CBV 2.0 EPCIS event hash ID (GS1 Core Business Vocabulary 2.0,
// §8.9): "ni:///sha-256;{hex}?ver=CBV2.0", the SHA-256 of a canonical
// pre-hash string, so that two systems hashing the same event (in JSON-LD or
// XML, in any key order, with URNs or Digital Links) get the same ID.
//
// The pre-hash string, as medledger builds it:
//   - "eventType=..." then the standard fields in the canonical property
//     order: eventTime, eventTimeZoneOffset, epcList, parentID, inputEPCList,
//     childEPCs, quantityList, childQuantityList, inputQuantityList,
//     outputEPCList, outputQuantityList, action, transformationID, bizStep,
//     disposition, persistentDisposition, readPoint, bizLocation,
//     bizTransactionList, destinationList, sourceList, sensor elements, ilmd;
//     then the user extensions, sorted. Each value as key=value, no separators;
//     a list's name once, then its entries sorted as strings; a business
//     transaction, source or destination entry is its type then its id.
//   - Left out: eventID, recordTime, errorDeclaration (so an error
//     declaration hashes to the ID of the event it corrects),
//     certificationInfo, type, @context.
//   - Values: EPC URNs of every scheme and Digital Links on any domain become
//     canonical https://id.gs1.org Digital Links without query string
//     (identifiers.h); CBV values become https://ref.gs1.org/cbv/... URIs and
//     sensor types https://gs1.org/voc/... (cbv.h), CBV 1.x URNs included;
//     compact IRIs whose prefix the @context declares are expanded; times
//     become UTC with milliseconds and 'Z' (datetime.h); JSON numbers are
//     written canonically (CanonicalNumber); strings are trimmed.
//   - Extension keys become "{namespace}local", nested ones concatenated
//     under their parent, each level sorted; an extension inside readPoint,
//     bizLocation or a sensor element goes to the trailing block under its
//     parent's name (CBV 2.0; CBV 2.1 moves it inline).
// Two points follow the published test vectors
// (RalphTro/epcis-event-hash-generator) where they differ from the CBV 2.0
// table: destinationList comes before sourceList, and a sensor element has no
// "sensorElementList" line (CBV 2.0 as the reference implementation reads
// it). Numeric-looking strings are not rewritten as numbers (the Python
// reference does: "007" would hash as "7").
//
// Pure functions, thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"
#include "epcis/context.h"
#include "epcis/json.h"

namespace medledger::epcis {

struct EventHash {
  std::string pre_hash;  // the canonical string that was hashed
  std::string hash_id;   // ni:///sha-256;{64 hex}?ver=CBV2.0
};

// The pre-hash string of `event`, an event object that ReadEvent
// (validate.h) accepted, with `ctx` the context in force inside it
// (EventContext). InvalidArgument only for an event ReadEvent would refuse.
Result<std::string> PreHashString(const JsonValue& event, const Context& ctx);

// "ni:///sha-256;{lower-case hex SHA-256 of pre_hash}?ver=CBV2.0".
std::string HashIdOf(std::string_view pre_hash);

// Recomputes the hash of an event stored as received: `event_json` is the
// event's bytes, `context_json` the document's @context value as received
// (empty when the event came alone and carries its own). Validates the
// event as capture did; InvalidArgument names what is wrong.
Result<EventHash> HashStoredEvent(std::string_view event_json, std::string_view context_json);

}  // namespace medledger::epcis
