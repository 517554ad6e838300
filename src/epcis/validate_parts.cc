#include "epcis/validate_parts.h"

#include <set>

#include "epcis/identifiers.h"

namespace medledger::epcis::validation {
namespace {

bool IsUom(std::string_view s) {
  if (s.size() < 2 || s.size() > 3) return false;
  for (char c : s) {
    if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))) return false;
  }
  return true;
}

bool IsHex(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) return false;
  }
  return true;
}

Status Number(const JsonValue& v, const std::string& path) {
  return v.is_number() ? Status::Ok() : Bad(path, "must be a number");
}

Status ExtensionKey(std::string_view key, const Context& ctx, const std::string& path,
                    std::optional<ExpandedKey>* out) {
  if (!key.empty() && key[0] == '@') return Bad(path, "JSON-LD keyword not supported here");
  *out = ctx.ExpandKey(key);
  if (*out) return Status::Ok();
  std::string_view prefix = Context::KeyPrefix(key);
  if (prefix.empty())
    return Bad(path, "unknown field; an extension field needs a namespace prefix declared in @context");
  return Bad(path, "prefix '" + Shown(prefix) + "' is not declared in @context");
}

Status ExtensionValue(const JsonValue& v, const Context& ctx, const std::string& path) {
  if (v.is_array()) {
    for (size_t i = 0; i < v.items().size(); ++i)
      ML_RETURN_IF_ERROR(ExtensionValue(v.items()[i], ctx, At(path, i)));
    return Status::Ok();
  }
  if (!v.is_object()) return Status::Ok();
  for (const auto& [key, value] : v.members()) ML_RETURN_IF_ERROR(ExtensionMember(key, value, ctx, At(path, key)));
  return Status::Ok();
}

Status SensorMetadata(const JsonValue& v, const Context& ctx, const std::string& path) {
  if (!v.is_object()) return Bad(path, "must be an object");
  for (const auto& [key, value] : v.members()) {
    std::string where = At(path, key);
    if (key == "time" || key == "startTime" || key == "endTime") {
      ML_RETURN_IF_ERROR(Time(value, where).status());
    } else if (key == "deviceID" || key == "deviceMetadata" || key == "rawData" || key == "dataProcessingMethod" ||
               key == "bizRules") {
      ML_RETURN_IF_ERROR(Uri(value, where).status());
    } else {
      ML_RETURN_IF_ERROR(ExtensionMember(key, value, ctx, where));
    }
  }
  return Status::Ok();
}

Status SensorReport(const JsonValue& v, const Context& ctx, const std::string& path) {
  if (!v.is_object()) return Bad(path, "must be an object");
  if (!v.Get("type")) return Bad(At(path, "type"), "required");
  for (const auto& [key, value] : v.members()) {
    std::string where = At(path, key);
    if (key == "type") {
      ML_RETURN_IF_ERROR(VocabValue(value, Vocab::kSensorMeasurementType, where).status());
    } else if (key == "exception") {
      ML_RETURN_IF_ERROR(VocabValue(value, Vocab::kSensorException, where).status());
    } else if (key == "component") {
      ML_RETURN_IF_ERROR(VocabValue(value, Vocab::kSensorComponent, where).status());
    } else if (key == "time") {
      ML_RETURN_IF_ERROR(Time(value, where).status());
    } else if (key == "deviceID" || key == "deviceMetadata" || key == "rawData" || key == "dataProcessingMethod" ||
               key == "bizRules" || key == "microorganism" || key == "chemicalSubstance" ||
               key == "coordinateReferenceSystem" || key == "uriValue") {
      ML_RETURN_IF_ERROR(Uri(value, where).status());
    } else if (key == "value" || key == "minValue" || key == "maxValue" || key == "meanValue" || key == "sDev" ||
               key == "percRank" || key == "percValue") {
      ML_RETURN_IF_ERROR(Number(value, where));
    } else if (key == "stringValue") {
      if (!value.is_string()) return Bad(where, "must be a string");
    } else if (key == "booleanValue") {
      if (!value.is_bool()) return Bad(where, "must be true or false");
    } else if (key == "hexBinaryValue") {
      if (!value.is_string() || !IsHex(value.text())) return Bad(where, "must be a string of hexadecimal digits");
    } else if (key == "uom") {
      ML_RETURN_IF_ERROR(Str(value, where).status());
    } else {
      ML_RETURN_IF_ERROR(ExtensionMember(key, value, ctx, where));
    }
  }
  return Status::Ok();
}

}  // namespace

std::string Shown(std::string_view s) {
  std::string out(s.substr(0, 64));
  if (s.size() > 64) out += "...";
  return out;
}

Status Bad(const std::string& path, std::string_view what) { return InvalidArgument(path + ": " + std::string(what)); }

std::string At(const std::string& path, std::string_view key) {
  return path.empty() ? Shown(key) : path + "." + Shown(key);
}
std::string At(const std::string& path, size_t index) { return path + "[" + std::to_string(index) + "]"; }

bool IsUri(std::string_view s) {
  size_t colon = s.find(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == s.size()) return false;
  for (size_t i = 0; i < colon; ++i) {
    char c = s[i];
    bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    if (!alpha && (i == 0 || !((c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.'))) return false;
  }
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f || std::string_view("<>\"{}|\\^`").find(c) != std::string_view::npos) return false;
  }
  return true;
}

Result<std::string> Str(const JsonValue& v, const std::string& path) {
  if (!v.is_string()) return Bad(path, "must be a string");
  if (v.text().empty()) return Bad(path, "must not be empty");
  return v.text();
}

Result<std::string> Uri(const JsonValue& v, const std::string& path) {
  ML_ASSIGN_OR_RETURN(std::string s, Str(v, path));
  if (!IsUri(s)) return Bad(path, "must be an absolute URI");
  auto canonical = CanonicalizeId(s);
  if (!canonical.ok()) return Bad(path, "not a valid GS1 identifier: " + canonical.status().message());
  return std::move(canonical).value();
}

Result<std::vector<std::string>> UriList(const JsonValue& v, const std::string& path, bool unique) {
  if (!v.is_array()) return Bad(path, "must be an array");
  std::vector<std::string> out;
  std::set<std::string> seen;
  for (size_t i = 0; i < v.items().size(); ++i) {
    ML_ASSIGN_OR_RETURN(std::string id, Uri(v.items()[i], At(path, i)));
    if (unique && !seen.insert(id).second) return Bad(At(path, i), "repeats an identifier already in the list");
    out.push_back(std::move(id));
  }
  return out;
}

Result<std::string> VocabValue(const JsonValue& v, Vocab vocab, const std::string& path) {
  ML_ASSIGN_OR_RETURN(std::string s, Str(v, path));
  auto word = NormalizeCbv(vocab, s);
  if (!word.ok()) return Bad(path, word.status().message());
  // Outside the CBV only a URI is a value (a user vocabulary).
  if (!IsCbvTerm(vocab, *word) && !IsUri(*word)) return Bad(path, "must be a CBV term or a URI");
  return std::move(word).value();
}

Result<Timestamp> Time(const JsonValue& v, const std::string& path) {
  if (!v.is_string()) return Bad(path, "must be a string");
  auto t = ParseTimestamp(v.text());
  if (!t)
    return Bad(path, "must be an RFC 3339 date-time with a time zone offset, e.g. 2020-03-04T11:00:30.000+01:00");
  return *t;
}

Result<std::vector<QuantityElement>> QuantityList(const JsonValue& v, const std::string& path) {
  if (!v.is_array()) return Bad(path, "must be an array");
  std::vector<QuantityElement> out;
  for (size_t i = 0; i < v.items().size(); ++i) {
    const JsonValue& q = v.items()[i];
    std::string where = At(path, i);
    if (!q.is_object()) return Bad(where, "must be an object");
    const JsonValue* cls = q.Get("epcClass");
    if (!cls) return Bad(At(where, "epcClass"), "required");
    QuantityElement e;
    for (const auto& [key, value] : q.members()) {
      if (key == "epcClass") {
        ML_ASSIGN_OR_RETURN(e.epc_class, Uri(value, At(where, key)));
      } else if (key == "quantity") {
        ML_RETURN_IF_ERROR(Number(value, At(where, key)));
        e.quantity = value.text();
      } else if (key == "uom") {
        if (!value.is_string() || !IsUom(value.text()))
          return Bad(At(where, key), "must be a UN/CEFACT unit code of 2 or 3 upper-case letters or digits");
        e.uom = value.text();
      } else {
        return Bad(At(where, key), "not a field of a quantity element (epcClass, quantity, uom)");
      }
    }
    out.push_back(std::move(e));
  }
  return out;
}

Result<std::string> Location(const JsonValue& v, const Context& ctx, const std::string& path) {
  if (!v.is_object()) return Bad(path, "must be an object");
  const JsonValue* id = v.Get("id");
  if (!id) return Bad(At(path, "id"), "required");
  for (const auto& [key, value] : v.members()) {
    if (key != "id") ML_RETURN_IF_ERROR(ExtensionMember(key, value, ctx, At(path, key)));
  }
  return Uri(*id, At(path, "id"));
}

Result<std::vector<BizTransaction>> BizTransactionList(const JsonValue& v, const std::string& path) {
  if (!v.is_array()) return Bad(path, "must be an array");
  std::vector<BizTransaction> out;
  for (size_t i = 0; i < v.items().size(); ++i) {
    const JsonValue& t = v.items()[i];
    std::string where = At(path, i);
    if (!t.is_object()) return Bad(where, "must be an object");
    const JsonValue* id = t.Get("bizTransaction");
    if (!id) return Bad(At(where, "bizTransaction"), "required");
    BizTransaction b;
    for (const auto& [key, value] : t.members()) {
      if (key == "bizTransaction") {
        ML_ASSIGN_OR_RETURN(b.id, Uri(value, At(where, key)));
      } else if (key == "type") {
        ML_ASSIGN_OR_RETURN(b.type, VocabValue(value, Vocab::kBizTransactionType, At(where, key)));
      } else {
        return Bad(At(where, key), "not a field of a business transaction (type, bizTransaction)");
      }
    }
    out.push_back(std::move(b));
  }
  return out;
}

Result<std::vector<SourceDest>> SourceDestList(const JsonValue& v, std::string_view id_key,
                                               const std::string& path) {
  if (!v.is_array()) return Bad(path, "must be an array");
  std::vector<SourceDest> out;
  for (size_t i = 0; i < v.items().size(); ++i) {
    const JsonValue& s = v.items()[i];
    std::string where = At(path, i);
    if (!s.is_object()) return Bad(where, "must be an object");
    if (!s.Get("type")) return Bad(At(where, "type"), "required");
    if (!s.Get(id_key)) return Bad(At(where, id_key), "required");
    SourceDest d;
    for (const auto& [key, value] : s.members()) {
      if (key == id_key) {
        ML_ASSIGN_OR_RETURN(d.id, Uri(value, At(where, key)));
      } else if (key == "type") {
        ML_ASSIGN_OR_RETURN(d.type, VocabValue(value, Vocab::kSourceDestType, At(where, key)));
      } else {
        return Bad(At(where, key), "not a field here (type, " + std::string(id_key) + ")");
      }
    }
    out.push_back(std::move(d));
  }
  return out;
}

Status PersistentDisposition(const JsonValue& v, const std::string& path) {
  if (!v.is_object()) return Bad(path, "must be an object");
  if (!v.Get("set") && !v.Get("unset")) return Bad(path, "needs set or unset");
  for (const auto& [key, value] : v.members()) {
    std::string where = At(path, key);
    if (key != "set" && key != "unset") return Bad(where, "not a field of persistentDisposition (set, unset)");
    if (!value.is_array() || value.items().empty()) return Bad(where, "must be a non-empty array");
    std::set<std::string> seen;
    for (size_t i = 0; i < value.items().size(); ++i) {
      ML_ASSIGN_OR_RETURN(std::string d, VocabValue(value.items()[i], Vocab::kDisposition, At(where, i)));
      if (!seen.insert(d).second) return Bad(At(where, i), "repeats a disposition");
    }
  }
  return Status::Ok();
}

Status SensorElementList(const JsonValue& v, const Context& ctx, const std::string& path) {
  if (!v.is_array()) return Bad(path, "must be an array");
  for (size_t i = 0; i < v.items().size(); ++i) {
    const JsonValue& e = v.items()[i];
    std::string where = At(path, i);
    if (!e.is_object()) return Bad(where, "must be an object");
    const JsonValue* reports = e.Get("sensorReport");
    if (!reports) return Bad(At(where, "sensorReport"), "required");
    for (const auto& [key, value] : e.members()) {
      std::string at = At(where, key);
      if (key == "sensorMetadata") {
        ML_RETURN_IF_ERROR(SensorMetadata(value, ctx, at));
      } else if (key == "sensorReport") {
        if (!value.is_array() || value.items().empty()) return Bad(at, "must be a non-empty array");
        for (size_t r = 0; r < value.items().size(); ++r)
          ML_RETURN_IF_ERROR(SensorReport(value.items()[r], ctx, At(at, r)));
      } else {
        ML_RETURN_IF_ERROR(ExtensionMember(key, value, ctx, at));
      }
    }
  }
  return Status::Ok();
}

Status ExtensionMember(std::string_view key, const JsonValue& value, const Context& ctx, const std::string& path) {
  std::optional<ExpandedKey> k;
  ML_RETURN_IF_ERROR(ExtensionKey(key, ctx, path, &k));
  if (!k->scoped_context) return ExtensionValue(value, ctx, path);
  ML_ASSIGN_OR_RETURN(Context inner, ctx.Apply(*k->scoped_context, path, /*scoped=*/true));
  return ExtensionValue(value, inner, path);
}

}  // namespace medledger::epcis::validation
