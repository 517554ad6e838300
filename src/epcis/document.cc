#include "epcis/document.h"

#include "epcis/context.h"
#include "epcis/hash.h"
#include "epcis/validate.h"
#include "epcis/validate_parts.h"

namespace medledger::epcis {
namespace {

using validation::At;
using validation::Bad;

bool IsEventType(std::string_view t) {
  return t == "ObjectEvent" || t == "AggregationEvent" || t == "TransactionEvent" || t == "TransformationEvent" ||
         t == "AssociationEvent";
}

// "2.0", "2.0.1": the pattern the JSON schema gives, major version 2.
Status SchemaVersion(const JsonValue& v, const std::string& path, Document* doc) {
  if (!v.is_string()) return Bad(path, "must be a string");
  const std::string& s = v.text();
  bool ok = s.size() >= 1 && s[0] == '2' && (s.size() == 1 || s[1] == '.');
  for (size_t i = 1; ok && i < s.size(); ++i) {
    bool digit = s[i] >= '0' && s[i] <= '9';
    ok = digit || (s[i] == '.' && s[i - 1] != '.' && i + 1 < s.size());
  }
  if (!ok) return Bad(path, "must be 2.0: this node reads EPCIS 2.0 JSON and JSON-LD");
  doc->schema_version = s;
  return Status::Ok();
}

Status CreationDate(const JsonValue& v, const std::string& path, Document* doc) {
  ML_RETURN_IF_ERROR(validation::Time(v, path).status());
  doc->creation_date = v.text();
  return Status::Ok();
}

// Object members: `known` are read by `read`, the rest are extensions.
template <typename Read>
Status Members(const JsonValue& v, const Context& ctx, const std::string& path,
               std::initializer_list<std::string_view> known, Read read) {
  if (!v.is_object()) return Bad(path, "must be an object");
  for (const auto& [key, value] : v.members()) {
    std::string where = At(path, key);
    bool standard = false;
    for (std::string_view k : known) standard |= k == key;
    if (standard) {
      ML_RETURN_IF_ERROR(read(key, value, where));
    } else {
      ML_RETURN_IF_ERROR(validation::ExtensionMember(key, value, ctx, where));
    }
  }
  return Status::Ok();
}

Status Required(const JsonValue& v, std::string_view key, const std::string& path) {
  return v.Get(key) ? Status::Ok() : Bad(At(path, key), "required");
}

Status OptionalString(const JsonValue& v, const std::string& path) {
  return v.is_string() ? Status::Ok() : Bad(path, "must be a string");
}

// The header's master data is not read by the ledger; it is only checked
// to be what the schema says it is.
Status Header(const JsonValue& v, const Context& ctx, const std::string& path) {
  return Members(v, ctx, path, {"epcisMasterData"}, [](const std::string&, const JsonValue& value,
                                                        const std::string& where) {
    return value.is_object() ? Status::Ok() : Bad(where, "must be an object");
  });
}

// Validates the document-level fields and finds the event list.
Status ReadEnvelope(const JsonValue& root, const Context& ctx, Document* doc, const JsonValue** events,
                    std::vector<std::string_view>* events_path) {
  if (doc->kind == DocumentKind::kDocument) {
    for (std::string_view k : {"schemaVersion", "creationDate", "epcisBody"}) ML_RETURN_IF_ERROR(Required(root, k, ""));
  } else {
    ML_RETURN_IF_ERROR(Required(root, "epcisBody", ""));
  }
  auto top = [&](const std::string& key, const JsonValue& value, const std::string& where) -> Status {
    if (key == "@context" || key == "type") return Status::Ok();
    if (key == "schemaVersion") return SchemaVersion(value, where, doc);
    if (key == "creationDate") return CreationDate(value, where, doc);
    if (key == "id") return value.is_string() && validation::IsUri(value.text()) ? Status::Ok()
                                                                              : Bad(where, "must be an absolute URI");
    if (key == "epcisHeader") return Header(value, ctx, where);
    if (key == "epcisBody") return Status::Ok();  // below
    return OptionalString(value, where);          // instanceIdentifier, sender, receiver
  };
  if (doc->kind == DocumentKind::kDocument) {
    ML_RETURN_IF_ERROR(Members(root, ctx, "",
                               {"@context", "id", "type", "schemaVersion", "creationDate", "instanceIdentifier",
                                "sender", "receiver", "epcisHeader", "epcisBody"},
                               top));
    const JsonValue& body = *root.Get("epcisBody");
    ML_RETURN_IF_ERROR(Members(body, ctx, "epcisBody", {"eventList"},
                               [](const std::string&, const JsonValue&, const std::string&) { return Status::Ok(); }));
    ML_RETURN_IF_ERROR(Required(body, "eventList", "epcisBody"));
    *events = body.Get("eventList");
    *events_path = {"epcisBody", "eventList"};
    return Status::Ok();
  }
  ML_RETURN_IF_ERROR(
      Members(root, ctx, "", {"@context", "id", "type", "schemaVersion", "creationDate", "epcisBody"}, top));
  const JsonValue& body = *root.Get("epcisBody");
  auto none = [](const std::string&, const JsonValue&, const std::string&) { return Status::Ok(); };
  ML_RETURN_IF_ERROR(Members(body, ctx, "epcisBody", {"queryResults"}, none));
  ML_RETURN_IF_ERROR(Required(body, "queryResults", "epcisBody"));
  const JsonValue& results = *body.Get("queryResults");
  const std::string results_path = "epcisBody.queryResults";
  ML_RETURN_IF_ERROR(Members(results, ctx, results_path, {"queryName", "subscriptionID", "resultsBody"},
                             [](const std::string& key, const JsonValue& value, const std::string& where) {
                               return key == "resultsBody" ? Status::Ok() : OptionalString(value, where);
                             }));
  ML_RETURN_IF_ERROR(Required(results, "queryName", results_path));
  ML_RETURN_IF_ERROR(Required(results, "resultsBody", results_path));
  const JsonValue& rb = *results.Get("resultsBody");
  const std::string rb_path = results_path + ".resultsBody";
  ML_RETURN_IF_ERROR(Members(rb, ctx, rb_path, {"eventList", "vocabularyList"},
                             [](const std::string& key, const JsonValue& value, const std::string& where) {
                               return key == "vocabularyList" && !value.is_array() ? Bad(where, "must be an array")
                                                                                   : Status::Ok();
                             }));
  ML_RETURN_IF_ERROR(Required(rb, "eventList", rb_path));
  *events = rb.Get("eventList");
  *events_path = {"epcisBody", "queryResults", "resultsBody", "eventList"};
  return Status::Ok();
}

std::string Dotted(const std::vector<std::string_view>& path) {
  std::string out;
  for (std::string_view p : path) out += (out.empty() ? "" : ".") + std::string(p);
  return out;
}

}  // namespace

Result<Document> ParseDocument(std::string_view body, const ParseOptions& options) {
  ML_ASSIGN_OR_RETURN(JsonValue root, ParseJson(body, options.json));
  if (!root.is_object()) return InvalidArgument("the body must be a JSON object: an EPCISDocument");
  Document doc;
  const JsonValue* type = root.Get("type");
  if (!type) return Bad("type", "required");
  if (type->is_string() && type->text() == "EPCISDocument") {
    doc.kind = DocumentKind::kDocument;
  } else if (type->is_string() && type->text() == "EPCISQueryDocument") {
    doc.kind = DocumentKind::kQueryDocument;
  } else if (type->is_string() && IsEventType(type->text())) {
    doc.kind = DocumentKind::kEvent;
  } else {
    return Bad("type", "must be EPCISDocument, EPCISQueryDocument or one of the five event types");
  }

  const JsonValue* context = root.Get("@context");
  if (!context)
    return Bad("@context", "required: a JSON-LD document names the EPCIS 2.0 context "
                           "https://ref.gs1.org/standards/epcis/epcis-context.jsonld");
  ML_ASSIGN_OR_RETURN(Context ctx, Context::Standard().Apply(*context, "@context"));
  if (!ctx.names_standard())
    return Bad("@context", "must include the EPCIS 2.0 context https://ref.gs1.org/standards/epcis/epcis-context.jsonld");

  if (doc.kind == DocumentKind::kEvent) {
    // A single event carries its @context itself: ReadEvent sees it as the
    // event's own, already applied.
    ML_ASSIGN_OR_RETURN(Event e, ReadEvent(root, ctx, ""));
    ML_ASSIGN_OR_RETURN(std::string pre, PreHashString(root, ctx));
    e.hash_id = HashIdOf(pre);
    if (e.event_id.empty()) e.event_id = e.hash_id;
    doc.events.push_back(std::move(e));
    auto span = MemberSpan(body, {});
    doc.raw_events.emplace_back(span ? span->Of(body) : body);
    return doc;
  }

  const JsonValue* events = nullptr;
  std::vector<std::string_view> events_path;
  ML_RETURN_IF_ERROR(ReadEnvelope(root, ctx, &doc, &events, &events_path));
  const std::string list_path = Dotted(events_path);
  if (!events->is_array()) return Bad(list_path, "must be an array");
  if (events->items().size() > options.max_events)
    return TooLarge(list_path + ": " + std::to_string(events->items().size()) + " events; at most " +
                    std::to_string(options.max_events) + " in one document");

  for (size_t i = 0; i < events->items().size(); ++i) {
    const JsonValue& ev = events->items()[i];
    std::string path = At(list_path, i);
    ML_ASSIGN_OR_RETURN(Context inner, EventContext(ev, ctx, path));
    ML_ASSIGN_OR_RETURN(Event e, ReadEvent(ev, inner, path));
    ML_ASSIGN_OR_RETURN(std::string pre, PreHashString(ev, inner));
    e.hash_id = HashIdOf(pre);
    if (e.event_id.empty()) e.event_id = e.hash_id;
    doc.events.push_back(std::move(e));
  }

  auto context_span = MemberSpan(body, {"@context"});
  auto list_span = MemberSpan(body, events_path);
  if (!context_span || !list_span) return Internal("epcis: lost the spans of a parsed document");
  doc.context_json = std::string(context_span->Of(body));
  for (const Span& s : ElementSpans(body, *list_span)) doc.raw_events.emplace_back(s.Of(body));
  if (doc.raw_events.size() != doc.events.size()) return Internal("epcis: event spans do not match the events");
  return doc;
}

}  // namespace medledger::epcis
