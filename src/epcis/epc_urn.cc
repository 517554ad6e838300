// EPC URNs (EPC Tag Data Standard 2.x, pure-identity, class and id-pattern
// URIs) to GS1 keys and back. A URN is turned into its Digital Link AIs and
// handed to internal::BuildKey, so that a URN and a Digital Link of the same
// key are validated by the same code and reach the same canonical form.
#include <array>

#include "epcis/gs1_text.h"
#include "epcis/identifiers.h"

namespace medledger::epcis {
namespace internal {
namespace {

bool StartsWith(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

// Components after the company prefix: the digit reference completing a key
// of `key_digits` digits (0: the reference is free text), then `texts` more
// components, the last of which takes the rest of the URN (a serial may hold
// '.').
struct Layout {
  std::string_view scheme;
  size_t key_digits;  // company prefix + reference, without check digit; 0 for free-text refs
  size_t texts;       // components after the reference
};
constexpr Layout kLayouts[] = {
    {"sgtin", 13, 1}, {"sscc", 17, 0}, {"sgln", 12, 1}, {"grai", 12, 1}, {"giai", 0, 0},
    {"gsrn", 17, 0},  {"gsrnp", 17, 0}, {"gdti", 12, 1}, {"cpi", 0, 1},   {"sgcn", 12, 1},
    {"ginc", 0, 0},   {"gsin", 16, 0}, {"itip", 13, 3}, {"upui", 13, 1}, {"pgln", 12, 0},
    {"lgtin", 13, 1},
};

// URN components are percent-encoded where TDS requires it; a raw character
// of that set is malformed, not "close enough".
Result<std::string> UrnComponent(std::string_view scheme, std::string_view what, std::string_view s) {
  std::string label = std::string(scheme) + ": " + std::string(what);
  if (s.find_first_of("\"&/<>?#") != std::string_view::npos) {
    return InvalidArgument(label + ": reserved character must be percent-encoded");
  }
  return PercentDecode(s, label);
}

}  // namespace

Result<Gs1Key> ParseEpcUrn(std::string_view uri) {
  std::string_view rest = uri.substr(8);  // after "urn:epc:"
  enum { kId, kClass, kPattern } kind;
  if (StartsWith(rest, "id:")) kind = kId, rest.remove_prefix(3);
  else if (StartsWith(rest, "class:")) kind = kClass, rest.remove_prefix(6);
  else if (StartsWith(rest, "idpat:")) kind = kPattern, rest.remove_prefix(6);
  else return InvalidArgument("epc urn: expected urn:epc:id:, urn:epc:class: or urn:epc:idpat:");
  size_t colon = rest.find(':');
  if (colon == std::string_view::npos) return InvalidArgument("epc urn: no scheme");
  std::string_view scheme = rest.substr(0, colon);
  std::string_view body = rest.substr(colon + 1);
  const Layout* layout = nullptr;
  for (const Layout& l : kLayouts) {
    if (l.scheme == scheme) layout = &l;
  }
  bool scheme_ok = layout != nullptr && ((kind == kClass) == (scheme == "lgtin"));
  if (kind == kPattern) {
    scheme_ok = scheme == "sgtin" || scheme == "grai" || scheme == "gdti" || scheme == "sgcn" || scheme == "cpi" ||
                scheme == "itip" || scheme == "upui";
  }
  if (!scheme_ok) {
    return InvalidArgument("epc urn: unknown scheme " + Shown(scheme) +
                           (kind == kPattern ? " for an id pattern" : kind == kClass ? " for a class" : ""));
  }
  std::string label(scheme);

  // Split: company prefix, reference, then the text components; the last
  // takes the remainder.
  size_t want = 2 + layout->texts;
  std::vector<std::string_view> parts;
  for (size_t p = 0; p <= body.size();) {
    size_t e = parts.size() + 1 == want ? std::string_view::npos : body.find('.', p);
    if (e == std::string_view::npos) e = body.size();
    parts.push_back(body.substr(p, e - p));
    p = e + 1;
  }
  if (parts.size() != want) {
    return InvalidArgument(label + ": expected " + std::to_string(want) + " dot-separated components");
  }
  std::string_view cp = parts[0], ref = parts[1];
  if (cp.size() < 6 || cp.size() > 12 || !IsDigits(cp)) {
    return InvalidArgument(label + ": company prefix must be 6 to 12 digits");
  }
  if (layout->key_digits != 0 && (cp.size() + ref.size() != layout->key_digits || !IsDigits(ref))) {
    return InvalidArgument(label + ": company prefix and reference must total " +
                           std::to_string(layout->key_digits) + " digits");
  }
  if (kind == kPattern && parts.back() != "*") {
    return InvalidArgument(label + ": only a pattern ending in .* (all serials of one class) is supported");
  }

  // The key in Digital Link terms. The indicator (or SSCC extension) digit
  // leads the URN's reference and moves to the front of the key.
  std::string ai, value;
  std::vector<std::pair<std::string_view, std::string>> quals;
  auto with_check = [](std::string digits) { return digits + Gs1CheckDigit(digits); };
  std::string serial;
  if (kind != kPattern && layout->texts > 0) {
    ML_ASSIGN_OR_RETURN(serial, UrnComponent(scheme, "serial", parts.back()));
  }
  if (scheme == "sgtin" || scheme == "lgtin" || scheme == "upui" || scheme == "itip") {
    ai = scheme == "itip" ? "8006" : "01";
    value = with_check(std::string(ref.substr(0, 1)) + std::string(cp) + std::string(ref.substr(1)));
    if (scheme == "itip") {
      if (parts[2].size() != 2 || parts[3].size() != 2 || !IsDigits(parts[2]) || !IsDigits(parts[3])) {
        return InvalidArgument("itip: piece and total must be 2 digits each");
      }
      value += std::string(parts[2]) + std::string(parts[3]);
    }
    if (kind != kPattern) {
      quals.emplace_back(scheme == "lgtin" ? "10" : scheme == "upui" ? "235" : "21", serial);
    }
  } else if (scheme == "sscc") {
    ai = "00";
    value = with_check(std::string(ref.substr(0, 1)) + std::string(cp) + std::string(ref.substr(1)));
  } else if (scheme == "sgln" || scheme == "pgln") {
    ai = scheme == "sgln" ? "414" : "417";
    value = with_check(std::string(cp) + std::string(ref));
    // TDS writes "no extension" as extension 0.
    if (scheme == "sgln" && serial != "0") quals.emplace_back("254", serial);
  } else if (scheme == "grai" || scheme == "gdti" || scheme == "sgcn") {
    ai = scheme == "grai" ? "8003" : scheme == "gdti" ? "253" : "255";
    value = with_check((scheme == "grai" ? "0" : "") + std::string(cp) + std::string(ref)) + serial;
    if (kind != kPattern && serial.empty()) return InvalidArgument(label + ": serial is empty");
  } else if (scheme == "gsrn" || scheme == "gsrnp" || scheme == "gsin") {
    ai = scheme == "gsrn" ? "8018" : scheme == "gsrnp" ? "8017" : "402";
    value = with_check(std::string(cp) + std::string(ref));
  } else {  // giai, ginc, cpi: company prefix + free reference
    ai = scheme == "giai" ? "8004" : scheme == "ginc" ? "401" : "8010";
    ML_ASSIGN_OR_RETURN(std::string r, UrnComponent(scheme, "reference", ref));
    if (r.empty()) return InvalidArgument(label + ": reference is empty");
    value = std::string(cp) + r;
    if (scheme == "cpi" && kind != kPattern) quals.emplace_back("8011", serial);
  }
  std::vector<AiPair> pairs;
  for (auto& [q, v] : quals) pairs.push_back({q, v});
  ML_ASSIGN_OR_RETURN(Gs1Key key, BuildKey(ai, value, pairs.data(), pairs.size()));
  key.company_prefix = std::string(cp);
  return key;
}

}  // namespace internal

Result<std::string> ToEpcUrn(const Gs1Key& key, size_t cp_len) {
  using internal::UrnEncode;
  if (cp_len < 6 || cp_len > 12) return InvalidArgument("epc urn: company prefix length must be 6 to 12");
  const char* name = SchemeName(key.scheme);
  auto fail = [&](const char* why) { return InvalidArgument(std::string(name) + ": " + why); };
  const std::string& v = key.primary_value;
  if (v.size() <= cp_len || !internal::IsDigits(std::string_view(v).substr(0, cp_len))) {
    return fail("company prefix length does not fit the key");
  }
  // GTIN-based keys: cp = digits 1..cp_len, reference = indicator + the rest
  // without the check digit.
  auto gtin_part = [&](std::string_view g14) {
    return std::string(g14.substr(1, cp_len)) + "." + std::string(g14.substr(0, 1)) +
           std::string(g14.substr(1 + cp_len, 12 - cp_len));
  };
  // Keys whose company prefix starts at their first digit.
  auto plain = [&](size_t digits) {
    return std::string(v.substr(0, cp_len)) + "." + std::string(v.substr(cp_len, digits - cp_len));
  };
  std::string pat = key.instance_level ? "urn:epc:id:" : "urn:epc:idpat:";
  switch (key.scheme) {
    case Scheme::kSgtin:
      return "urn:epc:id:sgtin:" + gtin_part(key.gtin14) + "." + UrnEncode(key.serial);
    case Scheme::kLgtin:
      return "urn:epc:class:lgtin:" + gtin_part(key.gtin14) + "." + UrnEncode(key.lot);
    case Scheme::kGtin:
      return "urn:epc:idpat:sgtin:" + gtin_part(key.gtin14) + ".*";
    case Scheme::kUpui:
      return "urn:epc:id:upui:" + gtin_part(key.gtin14) + "." + UrnEncode(key.serial);
    case Scheme::kItip:
      if (!key.lot.empty()) return fail("an ITIP with a lot has no URN form");
      return pat + "itip:" + gtin_part(key.gtin14) + "." + v.substr(14, 2) + "." + v.substr(16, 2) + "." +
             (key.instance_level ? UrnEncode(key.serial) : "*");
    case Scheme::kSscc:
      return "urn:epc:id:sscc:" + v.substr(1, cp_len) + "." + v.substr(0, 1) + v.substr(1 + cp_len, 16 - cp_len);
    case Scheme::kSgln:
      return "urn:epc:id:sgln:" + plain(12) + "." + (key.extension.empty() ? "0" : UrnEncode(key.extension));
    case Scheme::kPgln:
      return "urn:epc:id:pgln:" + plain(12);
    case Scheme::kGrai:
      return pat + "grai:" + v.substr(1, cp_len) + "." + v.substr(1 + cp_len, 12 - cp_len) + "." +
             (key.instance_level ? UrnEncode(key.serial) : "*");
    case Scheme::kGdti:
    case Scheme::kSgcn:
      return pat + name + ":" + plain(12) + "." + (key.instance_level ? UrnEncode(key.serial) : "*");
    case Scheme::kGsrn:
    case Scheme::kGsrnp:
      return std::string("urn:epc:id:") + name + ":" + plain(17);
    case Scheme::kGsin:
      return "urn:epc:id:gsin:" + plain(16);
    case Scheme::kGiai:
    case Scheme::kGinc:
    case Scheme::kCpi: {
      if (v.size() <= cp_len) return fail("company prefix length does not fit the key");
      std::string out = pat + name + ":" + v.substr(0, cp_len) + "." + UrnEncode(v.substr(cp_len));
      if (key.scheme == Scheme::kCpi) out += "." + (key.instance_level ? key.serial : std::string("*"));
      return out;
    }
  }
  return fail("no URN form");
}

}  // namespace medledger::epcis
