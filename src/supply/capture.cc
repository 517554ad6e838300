#include "supply/capture.h"

#include <nlohmann/json.hpp>
#include <variant>

#include "crypto/ed25519.h"
#include "crypto/sha256.h"
#include "model/transaction.h"
#include "model/tx_types.h"
#include "supply/events.h"
#include "supply/rules.h"
#include "supply/schema.h"

namespace medledger::supply {

using model::Reject;
using model::Verdict;
using nlohmann::json;

namespace {

constexpr uint32_t kSupplyRoles =
    model::kRoleManufacturer | model::kRoleDistributor | model::kRoleDispenser | model::kRoleRegulator;
constexpr size_t kMaxSignatureBase = 8192;

// Outcome notes for error declarations (on chain: never change, only add).
constexpr const char* kReverses = "error declaration: the event's effects are reversed";
constexpr const char* kNothingToReverse = "error declaration for an event not recorded: nothing to reverse";
constexpr const char* kNotTheirs = "error declaration by another organisation: not applied";

bool HasLine(std::string_view base, std::string_view line) {
  while (!base.empty()) {
    size_t nl = base.find('\n');
    if (base.substr(0, nl) == line) return true;
    if (nl == std::string_view::npos) break;
    base.remove_prefix(nl + 1);
  }
  return false;
}

std::string Join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : "; ") + s;
  return out;
}

json OutcomeJson(const EventOutcome& o) {
  return {{"event_id", o.event_id}, {"hash", o.hash}, {"outcome", o.outcome}, {"reason", o.reason}};
}

struct Run {
  state::TxContext& ctx;
  const std::string& capture_id;
  const std::string& party;
  const std::string& org;
  const epcis::Document& doc;
  RuleEngine engine;
  std::string tx_hex;

  EventOutcome Declaration(const epcis::Event& ev, const std::string& raw) {
    const std::string hex = HashHex(ev.hash_id);
    EventOutcome out{ev.event_id, ev.hash_id, "ok", ""};
    auto orig = GetEvent(ctx.state, hex);
    if (!orig) {
      out.reason = kNothingToReverse;
      return out;
    }
    if (orig->retracted) {
      out.outcome = "duplicate";
      return out;
    }
    // Only the organisation that captured an event may take it back: a
    // party could otherwise erase another's dispensing or shipping.
    if (orig->facts.org != org) {
      out.reason = kNotTheirs;
      return out;
    }
    const auto& d = *ev.error_declaration;
    orig->retracted = Retraction{tx_hex, capture_id, d.declaration_time, d.reason, d.corrective_event_ids, ctx.height};
    UpdateEvent(ctx.state, *orig);
    ctx.Put(DeclarationKey(hex), state::EncodeState({{"json", raw},
                                                     {"context", doc.context_json},
                                                     {"capture", capture_id},
                                                     {"tx", tx_hex},
                                                     {"height", int64_t(ctx.height)},
                                                     {"org", org},
                                                     {"party", party}}));
    std::vector<std::string> oids;
    for (const auto& [id, role] : EventsNaming(*orig))
      if (std::find(oids.begin(), oids.end(), engine.OidFor(id)) == oids.end()) oids.push_back(engine.OidFor(id));
    for (const auto& oid : oids) engine.Rebuild(oid);
    out.reason = kReverses;
    return out;
  }

  // The identifiers an event named when it was applied, the children an
  // emptying aggregation released included.
  std::vector<std::pair<std::string, Role>> EventsNaming(const StoredEvent& e) {
    auto ids = RuleEngine::Named(e.facts);
    for (const auto& c : e.released) ids.emplace_back(c, Role::kChild);
    return ids;
  }

  EventOutcome Event(const epcis::Event& ev, const std::string& raw) {
    if (ev.error_declaration) return Declaration(ev, raw);
    const std::string hex = HashHex(ev.hash_id);
    if (ctx.Get(EventKey(hex))) return {ev.event_id, ev.hash_id, "duplicate", ""};
    StoredEvent se;
    se.facts = Facts::From(ev);
    se.facts.seq = NextEventSeq(ctx.state);
    se.facts.org = org;
    se.facts.party = party;
    auto ids = RuleEngine::Named(se.facts);
    const size_t named = ids.size();
    RuleResult r = engine.Apply(se.facts, &ids);
    for (size_t i = named; i < ids.size(); ++i) se.released.push_back(ids[i].first);
    se.outcome = r.suspect.empty() ? "ok" : "suspect";
    se.reason = Join(r.suspect.empty() ? r.notes : r.suspect);
    se.json = raw;
    se.context = doc.context_json;
    se.capture_id = capture_id;
    se.tx = tx_hex;
    se.height = ctx.height;
    std::vector<std::string> oids;
    oids.reserve(ids.size());
    for (const auto& [id, role] : ids) oids.push_back(engine.OidFor(id));
    PutEvent(ctx.state, se, ids, oids);
    return {ev.event_id, ev.hash_id, se.outcome, se.reason};
  }
};

}  // namespace

std::string ContentDigest(std::string_view body) {
  Hash32 h = crypto::Sha256(body);
  return "sha-256=:" + Base64Encode(h.data(), h.size()) + ":";
}

bool CaptureModule::Handles(uint16_t type) const { return type == model::tx::kEpcisCapture; }

// What Apply and Admit check before any event is applied: the payload, the
// party's signature over the document and its authority, the document's
// structure and the capture id. Throws PayloadError for a malformed field.
struct CaptureModule::Checked {
  std::string capture_id, digest, behaviour;
  crypto::PublicKey party;
  std::optional<state::IdentityRecord> identity;
  std::shared_ptr<const epcis::Document> doc;
};

void CaptureModule::Parsed::Put(const Hash32& tx, std::shared_ptr<const epcis::Document> doc) {
  std::lock_guard l(mu_);
  if (!docs_.emplace(tx, std::move(doc)).second) return;
  order_.push_back(tx);
  while (order_.size() > kMax) {
    docs_.erase(order_.front());
    order_.pop_front();
  }
}

std::shared_ptr<const epcis::Document> CaptureModule::Parsed::Take(const Hash32& tx) {
  std::lock_guard l(mu_);
  auto it = docs_.find(tx);
  if (it == docs_.end()) return nullptr;
  auto doc = std::move(it->second);
  docs_.erase(it);  // its id stays in order_ until pushed out: erasing a missing key is harmless
  return doc;
}

std::variant<CaptureModule::Checked, Verdict> CaptureModule::Check(state::TxContext& ctx) {
  const auto& p = ctx.payload;
  Checked c;
  c.capture_id = RequireHexId(p, "capture_id");
  std::string document = state::RequireString(p, "document", model::kMaxPayloadBytes);
  c.digest = state::RequireString(p, "content_digest", 128);
  c.party = state::RequireKey(p, "party");
  std::string base = state::RequireString(p, "signature_base", kMaxSignatureBase);
  auto sig = FromHexFixed<64>(state::RequireString(p, "signature", 128));
  if (!sig.ok()) BadPayload("payload field 'signature' must be 128 hex characters (an Ed25519 signature)");
  c.behaviour = state::OptionalString(p, "error_behaviour", 16).value_or("rollback");
  if (c.behaviour != "rollback" && c.behaviour != "proceed")
    BadPayload("payload field 'error_behaviour' must be rollback or proceed");

  // Admitted through this node: digest, signature and document were checked
  // on these very bytes.
  c.doc = parsed_.Take(ctx.tx_id);
  if (!c.doc) {
    if (c.digest != ContentDigest(document)) BadPayload("content_digest is not the SHA-256 of document");
    if (!HasLine(base, "\"@method\": POST") || !HasLine(base, "\"content-digest\": " + c.digest))
      BadPayload("signature_base must cover \"@method\": POST and the document's \"content-digest\"");
    if (!crypto::Verify(c.party, reinterpret_cast<const uint8_t*>(base.data()), base.size(), *sig))
      return Verdict::No(Reject::kBadSignature, "the capture request's signature does not verify with party");
  }

  c.identity = state::LoadIdentity(ctx.state, c.party);
  const auto& id = c.identity;
  if (!id) return Verdict::No(Reject::kNotFound, "party is not a registered identity");
  if (!id->active() && id->revoked_at <= ctx.height) return Verdict::No(Reject::kRevokedKey, "party's key is revoked");
  if (!id->Has(kSupplyRoles))
    return Verdict::No(Reject::kRoleNotPermitted,
                       "party has no supply-chain role (manufacturer, distributor, dispenser, regulator)");
  if (id->org != ctx.signer.org)
    return Verdict::No(Reject::kRoleNotPermitted, "party belongs to another organisation than the submitter");
  if (ctx.tx.signer != c.party && !ctx.signer.Has(model::kRoleNode))
    return Verdict::No(Reject::kRoleNotPermitted,
                       "a capture is submitted by its party or by a node of the party's organisation");

  if (!c.doc) {
    auto doc = epcis::ParseDocument(document);
    if (!doc.ok()) BadPayload("document: " + doc.status().message());
    c.doc = std::make_shared<const epcis::Document>(std::move(*doc));
  }
  if (ctx.Get(CaptureKey(c.capture_id))) return Verdict::No(Reject::kConflict, "capture id is already used");
  return c;
}

// Admission stops after the checks: the rules never reject (a violation is
// an outcome), so running them here only doubled a capture's cost.
std::optional<Verdict> CaptureModule::Admit(state::TxContext& ctx) {
  auto checked = Check(ctx);
  if (auto* v = std::get_if<Verdict>(&checked)) return std::move(*v);
  parsed_.Put(ctx.tx_id, std::move(std::get<Checked>(checked).doc));
  return Verdict::Accept();
}

Verdict CaptureModule::Apply(state::TxContext& ctx) {
  auto checked = Check(ctx);
  if (auto* v = std::get_if<Verdict>(&checked)) return std::move(*v);
  Checked& c = std::get<Checked>(checked);
  const std::string party_id = crypto::PublicId(c.party);
  auto outcomes = ApplyDocument(ctx, c.capture_id, party_id, c.identity->org, *c.doc);
  json events = json::array();
  for (const auto& o : outcomes) events.push_back(OutcomeJson(o));
  ctx.Put(CaptureKey(c.capture_id), state::EncodeState({{"party", party_id},
                                                        {"org", c.identity->org},
                                                        {"signer", crypto::PublicId(ctx.tx.signer)},
                                                        {"tx", ToHex(ctx.tx_id)},
                                                        {"height", int64_t(ctx.height)},
                                                        {"at_ms", int64_t(ctx.timestamp_ms)},
                                                        {"error_behaviour", c.behaviour},
                                                        {"content_digest", c.digest},
                                                        {"events", events}}));
  return Verdict::Accept();
}

std::vector<EventOutcome> ApplyDocument(state::TxContext& ctx, const std::string& capture_id,
                                        const std::string& party_id, const std::string& org,
                                        const epcis::Document& doc) {
  Run run{ctx, capture_id, party_id, org, doc, RuleEngine(ctx.state), ToHex(ctx.tx_id)};
  std::vector<EventOutcome> out;
  for (size_t i = 0; i < doc.events.size(); ++i)
    out.push_back(run.Event(doc.events[i], i < doc.raw_events.size() ? doc.raw_events[i] : std::string()));
  run.engine.Flush();
  return out;
}

std::optional<CaptureRecord> GetCapture(const state::StateReader& st, std::string_view capture_id) {
  auto d = LoadDoc(st, CaptureKey(capture_id));
  if (!d) return std::nullopt;
  CaptureRecord c;
  c.capture_id = std::string(capture_id);
  c.party = d->value("party", "");
  c.org = d->value("org", "");
  c.signer = d->value("signer", "");
  c.tx = d->value("tx", "");
  c.height = uint64_t(d->value("height", int64_t(0)));
  c.at_ms = uint64_t(d->value("at_ms", int64_t(0)));
  c.error_behaviour = d->value("error_behaviour", "");
  c.content_digest = d->value("content_digest", "");
  for (const auto& e : d->value("events", json::array()))
    c.events.push_back({e.value("event_id", ""), e.value("hash", ""), e.value("outcome", ""), e.value("reason", "")});
  return c;
}

}  // namespace medledger::supply
