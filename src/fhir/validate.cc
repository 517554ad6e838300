#include "fhir/validate.h"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <ctime>
#include <limits>
#include <optional>
#include <string>

#include "common/date_scan.h"
#include "fhir/validate_table.h"

namespace medledger::fhir {
namespace {

using internal::Element;
using internal::Kind;
using internal::TypeTable;

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() > suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}




// hh:mm:ss(.s+)? at s[*i].
bool ParseTime(std::string_view s, size_t* i) {
  int h, m, sec;
  if (!ReadDigits(s, i, 2, &h) || !ReadChar(s, i, ':') || !ReadDigits(s, i, 2, &m) || !ReadChar(s, i, ':') ||
      !ReadDigits(s, i, 2, &sec))
    return false;
  if (h > 23 || m > 59 || sec > 60) return false;
  if (*i < s.size() && s[*i] == '.') {
    ++*i;
    size_t start = *i;
    while (*i < s.size() && s[*i] >= '0' && s[*i] <= '9') ++*i;
    if (*i == start) return false;
  }
  return true;
}

// Parses a date prefix; *parts = 1, 2 or 3 for YYYY, YYYY-MM, YYYY-MM-DD.
bool ParseDate(std::string_view s, size_t* i, int* parts) {
  int y, m, d;
  if (!ReadDigits(s, i, 4, &y) || y == 0) return false;
  *parts = 1;
  if (*i == s.size() || s[*i] != '-') return true;
  ++*i;
  if (!ReadDigits(s, i, 2, &m) || m < 1 || m > 12) return false;
  *parts = 2;
  if (*i == s.size() || s[*i] != '-') return true;
  ++*i;
  if (!ReadDigits(s, i, 2, &d) || d < 1 || d > DaysInMonth(y, m)) return false;
  *parts = 3;
  return true;
}

bool ParseZone(std::string_view s, size_t* i) {
  if (*i < s.size() && s[*i] == 'Z') {
    ++*i;
    return true;
  }
  if (*i >= s.size() || (s[*i] != '+' && s[*i] != '-')) return false;
  ++*i;
  int h, m;
  if (!ReadDigits(s, i, 2, &h) || !ReadChar(s, i, ':') || !ReadDigits(s, i, 2, &m)) return false;
  return m <= 59 && (h < 14 || (h == 14 && m == 0));
}

bool DateTimeForm(std::string_view s, bool require_time) {
  size_t i = 0;
  int parts;
  if (!ParseDate(s, &i, &parts)) return false;
  if (i == s.size()) return !require_time;
  if (parts != 3 || s[i] != 'T') return false;
  ++i;
  return ParseTime(s, &i) && ParseZone(s, &i) && i == s.size();
}

std::string Index(const std::string& path, size_t i) { return path + "[" + std::to_string(i) + "]"; }

Status Bad(const std::string& path, std::string_view problem) {
  return InvalidArgument(path + ": " + std::string(problem));
}

Kind KindOfSuffix(std::string_view t) {
  if (t == "Boolean") return Kind::kBoolean;
  if (t == "Integer" || t == "PositiveInt" || t == "UnsignedInt") return Kind::kInteger;
  if (t == "Decimal") return Kind::kDecimal;
  if (t == "Date") return Kind::kDate;
  if (t == "DateTime") return Kind::kDateTime;
  if (t == "Instant") return Kind::kInstant;
  if (t == "String" || t == "Code" || t == "Uri" || t == "Url" || t == "Canonical" || t == "Id" || t == "Oid" ||
      t == "Uuid" || t == "Markdown" || t == "Base64Binary" || t == "Time")
    return Kind::kString;
  return internal::DatatypeKind(t);  // kObject for the types not checked
}

bool SuffixAllowed(std::string_view choices, std::string_view suffix) {
  size_t pos = 0;
  while (pos < choices.size()) {
    size_t end = choices.find(' ', pos);
    if (end == std::string_view::npos) end = choices.size();
    if (choices.substr(pos, end - pos) == suffix) return true;
    pos = end + 1;
  }
  return false;
}

bool IsPrimitive(Kind k) {
  switch (k) {
    case Kind::kString:
    case Kind::kBoolean:
    case Kind::kInteger:
    case Kind::kDecimal:
    case Kind::kDate:
    case Kind::kDateTime:
    case Kind::kInstant:
      return true;
    default:
      return false;
  }
}

// The value of a JSON integer that fits R4's 32-bit integer.
std::optional<int32_t> Int32(const Value& v) {
  if (!v.is_integer()) return std::nullopt;
  const std::string& t = v.number_text();
  int64_t n = 0;
  auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), n);
  if (ec != std::errc() || end != t.data() + t.size() || n < std::numeric_limits<int32_t>::min() ||
      n > std::numeric_limits<int32_t>::max())
    return std::nullopt;
  return static_cast<int32_t>(n);
}

// R4 strings hold no character below U+0020 other than TAB, CR and LF
// (http://hl7.org/fhir/R4/datatypes.html#string).
bool HasForbiddenControl(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return u < 0x20 && u != '\t' && u != '\r' && u != '\n';
  });
}

// One value (not an array) against a kind.
Status CheckScalar(const Value& v, Kind kind, const std::string& path) {
  switch (kind) {
    case Kind::kString:
      return v.is_string() ? Status::Ok() : Bad(path, "expected a string");
    case Kind::kBoolean:
      return v.is_bool() ? Status::Ok() : Bad(path, "expected a boolean");
    case Kind::kInteger:
      return Int32(v) ? Status::Ok() : Bad(path, "expected a 32-bit integer");
    case Kind::kDecimal:
      return v.is_number() ? Status::Ok() : Bad(path, "expected a number");
    case Kind::kDate:
      return v.is_string() && IsValidDate(v.string_value()) ? Status::Ok() : Bad(path, "expected a FHIR date");
    case Kind::kDateTime:
      return v.is_string() && IsValidDateTime(v.string_value()) ? Status::Ok()
                                                                 : Bad(path, "expected a FHIR dateTime");
    case Kind::kInstant:
      return v.is_string() && IsValidInstant(v.string_value()) ? Status::Ok()
                                                                : Bad(path, "expected a FHIR instant");
    default:
      return v.is_object() ? Status::Ok() : Bad(path, "expected an object");
  }
}

// A member value: single or array per `array`. Primitive arrays may hold
// null where the `_name` sibling carries the extension instead.
Status CheckElement(const Value& v, Kind kind, bool array, const std::string& path) {
  if (!array) {
    if (v.is_array()) return Bad(path, "expected a single value, not an array");
    return CheckScalar(v, kind, path);
  }
  if (!v.is_array()) return Bad(path, "expected an array");
  for (size_t i = 0; i < v.size(); ++i) {
    if (v[i].is_null() && IsPrimitive(kind)) continue;
    ML_RETURN_IF_ERROR(CheckScalar(v[i], kind, Index(path, i)));
  }
  return Status::Ok();
}

class Validator {
 public:
  Status Resource(const Value& r, std::string path) {
    if (!r.is_object()) return Bad(path, "expected a resource object");
    const Value* rt = r.Get("resourceType");
    if (path.empty()) path = rt && rt->is_string() && IsR4ResourceType(rt->string_value()) ? rt->string_value() : "";
    if (rt == nullptr) return Bad(path.empty() ? "$this" : path, "resourceType is missing");
    if (!rt->is_string() || !IsR4ResourceType(rt->string_value()))
      return Bad(path.empty() ? "resourceType" : path + ".resourceType", "not an R4 resource type");
    const std::string& type = rt->string_value();
    const TypeTable* table = internal::FindTypeTable(type);
    bool domain = table ? table->domain_resource : (type != "Bundle" && type != "Binary" && type != "Parameters");

    if (const Value* id = r.Get("id"); id && !(id->is_string() && IsValidId(id->string_value())))
      return Bad(path + ".id", "not a valid id ([A-Za-z0-9-.]{1,64})");
    if (const Value* meta = r.Get("meta")) ML_RETURN_IF_ERROR(Meta(*meta, path + ".meta"));
    if (const Value* text = r.Get("text"); text && domain) {
      if (!text->is_object()) return Bad(path + ".text", "expected a Narrative object");
      const Value* div = text->Get("div");
      if (!div || !div->is_string()) return Bad(path + ".text.div", "expected a string");
    }
    if (const Value* contained = r.Get("contained"); contained && domain) {
      if (!contained->is_array()) return Bad(path + ".contained", "expected an array");
      for (size_t i = 0; i < contained->size(); ++i)
        ML_RETURN_IF_ERROR(Resource((*contained)[i], Index(path + ".contained", i)));
    }
    if (table) ML_RETURN_IF_ERROR(Table(r, *table, path));
    for (const auto& [key, value] : r.members()) {
      if (key == "resourceType" || key == "meta" || key == "contained") continue;
      ML_RETURN_IF_ERROR(Member(key, value, path + "." + key));
    }
    return Status::Ok();
  }

 private:
  Status Meta(const Value& meta, const std::string& path) {
    if (!meta.is_object()) return Bad(path, "expected a Meta object");
    for (const auto& [key, v] : meta.members()) {
      std::string p = path + "." + key;
      if (key == "versionId") {
        if (!v.is_string() || !IsValidId(v.string_value())) return Bad(p, "not a valid id");
      } else if (key == "lastUpdated") {
        ML_RETURN_IF_ERROR(CheckElement(v, Kind::kInstant, false, p));
      } else if (key == "source") {
        ML_RETURN_IF_ERROR(CheckElement(v, Kind::kString, false, p));
      } else if (key == "profile") {
        ML_RETURN_IF_ERROR(CheckElement(v, Kind::kString, true, p));
      } else if (key == "security" || key == "tag") {
        ML_RETURN_IF_ERROR(Typed(v, Kind::kCoding, true, p));
      } else if (key != "id" && key != "extension" && key[0] != '_') {
        return Bad(p, "unknown element of Meta");
      }
      ML_RETURN_IF_ERROR(Member(key, v, p));
    }
    return Status::Ok();
  }

  // A member value of a known kind; the six checked datatypes are then
  // checked element by element against their own tables.
  Status Typed(const Value& v, Kind kind, bool array, const std::string& path) {
    ML_RETURN_IF_ERROR(CheckElement(v, kind, array, path));
    const TypeTable* datatype = internal::FindDatatypeTable(kind);
    if (datatype == nullptr) return Status::Ok();
    if (!array) return Table(v, *datatype, path);
    for (size_t i = 0; i < v.size(); ++i) ML_RETURN_IF_ERROR(Table(v[i], *datatype, Index(path, i)));
    return Status::Ok();
  }

  // Check 3: the element table of a known resource type or datatype.
  Status Table(const Value& r, const TypeTable& table, const std::string& path) {
    static const std::string_view kResourceElements[] = {"resourceType", "id", "meta", "implicitRules", "language"};
    static const std::string_view kDomainElements[] = {"text", "contained", "extension", "modifierExtension"};
    auto inherited = [&table](std::string_view name) {
      if (table.datatype) return name == "id" || name == "extension";
      return std::find(std::begin(kResourceElements), std::end(kResourceElements), name) !=
                 std::end(kResourceElements) ||
             (table.domain_resource &&
              std::find(std::begin(kDomainElements), std::end(kDomainElements), name) != std::end(kDomainElements));
    };
    std::vector<std::string_view> seen_choices;
    for (const auto& [key, v] : r.members()) {
      std::string_view name = key;
      bool primitive_ext = !name.empty() && name[0] == '_';
      if (primitive_ext) name.remove_prefix(1);
      std::string p = path + "." + key;
      if (inherited(name)) {
        if ((name == "implicitRules" || name == "language") && !primitive_ext)
          ML_RETURN_IF_ERROR(CheckElement(v, Kind::kString, false, p));
        continue;
      }
      const Element* el = nullptr;
      Kind kind = Kind::kObject;
      for (const Element& e : table.elements) {
        if (e.kind != Kind::kChoice && e.name == name) {
          el = &e;
          kind = e.kind;
          break;
        }
        if (e.kind == Kind::kChoice && name.size() > e.name.size() && name.substr(0, e.name.size()) == e.name &&
            SuffixAllowed(e.choices, name.substr(e.name.size()))) {
          el = &e;
          kind = KindOfSuffix(name.substr(e.name.size()));
          if (!primitive_ext) {
            if (std::find(seen_choices.begin(), seen_choices.end(), e.name) != seen_choices.end())
              return Bad(p, "more than one type given for choice element " + std::string(e.name) + "[x]");
            seen_choices.push_back(e.name);
          }
          break;
        }
      }
      if (el == nullptr) return Bad(p, "unknown element for " + std::string(table.type));
      if (primitive_ext) {
        if (!IsPrimitive(kind)) return Bad(p, "primitive extension on a non-primitive element");
        continue;  // shape checked by Member()
      }
      if (kind == Kind::kString && el->kind == Kind::kChoice && EndsWith(key, "Time") && !EndsWith(key, "DateTime")) {
        if (!v.is_string() || !IsValidTime(v.string_value())) return Bad(p, "expected a FHIR time");
        continue;
      }
      ML_RETURN_IF_ERROR(Typed(v, kind, el->array, p));
      if (!el->codes.empty() && v.is_string() && !SuffixAllowed(el->codes, v.string_value()))
        return Bad(p, "not a code of the element's required value set");
    }
    for (const Element& e : table.elements) {
      if (!e.required) continue;
      bool present = false;
      for (const auto& [key, v] : r.members()) {
        std::string_view k = key;
        if (e.kind == Kind::kChoice ? (k.size() > e.name.size() && k.substr(0, e.name.size()) == e.name &&
                                       SuffixAllowed(e.choices, k.substr(e.name.size())))
                                    : k == e.name) {
          present = true;
          break;
        }
      }
      if (!present)
        return Bad(path + "." + std::string(e.name) + (e.kind == Kind::kChoice ? "[x]" : ""),
                   "required element is missing");
    }
    return Status::Ok();
  }

  // Check 2: conventions for a member `key` whose value is `v`, then descent.
  Status Member(std::string_view key, const Value& v, const std::string& path) {
    if (key.empty()) return Bad(path, "empty member name");
    if (key[0] == '_') {
      if (v.is_object()) return Walk(v, path);
      if (!v.is_array()) return Bad(path, "primitive extension must be an object or an array");
      for (size_t i = 0; i < v.size(); ++i) {
        if (v[i].is_null()) continue;
        if (!v[i].is_object()) return Bad(Index(path, i), "expected an object or null");
        ML_RETURN_IF_ERROR(Walk(v[i], Index(path, i)));
      }
      return Status::Ok();
    }
    if (key == "id") {
      if (!v.is_string()) return Bad(path, "expected a string");
      return HasForbiddenControl(v.string_value()) ? Bad(path, "control character in a string") : Status::Ok();
    }
    if (key == "extension" || key == "modifierExtension") {
      if (!v.is_array()) return Bad(path, "expected an array of Extension");
      for (size_t i = 0; i < v.size(); ++i) ML_RETURN_IF_ERROR(Extension(v[i], Index(path, i)));
      return Walk(v, path);
    }
    Kind conv = Kind::kChoice;  // none
    if (EndsWith(key, "DateTime") || EndsWith(key, "Date")) {
      conv = Kind::kDateTime;  // some *Date elements are dateTime; date is a subset
    } else if (EndsWith(key, "Boolean")) {
      conv = Kind::kBoolean;
    } else if (EndsWith(key, "Integer") || EndsWith(key, "PositiveInt") || EndsWith(key, "UnsignedInt")) {
      conv = Kind::kInteger;
    } else if (EndsWith(key, "Decimal")) {
      conv = Kind::kDecimal;
    }
    if (conv != Kind::kChoice) {
      if (v.is_array()) {
        ML_RETURN_IF_ERROR(CheckElement(v, conv, true, path));
      } else {
        ML_RETURN_IF_ERROR(CheckScalar(v, conv, path));
      }
    }
    if (conv == Kind::kInteger && (EndsWith(key, "PositiveInt") || EndsWith(key, "UnsignedInt"))) {
      const int32_t min = EndsWith(key, "PositiveInt") ? 1 : 0;
      auto below = [min](const Value& n) { return !n.is_null() && Int32(n).value_or(min) < min; };
      if (v.is_array() ? std::any_of(v.array().begin(), v.array().end(), below) : below(v))
        return Bad(path, min == 1 ? "expected a positive integer" : "expected a non-negative integer");
    }
    return Walk(v, path);
  }

  Status Extension(const Value& ext, const std::string& path) {
    if (!ext.is_object()) return Bad(path, "expected an Extension object");
    const Value* url = ext.Get("url");
    if (!url || !url->is_string() || url->string_value().empty()) return Bad(path + ".url", "expected a string");
    int values = 0;
    for (const auto& [k, v] : ext.members()) {
      if (k.size() <= 5 || k.compare(0, 5, "value") != 0) continue;
      ++values;
      Kind kind = internal::DatatypeKind(std::string_view(k).substr(5));
      if (kind != Kind::kObject) ML_RETURN_IF_ERROR(Typed(v, kind, false, path + "." + k));
    }
    if (values > 1) return Bad(path, "more than one value[x]");
    if ((values == 1) == (ext.Get("extension") != nullptr))
      return Bad(path, "must have either extensions or value[x], not both (ext-1)");
    return Status::Ok();
  }

  // Generic descent: nested resources are validated as such; everything else
  // member by member. Empty values are invalid in FHIR JSON.
  Status Walk(const Value& v, const std::string& path) {
    switch (v.type()) {
      case Value::Type::kObject:
        if (v.size() == 0) return Bad(path, "empty object");
        if (v.Get("resourceType")) return Resource(v, path);
        for (const auto& [key, child] : v.members()) ML_RETURN_IF_ERROR(Member(key, child, path + "." + key));
        return Status::Ok();
      case Value::Type::kArray:
        if (v.size() == 0) return Bad(path, "empty array");
        for (size_t i = 0; i < v.size(); ++i) {
          if (v[i].is_array()) return Bad(Index(path, i), "nested arrays are not FHIR");
          ML_RETURN_IF_ERROR(Walk(v[i], Index(path, i)));
        }
        return Status::Ok();
      case Value::Type::kString:
        if (v.string_value().empty()) return Bad(path, "empty string");
        if (HasForbiddenControl(v.string_value())) return Bad(path, "control character in a string");
        return Status::Ok();
      default:
        return Status::Ok();
    }
  }
};

}  // namespace

Status ValidateResource(const Value& resource) { return Validator().Resource(resource, ""); }

const std::vector<std::string_view>& R4ResourceTypes() { return internal::ResourceTypeNames(); }

bool IsR4ResourceType(std::string_view name) {
  const auto& names = internal::ResourceTypeNames();
  return std::binary_search(names.begin(), names.end(), name);
}

bool HasElementTable(std::string_view resource_type) { return internal::FindTypeTable(resource_type) != nullptr; }

bool IsValidId(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.';
  });
}

bool IsValidDate(std::string_view s) {
  size_t i = 0;
  int parts;
  return ParseDate(s, &i, &parts) && i == s.size();
}

bool IsValidDateTime(std::string_view s) { return DateTimeForm(s, false); }
bool IsValidInstant(std::string_view s) { return DateTimeForm(s, true); }

bool IsValidTime(std::string_view s) {
  size_t i = 0;
  return ParseTime(s, &i) && i == s.size();
}

std::string FormatInstant(int64_t unix_ms) { return FormatUtcMillis(unix_ms); }

}  // namespace medledger::fhir
