#include "epcis/scan.h"

#include <cstdio>
#include <optional>
#include <vector>

#include "epcis/gs1_text.h"
#include "epcis/identifiers.h"

namespace medledger::epcis {
namespace {

using internal::IsDigits;
using internal::Shown;

constexpr char kGroupSeparator = '\x1d';

// How many digits an AI has, from its first two (GS1 General Specifications,
// the AI table's structure); 0 when the pair opens no AI.
size_t AiLength(std::string_view two) {
  int p = (two[0] - '0') * 10 + (two[1] - '0');
  if (p <= 2 || (p >= 10 && p <= 22) || p == 30 || p == 37 || p >= 90) return 2;
  if ((p >= 23 && p <= 25) || (p >= 40 && p <= 43) || p == 71) return 3;
  if ((p >= 31 && p <= 36) || p == 39 || p == 70 || p == 72 || (p >= 80 && p <= 82)) return 4;
  return 0;
}

// The data length of the AIs that the specification lets end without a
// group separator (its table of predefined lengths, keyed by the first two
// digits); 0 for the others, which a separator (or the end) ends.
size_t PredefinedLength(std::string_view ai) {
  int p = (ai[0] - '0') * 10 + (ai[1] - '0');
  if (p == 0) return 18;
  if (p >= 1 && p <= 3) return 14;
  if (p == 4) return 16;
  if (p >= 11 && p <= 19) return 6;
  if (p == 20) return 2;
  if (p >= 31 && p <= 36) return 6;
  if (p == 41) return 13;
  return 0;
}

struct Elements {
  std::optional<std::string> gtin, serial, lot, expiry;
};

// Records one AI's value if it is one of the four; others are skipped. The
// same AI twice is accepted only with the same value (some printers repeat).
Status Take(Elements* e, std::string_view ai, std::string_view value) {
  std::optional<std::string>* slot = nullptr;
  if (ai == "01") slot = &e->gtin;
  else if (ai == "21") slot = &e->serial;
  else if (ai == "10") slot = &e->lot;
  else if (ai == "17") slot = &e->expiry;
  if (slot == nullptr) return Status::Ok();
  if (slot->has_value() && **slot != value) {
    return InvalidArgument("AI (" + std::string(ai) + ") appears twice with different values");
  }
  *slot = std::string(value);
  return Status::Ok();
}

Status CheckText(std::string_view what, std::string_view v) {
  if (v.empty()) return InvalidArgument(std::string(what) + " is empty");
  if (v.size() > 20) return InvalidArgument(std::string(what) + " is longer than 20 characters");
  if (!internal::IsSet82(v)) return InvalidArgument(std::string(what) + " has a character outside the GS1 set 82");
  return Status::Ok();
}

// Validates the four elements and reports the first one missing.
Result<ProductIdentifier> Finish(const Elements& e, int current_year) {
  ProductIdentifier id;
  if (e.gtin) {
    ML_ASSIGN_OR_RETURN(id.gtin14, NormalizeGtin(*e.gtin));
  }
  if (e.serial) {
    ML_RETURN_IF_ERROR(CheckText("serial (AI 21)", *e.serial));
    id.serial = *e.serial;
  }
  if (e.lot) {
    ML_RETURN_IF_ERROR(CheckText("lot (AI 10)", *e.lot));
    id.lot = *e.lot;
  }
  if (e.expiry) {
    ML_ASSIGN_OR_RETURN(id.expiry, ExpandGs1Date(*e.expiry, current_year));
  }
  if (!e.gtin || !e.serial || !e.lot || !e.expiry) return InvalidArgument(std::string(kIncompleteIdentifier));
  return id;
}

std::string_view TrimSpaces(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return s;
}

// "(01)...(17)...": an element ends where the next "(digits)" begins, since
// set 82 lets a value itself hold a parenthesis.
Status ParseParenthesised(std::string_view s, Elements* e) {
  auto ai_at = [&](size_t i, std::string_view* ai) {
    if (i >= s.size() || s[i] != '(') return false;
    size_t close = s.find(')', i);
    if (close == std::string_view::npos || close - i - 1 < 2 || close - i - 1 > 4) return false;
    *ai = s.substr(i + 1, close - i - 1);
    return IsDigits(*ai);
  };
  size_t i = 0;
  while (i < s.size()) {
    std::string_view ai;
    if (!ai_at(i, &ai)) return InvalidArgument("element string: expected '(AI)' at offset " + std::to_string(i));
    size_t start = i + ai.size() + 2;
    size_t end = start;
    std::string_view next;
    while (end < s.size() && !ai_at(end, &next)) ++end;
    ML_RETURN_IF_ERROR(Take(e, ai, TrimSpaces(s.substr(start, end - start))));
    i = end;
  }
  return Status::Ok();
}

Status ParseRaw(std::string_view s, Elements* e) {
  size_t i = 0;
  while (i < s.size()) {
    if (s[i] == kGroupSeparator) {  // a separator after a predefined-length AI is tolerated
      ++i;
      continue;
    }
    if (i + 2 > s.size() || !IsDigits(s.substr(i, 2))) {
      return InvalidArgument("element string: expected an AI at offset " + std::to_string(i));
    }
    size_t ai_len = AiLength(s.substr(i, 2));
    if (ai_len == 0 || i + ai_len > s.size() || !IsDigits(s.substr(i, ai_len))) {
      return InvalidArgument("element string: unknown AI at offset " + std::to_string(i));
    }
    std::string_view ai = s.substr(i, ai_len);
    i += ai_len;
    size_t len = PredefinedLength(ai);
    std::string_view value;
    if (len != 0) {
      if (i + len > s.size()) return InvalidArgument("element string: AI (" + std::string(ai) + ") is cut short");
      value = s.substr(i, len);
      if (value.find(kGroupSeparator) != std::string_view::npos) {
        return InvalidArgument("element string: AI (" + std::string(ai) + ") is cut short");
      }
      i += len;
    } else {
      size_t gs = s.find(kGroupSeparator, i);
      if (gs == std::string_view::npos) gs = s.size();
      value = s.substr(i, gs - i);
      i = gs;
    }
    ML_RETURN_IF_ERROR(Take(e, ai, value));
  }
  return Status::Ok();
}

bool IsLeapYear(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

}  // namespace

Result<std::string> ExpandGs1Date(std::string_view yymmdd, int current_year) {
  if (yymmdd.size() != 6 || !IsDigits(yymmdd)) return InvalidArgument("date (YYMMDD) must be 6 digits");
  int yy = (yymmdd[0] - '0') * 10 + (yymmdd[1] - '0');
  int mm = (yymmdd[2] - '0') * 10 + (yymmdd[3] - '0');
  int dd = (yymmdd[4] - '0') * 10 + (yymmdd[5] - '0');
  // GS1 General Specifications 7.12: a 100-year window from 49 years back to
  // 50 years ahead of the current year.
  int century = current_year - current_year % 100;
  int diff = yy - current_year % 100;
  if (diff >= 51) century -= 100;
  else if (diff <= -50) century += 100;
  int year = century + yy;
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (mm < 1 || mm > 12) return InvalidArgument("date (YYMMDD): month must be 01 to 12");
  int last = kDays[mm - 1] + (mm == 2 && IsLeapYear(year) ? 1 : 0);
  if (dd > last) return InvalidArgument("date (YYMMDD): day is past the end of the month");
  if (dd == 0) dd = last;  // day 00: the end of the month
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", year, mm, dd);
  return std::string(buf);
}

Result<ProductIdentifier> ParseElementString(std::string_view text, int current_year) {
  std::string_view s = text;
  // A symbology identifier (ISO/IEC 15424) announces GS1 data: ]d2 Data
  // Matrix, ]Q3 QR, ]C1 GS1-128, ]e0 DataBar, ]J1 DotCode.
  if (s.size() >= 3 && s[0] == ']') s.remove_prefix(3);
  if (s.empty()) return InvalidArgument("element string is empty");
  Elements e;
  if (s.front() == '(') {
    ML_RETURN_IF_ERROR(ParseParenthesised(s, &e));
  } else {
    ML_RETURN_IF_ERROR(ParseRaw(s, &e));
  }
  return Finish(e, current_year);
}

Result<ProductIdentifier> ParseProductDigitalLink(std::string_view uri, int current_year) {
  ML_ASSIGN_OR_RETURN(DigitalLinkParts parts, SplitDigitalLink(uri));
  if (parts.path[0].first != "01") {
    return InvalidArgument("digital link: a product identifier needs a GTIN (AI 01), got AI " + parts.path[0].first);
  }
  Elements e;
  for (const auto& [ai, value] : parts.path) ML_RETURN_IF_ERROR(Take(&e, ai, value));
  for (const auto& [ai, value] : parts.query) ML_RETURN_IF_ERROR(Take(&e, ai, value));
  return Finish(e, current_year);
}

Result<ProductIdentifier> ParseScannedIdentifier(std::string_view scanned, int current_year) {
  // Keyboard-wedge scanners end a scan with Enter.
  while (!scanned.empty() && (scanned.back() == '\n' || scanned.back() == '\r')) scanned.remove_suffix(1);
  if (scanned.substr(0, 7) == "http://" || scanned.substr(0, 8) == "https://") {
    return ParseProductDigitalLink(scanned, current_year);
  }
  return ParseElementString(scanned, current_year);
}

}  // namespace medledger::epcis
