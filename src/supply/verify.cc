#include "supply/verify.h"

#include <algorithm>
#include <map>
#include <set>

#include "model/tx_types.h"
#include "supply/events.h"
#include "supply/registry.h"
#include "supply/rules.h"
#include "supply/schema.h"

namespace medledger::supply {

namespace {

bool OneOf(std::string_view v, std::initializer_list<std::string_view> set) {
  return std::find(set.begin(), set.end(), v) != set.end();
}

void Add(std::vector<std::string>& v, const std::string& s) {
  if (!s.empty() && std::find(v.begin(), v.end(), s) == v.end()) v.push_back(s);
}

const char* StoredTypeName(epcis::EventType t) {
  static constexpr const char* kNames[] = {"ObjectEvent", "AggregationEvent", "TransactionEvent", "TransformationEvent",
                                           "AssociationEvent"};
  return kNames[int(t)];
}
const char* StoredActionName(epcis::Action a) {
  static constexpr const char* kNames[] = {"", "ADD", "OBSERVE", "DELETE"};
  return kNames[int(a)];
}

// Events naming `oid` with seq in [from, to] (to 0: no end), and, through
// every container it was in during that window, the container's events.
void Collect(const state::StateReader& st, const std::string& oid, uint64_t from, uint64_t to, const std::string& via,
             int depth, std::map<uint64_t, TraceEvent>& out) {
  for (const auto& [seq, role] : EventsOf(st, oid)) {
    if (seq < from || (to && seq > to) || out.count(seq)) continue;
    auto e = GetEventBySeq(st, seq);
    if (!e) continue;
    const Facts& f = e->facts;
    out[seq] = TraceEvent{seq,
                          HashId(f.hash),
                          f.event_id,
                          StoredTypeName(f.type),
                          StoredActionName(f.action),
                          f.biz_step,
                          f.disposition,
                          f.read_point,
                          f.biz_location,
                          f.event_time,
                          f.event_time_ms,
                          f.org,
                          via,
                          e->retracted.has_value()};
  }
  if (depth >= kMaxDepth) return;
  auto obj = LoadObject(st, oid);
  if (!obj) return;
  std::vector<ContainerSpan> spans = obj->past;
  if (obj->parent) spans.push_back(*obj->parent);
  for (const auto& s : spans) {
    uint64_t lo = std::max(from, s.from);
    uint64_t hi = !to ? s.to : !s.to ? to : std::min(to, s.to);
    if (hi && lo > hi) continue;
    auto parent = LoadObject(st, s.parent);
    Collect(st, s.parent, lo, hi, parent ? parent->epc : s.parent, depth + 1, out);
  }
}

Trace Finish(std::vector<std::string> epcs, std::string manufacturer, std::map<uint64_t, TraceEvent>& events) {
  Trace t;
  t.epcs = std::move(epcs);
  t.manufacturer_org = std::move(manufacturer);
  std::set<std::string> parties;
  for (auto& [seq, e] : events) {
    if (!e.org.empty()) parties.insert(e.org);
    t.events.push_back(std::move(e));
  }
  t.parties.assign(parties.begin(), parties.end());
  return t;
}

std::optional<Trace> TraceOid(const state::StateReader& st, const std::string& oid, std::string label) {
  auto obj = LoadObject(st, oid);
  std::map<uint64_t, TraceEvent> events;
  Collect(st, oid, 0, 0, "", 0, events);
  if (!obj && events.empty()) return std::nullopt;
  if (obj) label = obj->epc;
  return Finish({label}, obj ? obj->com_org : "", events);
}

}  // namespace

VerifyResult Verify(const state::StateReader& st, std::string_view gtin14, std::string_view serial,
                    std::string_view lot, std::string_view expiry, std::string_view today) {
  VerifyResult r;
  auto& flags = r.flags;
  auto obj = LoadObject(st, SgtinOid(gtin14, serial));
  bool prefix_known = HolderOfGtin(st, gtin14).has_value();
  r.case_info = GetCase(st, gtin14, serial);
  if (!obj) {
    flags = {"unknown"};
    if (!prefix_known) flags.push_back("prefix_not_registered");
    r.status = "unknown";
    return r;
  }
  StateObjects src(st);
  Effective e = Resolve(src, *obj);
  r.suspect = e.marks;
  r.disposition = e.disp;
  r.manufacturer_org = obj->com_org;

  const std::string step = r.case_info ? r.case_info->step : "";
  bool was_illegitimate = r.case_info && std::any_of(r.case_info->history.begin(), r.case_info->history.end(),
                                                     [](const CaseStep& s) { return s.step == "illegitimate"; });
  bool illegitimate = step == "illegitimate";
  bool quarantined = step == "quarantine", investigated = step == "investigate";
  bool suspect = !e.marks.empty() || quarantined || investigated;
  bool commissioned = obj->commissioned();
  bool lot_mismatch = commissioned && (!obj->lot || *obj->lot != lot);
  bool expiry_mismatch = commissioned && (!obj->expiry || *obj->expiry != expiry);
  r.identifier_match = commissioned && !lot_mismatch && !expiry_mismatch;
  if (commissioned && obj->lot) r.recall = GetRecall(st, gtin14, *obj->lot);
  bool recalled = r.recall.has_value() || e.disp == "recalled";
  bool expired = (commissioned && obj->expiry && !today.empty() && *obj->expiry < today) || e.disp == "expired";
  bool destroyed = OneOf(e.disp, {"destroyed", "disposed"});
  bool decommissioned = destroyed || OneOf(e.disp, {"inactive", "damaged", "non_sellable_other"});
  bool dispensed = OneOf(e.disp, {"dispensed", "retail_sold"});
  bool saleable = e.disp.empty() || IsSaleable(e.disp);

  auto flag = [&](bool on, const char* name) {
    if (on) flags.emplace_back(name);
  };
  flag(illegitimate, "illegitimate");
  flag(step == "close" && was_illegitimate, "illegitimate_closed");
  flag(suspect, "suspect");
  flag(quarantined, "quarantined");
  flag(investigated, "under_investigation");
  flag(!commissioned, "not_commissioned");
  flag(!prefix_known, "prefix_not_registered");
  flag(lot_mismatch, "lot_mismatch");
  flag(expiry_mismatch, "expiry_mismatch");
  flag(recalled, "recalled");
  flag(expired, "expired");
  flag(decommissioned, "decommissioned");
  flag(destroyed, "destroyed");
  flag(dispensed, "dispensed");
  flag(e.disp == "partially_dispensed", "partially_dispensed");
  flag(!saleable, "not_saleable");
  flag(e.disp == "in_transit" || e.shipment != nullptr, "in_transit");
  flag(obj->parent.has_value(), "aggregated");

  // A pack no commissioning describes cannot be matched: it is unknown
  // unless its events already make it suspect.
  if (illegitimate)
    r.status = "illegitimate";
  else if (suspect)
    r.status = "suspect";
  else if (!commissioned)
    r.status = "unknown";
  else if (lot_mismatch || expiry_mismatch)
    r.status = "mismatch";
  else if (recalled)
    r.status = "recalled";
  else if (expired)
    r.status = "expired";
  else if (dispensed)
    r.status = "dispensed";
  else if (decommissioned || !saleable)
    r.status = "decommissioned";
  else
    r.status = "verified";

  if (commissioned) Add(r.evidence, HashId(obj->com_event));
  for (const auto& m : e.marks) Add(r.evidence, HashId(m.event));
  if (!e.disp_event.empty()) Add(r.evidence, HashId(e.disp_event));
  return r;
}

std::optional<Trace> TraceObject(const state::StateReader& st, std::string_view canonical_epc) {
  return TraceOid(st, OidOf(canonical_epc), std::string(canonical_epc));
}

std::optional<Trace> TracePack(const state::StateReader& st, std::string_view gtin14, std::string_view serial) {
  return TraceOid(st, SgtinOid(gtin14, serial), "https://id.gs1.org/01/" + std::string(gtin14));
}

Trace TraceLot(const state::StateReader& st, std::string_view gtin14, std::string_view lot, size_t max_packs) {
  std::vector<std::string> oids;
  bool truncated = false;
  const std::string prefix = LotPackPrefix(gtin14, lot);
  st.Scan(prefix, [&](std::string_view key, const Bytes&) {
    if (oids.size() >= max_packs) {
      truncated = true;
      return false;
    }
    oids.emplace_back(key.substr(prefix.size()));
    return true;
  });
  std::map<uint64_t, TraceEvent> events;
  std::vector<std::string> epcs;
  std::string manufacturer;
  for (const auto& oid : oids) {
    Collect(st, oid, 0, 0, "", 0, events);
    if (auto o = LoadObject(st, oid)) {
      epcs.push_back(o->epc);
      if (manufacturer.empty()) manufacturer = o->com_org;
    }
  }
  Trace t = Finish(std::move(epcs), std::move(manufacturer), events);
  t.truncated = truncated;
  return t;
}

bool MayViewCustody(const Trace& t, std::string_view caller_org, uint32_t caller_roles) {
  if (caller_roles & model::kRoleRegulator) return true;
  if (!t.manufacturer_org.empty() && caller_org == t.manufacturer_org) return true;
  return std::find(t.parties.begin(), t.parties.end(), caller_org) != t.parties.end();
}

}  // namespace medledger::supply
