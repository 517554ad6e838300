#include "epcis/context.h"

#include <array>

namespace medledger::epcis {
namespace {

constexpr std::string_view kStandardUrls[] = {
    "https://ref.gs1.org/standards/epcis/epcis-context.jsonld",
    "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld",
    "https://gs1.github.io/EPCIS/epcis-context.jsonld",
};

// The prefixes of the EPCIS 2.0 context (ref.gs1.org/standards/epcis/epcis-context.jsonld).
constexpr std::pair<std::string_view, std::string_view> kStandardPrefixes[] = {
    {"epcis", "https://ref.gs1.org/epcis/"},
    {"cbv", "https://ref.gs1.org/cbv/"},
    {"cbvmda", "urn:epcglobal:cbv:mda:"},
    {"gs1", "https://gs1.org/voc/"},
    {"rdfs", "http://www.w3.org/2000/01/rdf-schema#"},
    {"owl", "http://www.w3.org/2002/07/owl#"},
    {"xsd", "http://www.w3.org/2001/XMLSchema#"},
    {"dcterms", "http://purl.org/dc/terms/"},
};

// The terms of the EPCIS 2.0 context: the standard's field and class names.
constexpr std::string_view kStandardTerms[] = {
    "id", "type", "baseURL", "ObjectEvent", "AggregationEvent", "TransformationEvent", "AssociationEvent",
    "TransactionEvent", "Collection", "member", "eventTime", "recordTime", "eventTimeZoneOffset", "action",
    "certificationInfo", "bizStep", "disposition", "bizLocation", "readPoint", "transformationID", "epcList",
    "sourceList", "destinationList", "persistentDisposition", "quantity", "epcClass", "uom", "quantityList",
    "bizTransactionList", "parentID", "childEPCs", "childQuantityList", "inputEPCList", "outputEPCList",
    "inputQuantityList", "outputQuantityList", "sensorElementList", "errorDeclaration", "eventID", "creationDate",
    "sender", "receiver", "instanceIdentifier", "schemaVersion", "ilmd", "EPCISDocument", "EPCISQueryDocument",
    "epcisHeader", "masterData", "vocabularyList", "epcisBody", "queryResults", "subscriptionID", "queryName",
    "resultsBody", "eventList", "children",
};

constexpr std::string_view kEgyptHealthcareUrl = "https://ref.gs1eg.org/extensions/epcis/hc/2.0.0/hc-context.jsonld";

// hc-context.jsonld, GS1 Egypt healthcare EPCIS extension, copied unchanged
// from openepcis/openepcis-document-converter
// (extensions/src/main/resources/hc-context.jsonld, commit e02184c5).
// Copyright benelog GmbH & Co. KG; licensed under the Apache License 2.0
// (http://www.apache.org/licenses/LICENSE-2.0).
constexpr std::string_view kEgyptHealthcareContext = R"json({
  "@context": {
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "epcis": "https://ref.gs1.org/epcis/",
    "gs1egypthc": "https://ref.gs1eg.org/extensions/epcis/hc/voc/",
    "recallReason": {
      "@id": "gs1egypthc:recallReason",
      "@type": "xsd:string"
    },
    "dosageQuantityList": {
      "@id": "gs1egypthc:dosageQuantityList",
      "@container": "@set",
      "@context": {
        "@protected": true,
        "dosageQuantity": {
          "@id": "gs1egypthc:dosageQuantity",
          "@context": {
            "@protected": true,
            "gs1egypthc": "https://ref.gs1eg.org/extensions/epcis/hc/voc/",
            "epc": {
              "@id": "gs1egypthc:epc",
              "@type": "xsd:string"
            },
            "quantity": {
              "@id": "gs1egypthc:quantity",
              "@type": "xsd:double"
            },
            "uom": {
              "@id": "gs1egypthc:uom",
              "@type": "xsd:string"
            }
          }
        }
      }
    },
    "batchInfoList": {
      "@id": "gs1egypthc:batchInfoList",
      "@container": "@set",
      "@context": {
        "@protected": true,
        "batchInfo": {
          "@id": "gs1egypthc:batchInfo",
          "@context": {
            "@protected": true,
            "gs1egypthc": "https://ref.gs1eg.org/extensions/epcis/hc/voc/",
            "epcis": "https://ref.gs1.org/epcis/",
            "lotNumber": {
              "@id": "gs1egypthc:lotNumber",
              "@type": "xsd:string"
            },
            "epcList": {
              "@id": "epcis:epcList",
              "@container": "@set",
              "@type": "@id"
            }
          }
        }
      }
    }
  }
})json";

template <size_t N>
bool Contains(const std::string_view (&list)[N], std::string_view s) {
  for (std::string_view x : list) {
    if (x == s) return true;
  }
  return false;
}

std::string_view StandardPrefixIri(std::string_view prefix) {
  for (const auto& [p, iri] : kStandardPrefixes) {
    if (p == prefix) return iri;
  }
  return {};
}

// RFC 3986 scheme followed by ':' and something.
bool IsAbsoluteIri(std::string_view s) {
  size_t colon = s.find(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == s.size()) return false;
  for (size_t i = 0; i < colon; ++i) {
    char c = s[i];
    bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    if (!alpha && (i == 0 || !((c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.'))) return false;
  }
  return true;
}

// Splits an absolute IRI after its last '/', '#' or ':' (the namespace keeps
// the delimiter, as XML namespaces of EPCIS extensions are written).
ExpandedKey SplitIri(std::string_view iri) {
  size_t cut = iri.find_last_of("/#:");
  ExpandedKey k;
  k.ns = std::string(iri.substr(0, cut + 1));
  k.local = std::string(iri.substr(cut + 1));
  return k;
}

std::string Shown(std::string_view s) {
  std::string out(s.substr(0, 100));
  if (s.size() > 100) out += "...";
  return out;
}

const JsonValue& EgyptHealthcareContext() {
  static const JsonValue* parsed = [] {
    auto v = ParseJson(kEgyptHealthcareContext);
    return new JsonValue(v.ok() && v->Get("@context") ? *v->Get("@context") : JsonValue());
  }();
  return *parsed;
}

}  // namespace

const Context& Context::Standard() {
  static const Context* standard = [] {
    auto* c = new Context();
    for (const auto& [p, iri] : kStandardPrefixes) c->prefixes_.emplace(std::string(p), std::string(iri));
    return c;
  }();
  return *standard;
}

bool Context::IsStandardContextUrl(std::string_view url) { return Contains(kStandardUrls, url); }

std::string_view Context::KeyPrefix(std::string_view key) {
  size_t colon = key.find(':');
  return colon == std::string_view::npos ? std::string_view() : key.substr(0, colon);
}

Result<Context> Context::Apply(const JsonValue& local, const std::string& path, bool scoped) const {
  Context out = *this;
  ML_RETURN_IF_ERROR(out.ApplyValue(local, path, scoped));
  return out;
}

Status Context::ApplyValue(const JsonValue& local, const std::string& path, bool scoped) {
  switch (local.type()) {
    case JsonValue::Type::kString: {
      const std::string& url = local.text();
      if (IsStandardContextUrl(url)) {
        names_standard_ = true;
        return Status::Ok();
      }
      if (url == kEgyptHealthcareUrl) return ApplyObject(EgyptHealthcareContext(), path, scoped);
      return InvalidArgument(path + ": unknown JSON-LD context '" + Shown(url) +
                             "'; a node does not fetch contexts, and without its definitions the event hash "
                             "cannot expand the document's keys");
    }
    case JsonValue::Type::kObject:
      return ApplyObject(local, path, scoped);
    case JsonValue::Type::kArray:
      for (size_t i = 0; i < local.items().size(); ++i) {
        const JsonValue& item = local.items()[i];
        std::string where = path + "[" + std::to_string(i) + "]";
        if (!item.is_string() && !item.is_object())
          return InvalidArgument(where + ": must be a context URL or a context object");
        ML_RETURN_IF_ERROR(ApplyValue(item, where, scoped));
      }
      return Status::Ok();
    default:
      return InvalidArgument(path + ": must be a context URL, a context object, or an array of them");
  }
}

Status Context::ApplyObject(const JsonValue& obj, const std::string& path, bool scoped) {
  // Plain prefix definitions first, so that a definition may use a prefix
  // declared later in the same object (JSON-LD resolves them in any order).
  for (int pass = 0; pass < 2; ++pass) {
    for (const auto& [key, def] : obj.members()) {
      if (def.is_string() != (pass == 0)) continue;
      std::string where = path + "." + key;
      if (!key.empty() && key[0] == '@') {
        if (key == "@version" && def.is_number() && def.text() == "1.1") continue;
        if (key == "@protected" && def.is_bool()) continue;
        return InvalidArgument(where + ": JSON-LD keyword not supported in an EPCIS context");
      }
      ML_RETURN_IF_ERROR(Define(key, def, where, scoped));
    }
  }
  return Status::Ok();
}

std::string Context::ExpandIri(std::string_view s) const {
  size_t colon = s.find(':');
  if (colon == std::string_view::npos || colon == 0) return std::string(s);
  std::string_view rest = s.substr(colon + 1);
  if (rest.substr(0, 2) == "//") return std::string(s);
  auto it = prefixes_.find(s.substr(0, colon));
  if (it == prefixes_.end()) return std::string(s);
  return it->second + std::string(rest);
}

Status Context::Define(const std::string& key, const JsonValue& def, const std::string& path, bool scoped) {
  std::string iri;
  std::shared_ptr<const JsonValue> scoped_context;
  bool usable_as_prefix = false;
  if (def.is_string()) {
    iri = ExpandIri(def.text());
    usable_as_prefix = true;
  } else if (def.is_object()) {
    for (const auto& [k, v] : def.members()) {
      if (k == "@id") {
        if (!v.is_string()) return InvalidArgument(path + ".@id: must be a string");
        iri = ExpandIri(v.text());
      } else if (k == "@context") {
        scoped_context = std::make_shared<JsonValue>(v);
      } else if (k == "@prefix") {
        usable_as_prefix = v.bool_value();
      } else if (k != "@type" && k != "@container" && k != "@protected") {
        return InvalidArgument(path + "." + k + ": not supported in an EPCIS context");
      }
    }
  } else {
    return InvalidArgument(path + ": a term definition must be a string or an object");
  }

  if (key.find(':') != std::string::npos) {
    // A compact or absolute IRI as a term only coerces its values' type; it
    // must not make the key mean something else.
    auto expanded = ExpandKey(key);
    if (!expanded)
      return InvalidArgument(path + ": prefix '" + Shown(KeyPrefix(key)) + "' is not declared in @context");
    if (!iri.empty() && iri != expanded->ns + expanded->local)
      return InvalidArgument(path + ": maps a compact IRI to a different IRI");
    if (scoped_context) terms_[key] = Term{"", scoped_context};
    return Status::Ok();
  }
  std::string_view standard_iri = StandardPrefixIri(key);
  if (!standard_iri.empty()) {
    if (iri != standard_iri) return InvalidArgument(path + ": redefines the EPCIS context's prefix '" + key + "'");
    return Status::Ok();
  }
  if (!scoped && Contains(kStandardTerms, key))
    return InvalidArgument(path + ": redefines the EPCIS context's term '" + key + "'");
  if (iri.empty()) return InvalidArgument(path + ": a term needs an @id");
  if (!IsAbsoluteIri(iri)) return InvalidArgument(path + ": does not expand to an absolute IRI");
  if (usable_as_prefix) prefixes_[key] = iri;
  terms_[key] = Term{iri, scoped_context};
  return Status::Ok();
}

std::optional<ExpandedKey> Context::ExpandKey(std::string_view key) const {
  if (key.empty() || key[0] == '@') return std::nullopt;
  size_t colon = key.find(':');
  std::optional<ExpandedKey> out;
  if (colon == std::string_view::npos) {
    auto it = terms_.find(key);
    if (it == terms_.end() || it->second.iri.empty()) return std::nullopt;
    out = SplitIri(it->second.iri);
    out->scoped_context = it->second.scoped;
    return out;
  }
  std::string_view prefix = key.substr(0, colon);
  std::string_view rest = key.substr(colon + 1);
  auto p = prefixes_.find(prefix);
  if (rest.substr(0, 2) != "//" && p != prefixes_.end()) {
    out = ExpandedKey{p->second, std::string(rest), nullptr};
  } else if ((rest.substr(0, 2) == "//" || prefix == "urn") && IsAbsoluteIri(key)) {
    out = SplitIri(key);
  } else {
    return std::nullopt;
  }
  auto t = terms_.find(key);
  if (t != terms_.end()) out->scoped_context = t->second.scoped;
  return out;
}

std::string Context::ExpandValue(std::string_view value) const { return ExpandIri(value); }

}  // namespace medledger::epcis
