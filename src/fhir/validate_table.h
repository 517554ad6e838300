// Internal to medledger_fhir: the element table behind ValidateResource().
#pragma once

#include <string_view>
#include <vector>

namespace medledger::fhir::internal {

// The JSON form an element must take (FHIR R4 JSON representation):
//   kString   string, code, id, uri, url, canonical, oid, uuid, markdown, base64Binary
//   kBoolean  boolean
//   kInteger  integer, positiveInt, unsignedInt (a JSON number without . or e)
//   kDecimal  decimal (any JSON number)
//   kDate / kDateTime / kInstant   strings in those formats
//   kObject   any complex datatype or backbone element
//   kChoice   a value[x] element; `choices` lists the allowed type suffixes
enum class Kind { kString, kBoolean, kInteger, kDecimal, kDate, kDateTime, kInstant, kObject, kChoice };

struct Element {
  std::string_view name;  // for kChoice the stem, e.g. "deceased"
  Kind kind;
  bool array = false;     // max cardinality *
  bool required = false;  // min cardinality 1
  std::string_view choices = {};  // kChoice: space-separated type suffixes, e.g. "Boolean DateTime"
};

struct TypeTable {
  std::string_view type;
  bool domain_resource;  // has text, contained, extension, modifierExtension
  std::vector<Element> elements;  // the type's own elements (not Resource/DomainResource ones)
};

// nullptr when the type has no table.
const TypeTable* FindTypeTable(std::string_view resource_type);
const std::vector<std::string_view>& ResourceTypeNames();

}  // namespace medledger::fhir::internal
