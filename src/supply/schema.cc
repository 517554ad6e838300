#include "supply/schema.h"

#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "crypto/sha256.h"

namespace medledger::supply {

using model::Reject;
using model::Verdict;






std::string RequireGtin(const nlohmann::json& p, const char* name) {
  std::string g = state::RequireString(p, name, 14);
  auto n = epcis::NormalizeGtin(g);
  if (!n.ok()) BadPayload(std::string("payload field '") + name + "': " + n.status().message());
  return *n;
}

namespace {
// GS1 AI encodable character set 82 (GS1 General Specifications 7.11).
bool IsCset82(char c) {
  static constexpr std::string_view kSet =
      "!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz";
  return kSet.find(c) != std::string_view::npos;
}
}  // namespace

std::string RequireLot(const nlohmann::json& p, const char* name) {
  std::string lot = state::RequireString(p, name, 20);
  if (lot.empty() || !std::all_of(lot.begin(), lot.end(), IsCset82))
    BadPayload(std::string("payload field '") + name + "' must be 1 to 20 characters of the GS1 character set 82");
  return lot;
}

std::string KeyPart(std::string_view s) {
  bool safe = !s.empty() && s.size() <= 64 && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
           c == '-';
  });
  if (safe) return std::string(s);
  return "~" + ToHex(crypto::Sha256(s)).substr(0, 32);
}


std::string OidOfUri(std::string_view canonical) { return ToHex(crypto::Sha256(canonical)).substr(0, 32); }

std::string SgtinOid(std::string_view gtin14, std::string_view serial) {
  return OidOfUri("01/" + std::string(gtin14) + "/21/" + std::string(serial));
}

std::string Oid(const epcis::Gs1Key& key) {
  if (key.scheme == epcis::Scheme::kSgtin) return SgtinOid(key.gtin14, key.serial);
  return OidOfUri(key.canonical);
}

std::string OidOf(std::string_view canonical) {
  if (epcis::IsGs1Uri(canonical))
    if (auto k = epcis::ParseGs1Uri(canonical); k.ok()) return Oid(*k);
  return OidOfUri(canonical);
}

std::string HashHex(std::string_view hash_id) {
  constexpr std::string_view kHead = "ni:///sha-256;";
  if (!hash_id.starts_with(kHead)) return "";
  std::string_view rest = hash_id.substr(kHead.size());
  std::string_view hex = rest.substr(0, rest.find('?'));
  if (hex.size() != 64 ||
      !std::all_of(hex.begin(), hex.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }))
    return "";
  return std::string(hex);
}

std::string HashId(std::string_view hex) { return "ni:///sha-256;" + std::string(hex) + "?ver=CBV2.0"; }


std::string PrefixKey(std::string_view p) { return "sup/prefix/" + std::string(p); }
std::string EventKey(std::string_view h) { return "sup/ev/" + std::string(h); }
std::string EventSeqKey(uint64_t seq) { return "sup/evseq/" + Pad(seq); }
std::string IndexPrefix(std::string_view dim, std::string_view value) {
  return "sup/ix/" + std::string(dim) + "/" + std::string(value) + "/";
}
std::string CaptureKey(std::string_view id) { return "sup/cap/" + std::string(id); }
std::string DeclarationKey(std::string_view h) { return "sup/decl/" + std::string(h); }
std::string ObjectKey(std::string_view oid) { return "sup/obj/" + std::string(oid); }
std::string ChildKey(std::string_view parent, std::string_view child) {
  return "sup/child/" + std::string(parent) + "/" + std::string(child);
}
std::string LotPackPrefix(std::string_view gtin14, std::string_view lot) {
  return "sup/lot/" + std::string(gtin14) + "/" + KeyPart(lot) + "/";
}
std::string RecallKey(std::string_view gtin14, std::string_view lot) {
  return "sup/recall/" + std::string(gtin14) + "/" + KeyPart(lot);
}
std::string CaseKey(std::string_view oid) { return "sup/case/" + std::string(oid); }

void ScanAfter(const state::StateReader& st, const std::string& prefix, std::string_view after,
               const std::function<bool(std::string_view, const Bytes&)>& fn) {
  if (after.empty()) {
    st.Scan(prefix, fn);
    return;
  }
  bool go = true;
  auto wrapped = [&](std::string_view k, const Bytes& v) { return go = fn(k, v); };
  // Longer remainders that start with `after` come first...
  std::string exact = prefix + std::string(after);
  st.Scan(exact, [&](std::string_view k, const Bytes& v) { return k.size() == exact.size() ? true : wrapped(k, v); });
  // ...then, from the last character to the first, every greater character.
  static constexpr std::string_view kAlphabet = "/0123456789";
  for (size_t i = after.size(); go && i-- > 0;) {
    for (char c : kAlphabet) {
      if (c <= after[i]) continue;
      st.Scan(prefix + std::string(after.substr(0, i)) + c, wrapped);
      if (!go) break;
    }
  }
}

}  // namespace medledger::supply
