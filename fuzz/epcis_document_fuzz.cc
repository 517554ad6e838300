// Untrusted input: EPCIS 2.0 capture bodies (POST /epcis/capture, POST
// /epcis/events) and stored events re-hashed by every node.
#include <string>

#include "epcis/document.h"
#include "epcis/hash.h"

using namespace medledger::epcis;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto doc = ParseDocument(text);
  if (!doc.ok()) return 0;
  if (doc->raw_events.size() != doc->events.size()) __builtin_trap();
  for (size_t i = 0; i < doc->events.size(); ++i) {
    // What the ledger stores (the event's bytes and the document's
    // @context) must give every node the same hash.
    auto again = HashStoredEvent(doc->raw_events[i], doc->context_json);
    if (!again.ok() || again->hash_id != doc->events[i].hash_id) __builtin_trap();
    if (HashIdOf(again->pre_hash) != again->hash_id || doc->events[i].event_id.empty()) __builtin_trap();
  }
  return 0;
}
