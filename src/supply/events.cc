#include "supply/events.h"

#include <algorithm>
#include <charconv>
#include <map>
#include <nlohmann/json.hpp>

#include "model/value.h"
#include "state/module.h"
#include "supply/schema.h"

namespace medledger::supply {

using nlohmann::json;

namespace {

// The stored names of event types and actions (docs/SUPPLY.md): the EPCIS
// names, so a record reads as the standard does.
constexpr const char* kTypeNames[] = {"ObjectEvent", "AggregationEvent", "TransactionEvent", "TransformationEvent",
                                      "AssociationEvent"};
constexpr const char* kActionNames[] = {"", "ADD", "OBSERVE", "DELETE"};

const char* TypeName(epcis::EventType t) { return kTypeNames[int(t)]; }
epcis::EventType TypeFrom(const std::string& s) {
  for (int i = 0; i < 5; ++i)
    if (s == kTypeNames[i]) return epcis::EventType(i);
  return epcis::EventType::kObject;
}
epcis::Action ActionFrom(const std::string& s) {
  for (int i = 0; i < 4; ++i)
    if (s == kActionNames[i]) return epcis::Action(i);
  return epcis::Action::kNone;
}

json SdJson(const std::vector<epcis::SourceDest>& v) {
  json a = json::array();
  for (const auto& s : v) a.push_back({{"type", s.type}, {"id", s.id}});
  return a;
}
std::vector<epcis::SourceDest> SdFrom(const json& j, const char* k) {
  std::vector<epcis::SourceDest> out;
  if (auto it = j.find(k); it != j.end())
    for (const auto& s : *it) out.push_back({s.value("type", ""), s.value("id", "")});
  return out;
}
std::vector<std::string> Strs(const json& j, const char* k) { return j.value(k, std::vector<std::string>()); }

std::string RoleString(const std::vector<Role>& roles) {
  std::string s;
  for (Role r : roles) s.push_back(char(r));
  return s;
}

json RecordJson(const StoredEvent& e) {
  json j = {{"facts", e.facts.ToJson()}, {"json", e.json},    {"context", e.context},
            {"capture", e.capture_id},   {"tx", e.tx},        {"height", int64_t(e.height)},
            {"outcome", e.outcome},      {"reason", e.reason}};
  if (!e.released.empty()) j["released"] = e.released;
  if (e.retracted) {
    const auto& r = *e.retracted;
    j["retracted"] = {{"tx", r.tx},
                      {"capture", r.capture_id},
                      {"declaration_time", r.declaration_time},
                      {"reason", r.reason},
                      {"corrective_event_ids", r.corrective_event_ids},
                      {"height", int64_t(r.height)}};
  }
  return j;
}

StoredEvent RecordFrom(const json& j) {
  StoredEvent e;
  e.facts = Facts::FromJson(j.at("facts"));
  e.json = j.value("json", "");
  e.context = j.value("context", "");
  e.capture_id = j.value("capture", "");
  e.tx = j.value("tx", "");
  e.height = uint64_t(j.value("height", int64_t(0)));
  e.outcome = j.value("outcome", "");
  e.reason = j.value("reason", "");
  e.released = Strs(j, "released");
  if (auto r = j.find("retracted"); r != j.end())
    e.retracted =
        Retraction{r->value("tx", ""),     r->value("capture", ""),          r->value("declaration_time", ""),
                   r->value("reason", ""), Strs(*r, "corrective_event_ids"), uint64_t(r->value("height", int64_t(0)))};
  return e;
}

std::optional<uint64_t> ParseSeq(std::string_view s) {
  uint64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

bool AnyOf(const std::vector<std::string>& want, const std::string& have) {
  return std::find(want.begin(), want.end(), have) != want.end();
}
bool AnyIn(const std::vector<std::string>& want, const std::vector<std::string>& have) {
  for (const auto& h : have)
    if (AnyOf(want, h)) return true;
  return false;
}

}  // namespace

Facts Facts::From(const epcis::Event& e) {
  Facts f;
  f.event_id = e.event_id;
  f.type = e.type;
  f.action = e.action;
  f.event_time = e.event_time;
  f.event_time_ms = e.event_time_ms;
  f.biz_step = e.biz_step;
  f.disposition = e.disposition;
  f.read_point = e.read_point;
  f.biz_location = e.biz_location;
  f.epcs = e.epc_list;
  f.children = e.child_epcs;
  f.inputs = e.input_epcs;
  f.outputs = e.output_epcs;
  f.parent = e.parent_id;
  for (const auto* list : {&e.quantity_list, &e.child_quantity_list, &e.input_quantity_list, &e.output_quantity_list})
    for (const auto& q : *list) f.classes.push_back(q.epc_class);
  f.sources = e.sources;
  f.destinations = e.destinations;
  f.lot = e.lot;
  f.expiry = e.expiry;
  f.hash = HashHex(e.hash_id);
  return f;
}

json Facts::ToJson() const {
  json j = {{"seq", int64_t(seq)},
            {"hash", hash},
            {"event_id", event_id},
            {"type", TypeName(type)},
            {"action", kActionNames[int(action)]},
            {"time", event_time},
            {"time_ms", event_time_ms},
            {"org", org},
            {"party", party}};
  auto put = [&](const char* k, const std::string& v) {
    if (!v.empty()) j[k] = v;
  };
  auto puts = [&](const char* k, const std::vector<std::string>& v) {
    if (!v.empty()) j[k] = v;
  };
  put("step", biz_step);
  put("disp", disposition);
  put("rp", read_point);
  put("loc", biz_location);
  put("parent", parent);
  puts("epcs", epcs);
  puts("children", children);
  puts("inputs", inputs);
  puts("outputs", outputs);
  puts("classes", classes);
  if (!sources.empty()) j["src"] = SdJson(sources);
  if (!destinations.empty()) j["dest"] = SdJson(destinations);
  if (lot) j["lot"] = *lot;
  if (expiry) j["expiry"] = *expiry;
  return j;
}

Facts Facts::FromJson(const json& j) {
  Facts f;
  f.seq = uint64_t(j.value("seq", int64_t(0)));
  f.hash = j.value("hash", "");
  f.event_id = j.value("event_id", "");
  f.type = TypeFrom(j.value("type", ""));
  f.action = ActionFrom(j.value("action", ""));
  f.event_time = j.value("time", "");
  f.event_time_ms = j.value("time_ms", int64_t(0));
  f.org = j.value("org", "");
  f.party = j.value("party", "");
  f.biz_step = j.value("step", "");
  f.disposition = j.value("disp", "");
  f.read_point = j.value("rp", "");
  f.biz_location = j.value("loc", "");
  f.parent = j.value("parent", "");
  f.epcs = Strs(j, "epcs");
  f.children = Strs(j, "children");
  f.inputs = Strs(j, "inputs");
  f.outputs = Strs(j, "outputs");
  f.classes = Strs(j, "classes");
  f.sources = SdFrom(j, "src");
  f.destinations = SdFrom(j, "dest");
  if (j.contains("lot")) f.lot = j["lot"].get<std::string>();
  if (j.contains("expiry")) f.expiry = j["expiry"].get<std::string>();
  return f;
}

uint64_t NextEventSeq(state::Overlay& st) {
  auto d = LoadDoc(st, kEventCountKey);
  uint64_t n = d ? uint64_t(d->value("n", int64_t(0))) + 1 : 1;
  st.Put(std::string(kEventCountKey), state::EncodeState({{"n", int64_t(n)}}));
  return n;
}

void PutEvent(state::Overlay& st, const StoredEvent& e, const std::vector<std::pair<std::string, Role>>& ids,
              const std::vector<std::string>& oids) {
  const Facts& f = e.facts;
  const std::string seq = Pad(f.seq);
  st.Put(EventKey(f.hash), state::EncodeState(RecordJson(e)));
  // The seq key and the epc index values are flat: written field by field,
  // not through a json tree (byte-for-byte EncodeState's output).
  Bytes ref;
  model::ObjectWriter(&ref, 1).String("h", f.hash);
  st.Put(EventSeqKey(f.seq), std::move(ref));
  // One epc index entry per object, with every role it plays in the event.
  std::map<std::string_view, std::vector<Role>> by_oid;
  for (size_t i = 0; i < ids.size(); ++i) {
    auto& roles = by_oid[oids[i]];
    const Role role = ids[i].second;
    if (std::find(roles.begin(), roles.end(), role) == roles.end()) roles.push_back(role);
  }
  for (const auto& [oid, roles] : by_oid) {
    Bytes v;
    model::ObjectWriter(&v, 2).String("h", f.hash).String("r", RoleString(roles));
    st.Put(IndexPrefix(kIxEpc, oid) + seq, std::move(v));
  }
  // The other indexes hold no value: the key's seq leads to the event
  // through sup/evseq/ (one more point read per candidate at query time).
  // An event writes up to six of them, and a hash in each went through
  // every RocksDB flush and compaction: the moves phase is storage-bound.
  auto index = [&](std::string_view dim, const std::string& v) {
    if (!v.empty()) st.Put(IndexPrefix(dim, KeyPart(v)) + seq, Bytes());
  };
  index(kIxStep, f.biz_step);
  index(kIxDisp, f.disposition);
  index(kIxLoc, f.biz_location);
  index(kIxRp, f.read_point);
  if (f.lot) index(kIxLot, *f.lot);
  st.Put(IndexPrefix(kIxTime, Pad(uint64_t(std::max<int64_t>(0, f.event_time_ms)))) + seq, Bytes());
}

void UpdateEvent(state::Overlay& st, const StoredEvent& e) {
  st.Put(EventKey(e.facts.hash), state::EncodeState(RecordJson(e)));
}

std::optional<StoredEvent> GetEvent(const state::StateReader& st, std::string_view hash_hex) {
  auto d = LoadDoc(st, EventKey(hash_hex));
  if (!d) return std::nullopt;
  return RecordFrom(*d);
}

std::optional<StoredEvent> GetEventBySeq(const state::StateReader& st, uint64_t seq) {
  auto d = LoadDoc(st, EventSeqKey(seq));
  if (!d) return std::nullopt;
  return GetEvent(st, d->value("h", ""));
}

std::vector<std::pair<uint64_t, Role>> EventsOf(const state::StateReader& st, std::string_view oid) {
  std::vector<std::pair<uint64_t, Role>> out;
  const std::string prefix = IndexPrefix(kIxEpc, oid);
  st.Scan(prefix, [&](std::string_view key, const Bytes& v) {
    auto seq = ParseSeq(key.substr(prefix.size()));
    auto d = state::DecodeState(v);
    if (seq && d)
      for (char r : d->value("r", std::string())) out.emplace_back(*seq, Role(r));
    return true;
  });
  return out;
}

bool Matches(const StoredEvent& e, const EventQuery& q) {
  const Facts& f = e.facts;
  if (!q.include_retracted && e.retracted) return false;
  if (!q.event_types.empty() && !AnyOf(q.event_types, TypeName(f.type))) return false;
  if (!q.match_epc.empty() || !q.match_any_epc.empty()) {
    // The children an emptying aggregation released count as its childEPCs.
    auto named = [&](const std::vector<std::string>& want) {
      return AnyIn(want, f.epcs) || AnyIn(want, f.children) || AnyIn(want, e.released) || AnyIn(want, f.inputs) ||
             AnyIn(want, f.outputs);
    };
    if (!q.match_epc.empty() && !named(q.match_epc)) return false;
    if (!q.match_any_epc.empty() && !(named(q.match_any_epc) || AnyOf(q.match_any_epc, f.parent))) return false;
  }
  if (!q.match_parent.empty() && !AnyOf(q.match_parent, f.parent)) return false;
  if (!q.match_epc_class.empty() && !AnyIn(q.match_epc_class, f.classes)) return false;
  if (!q.biz_steps.empty() && !AnyOf(q.biz_steps, f.biz_step)) return false;
  if (!q.dispositions.empty() && !AnyOf(q.dispositions, f.disposition)) return false;
  if (!q.biz_locations.empty() && !AnyOf(q.biz_locations, f.biz_location)) return false;
  if (!q.read_points.empty() && !AnyOf(q.read_points, f.read_point)) return false;
  if (!q.lots.empty() && !(f.lot && AnyOf(q.lots, *f.lot))) return false;
  if (q.ge_event_time_ms && f.event_time_ms < *q.ge_event_time_ms) return false;
  if (q.lt_event_time_ms && f.event_time_ms >= *q.lt_event_time_ms) return false;
  if (q.ge_expiry && !(f.expiry && *f.expiry >= *q.ge_expiry)) return false;
  if (q.lt_expiry && !(f.expiry && *f.expiry < *q.lt_expiry)) return false;
  return true;
}

Result<EventPage> QueryEvents(const state::StateReader& st, const EventQuery& q, std::string_view page_token,
                              size_t per_page) {
  uint64_t after = 0;
  if (!page_token.empty()) {
    auto t = ParseSeq(page_token);
    if (!t) return InvalidArgument("nextPageToken is not one this server handed out");
    after = *t;
  }
  per_page = std::max<size_t>(1, per_page);
  const size_t need = per_page + 1;  // one more tells whether a next page exists
  std::vector<std::pair<uint64_t, StoredEvent>> found;

  // Candidates come from the most selective index the query names; every
  // candidate is checked against the whole query. Within one index value
  // the keys are in seq order, so the first `need` matches of each value
  // hold the first `need` of their union.
  auto drive = [&](std::string_view dim, const std::vector<std::string>& values, bool oids) {
    for (const auto& v : values) {
      size_t got = 0;
      const std::string prefix = IndexPrefix(dim, oids ? OidOf(v) : KeyPart(v));
      ScanAfter(st, prefix, after ? Pad(after) : std::string(), [&](std::string_view key, const Bytes& val) {
        auto seq = ParseSeq(key.substr(prefix.size()));
        if (!seq) return true;
        std::optional<StoredEvent> e;
        if (oids) {
          if (auto d = state::DecodeState(val)) e = GetEvent(st, d->value("h", ""));
        } else {
          e = GetEventBySeq(st, *seq);
        }
        if (e && Matches(*e, q)) {
          found.emplace_back(*seq, std::move(*e));
          ++got;
        }
        return got < need;
      });
    }
  };
  if (!q.match_epc.empty()) {
    drive(kIxEpc, q.match_epc, true);
  } else if (!q.match_any_epc.empty()) {
    drive(kIxEpc, q.match_any_epc, true);
  } else if (!q.match_parent.empty()) {
    drive(kIxEpc, q.match_parent, true);
  } else if (!q.match_epc_class.empty()) {
    drive(kIxEpc, q.match_epc_class, true);  // quantity classes are indexed with role q
  } else if (!q.lots.empty()) {
    drive(kIxLot, q.lots, false);
  } else if (!q.biz_locations.empty()) {
    drive(kIxLoc, q.biz_locations, false);
  } else if (!q.read_points.empty()) {
    drive(kIxRp, q.read_points, false);
  } else if (!q.dispositions.empty()) {
    drive(kIxDisp, q.dispositions, false);
  } else if (!q.biz_steps.empty()) {
    drive(kIxStep, q.biz_steps, false);
  } else if (q.ge_event_time_ms) {
    // The time index is in time order, not seq order: collect the range's
    // seqs, then read them in seq order.
    std::vector<uint64_t> seqs;
    const std::string prefix = "sup/ix/time/";
    std::string from =
        *q.ge_event_time_ms > 0 ? Pad(uint64_t(*q.ge_event_time_ms - 1)) + "/" + std::string(20, '9') : "";
    ScanAfter(st, prefix, from, [&](std::string_view key, const Bytes&) {
      std::string_view rest = key.substr(prefix.size());
      auto ms = ParseSeq(rest.substr(0, 20));
      auto seq = ParseSeq(rest.substr(21));
      if (!ms || !seq) return true;
      if (q.lt_event_time_ms && int64_t(*ms) >= *q.lt_event_time_ms) return false;
      if (*seq > after) seqs.push_back(*seq);
      return true;
    });
    std::sort(seqs.begin(), seqs.end());
    for (uint64_t seq : seqs) {
      if (found.size() >= need) break;
      if (auto e = GetEventBySeq(st, seq); e && Matches(*e, q)) found.emplace_back(seq, std::move(*e));
    }
  } else {
    const std::string prefix = "sup/evseq/";
    ScanAfter(st, prefix, after ? Pad(after) : std::string(), [&](std::string_view key, const Bytes& val) {
      auto seq = ParseSeq(key.substr(prefix.size()));
      auto d = state::DecodeState(val);
      if (!seq || !d) return true;
      if (auto e = GetEvent(st, d->value("h", "")); e && Matches(*e, q)) found.emplace_back(*seq, std::move(*e));
      return found.size() < need;
    });
  }

  std::sort(found.begin(), found.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  found.erase(std::unique(found.begin(), found.end(), [](const auto& a, const auto& b) { return a.first == b.first; }),
              found.end());
  EventPage page;
  for (size_t i = 0; i < found.size() && i < per_page; ++i) page.events.push_back(std::move(found[i].second));
  if (found.size() > per_page) page.next_page_token = std::to_string(page.events.back().facts.seq);
  return page;
}

}  // namespace medledger::supply
