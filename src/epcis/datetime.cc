#include "epcis/datetime.h"

#include <cstdio>

#include "common/date_scan.h"

namespace medledger::epcis {
namespace {

bool ParseDate(std::string_view s, size_t* i, int* y, int* m, int* d) {
  return ReadDigits(s, i, 4, y) && *y >= 1 && ReadChar(s, i, '-') && ReadDigits(s, i, 2, m) && *m >= 1 && *m <= 12 &&
         ReadChar(s, i, '-') && ReadDigits(s, i, 2, d) && *d >= 1 && *d <= DaysInMonth(*y, *m);
}

// Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar
// (H. Hinnant's days_from_civil).
int64_t DaysFromCivil(int64_t y, int m, int d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

void CivilFromDays(int64_t z, int64_t* y, int* m, int* d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  *d = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  *m = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  *y = yoe + era * 400 + (*m <= 2);
}

int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

}  // namespace

std::optional<Timestamp> ParseTimestamp(std::string_view s) {
  size_t i = 0;
  int y, mo, d, h, mi, sec;
  if (!ParseDate(s, &i, &y, &mo, &d) || !ReadChar(s, &i, 'T') || !ReadDigits(s, &i, 2, &h) || !ReadChar(s, &i, ':') ||
      !ReadDigits(s, &i, 2, &mi) || !ReadChar(s, &i, ':') || !ReadDigits(s, &i, 2, &sec))
    return std::nullopt;
  if (h > 23 || mi > 59 || sec > 59) return std::nullopt;
  int ms = 0;
  if (i < s.size() && s[i] == '.') {
    ++i;
    size_t start = i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
    if (i == start) return std::nullopt;
    std::string_view frac = s.substr(start, i - start);
    for (size_t k = 0; k < 3; ++k) ms = ms * 10 + (k < frac.size() ? frac[k] - '0' : 0);
    if (frac.size() > 3 && frac[3] >= '5') ++ms;  // may carry into the next second
  }
  int offset_minutes = 0;
  if (i < s.size() && s[i] == 'Z') {
    ++i;
  } else {
    if (i >= s.size() || (s[i] != '+' && s[i] != '-')) return std::nullopt;
    int sign = s[i] == '-' ? -1 : 1;
    ++i;
    int oh, om;
    if (!ReadDigits(s, &i, 2, &oh) || !ReadChar(s, &i, ':') || !ReadDigits(s, &i, 2, &om) || oh > 23 || om > 59)
      return std::nullopt;
    offset_minutes = sign * (oh * 60 + om);
  }
  if (i != s.size()) return std::nullopt;

  Timestamp t;
  int64_t local_seconds = DaysFromCivil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec;
  t.epoch_ms = (local_seconds - int64_t{offset_minutes} * 60) * 1000 + ms;
  int64_t days = FloorDiv(t.epoch_ms, 86400000);
  int64_t in_day = t.epoch_ms - days * 86400000;
  int64_t uy;
  int um, ud;
  CivilFromDays(days, &uy, &um, &ud);
  if (uy < 1 || uy > 9999) return std::nullopt;  // the offset moved it out of four-digit years
  char buf[40];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", static_cast<int>(uy), um, ud,
                static_cast<int>(in_day / 3600000), static_cast<int>(in_day / 60000 % 60),
                static_cast<int>(in_day / 1000 % 60), static_cast<int>(in_day % 1000));
  t.utc_ms = buf;
  return t;
}

bool IsTimeZoneOffset(std::string_view s) {
  size_t i = 0;
  if (s.empty() || (s[0] != '+' && s[0] != '-')) return false;
  ++i;
  int h, m;
  if (!ReadDigits(s, &i, 2, &h) || !ReadChar(s, &i, ':') || !ReadDigits(s, &i, 2, &m) || i != s.size()) return false;
  return m <= 59 && (h < 14 || (h == 14 && m == 0));
}

bool IsDate(std::string_view s) {
  size_t i = 0;
  int y, m, d;
  return ParseDate(s, &i, &y, &m, &d) && i == s.size();
}

}  // namespace medledger::epcis
