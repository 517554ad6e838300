// Transaction/batch Bundles: splitting a request Bundle into entries,
// reference rewriting inside a transaction, and the response Bundle.
//
// All functions are pure. Errors are InvalidArgument with a FHIRPath-like
// location (`Bundle.entry[2].request.method`) and never quote resource
// content, except where noted.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/status.h"
#include "fhir/json.h"

namespace medledger::fhir {

enum class BundleKind { kTransaction, kBatch };

struct BundleEntry {
  std::string full_url;       // empty when absent
  Value resource;             // null when absent (GET, HEAD, DELETE)
  std::string method;         // GET, HEAD, POST, PUT, PATCH or DELETE
  std::string url;            // request.url as written, e.g. "Patient", "Patient/1", "Patient?identifier=x"
  std::string if_none_exist;  // request.ifNoneExist (conditional create query), empty when absent
  std::string if_match;       // request.ifMatch (e.g. W/"3"), empty when absent
  std::string if_none_match;  // request.ifNoneMatch, empty when absent
  std::string if_modified_since;  // request.ifModifiedSince, empty when absent
};

struct ParsedBundle {
  BundleKind kind;
  std::vector<BundleEntry> entries;  // in Bundle order
};

// Splits a Bundle of type transaction or batch. Consumes `bundle` (resources
// are moved, not copied; pass std::move). Rejects: not a Bundle, another
// Bundle.type, entry not an array of objects, request missing, unknown
// method, empty url, resource missing for POST/PUT/PATCH, a resource whose
// type differs from the url's type (POST Patient with an Observation; POST
// to an operation such as ValueSet/$lookup is exempt), PUT Type/id whose
// resource carries another id, and in a transaction a fullUrl used twice.
// Does not validate the resources themselves: call ValidateResource on each.
Result<ParsedBundle> ParseTransactionBundle(Value bundle);

// Every Reference.reference string in `resource` (any depth, contained
// resources included), in document order.
std::vector<std::string> CollectReferences(const Value& resource);

// A conditional reference `Type?query` (e.g.
// `Organization?identifier=https://github.com/synthetichealth/synthea|123`).
struct ConditionalReference {
  std::string type;   // "Organization"
  std::string query;  // "identifier=https://github.com/synthetichealth/synthea|123"
  bool operator==(const ConditionalReference&) const = default;
};
// nullopt unless `reference` is relative, has a '?', and names an R4
// resource type before it.
std::optional<ConditionalReference> ParseConditionalReference(std::string_view reference);
// The distinct conditional references of a resource, in first-seen order.
std::vector<ConditionalReference> CollectConditionalReferences(const Value& resource);

// Resolves a conditional reference to "Type/id". Return NotFound when
// nothing matches and FailedPrecondition (or InvalidArgument) when several
// do; other codes (Unavailable...) pass through unchanged.
using ConditionalResolver =
    std::function<Result<std::string>(std::string_view type, std::string_view query)>;

// Rewrites the references of `resource` in place:
//   - a reference found in `ids` (a fullUrl such as "urn:uuid:..." or an
//     absolute URL of another entry) becomes the mapped value ("Patient/123");
//   - any other "urn:uuid:"/"urn:oid:" reference is an error (InvalidArgument,
//     "unresolved urn reference"): in a transaction it can only name an entry;
//   - a conditional reference is passed to `resolve` (if set) and replaced by
//     its answer; a resolver error is returned with the element location
//     prefixed (its code kept; NotFound fails the transaction). Without a
//     resolver, conditional references are an InvalidArgument.
//   - local ("#id") and other literal references are left as they are.
// On error `resource` may be partly rewritten.
Status RewriteReferences(Value* resource, const std::unordered_map<std::string, std::string>& ids,
                         const ConditionalResolver& resolve = nullptr);

// --- Responses --------------------------------------------------------------

// "Type/id/_history/vid".
std::string HistoryLocation(std::string_view type, std::string_view id, std::string_view version_id);
// W/"vid".
std::string WeakEtag(std::string_view version_id);
// "201 Created", "200 OK", ... (the reason phrase is added for known codes).
std::string StatusLine(int http_status);

struct EntryResponse {
  int http_status = 200;
  std::string location;       // HistoryLocation(...); omitted when empty
  std::string etag;           // WeakEtag(...); omitted when empty
  std::string last_modified;  // a FHIR instant; omitted when empty
  Value outcome;              // an OperationOutcome; omitted when null
};

// {"response":{"status":..., "location":..., "etag":..., "lastModified":..., "outcome":...}}
Value ResponseEntry(const EntryResponse& response);

// A Bundle of type transaction-response or batch-response holding `entries`
// (the i-th answering the i-th request entry).
Value ResponseBundle(BundleKind kind, std::vector<Value> entries);

}  // namespace medledger::fhir
