#include "supply/rules.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "state/module.h"
#include "supply/registry.h"
#include "supply/schema.h"

namespace medledger::supply {

using epcis::Action;
using epcis::EventType;
using epcis::Scheme;

namespace {

// Marks kept per object: enough evidence for any investigation, and a bound
// on the record a hostile party could grow by capturing events about it.
constexpr size_t kMaxMarks = 32;

bool IsDispensing(const Facts& f) {
  return f.type == EventType::kObject && f.action == Action::kObserve && f.biz_step == "dispensing" &&
         (f.disposition == "dispensed" || f.disposition == "partially_dispensed");
}

// Schemes whose number carries a GS1 company prefix that the ledger checks.
bool PrefixBearing(Scheme s) { return s == Scheme::kSgtin || s == Scheme::kSscc; }

void AddOnce(std::vector<std::string>& v, const char* s) {
  if (std::find(v.begin(), v.end(), s) == v.end()) v.emplace_back(s);
}

}  // namespace

bool IsSaleable(std::string_view d) {
  return d == "active" || d == "in_progress" || d == "in_transit" || d == "partially_dispensed" ||
         d.starts_with("sellable_");
}

class RuleEngine::CacheSource : public ObjectSource {
 public:
  explicit CacheSource(RuleEngine& e) : e_(e) {}
  const ObjState* Find(const std::string& oid) override { return e_.Find(oid); }

 private:
  RuleEngine& e_;
};

std::vector<std::pair<std::string, Role>> RuleEngine::Named(const Facts& f) {
  std::vector<std::pair<std::string, Role>> out;
  if (!f.parent.empty()) out.emplace_back(f.parent, Role::kParent);  // first: children link to it
  for (const auto& x : f.epcs) out.emplace_back(x, Role::kEpc);
  for (const auto& x : f.children) out.emplace_back(x, Role::kChild);
  for (const auto& x : f.inputs) out.emplace_back(x, Role::kInput);
  for (const auto& x : f.outputs) out.emplace_back(x, Role::kOutput);
  for (const auto& x : f.classes) out.emplace_back(x, Role::kClass);
  return out;
}

const RuleEngine::Parsed& RuleEngine::Parse(const std::string& id) {
  auto [it, fresh] = parsed_.try_emplace(id);
  if (!fresh) return it->second;
  Parsed& p = it->second;
  if (epcis::IsGs1Uri(id))
    if (auto k = epcis::ParseGs1Uri(id); k.ok()) {
      p.instance = k->instance_level;
      p.key = std::move(*k);
    }
  p.oid = p.key ? Oid(*p.key) : OidOfUri(id);
  return p;
}

ObjState* RuleEngine::Find(const std::string& oid) {
  if (auto it = cache_.find(oid); it != cache_.end()) return &it->second;
  if (missing_.count(oid)) return nullptr;
  auto o = LoadObject(st_, oid);
  if (!o) {
    missing_.insert(oid);
    return nullptr;
  }
  return &cache_.emplace(oid, std::move(*o)).first->second;
}

ObjState& RuleEngine::Get(const std::string& id, const Parsed& p) {
  const std::string& oid = p.oid;
  if (ObjState* o = Find(oid)) return *o;
  missing_.erase(oid);
  ObjState o;
  o.oid = oid;
  o.epc = id;
  o.scheme = p.key ? epcis::SchemeName(p.key->scheme) : "other";
  if (p.key && p.key->scheme == Scheme::kSgtin) {
    o.gtin = p.key->gtin14;
    o.serial = p.key->serial;
  }
  dirty_.insert(oid);
  return cache_.emplace(oid, std::move(o)).first->second;
}

std::optional<std::string> RuleEngine::HolderOrgOfNumber(const std::string& number) {
  auto key = "n" + number;
  if (auto it = holders_.find(key); it != holders_.end()) return it->second;
  auto h = HolderOfNumber(st_, number);
  return holders_[key] = h ? std::optional<std::string>(h->org) : std::nullopt;
}

std::optional<std::string> RuleEngine::HolderOrg(const epcis::Gs1Key& key) {
  switch (key.scheme) {
    case Scheme::kSgtin:
    case Scheme::kLgtin:
    case Scheme::kGtin: {
      auto k = "g" + key.gtin14;
      if (auto it = holders_.find(k); it != holders_.end()) return it->second;
      auto h = HolderOfGtin(st_, key.gtin14);
      return holders_[k] = h ? std::optional<std::string>(h->org) : std::nullopt;
    }
    case Scheme::kSgln:
    case Scheme::kPgln:
      return HolderOrgOfNumber(key.gln13);
    case Scheme::kSscc:
      return key.sscc18.size() == 18 ? HolderOrgOfNumber(key.sscc18.substr(1)) : std::nullopt;
    default:
      return std::nullopt;
  }
}

std::string RuleEngine::LocationGln(const Facts& f) {
  // Asked once per object an event names: Parse memoises.
  for (const std::string* loc : {&f.biz_location, &f.read_point}) {
    if (loc->empty()) continue;
    const Parsed& p = Parse(*loc);
    if (p.key && p.key->scheme == Scheme::kSgln) return p.key->gln13;
  }
  return "";
}

void RuleEngine::Mark(ObjState& o, const Facts& f, const char* reason, RuleResult& r) {
  if (o.marks.size() < kMaxMarks) o.marks.push_back({reason, f.hash, f.seq});
  AddOnce(r.suspect, reason);
  Dirty(o);
}

void RuleEngine::Note(const char* note, RuleResult& r) { AddOnce(r.notes, note); }

bool RuleEngine::IsCustodian(const ObjState& o, const std::string& gln, const std::string& org) {
  CacheSource src(*this);
  Effective e = Resolve(src, o);
  // Custody is per location: where both the custodian and the event name a
  // GLN they must be the same; otherwise the organisations are compared.
  if (!e.gln.empty() && !gln.empty()) return e.gln == gln;
  return e.org.empty() || e.org == org;
}

void RuleEngine::Detach(ObjState& o, uint64_t seq) {
  if (!o.parent) return;
  CacheSource src(*this);
  Effective e = Resolve(src, o);
  // What the containers said about it while it was inside becomes its own.
  std::optional<Shipment> shipment = e.shipment ? std::optional<Shipment>(*e.shipment) : std::nullopt;
  std::string gln = e.gln, org = e.org;
  if (e.disp_seq > o.disp_seq) {
    o.disp = e.disp;
    o.disp_event = e.disp_event;
    o.disp_seq = e.disp_seq;
  }
  for (const auto& m : e.marks) {
    bool own = std::any_of(o.marks.begin(), o.marks.end(),
                           [&](const struct Mark& x) { return x.event == m.event && x.reason == m.reason; });
    if (!own && o.marks.size() < kMaxMarks) o.marks.push_back(m);
  }
  o.gln = gln;
  o.org = org;
  o.shipment = std::move(shipment);
  st_.Delete(ChildKey(o.parent->parent, o.oid));
  o.past.push_back({o.parent->parent, o.parent->from, seq});
  o.parent.reset();
  Dirty(o);
}

bool RuleEngine::Link(ObjState& child, ObjState& parent, uint64_t seq) {
  const ObjState* cur = &parent;
  for (int depth = 0; cur && depth <= kMaxDepth; ++depth) {
    if (cur->oid == child.oid) return false;
    cur = cur->parent ? Find(cur->parent->parent) : nullptr;
  }
  if (child.parent && child.parent->parent == parent.oid) return true;
  Detach(child, seq);
  child.parent = ContainerSpan{parent.oid, seq, 0};
  st_.Put(ChildKey(parent.oid, child.oid), state::EncodeState(nlohmann::json::object()));
  Dirty(child);
  return true;
}

bool RuleEngine::ShipmentNames(const std::vector<std::string>& locs, const std::vector<std::string>& parties,
                               const std::string& gln, const std::string& org) {
  // A named location must be the receiving one; a named party must be the
  // receiver or hold the receiving GLN's prefix.
  if (!gln.empty() && !locs.empty()) return std::find(locs.begin(), locs.end(), gln) != locs.end();
  for (const auto* list : {&locs, &parties})
    for (const auto& id : *list) {
      if (id == gln) return true;
      auto h = HolderOrgOfNumber(id);
      if (h && *h == org) return true;
    }
  return false;
}

void RuleEngine::Commission(ObjState& o, const Parsed& p, const Facts& f, RuleResult& r) {
  if (o.commissioned()) {
    Mark(o, f, kCommissionedTwice, r);
    if (f.lot && o.lot && *f.lot != *o.lot) Mark(o, f, kLotDiffers, r);
    if (f.expiry && o.expiry && *f.expiry != *o.expiry) Mark(o, f, kExpiryDiffers, r);
    return;
  }
  if (p.key && PrefixBearing(p.key->scheme)) {
    auto holder = HolderOrg(*p.key);
    if (!holder)
      Note(kPrefixNotRegistered, r);
    else if (*holder != f.org)
      Mark(o, f, kOtherHoldersGtin, r);
  }
  o.com_event = f.hash;
  o.com_org = f.org;
  o.com_seq = f.seq;
  o.lot = f.lot;
  o.expiry = f.expiry;
  o.gln = LocationGln(f);
  o.org = f.org;
  o.shipment.reset();
  o.early.reset();
  o.disp = f.disposition.empty() ? "active" : f.disposition;
  o.disp_event = f.hash;
  o.disp_seq = f.seq;
  if (!o.gtin.empty() && o.lot)
    st_.Put(LotPackPrefix(o.gtin, *o.lot) + o.oid, state::EncodeState(nlohmann::json::object()));
  Dirty(o);
}

void RuleEngine::Touch(ObjState& o, const Parsed& p, const Facts& f, RuleResult& r) {
  if (p.key && p.key->scheme == Scheme::kSgtin) {
    // "Never commissioned" is evidence only when the manufacturer is on the
    // ledger: without a prefix holder nobody could have commissioned it here.
    if (!HolderOrg(*p.key))
      Note(kPrefixNotRegistered, r);
    else if (!o.commissioned())
      Mark(o, f, kNeverCommissioned, r);
  }
  if (o.commissioned()) {
    if (f.lot && o.lot && *f.lot != *o.lot) Mark(o, f, kLotDiffers, r);
    if (f.expiry && o.expiry && *f.expiry != *o.expiry) Mark(o, f, kExpiryDiffers, r);
  }
}

void RuleEngine::SetDisposition(ObjState& o, const Facts& f) {
  if (f.disposition.empty()) return;
  o.disp = f.disposition;
  o.disp_event = f.hash;
  o.disp_seq = f.seq;
  Dirty(o);
}

void RuleEngine::Ship(ObjState& o, const Facts& f, const std::string& gln, RuleResult& r) {
  Detach(o, f.seq);
  std::vector<std::string> locs, parties;
  for (const auto& d : f.destinations) {
    if (!epcis::IsGs1Uri(d.id)) continue;
    auto k = epcis::ParseGs1Uri(d.id);
    if (!k.ok() || k->gln13.empty()) continue;
    if (d.type == "location")
      locs.push_back(k->gln13);
    else if (d.type == "possessing_party" || d.type == "owning_party")
      parties.push_back(k->gln13);
  }
  // A receiving recorded before this shipping (docs/SUPPLY.md): the
  // shipping from the former custodian to that receiver settles it.
  if (o.early && ShipmentNames(locs, parties, o.early->gln, o.early->org)) {
    bool from_former = (!gln.empty() && !o.early->prev_gln.empty())
                           ? gln == o.early->prev_gln
                           : o.early->prev_org.empty() || f.org == o.early->prev_org;
    if (from_former) {
      std::erase_if(o.marks,
                    [&](const struct Mark& m) { return m.reason == kReceivedUnshipped && m.event == o.early->event; });
      o.early.reset();
      Note(kReconciled, r);
      Dirty(o);
      return;
    }
  }
  if (!IsCustodian(o, gln, f.org)) Mark(o, f, kShippedByOther, r);
  o.early.reset();
  o.shipment = Shipment{f.hash, f.seq, gln.empty() ? o.gln : gln, f.org, std::move(locs), std::move(parties)};
  Dirty(o);
}

void RuleEngine::Receive(ObjState& o, const Facts& f, const std::string& gln, RuleResult& r) {
  Detach(o, f.seq);
  if (o.shipment) {
    if (!ShipmentNames(o.shipment->to_locations, o.shipment->to_parties, gln, f.org)) Mark(o, f, kWrongReceiver, r);
    o.shipment.reset();
  } else if (IsCustodian(o, gln, f.org)) {
    return;  // received again where it already is
  } else {
    o.early = EarlyReceipt{f.hash, f.seq, o.gln, o.org, gln, f.org};
    Mark(o, f, kReceivedUnshipped, r);
  }
  o.gln = gln;
  o.org = f.org;
  Dirty(o);
}

void RuleEngine::ApplyToObject(ObjState& o, const Parsed& p, const Facts& f, Role role, RuleResult& r) {
  o.last_seq = std::max(o.last_seq, f.seq);
  Dirty(o);
  if (f.type == EventType::kAssociation) return;  // sensors and assets: indexed, no custody rules
  const std::string gln = LocationGln(f);
  if (!gln.empty())
    if (auto h = HolderOrgOfNumber(gln); h && *h != f.org) Mark(o, f, kForeignLocation, r);
  if (f.disposition == "stolen") Mark(o, f, kStolen, r);

  auto steps = [&] {
    if (f.biz_step == "shipping") {
      Ship(o, f, gln, r);
    } else if (f.biz_step == "receiving") {
      Receive(o, f, gln, r);
    } else if (IsDispensing(f)) {
      Detach(o, f.seq);
      if (o.disp == "dispensed") Mark(o, f, kDispensedTwice, r);
      if (!IsCustodian(o, gln, f.org)) Mark(o, f, kDispensedByOther, r);
    }
    SetDisposition(o, f);
  };

  switch (f.type) {
    case EventType::kObject:
      if (role != Role::kEpc) return;
      if (f.action == Action::kAdd) return Commission(o, p, f, r);
      Touch(o, p, f, r);
      if (f.action == Action::kDelete) {
        Detach(o, f.seq);
        if (!IsCustodian(o, gln, f.org)) Mark(o, f, kDecommissionedByOther, r);
        o.disp = f.disposition.empty() ? "inactive" : f.disposition;
        o.disp_event = f.hash;
        o.disp_seq = f.seq;
        return;
      }
      return steps();
    case EventType::kTransaction:
      Touch(o, p, f, r);
      return steps();
    case EventType::kAggregation:
      Touch(o, p, f, r);
      if (role == Role::kParent) {
        // A new container is where it was packed.
        if (o.gln.empty() && o.org.empty() && !o.parent) {
          o.gln = gln;
          o.org = f.org;
        }
        return steps();
      }
      if (role != Role::kChild) return;
      if (f.action == Action::kDelete) return Detach(o, f.seq);
      if (f.parent.empty()) return;
      {
        ObjState& parent = Get(f.parent, Parse(f.parent));
        if (o.parent && o.parent->parent == parent.oid) return;
        if (!IsCustodian(o, gln, f.org)) Mark(o, f, kAggregatedByOther, r);
        if (!Link(o, parent, f.seq)) Mark(o, f, kAggregationCycle, r);
      }
      return;
    case EventType::kTransformation:
      if (role == Role::kOutput) return Commission(o, p, f, r);
      return Touch(o, p, f, r);
    case EventType::kAssociation:
      return;
  }
}

RuleResult RuleEngine::Apply(const Facts& f, std::vector<std::pair<std::string, Role>>* ids) {
  RuleResult r;
  const size_t n = ids->size();
  for (size_t i = 0; i < n; ++i) {
    const auto [id, role] = (*ids)[i];
    if (role == Role::kClass) continue;
    const Parsed& p = Parse(id);
    if (!p.instance) continue;  // a class names no single pack
    ApplyToObject(Get(id, p), p, f, role, r);
  }
  // An aggregation DELETE without childEPCs empties the container.
  if (f.type == EventType::kAggregation && f.action == Action::kDelete && f.children.empty() && !f.parent.empty()) {
    ObjState& parent = Get(f.parent, Parse(f.parent));
    std::vector<std::string> kids;
    const std::string prefix = ChildKey(parent.oid, "");
    st_.Scan(prefix, [&](std::string_view key, const Bytes&) {
      kids.emplace_back(key.substr(prefix.size()));
      return true;
    });
    for (const auto& oid : kids)
      if (ObjState* c = Find(oid)) {
        c->last_seq = std::max(c->last_seq, f.seq);
        Detach(*c, f.seq);
        ids->emplace_back(c->epc, Role::kChild);
      }
  }
  return r;
}

void RuleEngine::Rebuild(const std::string& oid) {
  ObjState* cur = Find(oid);
  if (!cur) return;
  ObjState fresh;
  fresh.oid = cur->oid;
  fresh.epc = cur->epc;
  fresh.scheme = cur->scheme;
  fresh.gtin = cur->gtin;
  fresh.serial = cur->serial;
  fresh.cleared_seq = cur->cleared_seq;
  if (cur->parent) st_.Delete(ChildKey(cur->parent->parent, oid));
  if (cur->commissioned() && !cur->gtin.empty() && cur->lot) st_.Delete(LotPackPrefix(cur->gtin, *cur->lot) + oid);
  *cur = std::move(fresh);
  Dirty(*cur);
  const Parsed& p = Parse(cur->epc);
  for (const auto& [seq, role] : EventsOf(st_, oid)) {
    auto e = GetEventBySeq(st_, seq);
    if (!e || e->retracted) continue;
    RuleResult ignored;
    ApplyToObject(*cur, p, e->facts, role, ignored);
  }
}

void RuleEngine::Flush() {
  for (const auto& oid : dirty_) st_.Put(ObjectKey(oid), state::EncodeState(cache_.at(oid).ToJson()));
  dirty_.clear();
}

}  // namespace medledger::supply
