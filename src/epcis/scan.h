// What a pharmacist's scanner delivers, read into the four elements of the
// DSCSA product identifier (GTIN, serial, lot, expiry) for verification:
//   - a GS1 element string from a 2D Data Matrix, with or without its
//     symbology identifier (]d2; also ]Q3, ]C1, ]e0, ]J1), AIs in any order,
//     a group separator (0x1D) ending each variable-length AI that is not
//     last; other AIs are skipped by their known length;
//   - the human-readable form "(01)...(17)...(10)...(21)...";
//   - a GS1 Digital Link on any domain: /01/{gtin}/10/{lot}/21/{serial}?17=YYMMDD.
// Pure: the century of a YYMMDD date depends on the current year, which the
// caller passes in (GS1 General Specifications 7.12).
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"

namespace medledger::epcis {

struct ProductIdentifier {
  std::string gtin14;  // AI 01, 14 digits, check digit verified
  std::string serial;  // AI 21, up to 20 characters of the GS1 AI set 82
  std::string lot;     // AI 10, up to 20 characters of the GS1 AI set 82
  std::string expiry;  // AI 17 as YYYY-MM-DD (day 00: the last day of the month)
};

// The exact message of the InvalidArgument returned when the identifier is
// well formed but lacks its GTIN, serial, lot or expiry; the API answers it
// as 400 "incomplete identifier".
inline constexpr std::string_view kIncompleteIdentifier = "incomplete identifier";

// Reads any of the three forms above (a Digital Link when it starts with
// http:// or https://, the parenthesised form when it starts with '(',
// else an element string), ignoring a trailing CR/LF. InvalidArgument naming the AI and the problem
// for malformed input (bad check digit, bad date, unknown AI in a position
// where its length cannot be known, a value too long, a duplicate AI with a
// different value); exactly kIncompleteIdentifier when one of the four
// elements is missing.
Result<ProductIdentifier> ParseScannedIdentifier(std::string_view scanned, int current_year);

// The element-string and parenthesised forms only.
Result<ProductIdentifier> ParseElementString(std::string_view text, int current_year);

// The Digital Link form only.
Result<ProductIdentifier> ParseProductDigitalLink(std::string_view uri, int current_year);

// YYMMDD (AI 11, 13, 15, 16, 17) as YYYY-MM-DD. The century follows the GS1
// General Specifications 7.12: with YY - (current_year % 100) = d, d in
// 51..99 means the previous century, d in -99..-50 the next one, else the
// current one. Day 00 means the last day of the month (leap years counted).
// InvalidArgument for a month outside 01..12 or a day past the month's end.
Result<std::string> ExpandGs1Date(std::string_view yymmdd, int current_year);

}  // namespace medledger::epcis
