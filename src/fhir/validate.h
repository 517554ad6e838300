// Structural validation of FHIR R4 (4.0.1) resources in JSON form. This is a
// gate against malformed input, not a full profile validator: no terminology
// bindings beyond the `status` codes below, no invariants beyond those named
// below, no cardinality inside backbone elements.
//
// ValidateResource() returns OK or InvalidArgument("<location>: <problem>"),
// where location is a FHIRPath-like path such as
// `Bundle.entry[3].resource.subject`. Messages never quote element values,
// so they carry no patient data. Checks, in order of reach:
//   1. Every resource: `resourceType` is one of the R4 resource types; `id`
//      matches [A-Za-z0-9\-\.]{1,64}; `meta` is a Meta (versionId an id,
//      lastUpdated an instant, profile/security/tag of the right shapes, no
//      other members); `text` (on DomainResources) is an object whose `div` is
//      a string; `contained` is an array of resources. Any nested object with
//      a `resourceType` (contained, Bundle.entry.resource, Parameters) is
//      validated as a resource.
//   2. Naming conventions, at any depth: `id` is a string; `extension` and
//      `modifierExtension` are arrays of objects with a string `url` and
//      either a value[x] or nested extensions (ext-1); `_name` primitive
//      extensions are objects (or arrays of objects/null); string members
//      ending in `Date`/`DateTime` are FHIR dateTimes; members ending in
//      `Boolean` are booleans, in `Integer` 32-bit integers, in `PositiveInt`
//      / `UnsignedInt` 32-bit integers >= 1 / >= 0, in `Decimal` numbers; an
//      empty object, array or string is rejected (FHIR forbids empty values),
//      and so is a string holding a control character other than TAB, CR and
//      LF.
//   3. For the resource types in the element table (validate_table.cc), every
//      top-level element has its declared JSON type (string / boolean /
//      integer / decimal / date / dateTime / instant / object), array
//      elements are arrays and single ones are not, required elements are
//      present, choice elements ([x]) use one of their allowed type suffixes
//      and appear once, and unknown elements are rejected. Integers are
//      32-bit. `status` (Goal: `lifecycleStatus`) must be a code of its
//      required R4 value set. Elements of the datatypes Quantity (and its
//      profiles Age, Count, Distance, Duration), Coding, CodeableConcept,
//      Identifier, Reference and Period, there and in Meta.security/tag and
//      extension values, get the same check against the datatype's own
//      elements, recursively (Quantity.comparator and Identifier.use against
//      their required value sets). Types outside the table get only checks 1
//      and 2 (and the datatype check of extension values).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "fhir/json.h"

namespace medledger::fhir {

Status ValidateResource(const Value& resource);

// The 146 concrete resource type names of FHIR R4 4.0.1 (143 DomainResources
// plus Bundle, Binary and Parameters), sorted.
const std::vector<std::string_view>& R4ResourceTypes();
bool IsR4ResourceType(std::string_view name);
// True for the types whose elements are fully checked (check 3 above).
bool HasElementTable(std::string_view resource_type);

// FHIR R4 primitive formats (http://hl7.org/fhir/R4/datatypes.html), with
// calendar checks (month 01-12, day within the month, leap years).
bool IsValidId(std::string_view s);        // [A-Za-z0-9\-\.]{1,64}
bool IsValidDate(std::string_view s);      // YYYY, YYYY-MM, YYYY-MM-DD
bool IsValidDateTime(std::string_view s);  // a date, or YYYY-MM-DDThh:mm:ss(.s+)?(Z|+hh:mm|-hh:mm)
bool IsValidInstant(std::string_view s);   // a dateTime to the second with a zone
// The FHIR instant for a Unix time in milliseconds, in UTC to the
// millisecond: "2026-12-03T18:35:16.607Z". Years 1..9999.
std::string FormatInstant(int64_t unix_ms);
bool IsValidTime(std::string_view s);      // hh:mm:ss(.s+)?

}  // namespace medledger::fhir
