// GET /epcis/events (api/epcis_api.h; docs/SUPPLY.md, "Query"): the
// standard query parameters, read and canonicalised here, answered from
// committed state by supply::QueryEvents as an EPCISQueryDocument, paged by
// perPage / nextPageToken with a Link header.
#include <algorithm>
#include <nlohmann/json.hpp>

#include "api/auth.h"
#include "api/epcis_api.h"
#include "api/epcis_problem.h"
#include "epcis/cbv.h"
#include "epcis/datetime.h"
#include "epcis/identifiers.h"
#include "http/url.h"
#include "supply/events.h"
#include "supply/registry.h"

namespace medledger::api {

using nlohmann::json;

namespace {

constexpr size_t kDefaultPerPage = 30;
constexpr size_t kMaxPerPage = 1000;

// A parameter's values: repeated parameters, each a '|'-separated list.
std::vector<std::string> Values(const http::Request& req, std::string_view name) {
  std::vector<std::string> out;
  for (const auto& [k, v] : req.query) {
    if (k != name) continue;
    size_t start = 0;
    for (;;) {
      size_t bar = v.find('|', start);
      std::string part = v.substr(start, bar == std::string::npos ? std::string::npos : bar - start);
      if (!part.empty()) out.push_back(part);
      if (bar == std::string::npos) break;
      start = bar + 1;
    }
  }
  return out;
}

Status Bad(std::string_view param, std::string_view why) {
  return InvalidArgument(std::string(param) + ": " + std::string(why));
}

Result<std::vector<std::string>> Ids(const http::Request& req, std::string_view name) {
  std::vector<std::string> out;
  for (const auto& v : Values(req, name)) {
    auto c = epcis::CanonicalizeId(v);
    if (!c.ok()) return Bad(name, c.status().message());
    out.push_back(*c);
  }
  return out;
}

Result<std::vector<std::string>> Cbv(const http::Request& req, std::string_view name, epcis::Vocab vocab) {
  std::vector<std::string> out;
  for (const auto& v : Values(req, name)) {
    auto c = epcis::NormalizeCbv(vocab, v);
    if (!c.ok()) return Bad(name, c.status().message());
    out.push_back(*c);
  }
  return out;
}

Result<std::optional<int64_t>> Time(const http::Request& req, std::string_view name) {
  auto v = req.Query(name);
  if (!v) return std::optional<int64_t>();
  auto t = epcis::ParseTimestamp(*v);
  if (!t) return Bad(name, "not an RFC 3339 date-time with offset");
  return std::optional<int64_t>(t->epoch_ms);
}

// Every parameter this query knows; an unknown one is an error, as the
// binding asks (a typo must not silently widen the answer).
constexpr std::string_view kKnown[] = {
    "eventType", "EQ_bizStep", "EQ_disposition", "MATCH_epc", "MATCH_anyEPC", "MATCH_parentID", "MATCH_epcClass",
    "EQ_bizLocation", "EQ_readPoint", "GE_eventTime", "LT_eventTime", "EQ_ILMD_cbvmda:lotNumber",
    "GE_ILMD_cbvmda:itemExpirationDate", "LT_ILMD_cbvmda:itemExpirationDate", "perPage", "nextPageToken"};

Result<supply::EventQuery> ReadQuery(const http::Request& req) {
  for (const auto& [k, v] : req.query)
    if (std::find(std::begin(kKnown), std::end(kKnown), k) == std::end(kKnown))
      return Bad(k.substr(0, 64), "not a query parameter this server supports");
  supply::EventQuery q;
  for (const auto& t : Values(req, "eventType")) {
    if (t != "ObjectEvent" && t != "AggregationEvent" && t != "TransactionEvent" && t != "TransformationEvent" &&
        t != "AssociationEvent")
      return Bad("eventType", "not an EPCIS event type");
    q.event_types.push_back(t);
  }
  ML_ASSIGN_OR_RETURN(q.match_epc, Ids(req, "MATCH_epc"));
  ML_ASSIGN_OR_RETURN(q.match_any_epc, Ids(req, "MATCH_anyEPC"));
  ML_ASSIGN_OR_RETURN(q.match_parent, Ids(req, "MATCH_parentID"));
  ML_ASSIGN_OR_RETURN(q.match_epc_class, Ids(req, "MATCH_epcClass"));
  ML_ASSIGN_OR_RETURN(q.biz_locations, Ids(req, "EQ_bizLocation"));
  ML_ASSIGN_OR_RETURN(q.read_points, Ids(req, "EQ_readPoint"));
  ML_ASSIGN_OR_RETURN(q.biz_steps, Cbv(req, "EQ_bizStep", epcis::Vocab::kBizStep));
  ML_ASSIGN_OR_RETURN(q.dispositions, Cbv(req, "EQ_disposition", epcis::Vocab::kDisposition));
  q.lots = Values(req, "EQ_ILMD_cbvmda:lotNumber");
  ML_ASSIGN_OR_RETURN(q.ge_event_time_ms, Time(req, "GE_eventTime"));
  ML_ASSIGN_OR_RETURN(q.lt_event_time_ms, Time(req, "LT_eventTime"));
  for (auto [name, field] : {std::pair{"GE_ILMD_cbvmda:itemExpirationDate", &q.ge_expiry},
                             std::pair{"LT_ILMD_cbvmda:itemExpirationDate", &q.lt_expiry}}) {
    if (auto v = req.Query(name)) {
      if (!epcis::IsDate(*v)) return Bad(name, "not a date (YYYY-MM-DD)");
      *field = *v;
    }
  }
  return q;
}

// GS1-EPC-Format: "Always_GS1_Digital_Link" writes every GS1 key as its
// canonical Digital Link; "Always_EPC_URN" as an EPC URN where the key has
// one and its company prefix is registered (a Digital Link has no prefix
// boundary: the ledger's registry supplies it); anything else
// ("No_Preference", "Never_Translates", absent) as the sender wrote it.
enum class EpcFormat { kAsCaptured, kDigitalLink, kUrn };

std::string Rewrite(const state::StateReader& st, const std::string& id, EpcFormat f) {
  if (f == EpcFormat::kAsCaptured || !epcis::IsGs1Uri(id)) return id;
  auto key = epcis::ParseGs1Uri(id);
  if (!key.ok()) return id;
  if (f == EpcFormat::kDigitalLink) return key->canonical;
  auto holder = supply::HolderOfKey(st, *key);
  if (!holder) return key->canonical;
  auto urn = epcis::ToEpcUrn(*key, holder->prefix.size());
  return urn.ok() ? *urn : key->canonical;
}

void RewriteIds(const state::StateReader& st, json& j, EpcFormat f) {
  auto one = [&](json& v) {
    if (v.is_string()) v = Rewrite(st, v.get<std::string>(), f);
  };
  for (const char* list : {"epcList", "childEPCs", "inputEPCList", "outputEPCList"})
    if (j.contains(list) && j[list].is_array())
      for (auto& v : j[list]) one(v);
  if (j.contains("parentID")) one(j["parentID"]);
  for (const char* list : {"quantityList", "childQuantityList", "inputQuantityList", "outputQuantityList"})
    if (j.contains(list) && j[list].is_array())
      for (auto& q : j[list])
        if (q.is_object() && q.contains("epcClass")) one(q["epcClass"]);
  for (const char* place : {"readPoint", "bizLocation"})
    if (j.contains(place) && j[place].is_object() && j[place].contains("id")) one(j[place]["id"]);
  for (const char* list : {"sourceList", "destinationList"})
    if (j.contains(list) && j[list].is_array())
      for (auto& sd : j[list]) {
        if (!sd.is_object()) continue;
        for (const char* k : {"source", "destination"})
          if (sd.contains(k)) one(sd[k]);
      }
}

// An event captured without an eventID was given its hash ID as its eventID
// (docs/SUPPLY.md), which its capture job reports: the answer names it too,
// or a client could not tell which returned event is which. Only then is the
// text changed, by inserting the member first (the rest stays as stored;
// the hash leaves eventID out, so it is unchanged).
bool LacksEventId(const supply::StoredEvent& e, const json* parsed) {
  if (e.facts.hash.empty() || e.facts.event_id.find(e.facts.hash) == std::string::npos) return false;
  if (parsed) return parsed->is_object() && !parsed->contains("eventID");
  json j = json::parse(e.json, nullptr, false);
  return j.is_object() && !j.contains("eventID");
}

// The event's JSON text: as received (decimals keep their text), or with its
// identifiers translated (numbers then written as the JSON library writes
// them: 5.40 becomes 5.4, the same value).
std::string EventText(const state::StateReader& st, const supply::StoredEvent& e, EpcFormat f) {
  if (f == EpcFormat::kAsCaptured) {
    // Stored from '{' to '}', never empty (an event has its type).
    if (!LacksEventId(e, nullptr) || e.json.empty() || e.json[0] != '{') return e.json;
    return R"({"eventID":)" + json(e.facts.event_id).dump() + "," + e.json.substr(1);
  }
  json j = json::parse(e.json, nullptr, false);
  if (j.is_discarded()) return e.json;
  if (LacksEventId(e, &j)) j["eventID"] = e.facts.event_id;
  RewriteIds(st, j, f);
  return j.dump();
}

void HandleEvents(SupplyContext* ctx, http::Request& req, const state::Caller&, http::Reply reply) {
  auto q = ReadQuery(req);
  if (!q.ok()) return reply(ProblemFor(q.status(), kQueryParameterException));
  size_t per_page = kDefaultPerPage;
  if (auto v = req.Query("perPage")) {
    char* end = nullptr;
    long n = std::strtol(v->c_str(), &end, 10);
    if (v->empty() || *end || n < 1 || size_t(n) > kMaxPerPage)
      return reply(Problem(400, kQueryParameterException, "perPage: 1 to " + std::to_string(kMaxPerPage)));
    per_page = size_t(n);
  }
  auto page = supply::QueryEvents(ctx->ledger->chain->state(), *q, req.Query("nextPageToken").value_or(""), per_page);
  if (!page.ok()) return reply(ProblemFor(page.status(), kQueryParameterException));
  const std::string format = req.Header("GS1-EPC-Format").value_or("No_Preference");
  const EpcFormat f = format == "Always_GS1_Digital_Link" ? EpcFormat::kDigitalLink
                      : format == "Always_EPC_URN"        ? EpcFormat::kUrn
                                                          : EpcFormat::kAsCaptured;
  const auto& st = ctx->ledger->chain->state();
  // The @context: the standard's, and every other entry of the documents
  // the events came in (their extension prefixes must resolve here too).
  json context = json::array({"https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"});
  for (const auto& e : page->events) {
    json c = json::parse(e.context, nullptr, false);
    if (c.is_discarded() || c.is_null()) continue;
    if (!c.is_array()) c = json::array({c});
    for (const auto& item : c)
      if (!(item.is_string() && item.get<std::string>().find("epcis-context.jsonld") != std::string::npos) &&
          std::find(context.begin(), context.end(), item) == context.end())
        context.push_back(item);
  }
  // Assembled as text so that each event goes out byte for byte as stored.
  std::string body = R"({"@context":)" + context.dump() +
                     R"(,"type":"EPCISQueryDocument","schemaVersion":"2.0","epcisBody":{"queryResults":)"
                     R"({"queryName":"SimpleEventQuery","resultsBody":{"eventList":[)";
  for (size_t i = 0; i < page->events.size(); ++i) {
    if (i) body += ',';
    body += EventText(st, page->events[i], f);
  }
  body += "]}}}}";
  http::Response r;
  r.status = 200;
  r.content_type = "application/ld+json";
  r.body = std::move(body);
  r.headers.emplace_back("GS1-EPCIS-Version", "2.0.0");
  r.headers.emplace_back("GS1-CBV-Version", "2.0.0");
  if (!page->next_page_token.empty()) {
    // The same query with the token: every other parameter as given.
    std::string next = "/epcis/events?";
    for (const auto& [k, v] : req.query)
      if (k != "nextPageToken") next += http::PercentEncode(k) + "=" + http::PercentEncode(v) + "&";
    next += "nextPageToken=" + http::PercentEncode(page->next_page_token);
    r.headers.emplace_back("Link", "<" + next + ">; rel=\"next\"");
  }
  reply(std::move(r));
}

}  // namespace

Status RegisterEpcisCaptureRoutes(http::Server& server, SupplyContext* ctx);  // epcis_capture.cc

Status RegisterEpcisRoutes(http::Server& server, SupplyContext* ctx) {
  ML_RETURN_IF_ERROR(RegisterEpcisCaptureRoutes(server, ctx));
  Authenticator* auth = ctx->ledger->auth;
  server.Route("GET", "/epcis/events", [ctx, auth](http::Request& req, http::Reply reply) {
    auth->Authenticate(req, ProblemReply(std::move(reply), kQueryParameterException), AuthNeed{}, false,
                       [ctx](http::Request& r, const state::Caller& c, http::Reply rep) {
                         HandleEvents(ctx, r, c, std::move(rep));
                       });
  });
  return Status::Ok();
}

}  // namespace medledger::api
