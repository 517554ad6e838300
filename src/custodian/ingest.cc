// The FHIR write path (docs/RECORDS.md, "Ingestion and the local index"):
//   GET  /fhir/metadata           CapabilityStatement
//   POST /fhir                    Bundle transaction (all or nothing) | batch
//   POST /fhir/{type}             create, server-assigned id
//   PUT  /fhir/{type}/{id}        create with that id, or a new version
//
// A write: authenticate the writer (member of the custodian org, org_admin or
// practitioner); parse and validate everything (no lock); then queue the
// job for the committer. One committer at a time (group commit) takes every
// queued job and, for each in turn: assigns ids and versions, rewrites
// urn:uuid and conditional references, finds each resource's patient
// pseudonym, sets meta, serializes (the bytes returned are the bytes
// stored) and writes its local index changes without a sync (so the next
// job's plan sees them). Then the whole group is made durable at once: one
// vault PutBatch holding every version of every job, and one sync of the
// index, side by side. Only then are the anchors submitted, job by job in
// plan order, as record.anchor_batch transactions signed by the node key
// (chunks of at most 500 anchors and 56 KiB of payload). Each reply is sent
// from the mempool's WaitAll callback once every chunk of its job
// committed: no HTTP thread waits. A failure to make the group durable fails
// every job of the group (nothing of it is anchored; the index is restored).
#include <spdlog/spdlog.h>

#include <future>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "api/auth.h"
#include "api/fhir_context.h"
#include "api/fhir_index.h"
#include "api/http_signature.h"
#include "common/work_queue.h"
#include "crypto/keyfile.h"
#include "crypto/sha256.h"
#include "fhir/bundle.h"
#include "fhir/capability.h"
#include "fhir/compartment.h"
#include "fhir/outcome.h"
#include "fhir/validate.h"
#include "model/tx_types.h"
#include "records/records.h"
#include "records/schema.h"
#include "state/identity_record.h"

namespace medledger::api {

namespace {

using fhir::Value;
using nlohmann::json;

constexpr const char* kFhirJson = "application/fhir+json";
constexpr auto kCommitWait = std::chrono::seconds(60);
constexpr size_t kMaxAnchorPayloadBytes = 56 * 1024;  // model::kMaxPayloadBytes is 64 KiB
constexpr const char* kExtTx = "https://medledger.dev/fhir/StructureDefinition/anchor-tx";
constexpr const char* kExtHash = "https://medledger.dev/fhir/StructureDefinition/anchor-hash";

int HttpStatusFor(StatusCode c) {
  switch (c) {
    case StatusCode::kInvalidArgument: return 400;
    case StatusCode::kUnauthenticated: return 401;
    case StatusCode::kPermissionDenied: return 403;
    case StatusCode::kNotFound: return 404;
    case StatusCode::kAlreadyExists: return 409;
    case StatusCode::kAborted: return 409;
    case StatusCode::kGone: return 410;
    case StatusCode::kFailedPrecondition: return 412;
    case StatusCode::kResourceExhausted: return 413;
    case StatusCode::kUnavailable: return 503;
    default: return 500;
  }
}

http::Response FhirResponse(int status, std::string body) {
  http::Response r;
  r.status = status;
  r.content_type = kFhirJson;
  r.body = std::move(body);
  return r;
}

http::Response OutcomeResponse(const Status& st) {
  return FhirResponse(HttpStatusFor(st.code()),
                      fhir::OperationOutcome(fhir::Severity::kError, fhir::IssueCodeFor(st.code()), st.message()));
}

std::string NowInstant() {
  return fhir::FormatInstant(
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count());
}

struct Job;

struct Writer {
  FhirContext* ctx = nullptr;
  std::shared_ptr<FhirIndex> index;
  std::unique_ptr<crypto::KeyPair> subject;  // binds the custodian pseudonym
  std::string started;
  std::mutex mu;  // held by the committer (plan → index → vault → submit) and by index restores
  // Parsing, validation, encryption and fsyncs never run on the HTTP I/O
  // threads.
  std::unique_ptr<WorkQueue> work;
  // Validated jobs waiting for the committer; `committing` while a worker
  // thread is the committer (it drains the queue before it stops being one).
  std::mutex qmu;
  std::vector<std::pair<std::shared_ptr<Job>, http::Reply>> pending;
  bool committing = false;
};

// --- Authentication ---------------------------------------------------------

// Checks the signature (api/auth.h: bound to this node, since a write
// replayed at a sibling node would be a second write) and that the signer is
// a member of the custodian org holding org_admin or practitioner. Runs on a
// write-pool thread: the head barrier may wait there.
Result<state::Caller> AuthenticateWriter(const http::Request& req, const FhirContext& ctx, AuthFailure* failure) {
  ML_ASSIGN_OR_RETURN(auto c, ctx.ledger->auth->Verify(req, AuthNeed{.bound_to_node = true}, failure));
  if (c.org() != ctx.org) return PermissionDenied("the signing key belongs to another organisation");
  if (!c.Has(model::kRoleOrgAdmin | model::kRolePractitioner))
    return PermissionDenied("writing records needs the org_admin or practitioner role");
  return c;
}

// FHIR's own type, or plain JSON (RFC 8259); anything else is not a
// resource (FHIR R4 http.html#mime-type).
Status CheckFhirContentType(const http::Request& req) {
  const std::string t = req.MediaType();
  if (t.empty()) return Status(StatusCode::kInvalidArgument, "Content-Type is required (application/fhir+json)");
  if (t == "application/fhir+json" || t == "application/json") return Status::Ok();
  return Status(StatusCode::kInvalidArgument, "Content-Type " + t.substr(0, 64) + " is not accepted (application/fhir+json)");
}

// --- Planning ---------------------------------------------------------------

struct Entry {
  std::string method;         // POST or PUT
  std::string type;
  std::string id;             // PUT Type/id
  std::string cond_query;     // PUT Type?query (conditional update)
  std::string if_none_exist;  // POST conditional create
  std::string full_url;
  Value resource;
  std::string location_prefix;  // "Bundle.entry[3]" or ""
  // Outcome
  Status error;
  fhir::EntryResponse resp;
  int item = -1;  // index into Plan::items when written
};

struct Item {
  size_t entry = 0;
  IndexedResource idx;
  std::optional<IndexedResource> prev;
  Value resource;
  std::string bytes;
  Hash32 hash{};
  std::vector<std::string> labels;
  std::string last_updated;
  bool created = false;
  size_t chunk = 0;
};

struct Plan {
  std::vector<Item> items;
  std::map<std::string, IndexedPatient> patients;  // new patient id → pseudonym/key
  std::map<std::string, std::vector<std::string>> idents;  // type \0 sys|val → ids, this request
  std::unordered_map<std::string, std::string> ids;  // fullUrl → Type/id
  std::set<std::string> written;  // Type/id written by this request
};

std::string PercentDecode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && isxdigit(uint8_t(s[i + 1])) && isxdigit(uint8_t(s[i + 2]))) {
      out.push_back(char(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16)));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

// "sys|val" forms under which a resource's identifiers are indexed: each
// identifier as written ("system|value", "|value" without system) and as
// "*|value" (a token search without system matches any system).
std::vector<std::string> IdentifierForms(const Value& resource) {
  std::vector<std::string> out;
  const Value* ids = resource.Get("identifier");
  if (!ids) return out;
  auto add = [&](const Value& ident) {
    const Value* v = ident.Get("value");
    if (!v || !v->is_string()) return;
    const Value* s = ident.Get("system");
    std::string sys = s && s->is_string() ? s->string_value() : "";
    for (std::string f : {sys + "|" + v->string_value(), "*|" + v->string_value()})
      if (std::find(out.begin(), out.end(), f) == out.end()) out.push_back(f);
  };
  if (ids->is_array())
    for (const auto& i : ids->array()) add(i);
  else if (ids->is_object())
    add(*ids);
  return out;
}

// Parses a conditional query this server supports: "identifier=[sys|]val"
// or "_id=id". Returns the identifier form, or "#id" for _id.
Result<std::string> ParseQuery(std::string_view query) {
  if (query.find('&') != std::string_view::npos)
    return InvalidArgument("conditional queries with more than one parameter are not supported");
  auto eq = query.find('=');
  if (eq == std::string_view::npos) return InvalidArgument("conditional query without '='");
  std::string name(query.substr(0, eq));
  std::string value = PercentDecode(query.substr(eq + 1));
  if (value.empty()) return InvalidArgument("conditional query with an empty value");
  if (name == "_id") return "#" + value;
  if (name != "identifier") return InvalidArgument("conditional query parameter '" + name + "' is not supported");
  if (value.find('|') == std::string::npos) return "*|" + value;
  return value;
}

class Planner {
 public:
  Planner(Writer& w, std::optional<std::string> patient_key) : w_(w), patient_key_(std::move(patient_key)) {}

  // Matches of a conditional query: FHIR ids of `type`.
  Result<std::vector<std::string>> Match(std::string_view type, std::string_view query, const Plan& plan) {
    ML_ASSIGN_OR_RETURN(auto form, ParseQuery(query));
    std::vector<std::string> out;
    if (form[0] == '#') {
      std::string id = form.substr(1);
      ML_ASSIGN_OR_RETURN(auto e, w_.index->Lookup(type, id));
      if (e || plan.written.count(std::string(type) + "/" + id)) out.push_back(id);
      return out;
    }
    auto bar = form.find('|');
    ML_ASSIGN_OR_RETURN(out, w_.index->FindByIdentifier(type, form.substr(0, bar), form.substr(bar + 1)));
    auto it = plan.idents.find(std::string(type) + std::string(1, '\0') + form);
    if (it != plan.idents.end())
      for (const auto& id : it->second)
        if (std::find(out.begin(), out.end(), id) == out.end()) out.push_back(id);
    return out;
  }

  // Decides the target id of an entry (first pass, so that fullUrls map
  // before any reference is rewritten). Sets e.item = -2 for a conditional
  // create that matched (nothing written).
  Status Target(Entry& e, Plan& plan) {
    if (e.method == "POST") {
      if (!e.if_none_exist.empty()) {
        ML_ASSIGN_OR_RETURN(auto m, Match(e.type, e.if_none_exist, plan));
        if (m.size() > 1) return FailedPrecondition("ifNoneExist matches several resources");
        if (m.size() == 1) {
          ML_ASSIGN_OR_RETURN(auto cur, w_.index->Lookup(e.type, m[0]));
          std::string v = cur ? std::to_string(cur->version) : "1";
          e.id = m[0];
          e.item = -2;
          e.resp.http_status = 200;
          e.resp.location = fhir::HistoryLocation(e.type, e.id, v);
          e.resp.etag = fhir::WeakEtag(v);
          MapFullUrl(e, plan);
          return Status::Ok();
        }
      }
      e.id = vault::NewRecordId();
    } else if (!e.cond_query.empty()) {
      ML_ASSIGN_OR_RETURN(auto m, Match(e.type, e.cond_query, plan));
      if (m.size() > 1) return FailedPrecondition("conditional update matches several resources");
      e.id = m.empty() ? vault::NewRecordId() : m[0];
    } else if (!fhir::IsValidId(e.id)) {
      return InvalidArgument("the id in the URL is not a valid FHIR id");
    }
    std::string ref = e.type + "/" + e.id;
    if (!plan.written.insert(ref).second) return InvalidArgument("two entries write the same resource");
    for (const auto& f : IdentifierForms(e.resource))
      plan.idents[e.type + std::string(1, '\0') + f].push_back(e.id);
    MapFullUrl(e, plan);
    return Status::Ok();
  }

  static void MapFullUrl(const Entry& e, Plan& plan) {
    if (!e.full_url.empty()) plan.ids[e.full_url] = e.type + "/" + e.id;
  }

  // Second pass: rewrite, find the patient, set id/meta, serialize.
  Status Build(Entry& e, size_t entry_index, Plan& plan) {
    Item it;
    it.entry = entry_index;
    ML_ASSIGN_OR_RETURN(it.prev, w_.index->Lookup(e.type, e.id));
    Value& r = e.resource;
    r.Set("id", Value(e.id));
    fhir::ConditionalResolver resolve = [&](std::string_view type, std::string_view query) -> Result<std::string> {
      ML_ASSIGN_OR_RETURN(auto m, Match(type, query, plan));
      if (m.empty()) return NotFound("conditional reference matches no resource");
      if (m.size() > 1) return FailedPrecondition("conditional reference matches several resources");
      return std::string(type) + "/" + m[0];
    };
    ML_RETURN_IF_ERROR(fhir::RewriteReferences(&r, plan.ids, resolve));

    // The patient pseudonym.
    std::string pseudonym;
    auto pref = fhir::PatientReference(r);
    if (pref) {
      std::string pid = pref->substr(pref->find('/') + 1);
      auto np = plan.patients.find(pid);
      if (np != plan.patients.end()) {
        pseudonym = np->second.pseudonym;
      } else {
        ML_ASSIGN_OR_RETURN(auto p, w_.index->LookupPatient(pid));
        if (p) {
          if (patient_key_ && !p->patient_key.empty() && *patient_key_ != p->patient_key)
            return Aborted("the patient is bound to another patient key (use patient.rebind)");
          pseudonym = p->pseudonym;
          keys_[pseudonym] = p->patient_key;
        } else if (e.type == "Patient") {
          if (!patient_key_)
            return InvalidArgument("a new Patient needs the patient's public id (X-Medledger-Patient or ?patient=)");
          if (new_patients_++ > 0)
            return InvalidArgument("one request may create one new Patient (one patient key per request)");
          pseudonym = vault::NewRecordId();
          plan.patients[pid] = IndexedPatient{pseudonym, *patient_key_};
          keys_[pseudonym] = *patient_key_;
        } else {
          return InvalidArgument("the resource belongs to a Patient this server does not hold");
        }
      }
    } else {
      ML_ASSIGN_OR_RETURN(pseudonym, w_.index->CustodianPseudonym());
      if (!w_.subject) return Internal("custodian subject key missing");
      auto id = state::LoadIdentity(w_.ctx->ledger->chain->state(), w_.subject->public_key());
      if (!id || !id->active() || !id->Has(model::kRolePatient))
        return FailedPrecondition("resources without a patient are anchored under the custodian pseudonym, bound to "
                                  "the custodian subject key " +
                                  w_.subject->id() +
                                  ": an org admin must register it with the patient role first "
                                  "(medledger record put with an admin key does this)");
      keys_[pseudonym] = w_.subject->id();
    }

    if (it.prev) {
      if (it.prev->pseudonym != pseudonym) return Aborted("a resource cannot move to another patient");
      it.idx = *it.prev;
      it.idx.version = it.prev->version + 1;
    } else {
      it.idx.type = e.type;
      it.idx.id = e.id;
      it.idx.record_id = vault::NewRecordId();
      it.idx.pseudonym = pseudonym;
      it.idx.version = 1;
      it.created = true;
    }
    it.idx.identifiers = IdentifierForms(r);
    it.last_updated = NowInstant();

    // id and meta right after resourceType; meta keeps profile/tag/security/source.
    Value meta = Value::MakeObject();
    meta.Set("versionId", Value(std::to_string(it.idx.version)));
    meta.Set("lastUpdated", Value(it.last_updated));
    if (const Value* old = r.Get("meta"))
      for (const auto& [k, v] : old->members())
        if (k != "versionId" && k != "lastUpdated") meta.Set(k, v);
    auto& mem = r.mutable_members();
    std::erase_if(mem, [](const Value::Member& m) { return m.first == "id" || m.first == "meta"; });
    size_t at = (!mem.empty() && mem[0].first == "resourceType") ? 1 : 0;
    mem.insert(mem.begin() + at, {"id", Value(e.id)});
    mem.insert(mem.begin() + at + 1, {"meta", std::move(meta)});

    it.bytes = fhir::Serialize(r);
    it.hash = crypto::Sha256(it.bytes);
    for (auto s : fhir::SensitivityCategories(r)) it.labels.emplace_back(fhir::SensitivityName(s));
    it.resource = std::move(r);
    e.resp.http_status = it.created ? 201 : 200;
    std::string v = std::to_string(it.idx.version);
    e.resp.location = fhir::HistoryLocation(e.type, e.id, v);
    e.resp.etag = fhir::WeakEtag(v);
    e.resp.last_modified = it.last_updated;
    e.item = int(plan.items.size());
    plan.items.push_back(std::move(it));
    return Status::Ok();
  }

  const std::map<std::string, std::string>& keys() const { return keys_; }

 private:
  Writer& w_;
  std::optional<std::string> patient_key_;
  std::map<std::string, std::string> keys_;  // pseudonym → patient key
  int new_patients_ = 0;
};

Status Located(const Entry& e, const Status& st) {
  if (st.ok() || e.location_prefix.empty()) return st;
  return Status(st.code(), e.location_prefix + ": " + st.message());
}

// --- Storing and anchoring ----------------------------------------------------

struct Submitted {
  std::vector<Hash32> tx_ids;
  FhirIndex::Undo undo;
};

// Writes the plan's index changes without a sync (visible at once, durable
// at the group's Sync). Requires w.mu.
Status StageIndex(Writer& w, const Plan& plan, FhirIndex::Undo* undo) {
  auto batch = w.index->NewBatch();
  for (const auto& it : plan.items) batch.PutResource(it.idx, it.prev ? &*it.prev : nullptr);
  for (const auto& [pid, p] : plan.patients) batch.PutPatient(pid, p);
  return w.index->Write(batch, undo, /*sync=*/false);
}

// Submits the anchors of a plan whose versions and index entries are
// durable. Requires w.mu. On a rejection nothing more is submitted and the
// index is restored (vault versions already written stay as unreferenced
// ciphertext; see docs/RECORDS.md).
Status SubmitAnchors(Writer& w, Plan& plan, const std::map<std::string, std::string>& keys, Submitted& out) {
  // Chunks: ≤ kMaxBatchAnchors anchors and ≤ kMaxAnchorPayloadBytes; the
  // first anchor of each pseudonym in each chunk carries its patient key.
  std::vector<json> chunks;
  json cur = json::array();
  size_t cur_bytes = 0;
  std::set<std::string> bound_in_chunk;
  for (auto& it : plan.items) {
    json a = {{"record_id", it.idx.record_id}, {"patient", it.idx.pseudonym}, {"resource_type", it.idx.type},
              {"version", it.idx.version}, {"hash", ToHex(it.hash)}};
    if (!it.labels.empty()) a["labels"] = it.labels;
    size_t sz = a.dump().size() + 80;
    if (!cur.empty() && (cur.size() >= records::kMaxBatchAnchors || cur_bytes + sz > kMaxAnchorPayloadBytes)) {
      chunks.push_back(std::move(cur));
      cur = json::array();
      cur_bytes = 0;
      bound_in_chunk.clear();
    }
    if (bound_in_chunk.insert(it.idx.pseudonym).second) {
      auto k = keys.find(it.idx.pseudonym);
      if (k != keys.end() && !k->second.empty()) a["patient_key"] = k->second;
      sz += 80;
    }
    cur.push_back(std::move(a));
    cur_bytes += sz;
    it.chunk = chunks.size();
  }
  if (!cur.empty()) chunks.push_back(std::move(cur));

  for (size_t i = 0; i < chunks.size(); ++i) {
    auto o = w.ctx->SubmitAsNode(model::tx::kRecordAnchorBatch, {{"anchors", std::move(chunks[i])}},
                                 std::chrono::milliseconds(0));
    if (o.state == node::TxState::kRejected) {
      Status undo_st = w.index->Restore(out.undo);
      if (!undo_st.ok()) spdlog::error("fhir index restore failed: {}", undo_st.message());
      std::string why = std::string(model::RejectName(o.verdict.reason)) + ": " + o.verdict.detail;
      if (i > 0)
        spdlog::error("anchor chunk {} of {} rejected after earlier chunks were admitted (tx {}): {}", i,
                      chunks.size(), ToHex(out.tx_ids[0]), why);
      int http = model::RejectHttpStatus(o.verdict.reason);
      StatusCode code = http == 409 ? StatusCode::kAborted
                        : http == 404 ? StatusCode::kNotFound
                        : http == 403 ? StatusCode::kPermissionDenied
                        : http < 500  ? StatusCode::kInvalidArgument
                                      : StatusCode::kUnavailable;
      return Status(code, "anchors rejected: " + why);
    }
    out.tx_ids.push_back(o.id);
  }
  return Status::Ok();
}

// --- Requests ---------------------------------------------------------------

enum class Mode { kTransaction, kBatch, kSingle };

struct Job {
  Mode mode = Mode::kSingle;
  std::vector<Entry> entries;
  std::optional<std::string> patient_key;
  bool representation = false;  // Prefer: return=representation (bundles)
  bool minimal = false;         // Prefer: return=minimal (single)
};

void AddAnchorExtensions(Value* response, const std::string& tx, const std::string& hash) {
  Value ext = Value::MakeArray();
  Value a = Value::MakeObject();
  a.Set("url", Value(kExtTx));
  a.Set("valueString", Value(tx));
  ext.Append(std::move(a));
  Value b = Value::MakeObject();
  b.Set("url", Value(kExtHash));
  b.Set("valueString", Value(hash));
  ext.Append(std::move(b));
  response->Set("extension", std::move(ext));
}

http::Response BuildReply(Job& job, Plan& plan, const std::vector<Hash32>& txs) {
  if (job.mode == Mode::kSingle) {
    Entry& e = job.entries[0];
    if (e.item < 0) return FhirResponse(200, "");
    Item& it = plan.items[size_t(e.item)];
    auto r = FhirResponse(e.resp.http_status, job.minimal ? std::string() : it.bytes);
    r.headers.push_back({"Location", "/fhir/" + e.resp.location});
    r.headers.push_back({"ETag", e.resp.etag});
    r.headers.push_back({"X-Medledger-Anchor-Tx", ToHex(txs[it.chunk])});
    r.headers.push_back({"X-Medledger-Anchor-Hash", ToHex(it.hash)});
    return r;
  }
  std::vector<Value> entries;
  for (auto& e : job.entries) {
    if (!e.error.ok()) {
      fhir::EntryResponse er;
      er.http_status = HttpStatusFor(e.error.code());
      er.outcome = fhir::OperationOutcomeValue(fhir::Severity::kError, fhir::IssueCodeFor(e.error.code()),
                                               e.error.message());
      entries.push_back(fhir::ResponseEntry(er));
      continue;
    }
    Value v = fhir::ResponseEntry(e.resp);
    if (e.item >= 0) {
      Item& it = plan.items[size_t(e.item)];
      if (Value* resp = v.Get("response")) AddAnchorExtensions(resp, ToHex(txs[it.chunk]), ToHex(it.hash));
      if (job.representation) {
        Value withres = Value::MakeObject();
        withres.Set("fullUrl", Value(e.type + "/" + e.id));
        withres.Set("resource", it.resource);
        for (auto& [k, x] : v.mutable_members()) withres.Set(k, std::move(x));
        v = std::move(withres);
      }
    }
    entries.push_back(std::move(v));
  }
  return FhirResponse(200, fhir::Serialize(fhir::ResponseBundle(
                               job.mode == Mode::kTransaction ? fhir::BundleKind::kTransaction
                                                              : fhir::BundleKind::kBatch,
                               std::move(entries))));
}

// A job the committer has planned and staged in the index, waiting for the
// group to become durable.
struct Staged {
  std::shared_ptr<Job> job;
  http::Reply reply;
  std::shared_ptr<Plan> plan;
  std::map<std::string, std::string> keys;  // pseudonym → patient key
  Submitted sub;
};

// Answers a job that failed as a whole after planning.
void FailJob(Job& job, Plan& plan, const Status& st, const http::Reply& reply) {
  if (job.mode != Mode::kBatch) return reply(OutcomeResponse(st));
  for (auto& e : job.entries)
    if (e.error.ok() && e.item >= 0) e.error = st;
  reply(BuildReply(job, plan, {}));
}

// Plans one job (ids, references, meta, bytes). Requires w.mu. Returns the
// error that fails the whole job; in batch mode a failing entry only sets
// its own error.
Status PlanJob(Planner& planner, Job& job, Plan& plan) {
  if (job.mode == Mode::kBatch) {
    // Each entry on its own: a failing one leaves the plan as it was.
    for (size_t i = 0; i < job.entries.size(); ++i) {
      Entry& e = job.entries[i];
      if (!e.error.ok()) continue;
      Plan trial = plan;
      Status st = planner.Target(e, trial);
      if (st.ok() && e.item != -2) st = planner.Build(e, i, trial);
      if (!st.ok()) {
        e.error = Located(e, st);
        e.item = -1;
        continue;
      }
      plan = std::move(trial);
    }
    return Status::Ok();
  }
  for (auto& e : job.entries) {
    Status st = planner.Target(e, plan);
    if (!st.ok()) return Located(e, st);
  }
  for (size_t i = 0; i < job.entries.size(); ++i) {
    Entry& e = job.entries[i];
    if (e.item == -2) continue;
    Status st = planner.Build(e, i, plan);
    if (!st.ok()) return Located(e, st);
  }
  return Status::Ok();
}

void AwaitCommit(std::shared_ptr<Writer> w, Staged s) {
  auto job = s.job;
  auto plan = s.plan;
  auto reply = s.reply;
  auto undo = std::make_shared<FhirIndex::Undo>(std::move(s.sub.undo));
  auto txs = s.sub.tx_ids;
  w->ctx->ledger->pool->WaitAll(
      s.sub.tx_ids, kCommitWait, [w, job, plan, undo, txs, reply](std::vector<node::TxOutcome> outs) {
        for (const auto& o : outs) {
          if (o.state == node::TxState::kCommitted) continue;
          if (o.state == node::TxState::kRejected) {
            {
              std::lock_guard<std::mutex> lock(w->mu);
              Status st = w->index->Restore(*undo);
              if (!st.ok()) spdlog::error("fhir index restore failed: {}", st.message());
            }
            return reply(OutcomeResponse(
                Aborted("anchor transaction " + ToHex(o.id) + " rejected in its block: " +
                        model::RejectName(o.verdict.reason) + ": " + o.verdict.detail)));
          }
          return reply(OutcomeResponse(
              Unavailable("anchors not committed within 60 s; transaction " + ToHex(o.id) + " is pending")));
        }
        w->work->Post([job, plan, txs, reply] { reply(BuildReply(*job, *plan, txs)); });
      });
}

// Commits one group of queued jobs (see the file comment). Requires w.mu.
void CommitGroup(const std::shared_ptr<Writer>& w, std::vector<std::pair<std::shared_ptr<Job>, http::Reply>> group) {
  std::vector<Staged> staged;
  for (auto& [job, reply] : group) {
    Staged s{job, reply, std::make_shared<Plan>(), {}, {}};
    Planner planner(*w, job->patient_key);
    Status st = PlanJob(planner, *job, *s.plan);
    if (!st.ok()) {
      reply(OutcomeResponse(st));
      continue;
    }
    if (s.plan->items.empty()) {
      reply(BuildReply(*job, *s.plan, {}));
      continue;
    }
    st = StageIndex(*w, *s.plan, &s.sub.undo);
    if (!st.ok()) {
      Status rst = w->index->Restore(s.sub.undo);
      if (!rst.ok()) spdlog::error("fhir index restore failed: {}", rst.message());
      FailJob(*job, *s.plan, st, reply);
      continue;
    }
    s.keys = planner.keys();
    staged.push_back(std::move(s));
  }
  if (staged.empty()) return;

  // Durability for the whole group: every version in one synced vault
  // batch, and the index's unsynced writes synced, the two side by side.
  Status st;
  {
    std::vector<vault::PutItem> puts;
    for (const auto& s : staged)
      for (const auto& it : s.plan->items)
        puts.push_back({it.idx.pseudonym, {it.idx.record_id, it.idx.version}, it.bytes});
    auto index_sync = std::async(std::launch::async, [&w] { return w->index->Sync(); });
    st = w->ctx->vault->PutBatch(puts).status();
    Status ist = index_sync.get();
    if (st.ok()) st = ist;
    for (auto& p : puts) crypto::Wipe(p.plain.data(), p.plain.size());
  }
  if (!st.ok()) {
    for (auto it = staged.rbegin(); it != staged.rend(); ++it) {
      Status rst = w->index->Restore(it->sub.undo);
      if (!rst.ok()) spdlog::error("fhir index restore failed: {}", rst.message());
    }
    for (auto& s : staged) FailJob(*s.job, *s.plan, st, s.reply);
    return;
  }
  for (auto& s : staged) {
    st = SubmitAnchors(*w, *s.plan, s.keys, s.sub);
    if (!st.ok()) {
      FailJob(*s.job, *s.plan, st, s.reply);
      continue;
    }
    AwaitCommit(w, std::move(s));
  }
}

void RunJob(std::shared_ptr<Writer> w, std::shared_ptr<Job> job, http::Reply reply) {
  // Validation, outside the lock.
  for (auto& e : job->entries) {
    Status st = fhir::ValidateResource(e.resource);
    if (!st.ok()) {
      st = Status(st.code(), st.message());
      e.error = Located(e, st);
      if (job->mode != Mode::kBatch) return reply(OutcomeResponse(e.error));
    }
  }
  if (job->patient_key) {
    auto pk = crypto::ParsePublicId(*job->patient_key);
    if (!pk.ok()) return reply(OutcomeResponse(InvalidArgument("the patient id is not a public id")));
    auto id = state::LoadIdentity(w->ctx->ledger->chain->state(), *pk);
    if (!id || !id->active() || !id->Has(model::kRolePatient))
      return reply(OutcomeResponse(InvalidArgument("the patient id is not an active identity with the patient role")));
  }

  // Group commit: queue the job; if no worker is committing, this one
  // becomes the committer and drains the queue, group by group, so that
  // jobs arriving meanwhile share the next group's syncs.
  {
    std::lock_guard<std::mutex> l(w->qmu);
    w->pending.emplace_back(std::move(job), std::move(reply));
    if (w->committing) return;
    w->committing = true;
  }
  for (;;) {
    std::vector<std::pair<std::shared_ptr<Job>, http::Reply>> group;
    {
      std::lock_guard<std::mutex> l(w->qmu);
      if (w->pending.empty()) {
        w->committing = false;
        return;
      }
      group.swap(w->pending);
    }
    std::lock_guard<std::mutex> lock(w->mu);
    try {
      CommitGroup(w, std::move(group));
    } catch (const std::exception& e) {
      // Never leave the queue without a committer.
      spdlog::error("fhir write group failed: {}", e.what());
    }
  }
}

// Parses the body of a write into a Job; errors are 4xx.
Result<std::shared_ptr<Job>> ParseJob(const http::Request& req, Mode mode, const std::string& type,
                                      const std::string& id) {
  auto job = std::make_shared<Job>();
  job->mode = mode;
  if (auto p = req.Header(kPatientHeader)) job->patient_key = *p;
  else if (auto q = req.Query("patient")) job->patient_key = *q;
  if (auto pref = req.Header("Prefer")) {
    job->representation = pref->find("return=representation") != std::string::npos;
    job->minimal = pref->find("return=minimal") != std::string::npos;
  }
  fhir::ParseOptions po;
  po.max_depth = 64;
  po.max_bytes = 64 << 20;
  ML_ASSIGN_OR_RETURN(auto doc, fhir::Parse(req.body, po));
  if (!doc.is_object()) return InvalidArgument("the body must be a JSON object (a FHIR resource)");
  const Value* rt = doc.Get("resourceType");
  if (!rt || !rt->is_string()) return InvalidArgument("resourceType missing");
  if (!fhir::IsR4ResourceType(rt->string_value()))
    return InvalidArgument("resourceType is not an R4 resource type");

  if (mode != Mode::kSingle) {
    if (rt->string_value() != "Bundle") return InvalidArgument("POST /fhir takes a Bundle of type transaction or batch");
    ML_ASSIGN_OR_RETURN(auto pb, fhir::ParseTransactionBundle(std::move(doc)));
    job->mode = pb.kind == fhir::BundleKind::kTransaction ? Mode::kTransaction : Mode::kBatch;
    size_t i = 0;
    for (auto& be : pb.entries) {
      Entry e;
      e.location_prefix = "Bundle.entry[" + std::to_string(i++) + "]";
      e.method = be.method;
      e.full_url = be.full_url;
      e.if_none_exist = be.if_none_exist;
      e.resource = std::move(be.resource);
      std::string url = be.url;
      if (!url.empty() && url[0] == '/') url.erase(0, 1);
      auto q = url.find('?');
      std::string path = url.substr(0, q);
      auto slash = path.find('/');
      e.type = path.substr(0, slash);
      if (e.method != "POST" && e.method != "PUT") {
        e.error = Status(StatusCode::kInvalidArgument,
                         e.location_prefix + ": " + be.method + " is not supported in a write bundle (reads are signed)");
        if (job->mode == Mode::kTransaction) return e.error;
      } else if (e.method == "PUT") {
        if (q != std::string::npos) e.cond_query = url.substr(q + 1);
        else if (slash != std::string::npos) e.id = path.substr(slash + 1);
        else {
          e.error = Status(StatusCode::kInvalidArgument, e.location_prefix + ": PUT needs Type/id or Type?query");
          if (job->mode == Mode::kTransaction) return e.error;
        }
      } else if (slash != std::string::npos || q != std::string::npos) {
        e.error = Status(StatusCode::kInvalidArgument, e.location_prefix + ": POST url must be a resource type");
        if (job->mode == Mode::kTransaction) return e.error;
      }
      job->entries.push_back(std::move(e));
    }
    if (job->entries.empty()) return InvalidArgument("the Bundle has no entries");
    return job;
  }

  Entry e;
  e.type = type;
  if (!fhir::IsR4ResourceType(type)) return NotFound("unknown resource type in the URL");
  if (rt->string_value() != type) return InvalidArgument("resourceType does not match the URL");
  if (id.empty()) {
    e.method = "POST";
  } else {
    e.method = "PUT";
    e.id = id;
    const Value* rid = doc.Get("id");
    if (!rid || !rid->is_string() || rid->string_value() != id)
      return InvalidArgument("PUT: the resource id must equal the id in the URL");
  }
  if (auto ine = req.Header("If-None-Exist")) e.if_none_exist = *ine;
  e.resource = std::move(doc);
  job->entries.push_back(std::move(e));
  return job;
}

void HandleWrite(std::shared_ptr<Writer> w, http::Request& req, http::Reply reply, Mode mode, std::string type,
                 std::string id) {
  // Everything, including the signature check, runs on the write pool.
  auto r = std::make_shared<http::Request>(std::move(req));
  w->work->Post([w, r, reply, mode, type = std::move(type), id = std::move(id)] {
    AuthFailure failure;
    auto who = AuthenticateWriter(*r, *w->ctx, &failure);
    if (!who.ok()) {
      if (failure.status.ok()) return reply(OutcomeResponse(who.status()));
      return reply(AuthFailureResponse(failure, true));
    }
    if (Status ct = CheckFhirContentType(*r); !ct.ok()) {
      http::Response resp = OutcomeResponse(ct);
      resp.status = 415;
      return reply(resp);
    }
    auto job = ParseJob(*r, mode, type, id);
    if (!job.ok()) return reply(OutcomeResponse(job.status()));
    r->body.clear();
    r->body.shrink_to_fit();
    RunJob(w, *job, reply);
  });
}

std::string CapabilityJson(const Writer& w) {
  fhir::CapabilityOptions o;
  o.date = w.started;
  o.software_version = "0.1";
  using I = fhir::Interaction;
  for (auto t : fhir::R4ResourceTypes()) {
    if (t == "Bundle" || t == "Binary" || t == "Parameters") continue;
    fhir::ResourceCapability rc;
    rc.type = std::string(t);
    rc.interactions = {I::kRead, I::kVread, I::kCreate, I::kUpdate};
    rc.conditional_create = true;
    rc.conditional_update = true;
    if (t == "Consent" || t == "AuditEvent") {
      rc.interactions.push_back(I::kSearchType);
      rc.search_params.push_back({"patient", "reference"});
    }
    o.resources.push_back(std::move(rc));
  }
  return fhir::CapabilityStatement(o);
}

}  // namespace

Status RegisterFhirWriteRoutes(http::Server& server, FhirContext* ctx) {
  auto w = std::make_shared<Writer>();
  w->ctx = ctx;
  if (!ctx->index) {
    ML_ASSIGN_OR_RETURN(ctx->index, FhirIndex::Open(ctx->data_dir + "/fhir-index", ctx->vault, ctx->index_file_system));
  }
  w->index = ctx->index;
  // The custodian subject key binds the custodian pseudonym (resources that
  // belong to no patient). It signs nothing; it only names the binding.
  std::string subject_path = ctx->data_dir + "/" + FhirIndex::kCustodianSubjectKeyFile;
  auto subject = crypto::ReadKeyFile(subject_path);
  if (!subject.ok()) {
    auto kp = crypto::KeyPair::Generate();
    ML_RETURN_IF_ERROR(crypto::WriteKeyFile(subject_path, kp));
    subject = kp;
  }
  w->subject = std::make_unique<crypto::KeyPair>(*subject);
  w->started = NowInstant();
  // One worker at a time is the committer and spends part of its time
  // waiting for syncs; the others parse and validate the next bundles.
  int threads = std::max(4, 2 * int(std::thread::hardware_concurrency()));
  w->work = std::make_unique<WorkQueue>("fhir writes", threads);
  ctx->stoppers.push_back([wk = std::weak_ptr<Writer>(w)] {
    if (auto sp = wk.lock()) sp->work->Stop();
  });
  std::string capability = CapabilityJson(*w);

  server.Route("GET", "/fhir/metadata", [capability](http::Request&, http::Reply reply) {
    reply(FhirResponse(200, capability));
  });
  server.Route("POST", "/fhir", [w](http::Request& req, http::Reply reply) {
    HandleWrite(w, req, std::move(reply), Mode::kTransaction, "", "");
  });
  server.Route("POST", "/fhir/{type}", [w](http::Request& req, http::Reply reply) {
    std::string type = req.params[0];
    HandleWrite(w, req, std::move(reply), Mode::kSingle, type, "");
  });
  server.Route("PUT", "/fhir/{type}/{id}", [w](http::Request& req, http::Reply reply) {
    std::string type = req.params[0], id = req.params[1];
    HandleWrite(w, req, std::move(reply), Mode::kSingle, type, id);
  });
  // The public id of the custodian subject key, for the org admin who
  // registers it (GET answers no PHI).
  server.Route("GET", "/fhir/$custodian-subject", [id = w->subject->id()](http::Request&, http::Reply reply) {
    reply(http::Response::Json(200, json{{"custodian_subject", id}}.dump()));
  });
  return Status::Ok();
}

}  // namespace medledger::api
