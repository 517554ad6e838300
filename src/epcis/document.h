// EPCIS 2.0 capture bodies (JSON or JSON-LD): an EPCISDocument, an
// EPCISQueryDocument, or a single event (the REST binding's POST /events).
// ParseDocument checks the whole body structurally (document.cc, validate.h)
// and answers either every event, read into the event model (event.h) with
// its CBV 2.0 hash ID (hash.h) and its bytes as received, or the first
// problem found. Nothing is fetched: the @context must name the EPCIS 2.0
// context and only contexts built into context.h.
//
// Errors are values:
//   InvalidArgument  the document is malformed; the message names the JSON
//                    path and the problem, e.g.
//                    "epcisBody.eventList[2].action: must be ADD, OBSERVE or DELETE",
//                    and never quotes more than 64 characters of content. The
//                    API answers it as 400 epcisException:ValidationException
//                    with the message as the problem's detail.
//   TooLarge         a limit of ParseOptions is exceeded (bytes, events,
//                    JSON values): 413 CaptureLimitExceededException.
// Pure and thread-safe; a Document is a plain value.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "epcis/event.h"
#include "epcis/json.h"

namespace medledger::epcis {

enum class DocumentKind { kDocument, kQueryDocument, kEvent };

struct ParseOptions {
  // Bytes (8 MiB), nesting depth (32: a sensor report inside an event inside
  // a query document is 10 deep, extensions get the rest) and JSON values
  // (500,000: bounds the tree at about 50 MB).
  JsonLimits json;
  // Events in one document (the capture limit GS1-EPCIS-Capture-Limit
  // announces).
  size_t max_events = 10'000;
};

struct Document {
  DocumentKind kind = DocumentKind::kDocument;
  // The document's "@context" value, byte for byte as received; empty for a
  // single event (whose own @context is inside its bytes).
  std::string context_json;
  std::string schema_version;  // as given; empty when absent (a query document or single event)
  std::string creation_date;   // as given; empty when absent
  // In document order. events[i].hash_id is set; events[i].event_id is the
  // sender's eventID, or the hash ID when the sender gave none.
  std::vector<Event> events;
  // raw_events[i]: the bytes of events[i] as received, from '{' to '}'.
  // HashStoredEvent(raw_events[i], context_json) gives events[i].hash_id.
  std::vector<std::string> raw_events;
};

Result<Document> ParseDocument(std::string_view body, const ParseOptions& options = {});

}  // namespace medledger::epcis
