// The small readers that date and time parsers share (FHIR dates, EPCIS
// timestamps): fixed-width digits, one expected character, the days of a
// month. Pure and header-only.
#pragma once

#include <cstddef>
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

}  // namespace medledger
