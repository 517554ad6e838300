// GS1 identifiers as EPCIS carries them: EPC URNs (the pure-identity URIs of
// the EPC Tag Data Standard, the LGTIN class URI and the SGTIN id pattern)
// and GS1 Digital Link URIs on any domain. Everything is turned into one
// canonical form, the Digital Link on https://id.gs1.org without query
// string, following the CBV 2.0 event-hash rules: two spellings of the same
// key must hash, match and key state alike.
//
// Canonical forms (the URN's check digit is computed, the indicator digit
// moved to the front; values percent-encoded as GS1 Digital Link asks):
//   sgtin  urn:epc:id:sgtin:0614141.812345.6789 -> /01/80614141123458/21/6789
//   sscc   -> /00/{18}          sgln  -> /414/{13}[/254/{ext}] ("0" = none)
//   grai   -> /8003/{14}{serial}   giai  -> /8004/{cp}{ref}
//   gsrn   -> /8018/{18}        gsrnp -> /8017/{18}
//   gdti   -> /253/{13}{serial}    cpi   -> /8010/{cp}{ref}/8011/{serial}
//   sgcn   -> /255/{13}{serial}    ginc  -> /401/{cp}{ref}
//   gsin   -> /402/{17}         itip  -> /8006/{18}/21/{serial}
//   upui   -> /01/{14}/235/{tpx}   pgln  -> /417/{13}
//   lgtin  -> /01/{14}/10/{lot} (class)   idpat:sgtin:CP.REF.* -> /01/{14} (class)
//   idpat for grai, gdti, sgcn, cpi, itip, upui -> the key without serial (class)
// A Digital Link keeps only its identifying path: the CPV (AI 22) is dropped,
// and a lot is dropped when a serial is present (the finest level wins);
// 8/12/13-digit GTINs are padded to 14. Short names (gtin, ser, lot, gln,
// sscc, ...) are read as their AIs. A Digital Link's /254/0 is kept (only the
// URN spells "no extension" as 0), as the reference hash implementation does.
// Not read: the compressed Digital Link form, and AI 8019 (SRIN) after a
// GSRN; both are refused or, when not recognisable, kept as given.
//
// Check digits are verified, never silently repaired: a wrong one is
// InvalidArgument. All functions are pure and thread-safe. Error messages
// name the part that is wrong, never echo more than the offending component.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

namespace medledger::epcis {

// The kind of GS1 key. kLgtin and kGtin are class-level by nature; the other
// schemes are class-level when their serial component is absent (a Digital
// Link /8003/{grai} with no serial, /253/{gdti} with none, an id pattern).
enum class Scheme {
  kSgtin,  // GTIN + serial (AI 01 + 21): one pack
  kLgtin,  // GTIN + lot (AI 01 + 10): a class
  kGtin,   // GTIN only (AI 01): a class
  kSscc,   // AI 00: one logistic unit
  kSgln,   // AI 414 [+ 254]: a location
  kGrai,   // AI 8003
  kGiai,   // AI 8004
  kGsrn,   // AI 8018
  kGsrnp,  // AI 8017
  kGdti,   // AI 253
  kCpi,    // AI 8010 [+ 8011]
  kSgcn,   // AI 255
  kGinc,   // AI 401
  kGsin,   // AI 402
  kItip,   // AI 8006 [+ 21]
  kUpui,   // AI 01 + 235
  kPgln,   // AI 417: a party
};

// "sgtin", "lgtin", "gtin", "sscc", ... (the TDS scheme names).
const char* SchemeName(Scheme s);

// One parsed GS1 key. Fields that do not apply to the scheme are empty.
struct Gs1Key {
  Scheme scheme = Scheme::kSgtin;
  // True when the key names one physical or digital thing (a pack, a case,
  // a location, a party); false for a class (LGTIN, GTIN, id pattern, a
  // GRAI/GDTI/CPI/ITIP/SGCN without its serial). Only instance-level SGTINs
  // create pack state.
  bool instance_level = true;
  std::string canonical;        // https://id.gs1.org/..., no query string
  std::string primary_ai;       // "01", "00", "414", "8003", ...
  std::string primary_value;    // that AI's value, decoded (digits with check digit, or GIAI/GINC/CPI text)
  std::string gtin14;           // sgtin, lgtin, gtin, upui, itip (its first 14 digits)
  std::string serial;           // AI 21 (sgtin, itip); grai/gdti/sgcn serial part; AI 8011 (cpi); AI 235 (upui)
  std::string lot;              // AI 10 (lgtin)
  std::string gln13;            // sgln, pgln
  std::string extension;        // AI 254 (sgln); empty when none
  std::string sscc18;           // sscc
  std::string company_prefix;   // known from an EPC URN only; empty from a Digital Link
};

// Parses an EPC URN (urn:epc:id:{scheme}:..., urn:epc:class:lgtin:...,
// urn:epc:idpat:sgtin:CP.REF.*) or a GS1 Digital Link (http or https, any
// host, optional path prefix before the primary key, query string and
// fragment ignored). InvalidArgument when `uri` is neither, or is one with a
// wrong length, character, component count or check digit; the message
// names the scheme/AI and the problem ("sgtin: check digit ...").
Result<Gs1Key> ParseGs1Uri(std::string_view uri);

// True when `uri` is written in one of the GS1 syntaxes above: it starts with
// urn:epc: (the tag and raw URNs included, which then fail to parse: an event
// names identities, not tag encodings), or it is an http(s) URI
// whose path holds a Digital Link primary-key AI (or short name) followed by
// its value. Such a URI must then parse; anything else (a user vocabulary
// URI, urn:epcglobal:cbv:bt:...) is not a GS1 key and is kept as given.
bool IsGs1Uri(std::string_view uri);

// The identifier as medledger stores and hashes it: ParseGs1Uri(uri)'s
// canonical form when IsGs1Uri(uri), else `uri` unchanged. InvalidArgument
// only for a malformed GS1 URI.
Result<std::string> CanonicalizeId(std::string_view uri);

// A Digital Link split into its AI pairs, for callers that need more than the
// key (scan.h reads the expiry from ?17=). Values are percent-decoded; short
// names are replaced by their AIs; the GTIN is not padded here.
struct DigitalLinkParts {
  std::vector<std::pair<std::string, std::string>> path;   // primary key first, then qualifiers in order
  std::vector<std::pair<std::string, std::string>> query;  // numeric-AI query parameters (others dropped)
};
// InvalidArgument when `uri` is not an http(s) URI with a primary key AI in
// its path, has an odd AI/value tail, bad percent-encoding, or a duplicate AI.
// The key itself is not validated (ParseGs1Uri does that).
Result<DigitalLinkParts> SplitDigitalLink(std::string_view uri);

// The EPC URN of an instance- or class-level key, for answers written in the
// GS1-EPC-Format "Always_EPC_URN". A Digital Link carries no company-prefix
// boundary, so the caller supplies its length (6..12 digits; a registered
// prefix, see CompanyPrefixCandidates). InvalidArgument when the length does
// not fit the key, or the scheme has no URN form (kGtin has one only as
// urn:epc:idpat:sgtin:CP.REF.*, which is what it returns).
Result<std::string> ToEpcUrn(const Gs1Key& key, size_t company_prefix_length);

// --- GS1 numbers ---

// The GS1 mod-10 check digit ('0'..'9') of `digits` (all the number except
// its check digit; weights 3,1,3,... from the right). `digits` must be
// non-empty ASCII digits; otherwise returns '\0'.
char Gs1CheckDigit(std::string_view digits);

// True when `number` is all digits, at least 2 long, and its last digit is
// the GS1 check digit of the rest.
bool HasValidCheckDigit(std::string_view number);

// The GTIN as 14 digits: 8, 12, 13 or 14 digits with a valid check digit,
// left-padded with zeros. InvalidArgument ("gtin: ...") otherwise.
Result<std::string> NormalizeGtin(std::string_view gtin);

// The GS1 company prefixes a GTIN-14 may carry: the 6..12-digit strings that
// follow its indicator digit (gtin14[1..1+n)), shortest first. The ledger
// looks each up among registered prefixes, since a Digital Link or element
// string carries no boundary. Empty when `gtin14` is not 14 digits.
std::vector<std::string> CompanyPrefixCandidates(std::string_view gtin14);

// Likewise for a GLN-13, or any key whose company prefix starts at its first
// digit (an SSCC after its extension digit: sscc18.substr(1)): the first
// 6..12 digits, shortest first. Empty unless `number` is at least 13 digits.
std::vector<std::string> GlnCompanyPrefixCandidates(std::string_view number);

}  // namespace medledger::epcis
