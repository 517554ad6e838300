#include "fhir/claim_input.h"

namespace medledger::fhir {

namespace {

const Value* ResourceParameter(const Value& params) {
  const Value* ps = params.Get("parameter");
  if (!ps || !ps->is_array()) return nullptr;
  for (const auto& p : ps->array())
    if (StringAt(p, "name") == "resource")
      if (const Value* r = p.Get("resource"); r && r->is_object()) return r;
  return nullptr;
}

}  // namespace

std::string StringAt(const Value& v, std::string_view key) {
  const Value* m = v.Get(key);
  return m && m->is_string() ? m->string_value() : std::string();
}

std::pair<std::string, std::string> FirstIdentifier(const Value& resource) {
  const Value* ids = resource.Get("identifier");
  if (!ids) return {};
  const Value* first = ids->is_array() ? (ids->size() ? &(*ids)[0] : nullptr) : ids;
  if (!first || !first->is_object()) return {};
  return {StringAt(*first, "system"), StringAt(*first, "value")};
}

Result<ClaimInput> ClaimInput::Parse(std::string_view body) {
  ML_ASSIGN_OR_RETURN(Value root, fhir::Parse(body));
  if (!root.is_object()) return InvalidArgument("the body must be a JSON object");
  ClaimInput in;
  Value top = std::move(root);
  if (StringAt(top, "resourceType") == "Parameters") {
    const Value* r = ResourceParameter(top);
    if (!r) return InvalidArgument("Parameters.parameter: no parameter 'resource' holding the Claim");
    Value inner = *r;
    top = std::move(inner);
  }
  const std::string type = StringAt(top, "resourceType");
  if (type == "Claim") {
    in.claim_ = std::move(top);
    return in;
  }
  if (type != "Bundle") return InvalidArgument("resourceType: $submit takes a Claim, a Parameters or a Bundle");
  const Value* entries = top.Get("entry");
  if (!entries || !entries->is_array()) return InvalidArgument("Bundle.entry: a Bundle for $submit holds the Claim");
  bool found = false;
  for (size_t i = 0; i < entries->size(); ++i) {
    const Value& e = (*entries)[i];
    const Value* r = e.Get("resource");
    if (!r || !r->is_object())
      return InvalidArgument("Bundle.entry[" + std::to_string(i) + "].resource: missing");
    if (!found && StringAt(*r, "resourceType") == "Claim") {
      in.claim_ = *r;
      found = true;
      continue;
    }
    in.bundled_.push_back(*r);
    in.full_urls_.push_back(StringAt(e, "fullUrl"));
  }
  if (!found) return InvalidArgument("Bundle.entry: no Claim");
  return in;
}

std::optional<ResolvedReference> ClaimInput::Resolve(const Value* ref) const {
  if (!ref || !ref->is_object()) return std::nullopt;
  ResolvedReference out;
  const std::string r = StringAt(*ref, "reference");
  if (r.empty()) {
    const Value* idf = ref->Get("identifier");
    if (!idf || !idf->is_object() || StringAt(*idf, "value").empty()) return std::nullopt;
    out.system = StringAt(*idf, "system");
    out.value = StringAt(*idf, "value");
    out.type = StringAt(*ref, "type");
    return out;
  }
  if (r[0] == '#') {
    const Value* contained = claim_.Get("contained");
    if (contained && contained->is_array())
      for (const auto& c : contained->array())
        if (StringAt(c, "id") == r.substr(1)) {
          out.resource = &c;
          out.type = StringAt(c, "resourceType");
          out.id = r.substr(1);
          return out;
        }
    return std::nullopt;  // a local reference with nothing behind it
  }
  for (size_t i = 0; i < bundled_.size(); ++i) {
    const Value& b = bundled_[i];
    std::string type_id = StringAt(b, "resourceType") + "/" + StringAt(b, "id");
    if ((!full_urls_[i].empty() && full_urls_[i] == r) || type_id == r) {
      out.resource = &b;
      out.type = StringAt(b, "resourceType");
      out.id = StringAt(b, "id");
      return out;
    }
  }
  // Type/id (relative): the custodian looks it up. Absolute URLs and
  // versioned references keep their Type/id part.
  auto slash = r.rfind('/');
  if (slash == std::string::npos || slash == 0) return std::nullopt;
  std::string head = r.substr(0, slash);
  if (auto hist = r.find("/_history/"); hist != std::string::npos) {
    head = r.substr(0, hist);
    slash = head.rfind('/');
    if (slash == std::string::npos) return std::nullopt;
    out.id = head.substr(slash + 1);
    head = head.substr(0, slash);
  } else {
    out.id = r.substr(slash + 1);
  }
  auto prev = head.rfind('/');
  out.type = prev == std::string::npos ? head : head.substr(prev + 1);
  if (out.type.empty() || out.id.empty()) return std::nullopt;
  return out;
}

}  // namespace medledger::fhir
