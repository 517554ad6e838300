// EPCIS timestamps: xsd:dateTimeStamp, i.e. an RFC 3339 date-time that must
// carry its offset ("2020-03-04T11:00:30.000+01:00", "...Z"), and the
// eventTimeZoneOffset field ("+01:00"). Pure functions, thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace medledger::epcis {

struct Timestamp {
  int64_t epoch_ms = 0;  // UTC milliseconds since 1970-01-01T00:00:00Z
  // The event hash's form (CBV 2.0 §8.9): UTC, three fraction digits, 'Z',
  // e.g. "2020-03-04T10:00:30.000Z".
  std::string utc_ms;
};

// YYYY-MM-DDThh:mm:ss[.f+](Z|+hh:mm|-hh:mm), year 0001-9999, a real calendar
// day, hh < 24, mm and ss < 60 (no leap second), offset hours < 24; upper-case
// 'T' and 'Z' as XML Schema writes them. Fractions beyond milliseconds are
// rounded half up on the fourth digit (2023-01-18T11:04:03.1415Z ->
// ...03.142Z, the rule CBV 2.1 states; CBV 2.0 is silent). nullopt otherwise.
std::optional<Timestamp> ParseTimestamp(std::string_view s);

// "+hh:mm" / "-hh:mm" from -14:00 to +14:00, the range the EPCIS 2.0 JSON
// schema allows.
bool IsTimeZoneOffset(std::string_view s);

// YYYY-MM-DD, a real calendar day (the xsd:date of
// cbvmda:itemExpirationDate, without its optional offset).
bool IsDate(std::string_view s);

}  // namespace medledger::epcis
