#include "supply/object.h"

#include <algorithm>
#include <memory>
#include <nlohmann/json.hpp>

#include "state/module.h"
#include "supply/schema.h"

namespace medledger::supply {

using nlohmann::json;

namespace {

// Empty strings and zeros are left out: object records are written for
// every pack, so they are kept small.
void PutStr(json& j, const char* k, const std::string& v) {
  if (!v.empty()) j[k] = v;
}
void PutNum(json& j, const char* k, uint64_t v) {
  if (v) j[k] = int64_t(v);
}
std::string Str(const json& j, const char* k) { return j.value(k, std::string()); }
uint64_t Num(const json& j, const char* k) { return uint64_t(j.value(k, int64_t(0))); }

json SpanJson(const ContainerSpan& s) {
  json j = {{"p", s.parent}, {"from", int64_t(s.from)}};
  PutNum(j, "to", s.to);
  return j;
}
ContainerSpan SpanFrom(const json& j) { return {Str(j, "p"), Num(j, "from"), Num(j, "to")}; }

}  // namespace

json ObjState::ToJson() const {
  json j = {{"epc", epc}, {"scheme", scheme}};
  PutStr(j, "gtin", gtin);
  PutStr(j, "serial", serial);
  if (commissioned()) {
    json c = {{"event", com_event}, {"org", com_org}, {"seq", int64_t(com_seq)}};
    if (lot) c["lot"] = *lot;
    if (expiry) c["expiry"] = *expiry;
    j["com"] = c;
  }
  PutStr(j, "gln", gln);
  PutStr(j, "org", org);
  if (shipment) {
    json s = {{"event", shipment->event},
              {"seq", int64_t(shipment->seq)},
              {"to_loc", shipment->to_locations},
              {"to_party", shipment->to_parties}};
    PutStr(s, "from_gln", shipment->from_gln);
    PutStr(s, "from_org", shipment->from_org);
    j["ship"] = s;
  }
  if (early) {
    json e = {{"event", early->event}, {"seq", int64_t(early->seq)}};
    PutStr(e, "prev_gln", early->prev_gln);
    PutStr(e, "prev_org", early->prev_org);
    PutStr(e, "gln", early->gln);
    PutStr(e, "org", early->org);
    j["early"] = e;
  }
  if (!disp.empty()) j["disp"] = {{"v", disp}, {"event", disp_event}, {"seq", int64_t(disp_seq)}};
  if (parent) j["parent"] = SpanJson(*parent);
  if (!past.empty()) {
    json a = json::array();
    for (const auto& s : past) a.push_back(SpanJson(s));
    j["past"] = a;
  }
  if (!marks.empty()) {
    json a = json::array();
    for (const auto& m : marks) a.push_back({{"reason", m.reason}, {"event", m.event}, {"seq", int64_t(m.seq)}});
    j["marks"] = a;
  }
  PutNum(j, "cleared", cleared_seq);
  PutNum(j, "last", last_seq);
  return j;
}

ObjState ObjState::FromJson(std::string oid, const json& j) {
  ObjState o;
  o.oid = std::move(oid);
  o.epc = Str(j, "epc");
  o.scheme = Str(j, "scheme");
  o.gtin = Str(j, "gtin");
  o.serial = Str(j, "serial");
  if (auto c = j.find("com"); c != j.end()) {
    o.com_event = Str(*c, "event");
    o.com_org = Str(*c, "org");
    o.com_seq = Num(*c, "seq");
    if (c->contains("lot")) o.lot = Str(*c, "lot");
    if (c->contains("expiry")) o.expiry = Str(*c, "expiry");
  }
  o.gln = Str(j, "gln");
  o.org = Str(j, "org");
  if (auto s = j.find("ship"); s != j.end()) {
    Shipment sh;
    sh.event = Str(*s, "event");
    sh.seq = Num(*s, "seq");
    sh.from_gln = Str(*s, "from_gln");
    sh.from_org = Str(*s, "from_org");
    sh.to_locations = s->value("to_loc", std::vector<std::string>());
    sh.to_parties = s->value("to_party", std::vector<std::string>());
    o.shipment = std::move(sh);
  }
  if (auto e = j.find("early"); e != j.end())
    o.early = EarlyReceipt{Str(*e, "event"),    Num(*e, "seq"), Str(*e, "prev_gln"),
                           Str(*e, "prev_org"), Str(*e, "gln"), Str(*e, "org")};
  if (auto d = j.find("disp"); d != j.end()) {
    o.disp = Str(*d, "v");
    o.disp_event = Str(*d, "event");
    o.disp_seq = Num(*d, "seq");
  }
  if (auto p = j.find("parent"); p != j.end()) o.parent = SpanFrom(*p);
  if (auto p = j.find("past"); p != j.end())
    for (const auto& s : *p) o.past.push_back(SpanFrom(s));
  if (auto m = j.find("marks"); m != j.end())
    for (const auto& x : *m) o.marks.push_back({Str(x, "reason"), Str(x, "event"), Num(x, "seq")});
  o.cleared_seq = Num(j, "cleared");
  o.last_seq = Num(j, "last");
  return o;
}

std::optional<ObjState> LoadObject(const state::StateReader& st, std::string_view oid) {
  auto d = LoadDoc(st, ObjectKey(oid));
  if (!d) return std::nullopt;
  return ObjState::FromJson(std::string(oid), *d);
}

const ObjState* StateObjects::Find(const std::string& oid) {
  for (const auto& o : held_)
    if (o->oid == oid) return o.get();
  if (std::find(missing_.begin(), missing_.end(), oid) != missing_.end()) return nullptr;
  auto o = LoadObject(st_, oid);
  if (!o) {
    missing_.push_back(oid);
    return nullptr;
  }
  held_.push_back(std::make_unique<ObjState>(std::move(*o)));
  return held_.back().get();
}

Effective Resolve(ObjectSource& src, const ObjState& self) {
  Effective e;
  e.chain.push_back(&self);
  e.top = &self;
  e.disp = self.disp;
  e.disp_event = self.disp_event;
  e.disp_seq = self.disp_seq;
  for (const auto& m : self.marks)
    if (m.seq > self.cleared_seq) e.marks.push_back(m);
  // `since`: from when the object has been inside this ancestor, through
  // every link below it; only what happened to the ancestor since counts.
  uint64_t since = 0;
  const ObjState* cur = &self;
  for (int depth = 0; depth < kMaxDepth && cur->parent; ++depth) {
    since = std::max(since, cur->parent->from);
    const ObjState* up = src.Find(cur->parent->parent);
    if (!up || std::find(e.chain.begin(), e.chain.end(), up) != e.chain.end()) break;
    e.chain.push_back(up);
    e.top = up;
    if (!up->disp.empty() && up->disp_seq >= since && up->disp_seq > e.disp_seq) {
      e.disp = up->disp;
      e.disp_event = up->disp_event;
      e.disp_seq = up->disp_seq;
    }
    for (const auto& m : up->marks)
      if (m.seq >= since && m.seq > self.cleared_seq && m.seq > up->cleared_seq) e.marks.push_back(m);
    cur = up;
  }
  e.gln = e.top->gln;
  e.org = e.top->org;
  e.shipment = e.top->shipment ? &*e.top->shipment : nullptr;
  return e;
}

}  // namespace medledger::supply
