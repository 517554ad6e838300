// The EPCIS 2.0 event model that medledger works with: what src/epcis
// parses out of a capture document (document.h) and src/supply's state
// rules read. Pure data, no I/O.
//
// Identifiers are canonical: every EPC, whether it arrived as a URN
// (urn:epc:id:sgtin:...) or as a GS1 Digital Link on any domain, is held as
// its canonical Digital Link on https://id.gs1.org without a query string
// (identifiers.h). CBV bizStep and disposition values are bare words
// ("shipping", "in_transit"); a value outside the CBV (a user vocabulary
// URI) is kept as given. Decimals (quantities, sensor values) are kept as
// the text they arrived as: the ledger has no floating point.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace medledger::epcis {

enum class EventType { kObject, kAggregation, kTransaction, kTransformation, kAssociation };
enum class Action { kNone, kAdd, kObserve, kDelete };  // kNone: TransformationEvent (no action)

const char* EventTypeName(EventType t);  // "ObjectEvent", ...
const char* ActionName(Action a);        // "ADD", "OBSERVE", "DELETE", ""

struct QuantityElement {
  std::string epc_class;  // canonical Digital Link of the class (GTIN, or GTIN + lot)
  std::string quantity;   // decimal text as received; empty when absent
  std::string uom;        // UN/CEFACT unit code; empty when absent
};

// sourceList / destinationList entry. `type` is a bare CBV word
// (owning_party, possessing_party, location) or a URI as given; `id` a
// canonical Digital Link (SGLN / PGLN) or the value as given.
struct SourceDest {
  std::string type;
  std::string id;
};

struct BizTransaction {
  std::string type;  // bare CBV word (po, desadv, ...) or URI; empty when absent
  std::string id;
};

struct ErrorDeclaration {
  std::string declaration_time;
  std::string reason;                     // bare CBV word or URI; empty when absent
  std::vector<std::string> corrective_event_ids;
};

struct Event {
  EventType type = EventType::kObject;
  std::string event_id;     // as the sender gave it; the hash id when absent
  std::string hash_id;      // ni:///sha-256;<hex>?ver=CBV2.0 (hash.h)
  std::string event_time;   // as received
  int64_t event_time_ms = 0;  // UTC milliseconds since the epoch
  std::string event_time_zone_offset;  // "+hh:mm" / "-hh:mm"
  Action action = Action::kNone;

  std::vector<std::string> epc_list;      // ObjectEvent, TransactionEvent
  std::string parent_id;                  // Aggregation/Transaction/Association
  std::vector<std::string> child_epcs;    // Aggregation/Association
  std::vector<std::string> input_epcs;    // TransformationEvent
  std::vector<std::string> output_epcs;   // TransformationEvent
  std::vector<QuantityElement> quantity_list, child_quantity_list, input_quantity_list, output_quantity_list;

  std::string biz_step;      // bare CBV word or URI; empty when absent
  std::string disposition;   // bare CBV word or URI; empty when absent
  std::string read_point;    // canonical SGLN Digital Link, or the id as given
  std::string biz_location;  // same
  std::vector<BizTransaction> biz_transactions;
  std::vector<SourceDest> sources, destinations;

  // ILMD (ObjectEvent, TransformationEvent): cbvmda:lotNumber and
  // cbvmda:itemExpirationDate (YYYY-MM-DD as received).
  std::optional<std::string> lot;
  std::optional<std::string> expiry;

  std::optional<ErrorDeclaration> error_declaration;
};

}  // namespace medledger::epcis
