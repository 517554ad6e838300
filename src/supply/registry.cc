#include "supply/registry.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "model/tx_types.h"
#include "state/governance.h"
#include "supply/schema.h"

namespace medledger::supply {

using model::Reject;
using model::Verdict;
using nlohmann::json;

bool PrefixModule::Handles(uint16_t type) const { return type == model::tx::kGs1RegisterPrefix; }

namespace {

PrefixInfo InfoFrom(std::string prefix, const json& d) {
  PrefixInfo p;
  p.prefix = std::move(prefix);
  p.org = d.value("org", "");
  p.registered_by = d.value("registered_by", "");
  p.proposal_id = d.value("proposal_id", "");
  p.height = uint64_t(d.value("height", int64_t(0)));
  p.tx = d.value("tx", "");
  return p;
}

bool MoreThanOneActiveOrg(const state::StateReader& st) {
  int n = 0;
  for (const auto& o : state::ListOrgs(st))
    if (o.active && ++n > 1) return true;
  return false;
}

std::optional<PrefixInfo> FirstBound(const state::StateReader& st, const std::vector<std::string>& candidates) {
  for (const auto& c : candidates)
    if (auto p = GetPrefix(st, c)) return p;
  return std::nullopt;
}

}  // namespace

Verdict PrefixModule::Apply(state::TxContext& ctx) {
  std::string prefix = state::RequireString(ctx.payload, "prefix", 12);
  if (prefix.size() < 6 || !std::all_of(prefix.begin(), prefix.end(), [](char c) { return c >= '0' && c <= '9'; }))
    BadPayload("payload field 'prefix' must be a GS1 company prefix of 6 to 12 digits");

  // Overlap, both ways: a bound prefix that starts this one, or one that
  // this one starts (which includes the same prefix).
  for (size_t n = 6; n < prefix.size(); ++n)
    if (auto p = GetPrefix(ctx.state, prefix.substr(0, n)))
      return Verdict::No(Reject::kConflict, "prefix " + prefix + " overlaps the registered prefix " + p->prefix);
  std::string longer;
  ctx.state.Scan(PrefixKey(prefix), [&](std::string_view key, const Bytes&) {
    longer = std::string(key.substr(PrefixKey("").size()));
    return false;
  });
  if (!longer.empty())
    return Verdict::No(Reject::kConflict, "prefix " + prefix + " overlaps the registered prefix " + longer);

  std::string proposal_id;
  if (MoreThanOneActiveOrg(ctx.state)) {
    auto grant = LoadDoc(ctx.state, std::string(state::kGs1PrefixGrantPrefix) + prefix);
    if (!grant || grant->value("org", "") != ctx.signer.org)
      return Verdict::No(Reject::kRoleNotPermitted,
                         "on a chain of several organisations a GS1 prefix needs a governance grant to the "
                         "signer's organisation (governance.propose action gs1_prefix)");
    proposal_id = grant->value("proposal_id", "");
  }
  json doc = {{"org", ctx.signer.org},
              {"registered_by", crypto::PublicId(ctx.tx.signer)},
              {"height", int64_t(ctx.height)},
              {"tx", ToHex(ctx.tx_id)}};
  if (!proposal_id.empty()) doc["proposal_id"] = proposal_id;
  ctx.Put(PrefixKey(prefix), state::EncodeState(doc));
  return Verdict::Accept();
}

std::optional<PrefixInfo> GetPrefix(const state::StateReader& st, std::string_view prefix) {
  auto d = LoadDoc(st, PrefixKey(prefix));
  if (!d) return std::nullopt;
  return InfoFrom(std::string(prefix), *d);
}

std::optional<PrefixInfo> HolderOfGtin(const state::StateReader& st, std::string_view gtin14) {
  return FirstBound(st, epcis::CompanyPrefixCandidates(gtin14));
}

std::optional<PrefixInfo> HolderOfNumber(const state::StateReader& st, std::string_view number) {
  return FirstBound(st, epcis::GlnCompanyPrefixCandidates(number));
}

std::optional<PrefixInfo> HolderOfKey(const state::StateReader& st, const epcis::Gs1Key& key) {
  switch (key.scheme) {
    case epcis::Scheme::kSgtin:
    case epcis::Scheme::kLgtin:
    case epcis::Scheme::kGtin:
      return HolderOfGtin(st, key.gtin14);
    case epcis::Scheme::kSgln:
    case epcis::Scheme::kPgln:
      return HolderOfNumber(st, key.gln13);
    case epcis::Scheme::kSscc:
      return key.sscc18.size() == 18 ? HolderOfNumber(st, key.sscc18.substr(1)) : std::nullopt;
    default:
      return std::nullopt;
  }
}

std::vector<PrefixInfo> ListPrefixes(const state::StateReader& st) {
  std::vector<PrefixInfo> out;
  const std::string head = PrefixKey("");
  st.Scan(head, [&](std::string_view key, const Bytes& v) {
    if (auto d = state::DecodeState(v)) out.push_back(InfoFrom(std::string(key.substr(head.size())), *d));
    return true;
  });
  return out;
}

}  // namespace medledger::supply
