// Internal to src/epcis: the character sets and percent-encodings that GS1
// keys are written with, shared by identifiers.cc, epc_urn.cc and scan.cc.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"
#include "epcis/identifiers.h"

namespace medledger::epcis::internal {

bool IsDigits(std::string_view s);

// GS1 AI encodable character set 82 (GS1 General Specifications 7.11,
// figure 7.11-1): the characters a serial, lot or GIAI may hold.
bool IsSet82(std::string_view s);
// Set 39 (digits, upper-case letters, '#', '-', '/'): CPI component/part refs.
bool IsSet39(std::string_view s);

// Strict %XX decoding (any hex case); InvalidArgument("{what}: ...") on a
// truncated or non-hex escape.
Result<std::string> PercentDecode(std::string_view s, std::string_view what);

// The spelling a value takes in a canonical Digital Link path: the
// characters GS1 Digital Link requires escaped (! " # % & ( ) * + , / : < > ?)
// as upper-case %XX, others as they are. The set matches the CBV 2.0
// reference hash implementation, so the same pack hashes alike everywhere.
std::string DigitalLinkEncode(std::string_view value);

// The spelling in an EPC URN (TDS: " % & / < > ? and, for CPI, #).
std::string UrnEncode(std::string_view value);

// A component of an error message: at most 40 bytes of the input, so a
// hostile value is never echoed at length.
std::string Shown(std::string_view s);

// Builds the key for one Digital Link primary key and its qualifiers
// (AI, decoded value), validating every value: identifiers.cc. The URN parser
// goes through it too, so both spellings land on the same canonical form.
struct AiPair {
  std::string_view ai;
  std::string value;
};
Result<Gs1Key> BuildKey(std::string_view primary_ai, std::string primary_value, const AiPair* qualifiers,
                        size_t n_qualifiers);

// EPC URN parsing (epc_urn.cc); `uri` starts with "urn:epc:".
Result<Gs1Key> ParseEpcUrn(std::string_view uri);

}  // namespace medledger::epcis::internal
