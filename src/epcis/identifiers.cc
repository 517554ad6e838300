#include "epcis/identifiers.h"

#include <algorithm>

#include "epcis/gs1_text.h"

namespace medledger::epcis {

using internal::AiPair;
using internal::IsDigits;
using internal::IsSet39;
using internal::IsSet82;
using internal::Shown;

namespace internal {

bool IsDigits(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool IsSet82(std::string_view s) {
  static constexpr std::string_view kPunct = "!\"%&'()*+,-./:;<=>?_";
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
           kPunct.find(c) != std::string_view::npos;
  });
}

bool IsSet39(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || c == '#' || c == '-' || c == '/';
  });
}

namespace {
int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

std::string Encode(std::string_view value, std::string_view escaped) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (escaped.find(c) != std::string_view::npos) {
      out += '%';
      out += kHex[(static_cast<unsigned char>(c) >> 4) & 0xF];
      out += kHex[static_cast<unsigned char>(c) & 0xF];
    } else {
      out += c;
    }
  }
  return out;
}
}  // namespace

Result<std::string> PercentDecode(std::string_view s, std::string_view what) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out += s[i];
      continue;
    }
    if (i + 2 >= s.size()) {
      return InvalidArgument(std::string(what) + ": truncated percent-escape");
    }
    int hi = HexValue(s[i + 1]), lo = HexValue(s[i + 2]);
    if (hi < 0 || lo < 0) return InvalidArgument(std::string(what) + ": bad percent-escape");
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return out;
}

std::string DigitalLinkEncode(std::string_view value) { return Encode(value, "!\"#%&()*+,/:<>?"); }

std::string UrnEncode(std::string_view value) { return Encode(value, "\"#%&/<>?"); }

std::string Shown(std::string_view s) {
  if (s.size() <= 40) return "'" + std::string(s) + "'";
  return "'" + std::string(s.substr(0, 40)) + "...'";
}

namespace {

// A key of fixed length with a GS1 check digit as its last digit.
Status CheckNumber(std::string_view what, std::string_view v, size_t len) {
  if (v.size() != len || !IsDigits(v)) {
    return InvalidArgument(std::string(what) + ": must be " + std::to_string(len) + " digits, got " + Shown(v));
  }
  char want = Gs1CheckDigit(v.substr(0, len - 1));
  if (v.back() != want) {
    return InvalidArgument(std::string(what) + ": check digit " + std::string(1, v.back()) + " is wrong, expected " +
                           std::string(1, want));
  }
  return Status::Ok();
}

// A set-82 text field (serial, lot, extension) of 1..max characters.
Status CheckText(std::string_view what, std::string_view v, size_t max) {
  if (v.empty()) return InvalidArgument(std::string(what) + ": empty");
  if (v.size() > max) return InvalidArgument(std::string(what) + ": longer than " + std::to_string(max) + " characters");
  if (!IsSet82(v)) return InvalidArgument(std::string(what) + ": character outside the GS1 set 82 in " + Shown(v));
  return Status::Ok();
}

// GIAI, GINC, CPI: a company prefix (digits) followed by a reference, up to
// 30 characters. The prefix boundary is unknown here; 6 leading digits is
// the least any such key has.
Status CheckPrefixedText(std::string_view what, std::string_view v, bool set39) {
  if (v.size() < 7 || v.size() > 30) return InvalidArgument(std::string(what) + ": must be 7 to 30 characters");
  if (!IsDigits(v.substr(0, 6))) return InvalidArgument(std::string(what) + ": must start with a company prefix");
  if (set39 ? !IsSet39(v) : !IsSet82(v)) {
    return InvalidArgument(std::string(what) + ": character outside the GS1 set " + (set39 ? "39" : "82"));
  }
  return Status::Ok();
}

// The 14-digit key body plus a serial of up to `max` characters (GRAI,
// GDTI, SGCN): the serial is optional, its absence makes a class.
Status CheckNumberAndSerial(std::string_view what, std::string_view v, size_t len, size_t max, bool digits_only) {
  ML_RETURN_IF_ERROR(CheckNumber(what, v.substr(0, len), len));
  std::string_view serial = v.substr(std::min(len, v.size()));
  if (serial.size() > max) return InvalidArgument(std::string(what) + ": serial longer than " + std::to_string(max));
  if (digits_only ? !IsDigits(serial) : !IsSet82(serial)) {
    return InvalidArgument(std::string(what) + ": bad character in serial " + Shown(serial));
  }
  return Status::Ok();
}

std::string Path(std::string_view ai, std::string_view value) {
  std::string s = "/";
  s += ai;
  s += '/';
  s += DigitalLinkEncode(value);
  return s;
}

}  // namespace

Result<Gs1Key> BuildKey(std::string_view ai, std::string value, const AiPair* quals, size_t n) {
  auto find = [&](std::string_view q) -> const std::string* {
    for (size_t i = 0; i < n; ++i) {
      if (quals[i].ai == q) return &quals[i].value;
    }
    return nullptr;
  };
  // The key qualifiers GS1 Digital Link allows after each primary key.
  std::string_view allowed;
  if (ai == "01") allowed = "22 10 21 235";
  else if (ai == "8006") allowed = "22 10 21";
  else if (ai == "414") allowed = "254";
  else if (ai == "8010") allowed = "8011";
  for (size_t i = 0; i < n; ++i) {
    bool ok = false;
    for (size_t p = 0; p <= allowed.size();) {
      size_t e = allowed.find(' ', p);
      if (e == std::string_view::npos) e = allowed.size();
      if (allowed.substr(p, e - p) == quals[i].ai) ok = true;
      p = e + 1;
    }
    if (!ok) return InvalidArgument("digital link: AI " + std::string(quals[i].ai) + " cannot qualify AI " + std::string(ai));
  }

  Gs1Key k;
  k.primary_ai = std::string(ai);
  k.primary_value = value;
  std::string canonical = "https://id.gs1.org" + Path(ai, value);
  const std::string* q22 = find("22");
  const std::string* q10 = find("10");
  const std::string* q21 = find("21");
  if (q22) ML_RETURN_IF_ERROR(CheckText("cpv (AI 22)", *q22, 20));
  if (q10) ML_RETURN_IF_ERROR(CheckText("lot (AI 10)", *q10, 20));
  if (q21) ML_RETURN_IF_ERROR(CheckText("serial (AI 21)", *q21, 20));

  if (ai == "01") {
    ML_ASSIGN_OR_RETURN(k.gtin14, NormalizeGtin(value));
    k.primary_value = k.gtin14;
    canonical = "https://id.gs1.org" + Path("01", k.gtin14);
    // The finest level names the thing: a serial makes the lot (and the CPV)
    // redundant, as the CBV 2.0 hash rules say.
    if (const std::string* tpx = find("235")) {
      if (q21 || q10) return InvalidArgument("upui: AI 235 cannot be combined with a lot or serial");
      ML_RETURN_IF_ERROR(CheckText("upui: tpx (AI 235)", *tpx, 28));
      k.scheme = Scheme::kUpui;
      k.serial = *tpx;
      canonical += Path("235", *tpx);
    } else if (q21) {
      k.scheme = Scheme::kSgtin;
      k.serial = *q21;
      canonical += Path("21", *q21);
    } else if (q10) {
      k.scheme = Scheme::kLgtin;
      k.instance_level = false;
      k.lot = *q10;
      canonical += Path("10", *q10);
    } else {
      k.scheme = Scheme::kGtin;
      k.instance_level = false;
    }
  } else if (ai == "8006") {
    k.scheme = Scheme::kItip;
    if (value.size() != 18 || !IsDigits(value)) return InvalidArgument("itip: must be 18 digits, got " + Shown(value));
    ML_RETURN_IF_ERROR(CheckNumber("itip: gtin", std::string_view(value).substr(0, 14), 14));
    k.gtin14 = value.substr(0, 14);
    if (q21) {
      k.serial = *q21;
      canonical += Path("21", *q21);
    } else {
      k.instance_level = false;
      if (q10) {
        k.lot = *q10;
        canonical += Path("10", *q10);
      }
    }
  } else if (ai == "00") {
    k.scheme = Scheme::kSscc;
    ML_RETURN_IF_ERROR(CheckNumber("sscc", value, 18));
    k.sscc18 = value;
  } else if (ai == "414" || ai == "417") {
    k.scheme = ai == "414" ? Scheme::kSgln : Scheme::kPgln;
    ML_RETURN_IF_ERROR(CheckNumber(ai == "414" ? "sgln: gln" : "pgln: gln", value, 13));
    k.gln13 = value;
    if (const std::string* ext = find("254")) {
      ML_RETURN_IF_ERROR(CheckText("sgln: extension (AI 254)", *ext, 20));
      k.extension = *ext;
      canonical += Path("254", *ext);
    }
  } else if (ai == "8003") {
    k.scheme = Scheme::kGrai;
    ML_RETURN_IF_ERROR(CheckNumberAndSerial("grai", value, 14, 16, false));
    if (value[0] != '0') return InvalidArgument("grai: must start with 0");
    k.serial = value.substr(14);
    k.instance_level = !k.serial.empty();
  } else if (ai == "253") {
    k.scheme = Scheme::kGdti;
    ML_RETURN_IF_ERROR(CheckNumberAndSerial("gdti", value, 13, 17, false));
    k.serial = value.substr(13);
    k.instance_level = !k.serial.empty();
  } else if (ai == "255") {
    k.scheme = Scheme::kSgcn;
    ML_RETURN_IF_ERROR(CheckNumberAndSerial("sgcn", value, 13, 12, true));
    k.serial = value.substr(13);
    k.instance_level = !k.serial.empty();
  } else if (ai == "8004" || ai == "401") {
    k.scheme = ai == "8004" ? Scheme::kGiai : Scheme::kGinc;
    ML_RETURN_IF_ERROR(CheckPrefixedText(ai == "8004" ? "giai" : "ginc", value, false));
  } else if (ai == "8010") {
    k.scheme = Scheme::kCpi;
    ML_RETURN_IF_ERROR(CheckPrefixedText("cpi", value, true));
    if (const std::string* s = find("8011")) {
      if (s->empty() || s->size() > 12 || !IsDigits(*s)) return InvalidArgument("cpi: serial (AI 8011) must be 1 to 12 digits");
      k.serial = *s;
      canonical += Path("8011", *s);
    } else {
      k.instance_level = false;
    }
  } else if (ai == "8017" || ai == "8018") {
    k.scheme = ai == "8017" ? Scheme::kGsrnp : Scheme::kGsrn;
    ML_RETURN_IF_ERROR(CheckNumber(ai == "8017" ? "gsrnp" : "gsrn", value, 18));
  } else if (ai == "402") {
    k.scheme = Scheme::kGsin;
    ML_RETURN_IF_ERROR(CheckNumber("gsin", value, 17));
  } else {
    return InvalidArgument("digital link: AI " + Shown(ai) + " is not a primary key");
  }
  k.canonical = std::move(canonical);
  return k;
}

}  // namespace internal

namespace {

// Digital Link short names (GS1 Digital Link 1.1, table 6-1) and the primary
// keys EPCIS can carry.
struct ShortName {
  std::string_view name, ai;
};
constexpr ShortName kShortNames[] = {
    {"gtin", "01"},   {"itip", "8006"}, {"cpid", "8010"}, {"gln", "414"},  {"party", "417"}, {"gsrnp", "8017"},
    {"gsrn", "8018"}, {"gcn", "255"},   {"sscc", "00"},   {"gdti", "253"}, {"ginc", "401"},  {"gsin", "402"},
    {"grai", "8003"}, {"giai", "8004"}, {"cpv", "22"},    {"lot", "10"},   {"ser", "21"},
};
constexpr std::string_view kPrimaryAis[] = {"01", "8006", "8010", "414", "417", "8017", "8018",
                                            "255", "00", "253", "401", "402", "8003", "8004"};
constexpr std::string_view kQualifierAis[] = {"22", "10", "21", "235", "254", "8011", "8019"};

std::string_view AiOf(std::string_view seg) {
  for (const auto& s : kShortNames) {
    if (s.name == seg) return s.ai;
  }
  return seg;
}
bool IsPrimary(std::string_view ai) {
  return std::find(std::begin(kPrimaryAis), std::end(kPrimaryAis), ai) != std::end(kPrimaryAis);
}
bool IsQualifier(std::string_view ai) {
  return std::find(std::begin(kQualifierAis), std::end(kQualifierAis), ai) != std::end(kQualifierAis);
}

bool StartsWith(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

struct UriPieces {
  std::vector<std::string_view> segments;  // path segments, not decoded
  std::string_view query;
  size_t key_index = 0;  // index of the primary key's AI segment
};

// Finds the primary key in an http(s) URI: the first path segment that is a
// primary-key AI, whose value starts with 4 digits (every GS1 key starts
// with a prefix), and after which the path is AI/value pairs of qualifiers.
// Anything before it is the resolver's own path prefix.
bool LocateKey(std::string_view uri, UriPieces* out) {
  std::string_view rest;
  if (StartsWith(uri, "https://")) rest = uri.substr(8);
  else if (StartsWith(uri, "http://")) rest = uri.substr(7);
  else return false;
  size_t end = rest.find_first_of("?#");
  std::string_view path = rest.substr(0, end);
  if (end != std::string_view::npos && rest[end] == '?') {
    std::string_view q = rest.substr(end + 1);
    out->query = q.substr(0, q.find('#'));
  }
  size_t slash = path.find('/');
  if (slash == std::string_view::npos || slash == 0) return false;  // no path, or no host
  path = path.substr(slash + 1);
  if (!path.empty() && path.back() == '/') path.remove_suffix(1);
  out->segments.clear();
  for (size_t p = 0; p <= path.size();) {
    size_t e = path.find('/', p);
    if (e == std::string_view::npos) e = path.size();
    out->segments.push_back(path.substr(p, e - p));
    p = e + 1;
  }
  const auto& seg = out->segments;
  for (size_t i = 0; i + 1 < seg.size(); ++i) {
    if ((seg.size() - i) % 2 != 0 || !IsPrimary(AiOf(seg[i]))) continue;
    if (seg[i + 1].size() < 4 || !IsDigits(seg[i + 1].substr(0, 4))) continue;
    bool pairs = true;
    for (size_t j = i + 2; j < seg.size(); j += 2) pairs = pairs && IsQualifier(AiOf(seg[j]));
    if (!pairs) continue;
    out->key_index = i;
    return true;
  }
  return false;
}

}  // namespace

const char* SchemeName(Scheme s) {
  static constexpr const char* kNames[] = {"sgtin", "lgtin", "gtin", "sscc", "sgln", "grai", "giai", "gsrn", "gsrnp",
                                           "gdti",  "cpi",   "sgcn", "ginc", "gsin", "itip", "upui", "pgln"};
  return kNames[static_cast<int>(s)];
}

Result<DigitalLinkParts> SplitDigitalLink(std::string_view uri) {
  UriPieces pc;
  if (!LocateKey(uri, &pc)) return InvalidArgument("digital link: no GS1 primary key in the path");
  DigitalLinkParts parts;
  for (size_t i = pc.key_index; i + 1 < pc.segments.size(); i += 2) {
    std::string ai(AiOf(pc.segments[i]));
    for (const auto& [seen, v] : parts.path) {
      if (seen == ai) return InvalidArgument("digital link: AI " + ai + " appears twice");
    }
    ML_ASSIGN_OR_RETURN(std::string value, internal::PercentDecode(pc.segments[i + 1], "digital link: AI " + ai));
    parts.path.emplace_back(std::move(ai), std::move(value));
  }
  // Query attributes: only numeric AIs are GS1 data; other parameters
  // (a resolver's own, linkType) are dropped.
  std::string_view q = pc.query;
  while (!q.empty()) {
    size_t amp = q.find('&');
    std::string_view item = q.substr(0, amp);
    q = amp == std::string_view::npos ? std::string_view() : q.substr(amp + 1);
    size_t eq = item.find('=');
    if (eq == std::string_view::npos) continue;
    std::string_view name = item.substr(0, eq);
    if (name.size() < 2 || name.size() > 4 || !IsDigits(name)) continue;
    std::string ai(name);
    for (const auto& [seen, v] : parts.query) {
      if (seen == ai) return InvalidArgument("digital link: query AI " + ai + " appears twice");
    }
    ML_ASSIGN_OR_RETURN(std::string value, internal::PercentDecode(item.substr(eq + 1), "digital link: AI " + ai));
    parts.query.emplace_back(std::move(ai), std::move(value));
  }
  return parts;
}

bool IsGs1Uri(std::string_view uri) {
  // Every urn:epc: URI is GS1's; the tag and raw forms are not identities an
  // event may carry, so they are refused rather than kept as given.
  if (StartsWith(uri, "urn:epc:")) return true;
  UriPieces pc;
  return LocateKey(uri, &pc);
}

Result<Gs1Key> ParseGs1Uri(std::string_view uri) {
  if (StartsWith(uri, "urn:epc:")) return internal::ParseEpcUrn(uri);
  if (!StartsWith(uri, "http://") && !StartsWith(uri, "https://")) {
    return InvalidArgument("not a GS1 identifier: expected an EPC URN (urn:epc:...) or a GS1 Digital Link");
  }
  ML_ASSIGN_OR_RETURN(DigitalLinkParts parts, SplitDigitalLink(uri));
  std::vector<AiPair> quals;
  for (size_t i = 1; i < parts.path.size(); ++i) quals.push_back({parts.path[i].first, parts.path[i].second});
  return internal::BuildKey(parts.path[0].first, parts.path[0].second, quals.data(), quals.size());
}

Result<std::string> CanonicalizeId(std::string_view uri) {
  if (!IsGs1Uri(uri)) return std::string(uri);
  ML_ASSIGN_OR_RETURN(Gs1Key key, ParseGs1Uri(uri));
  return std::move(key.canonical);
}

char Gs1CheckDigit(std::string_view digits) {
  if (digits.empty() || !IsDigits(digits)) return '\0';
  int sum = 0;
  int weight = 3;  // the digit next to the check digit weighs 3
  for (size_t i = digits.size(); i-- > 0;) {
    sum += (digits[i] - '0') * weight;
    weight = 4 - weight;
  }
  return static_cast<char>('0' + (10 - sum % 10) % 10);
}

bool HasValidCheckDigit(std::string_view number) {
  return number.size() >= 2 && IsDigits(number) && Gs1CheckDigit(number.substr(0, number.size() - 1)) == number.back();
}

Result<std::string> NormalizeGtin(std::string_view gtin) {
  size_t n = gtin.size();
  if (!IsDigits(gtin) || (n != 8 && n != 12 && n != 13 && n != 14)) {
    return InvalidArgument("gtin: must be 8, 12, 13 or 14 digits, got " + Shown(gtin));
  }
  std::string g14 = std::string(14 - n, '0') + std::string(gtin);
  char want = Gs1CheckDigit(std::string_view(g14).substr(0, 13));
  if (g14[13] != want) {
    return InvalidArgument("gtin: check digit " + std::string(1, g14[13]) + " is wrong, expected " + std::string(1, want));
  }
  return g14;
}

std::vector<std::string> CompanyPrefixCandidates(std::string_view gtin14) {
  std::vector<std::string> out;
  if (gtin14.size() != 14 || !IsDigits(gtin14)) return out;
  for (size_t n = 6; n <= 12; ++n) out.emplace_back(gtin14.substr(1, n));
  return out;
}

std::vector<std::string> GlnCompanyPrefixCandidates(std::string_view number) {
  std::vector<std::string> out;
  if (number.size() < 13 || !IsDigits(number)) return out;
  for (size_t n = 6; n <= 12; ++n) out.emplace_back(number.substr(0, n));
  return out;
}

}  // namespace medledger::epcis
