#include "supply/case.h"

#include <nlohmann/json.hpp>

#include "model/tx_types.h"
#include "supply/object.h"
#include "supply/registry.h"
#include "supply/schema.h"

namespace medledger::supply {

using model::Reject;
using model::Verdict;
using nlohmann::json;

bool CaseModule::Handles(uint16_t type) const { return type == model::tx::kProductCase; }

namespace {

constexpr const char* kSteps[] = {"quarantine", "investigate", "clear", "illegitimate", "close"};

bool Allowed(const std::string& from, const std::string& to) {
  if (from.empty() || from == "clear" || from == "close") return to == "quarantine" || to == "investigate";
  if (from == "quarantine") return to == "investigate" || to == "clear" || to == "illegitimate";
  if (from == "investigate") return to == "quarantine" || to == "clear" || to == "illegitimate";
  if (from == "illegitimate") return to == "close";
  return false;
}

CaseStep StepFrom(const json& j) {
  CaseStep s;
  s.step = j.value("step", "");
  s.by = j.value("by", "");
  s.org = j.value("org", "");
  s.as = j.value("as", "");
  s.note_code = j.value("note_code", "");
  s.fda3911_ref = j.value("fda3911_ref", "");
  s.height = uint64_t(j.value("height", int64_t(0)));
  s.at_ms = uint64_t(j.value("at_ms", int64_t(0)));
  s.tx = j.value("tx", "");
  return s;
}

}  // namespace

Verdict CaseModule::Apply(state::TxContext& ctx) {
  const auto& p = ctx.payload;
  std::string gtin = RequireGtin(p, "gtin");
  std::string serial = state::RequireString(p, "serial", 20);
  std::string step = state::RequireString(p, "step", 16);
  if (std::find(std::begin(kSteps), std::end(kSteps), step) == std::end(kSteps))
    BadPayload("payload field 'step' must be quarantine, investigate, clear, illegitimate or close");
  auto note = OptionalCode(p, "note_code");
  auto ref = OptionalCode(p, "fda3911_ref");
  if (step == "illegitimate" && !ref) BadPayload("an illegitimate determination needs 'fda3911_ref' (FDA Form 3911)");
  if (ref && step != "illegitimate" && step != "close")
    BadPayload("'fda3911_ref' goes with illegitimate or close only");

  const std::string oid = SgtinOid(gtin, serial);
  auto obj = LoadObject(ctx.state, oid);
  if (!obj) return Verdict::No(Reject::kNotFound, "no event names this pack");

  // Who acts: a regulator, the manufacturer, or the custodian.
  std::string as;
  if (ctx.signer.Has(model::kRoleRegulator)) {
    as = "regulator";
  } else if (auto h = HolderOfGtin(ctx.state, gtin); h && h->org == ctx.signer.org) {
    as = "manufacturer";
  } else {
    StateObjects src(ctx.state);
    if (Resolve(src, *obj).org == ctx.signer.org) as = "custodian";
  }
  if (as.empty())
    return Verdict::No(Reject::kRoleNotPermitted,
                       "only the pack's custodian, its manufacturer or a regulator acts on its case");

  const std::string key = CaseKey(oid);
  json doc = LoadDoc(ctx.state, key)
                 .value_or(json{{"gtin", gtin}, {"serial", serial}, {"step", ""}, {"history", json::array()}});
  std::string current = doc.value("step", "");
  if (!Allowed(current, step))
    return Verdict::No(Reject::kConflict,
                       "step '" + step + "' does not follow '" + (current.empty() ? "none" : current) + "'");
  if (step == "close" && as != "regulator")
    return Verdict::No(Reject::kRoleNotPermitted, "only a regulator ends an illegitimate determination");

  json h = {{"step", step},
            {"by", crypto::PublicId(ctx.tx.signer)},
            {"org", ctx.signer.org},
            {"as", as},
            {"height", int64_t(ctx.height)},
            {"at_ms", int64_t(ctx.timestamp_ms)},
            {"tx", ToHex(ctx.tx_id)}};
  if (note) h["note_code"] = *note;
  if (ref) h["fda3911_ref"] = *ref;
  doc["step"] = step;
  doc["history"].push_back(h);
  ctx.Put(key, state::EncodeState(doc));

  if (step == "clear" || step == "close") {
    // Resolves every mark recorded so far: marks carry event sequence
    // numbers, so the count of events recorded is the boundary.
    auto n = LoadDoc(ctx.state, kEventCountKey);
    obj->cleared_seq = n ? uint64_t(n->value("n", int64_t(0))) : 0;
    ctx.Put(ObjectKey(oid), state::EncodeState(obj->ToJson()));
  }
  return Verdict::Accept();
}

std::optional<CaseInfo> GetCase(const state::StateReader& st, std::string_view gtin14, std::string_view serial) {
  auto d = LoadDoc(st, CaseKey(SgtinOid(gtin14, serial)));
  if (!d) return std::nullopt;
  CaseInfo c;
  c.gtin = d->value("gtin", "");
  c.serial = d->value("serial", "");
  c.step = d->value("step", "");
  for (const auto& h : d->value("history", json::array())) c.history.push_back(StepFrom(h));
  return c;
}

}  // namespace medledger::supply
