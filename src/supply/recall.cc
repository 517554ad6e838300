#include "supply/recall.h"

#include <nlohmann/json.hpp>

#include "model/tx_types.h"
#include "supply/registry.h"
#include "supply/schema.h"

namespace medledger::supply {

using model::Reject;
using model::Verdict;
using nlohmann::json;

bool RecallModule::Handles(uint16_t type) const {
  return type == model::tx::kProductRecall || type == model::tx::kProductRecallClass;
}

namespace {

RecallInfo InfoFrom(const json& d) {
  RecallInfo r;
  r.gtin = d.value("gtin", "");
  r.lot = d.value("lot", "");
  r.org = d.value("org", "");
  r.by = d.value("by", "");
  r.reason = d.value("reason", "");
  r.height = uint64_t(d.value("height", int64_t(0)));
  r.at_ms = uint64_t(d.value("at_ms", int64_t(0)));
  r.tx = d.value("tx", "");
  r.recall_class = d.value("class", "");
  r.class_by = d.value("class_by", "");
  r.class_tx = d.value("class_tx", "");
  r.class_height = uint64_t(d.value("class_height", int64_t(0)));
  r.class_history = d.value("class_history", std::vector<std::string>());
  return r;
}

Verdict Recall(state::TxContext& ctx) {
  std::string gtin = RequireGtin(ctx.payload, "gtin");
  std::string lot = RequireLot(ctx.payload, "lot");
  auto reason = OptionalCode(ctx.payload, "reason");
  auto holder = HolderOfGtin(ctx.state, gtin);
  if (!holder) return Verdict::No(Reject::kRoleNotPermitted, "no organisation holds the GTIN's company prefix");
  if (holder->org != ctx.signer.org)
    return Verdict::No(Reject::kRoleNotPermitted, "only the holder of the GTIN's company prefix recalls it");
  const std::string key = RecallKey(gtin, lot);
  if (ctx.Get(key)) return Verdict::No(Reject::kConflict, "lot is already recalled");
  json d = {{"gtin", gtin},
            {"lot", lot},
            {"org", ctx.signer.org},
            {"by", crypto::PublicId(ctx.tx.signer)},
            {"height", int64_t(ctx.height)},
            {"at_ms", int64_t(ctx.timestamp_ms)},
            {"tx", ToHex(ctx.tx_id)}};
  if (reason) d["reason"] = *reason;
  ctx.Put(key, state::EncodeState(d));
  return Verdict::Accept();
}

Verdict Classify(state::TxContext& ctx) {
  std::string gtin = RequireGtin(ctx.payload, "gtin");
  std::string lot = RequireLot(ctx.payload, "lot");
  std::string cls = state::RequireString(ctx.payload, "class", 3);
  if (cls != "I" && cls != "II" && cls != "III") BadPayload("payload field 'class' must be I, II or III");
  const std::string key = RecallKey(gtin, lot);
  auto d = LoadDoc(ctx.state, key);
  if (!d) return Verdict::No(Reject::kNotFound, "lot is not recalled");
  std::string prev = d->value("class", "");
  if (prev == cls) return Verdict::No(Reject::kConflict, "recall already has class " + cls);
  if (!prev.empty()) {
    auto hist = d->value("class_history", std::vector<std::string>());
    hist.push_back(prev);
    (*d)["class_history"] = hist;
  }
  (*d)["class"] = cls;
  (*d)["class_by"] = crypto::PublicId(ctx.tx.signer);
  (*d)["class_height"] = int64_t(ctx.height);
  (*d)["class_tx"] = ToHex(ctx.tx_id);
  ctx.Put(key, state::EncodeState(*d));
  return Verdict::Accept();
}

}  // namespace

Verdict RecallModule::Apply(state::TxContext& ctx) {
  return ctx.tx.type == model::tx::kProductRecall ? Recall(ctx) : Classify(ctx);
}

std::optional<RecallInfo> GetRecall(const state::StateReader& st, std::string_view gtin14, std::string_view lot) {
  auto d = LoadDoc(st, RecallKey(gtin14, lot));
  if (!d) return std::nullopt;
  return InfoFrom(*d);
}

std::vector<RecallInfo> ListRecalls(const state::StateReader& st, std::string_view gtin14) {
  std::vector<RecallInfo> out;
  std::string prefix = "sup/recall/";
  if (!gtin14.empty()) prefix += std::string(gtin14) + "/";
  st.Scan(prefix, [&](std::string_view, const Bytes& v) {
    if (auto d = state::DecodeState(v)) out.push_back(InfoFrom(*d));
    return true;
  });
  return out;
}

}  // namespace medledger::supply
