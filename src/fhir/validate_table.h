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
//   kObject   any other complex datatype or backbone element (shape unchecked)
//   kChoice   a value[x] element; `choices` lists the allowed type suffixes
//   kQuantity ... kPeriod: objects of these datatypes, checked element by
//             element against their own tables (FindDatatypeTable).
//             kQuantity also stands for its profiles Age, Count, Distance,
//             Duration, SimpleQuantity and MoneyQuantity.
// Integers are 32-bit (R4 integer: -2^31..2^31-1).
enum class Kind {
  kString, kBoolean, kInteger, kDecimal, kDate, kDateTime, kInstant, kObject, kChoice,
  kQuantity, kCoding, kCodeableConcept, kIdentifier, kReference, kPeriod,
};

struct Element {
  std::string_view name;  // for kChoice the stem, e.g. "deceased"
  Kind kind;
  bool array = false;     // max cardinality *
  bool required = false;  // min cardinality 1
  std::string_view choices = {};  // kChoice: space-separated type suffixes, e.g. "Boolean DateTime"
  // A code element with a required binding: its value set's codes,
  // space-separated. Empty: no binding checked.
  std::string_view codes = {};
};

struct TypeTable {
  std::string_view type;
  bool domain_resource;  // has text, contained, extension, modifierExtension
  std::vector<Element> elements;  // the type's own elements (not Resource/DomainResource ones)
  // A datatype: its only inherited elements are id and extension.
  bool datatype = false;
};

// nullptr when the type has no table.
const TypeTable* FindTypeTable(std::string_view resource_type);
// The table of a datatype kind (kQuantity ... kPeriod); nullptr otherwise.
const TypeTable* FindDatatypeTable(Kind kind);
// The datatype kind of a type name as it appears in a choice suffix
// ("Quantity", "Age", "CodeableConcept", ...), else kObject.
Kind DatatypeKind(std::string_view type_name);
const std::vector<std::string_view>& ResourceTypeNames();

}  // namespace medledger::fhir::internal
