// Structural validation of one EPCIS 2.0 event (JSON / JSON-LD), in code:
// the rules of the EPCIS 2.0 JSON schema (required fields per event type,
// field types, vocabularies, the "what" dimension each type needs) plus
// those the schema cannot say (RFC 3339 times with offsets, EPC URNs and
// Digital Links that parse and have right check digits, extension keys whose
// namespace the @context declares). Internal to src/epcis: document.h is the
// public entry point.
#pragma once

#include <string>

#include "common/status.h"
#include "epcis/context.h"
#include "epcis/event.h"
#include "epcis/json.h"

namespace medledger::epcis {

// Checks `event` (an object whose own @context, if any, is already in `ctx`)
// and reads it into the event model. `path` names the event in messages
// ("epcisBody.eventList[2]"): every InvalidArgument reads
// "<path>.<field>: <what is wrong>". The hash id is not computed here.
Result<Event> ReadEvent(const JsonValue& event, const Context& ctx, const std::string& path);

// The context in force inside `event`: `outer` with the event's own
// @context applied (when it has one).
Result<Context> EventContext(const JsonValue& event, const Context& outer, const std::string& path);

}  // namespace medledger::epcis
