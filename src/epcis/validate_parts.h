// The pieces validate.cc checks events with: typed readers for the value
// kinds of EPCIS 2.0 (URIs and GS1 identifiers, CBV values, times), for its
// structured fields (quantity lists, readPoint/bizLocation, business
// transactions, sources and destinations, persistent dispositions, sensor
// elements), and for extension content. Each returns InvalidArgument
// "<path>: <what is wrong>", with `path` the field's JSON path. Internal to
// src/epcis.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "epcis/cbv.h"
#include "epcis/context.h"
#include "epcis/datetime.h"
#include "epcis/event.h"
#include "epcis/json.h"

namespace medledger::epcis::validation {

// At most 64 characters of `s`, for messages about document content.
std::string Shown(std::string_view s);
Status Bad(const std::string& path, std::string_view what);
std::string At(const std::string& path, std::string_view key);
std::string At(const std::string& path, size_t index);

// An absolute URI (RFC 3986; IRIs' non-ASCII bytes pass).
bool IsUri(std::string_view s);

// A non-empty string.
Result<std::string> Str(const JsonValue& v, const std::string& path);
// An absolute URI, canonicalised when it is a GS1 key (identifiers.h): a
// malformed EPC URN or Digital Link is refused, another URI kept as given.
Result<std::string> Uri(const JsonValue& v, const std::string& path);
// An array of Uri(); `unique`: the same identifier (after canonicalisation)
// may not appear twice.
Result<std::vector<std::string>> UriList(const JsonValue& v, const std::string& path, bool unique);
// A CBV value in any of its spellings, as its bare word, or a user
// vocabulary URI as given (cbv.h).
Result<std::string> VocabValue(const JsonValue& v, Vocab vocab, const std::string& path);
Result<Timestamp> Time(const JsonValue& v, const std::string& path);

Result<std::vector<QuantityElement>> QuantityList(const JsonValue& v, const std::string& path);
// readPoint / bizLocation: {"id": URI, extensions...}; the canonical id.
Result<std::string> Location(const JsonValue& v, const Context& ctx, const std::string& path);
Result<std::vector<BizTransaction>> BizTransactionList(const JsonValue& v, const std::string& path);
// sourceList / destinationList; `id_key` is "source" or "destination".
Result<std::vector<SourceDest>> SourceDestList(const JsonValue& v, std::string_view id_key,
                                               const std::string& path);
Status PersistentDisposition(const JsonValue& v, const std::string& path);
Status SensorElementList(const JsonValue& v, const Context& ctx, const std::string& path);

// A member whose key is not a standard field: the key must expand through
// `ctx` (a declared prefix, an absolute IRI, or a context term), and so must
// every key inside its value, under the term's scoped context if it has one.
Status ExtensionMember(std::string_view key, const JsonValue& value, const Context& ctx, const std::string& path);

}  // namespace medledger::epcis::validation
