// The small readers that date and time parsers share (FHIR dates, EPCIS
// timestamps): fixed-width digits, one expected character, the days of a
// month; and the one writer of an instant. Pure and header-only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <string>
#include <string_view>

namespace medledger {

// Reads exactly `n` digits at s[*i] into *out and advances *i; false (and
// *i unchanged) otherwise.
inline bool ReadDigits(std::string_view s, size_t* i, size_t n, int* out) {
  if (*i + n > s.size()) return false;
  int v = 0;
  for (size_t k = 0; k < n; ++k) {
    char c = s[*i + k];
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  *i += n;
  *out = v;
  return true;
}

// Consumes `c` at s[*i].
inline bool ReadChar(std::string_view s, size_t* i, char c) {
  if (*i >= s.size() || s[*i] != c) return false;
  ++*i;
  return true;
}

// Days in `month` (1..12) of the proleptic Gregorian `year`.
inline int DaysInMonth(int year, int month) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return month == 2 && leap ? 29 : kDays[month - 1];
}

// "2026-12-07T18:43:23.123Z": UTC, milliseconds, as FHIR instants and the
// EPCIS capture job write them. Floor division, so that instants before 1970
// keep a positive remainder.
inline std::string FormatUtcMillis(int64_t unix_ms) {
  int64_t secs = unix_ms / 1000, milli = unix_ms % 1000;
  if (milli < 0) {
    milli += 1000;
    secs -= 1;
  }
  std::time_t t = static_cast<std::time_t>(secs);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(milli));
  return buf;
}

}  // namespace medledger
