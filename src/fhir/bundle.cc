#include "fhir/bundle.h"

#include <unordered_set>

#include "fhir/validate.h"

namespace medledger::fhir {
namespace {

std::string Index(const std::string& path, size_t i) { return path + "[" + std::to_string(i) + "]"; }

Status Bad(const std::string& path, std::string_view problem) {
  return InvalidArgument(path + ": " + std::string(problem));
}

// Reads an optional string member into *out.
Status OptionalString(const Value& obj, std::string_view key, const std::string& path, std::string* out) {
  const Value* v = obj.Get(key);
  if (v == nullptr) return Status::Ok();
  if (!v->is_string() || v->string_value().empty()) return Bad(path + "." + std::string(key), "expected a string");
  *out = v->string_value();
  return Status::Ok();
}

bool IsMethod(std::string_view m) {
  return m == "GET" || m == "HEAD" || m == "POST" || m == "PUT" || m == "PATCH" || m == "DELETE";
}

Status CheckEntry(const BundleEntry& e, const std::string& path) {
  bool needs_resource = e.method == "POST" || e.method == "PUT" || e.method == "PATCH";
  if (needs_resource && e.resource.is_null()) return Bad(path + ".resource", "required for " + e.method);
  if (!e.resource.is_null()) {
    const Value* rt = e.resource.Get("resourceType");
    if (!e.resource.is_object() || !rt || !rt->is_string())
      return Bad(path + ".resource", "expected a resource object");
  }
  if (e.method != "POST" && e.method != "PUT") return Status::Ok();
  std::string_view url = e.url;
  if (url.find('$') != std::string_view::npos) return Status::Ok();  // operation invocation
  size_t type_end = url.find_first_of("/?");
  std::string_view type = url.substr(0, type_end);
  if (type != e.resource.Get("resourceType")->string_value())
    return Bad(path + ".request.url", "resource type does not match the resource");
  if (e.method == "PUT" && type_end != std::string_view::npos && url[type_end] == '/') {
    std::string_view id = url.substr(type_end + 1);
    id = id.substr(0, id.find_first_of("/?"));
    const Value* rid = e.resource.Get("id");
    if (rid && rid->string_value() != id) return Bad(path + ".resource.id", "does not match the id in request.url");
  }
  return Status::Ok();
}

// Visits every Reference.reference string: `fn(Value* ref, path)`.
template <typename Fn>
Status VisitReferences(Value* v, const std::string& path, Fn& fn) {
  if (v->is_array()) {
    auto& items = v->mutable_array();
    for (size_t i = 0; i < items.size(); ++i) ML_RETURN_IF_ERROR(VisitReferences(&items[i], Index(path, i), fn));
  } else if (v->is_object()) {
    for (auto& [key, child] : v->mutable_members()) {
      if (key == "reference" && child.is_string()) {
        ML_RETURN_IF_ERROR(fn(&child, path + "." + key));
      } else {
        ML_RETURN_IF_ERROR(VisitReferences(&child, path + "." + key, fn));
      }
    }
  }
  return Status::Ok();
}

void Collect(const Value& v, std::vector<std::string>* out) {
  if (v.is_array()) {
    for (const Value& item : v.array()) Collect(item, out);
  } else if (v.is_object()) {
    for (const auto& [key, child] : v.members()) {
      if (key == "reference" && child.is_string()) {
        out->push_back(child.string_value());
      } else {
        Collect(child, out);
      }
    }
  }
}

std::string RootPath(const Value& resource) {
  const Value* rt = resource.Get("resourceType");
  return rt && rt->is_string() ? rt->string_value() : "$this";
}

}  // namespace

Result<ParsedBundle> ParseTransactionBundle(Value bundle) {
  const Value* rt = bundle.Get("resourceType");
  if (!rt || rt->string_value() != "Bundle" || !rt->is_string()) return Bad("Bundle", "expected a Bundle resource");
  const Value* type = bundle.Get("type");
  ParsedBundle out;
  if (type && type->is_string() && type->string_value() == "transaction") {
    out.kind = BundleKind::kTransaction;
  } else if (type && type->is_string() && type->string_value() == "batch") {
    out.kind = BundleKind::kBatch;
  } else {
    return Bad("Bundle.type", "expected transaction or batch");
  }
  Value* entries = bundle.Get("entry");
  if (entries == nullptr) return out;
  if (!entries->is_array()) return Bad("Bundle.entry", "expected an array");
  std::unordered_set<std::string> full_urls;
  out.entries.reserve(entries->size());
  for (size_t i = 0; i < entries->size(); ++i) {
    std::string path = Index("Bundle.entry", i);
    Value& entry = entries->mutable_array()[i];
    if (!entry.is_object()) return Bad(path, "expected an object");
    BundleEntry e;
    ML_RETURN_IF_ERROR(OptionalString(entry, "fullUrl", path, &e.full_url));
    const Value* request = entry.Get("request");
    if (!request || !request->is_object()) return Bad(path + ".request", "required object is missing");
    std::string rpath = path + ".request";
    ML_RETURN_IF_ERROR(OptionalString(*request, "method", rpath, &e.method));
    if (!IsMethod(e.method)) return Bad(rpath + ".method", "expected GET, HEAD, POST, PUT, PATCH or DELETE");
    ML_RETURN_IF_ERROR(OptionalString(*request, "url", rpath, &e.url));
    if (e.url.empty()) return Bad(rpath + ".url", "required string is missing");
    ML_RETURN_IF_ERROR(OptionalString(*request, "ifNoneExist", rpath, &e.if_none_exist));
    ML_RETURN_IF_ERROR(OptionalString(*request, "ifMatch", rpath, &e.if_match));
    ML_RETURN_IF_ERROR(OptionalString(*request, "ifNoneMatch", rpath, &e.if_none_match));
    ML_RETURN_IF_ERROR(OptionalString(*request, "ifModifiedSince", rpath, &e.if_modified_since));
    if (Value* resource = entry.Get("resource")) e.resource = std::move(*resource);
    ML_RETURN_IF_ERROR(CheckEntry(e, path));
    if (out.kind == BundleKind::kTransaction && !e.full_url.empty() && !full_urls.insert(e.full_url).second)
      return Bad(path + ".fullUrl", "used by an earlier entry");
    out.entries.push_back(std::move(e));
  }
  return out;
}

std::vector<std::string> CollectReferences(const Value& resource) {
  std::vector<std::string> refs;
  Collect(resource, &refs);
  return refs;
}

std::optional<ConditionalReference> ParseConditionalReference(std::string_view reference) {
  size_t q = reference.find('?');
  if (q == std::string_view::npos || q + 1 >= reference.size()) return std::nullopt;
  std::string_view type = reference.substr(0, q);
  if (!IsR4ResourceType(type)) return std::nullopt;
  return ConditionalReference{std::string(type), std::string(reference.substr(q + 1))};
}

std::vector<ConditionalReference> CollectConditionalReferences(const Value& resource) {
  std::vector<ConditionalReference> out;
  std::unordered_set<std::string> seen;
  for (const std::string& ref : CollectReferences(resource)) {
    auto c = ParseConditionalReference(ref);
    if (c && seen.insert(ref).second) out.push_back(std::move(*c));
  }
  return out;
}

Status RewriteReferences(Value* resource, const std::unordered_map<std::string, std::string>& ids,
                         const ConditionalResolver& resolve) {
  auto fn = [&](Value* ref, const std::string& path) -> Status {
    const std::string& s = ref->string_value();
    if (auto it = ids.find(s); it != ids.end()) {
      *ref = Value(it->second);
      return Status::Ok();
    }
    if (s.rfind("urn:uuid:", 0) == 0 || s.rfind("urn:oid:", 0) == 0)
      return Bad(path, "unresolved urn reference (no entry has this fullUrl)");
    auto cond = ParseConditionalReference(s);
    if (!cond) return Status::Ok();
    if (!resolve) return Bad(path, "conditional reference to " + cond->type + " needs a resolver");
    Result<std::string> target = resolve(cond->type, cond->query);
    if (!target.ok())
      return Status(target.status().code(), path + ": conditional reference to " + cond->type + ": " +
                                                target.status().message());
    *ref = Value(std::move(target).value());
    return Status::Ok();
  };
  return VisitReferences(resource, RootPath(*resource), fn);
}

std::string HistoryLocation(std::string_view type, std::string_view id, std::string_view version_id) {
  std::string s(type);
  s.append("/").append(id).append("/_history/").append(version_id);
  return s;
}

std::string WeakEtag(std::string_view version_id) { return "W/\"" + std::string(version_id) + "\""; }

std::string StatusLine(int http_status) {
  std::string_view reason;
  switch (http_status) {
    case 200: reason = "OK"; break;
    case 201: reason = "Created"; break;
    case 204: reason = "No Content"; break;
    case 304: reason = "Not Modified"; break;
    case 400: reason = "Bad Request"; break;
    case 401: reason = "Unauthorized"; break;
    case 403: reason = "Forbidden"; break;
    case 404: reason = "Not Found"; break;
    case 405: reason = "Method Not Allowed"; break;
    case 409: reason = "Conflict"; break;
    case 410: reason = "Gone"; break;
    case 412: reason = "Precondition Failed"; break;
    case 413: reason = "Payload Too Large"; break;
    case 422: reason = "Unprocessable Entity"; break;
    case 429: reason = "Too Many Requests"; break;
    case 500: reason = "Internal Server Error"; break;
    case 503: reason = "Service Unavailable"; break;
    default: break;
  }
  std::string s = std::to_string(http_status);
  if (!reason.empty()) s.append(" ").append(reason);
  return s;
}

Value ResponseEntry(const EntryResponse& r) {
  Value response = Value::MakeObject();
  response.Set("status", Value(StatusLine(r.http_status)));
  if (!r.location.empty()) response.Set("location", Value(r.location));
  if (!r.etag.empty()) response.Set("etag", Value(r.etag));
  if (!r.last_modified.empty()) response.Set("lastModified", Value(r.last_modified));
  if (!r.outcome.is_null()) response.Set("outcome", r.outcome);
  Value entry = Value::MakeObject();
  entry.Set("response", std::move(response));
  return entry;
}

Value ResponseBundle(BundleKind kind, std::vector<Value> entries) {
  Value b = Value::MakeObject();
  b.Set("resourceType", Value("Bundle"));
  b.Set("type", Value(kind == BundleKind::kTransaction ? "transaction-response" : "batch-response"));
  Value list = Value::MakeArray();
  list.mutable_array() = std::move(entries);
  if (list.size() > 0) b.Set("entry", std::move(list));
  return b;
}

}  // namespace medledger::fhir
