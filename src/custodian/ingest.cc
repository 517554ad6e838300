#include "custodian/ingest.h"

#include <spdlog/spdlog.h>

#include <future>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "common/work_queue.h"
#include "crypto/aead.h"
#include "crypto/keyfile.h"
#include "custodian/fhir_index.h"
#include "custodian/ingest_plan.h"
#include "fhir/bundle.h"
#include "fhir/outcome.h"
#include "fhir/validate.h"
#include "model/tx_types.h"
#include "records/records.h"
#include "state/identity_record.h"

namespace medledger::custodian {

namespace {

using fhir::Value;
using nlohmann::json;
using Answer = std::function<void(WriteReply)>;

constexpr auto kCommitWait = std::chrono::seconds(60);
constexpr size_t kMaxAnchorPayloadBytes = 56 * 1024;  // model::kMaxPayloadBytes is 64 KiB
constexpr const char* kExtTx = "https://medledger.dev/fhir/StructureDefinition/anchor-tx";
constexpr const char* kExtHash = "https://medledger.dev/fhir/StructureDefinition/anchor-hash";

WriteReply Failed(Status st) {
  WriteReply r;
  r.error = std::move(st);
  return r;
}

struct Job;

}  // namespace

struct Ingest::Impl {
  Context* ctx = nullptr;
  std::shared_ptr<FhirIndex> index;
  std::unique_ptr<crypto::KeyPair> subject;  // binds the custodian pseudonym
  std::function<int(StatusCode)> entry_status;
  std::mutex mu;  // held by the committer (plan → index → vault → submit) and by index restores
  std::unique_ptr<WorkQueue> work;
  // Validated jobs waiting for the committer; `committing` while a worker
  // thread is the committer (it drains the queue before it stops being one).
  std::mutex qmu;
  std::vector<std::pair<std::shared_ptr<Job>, Answer>> pending;
  bool committing = false;
};

namespace {

using Writer = Ingest::Impl;

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
    if (o.state == node::TxState::kRejected || !o.error.ok()) {
      Status undo_st = w.index->Restore(out.undo);
      if (!undo_st.ok()) spdlog::error("fhir index restore failed: {}", undo_st.message());
      Status st = OutcomeStatus(o, "anchors");
      if (i > 0)
        spdlog::error("anchor chunk {} of {} not admitted after earlier chunks were (tx {}): {}", i, chunks.size(),
                      ToHex(out.tx_ids[0]), st.message());
      return st;
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

WriteReply BuildReply(const Writer& w, Job& job, Plan& plan, const std::vector<Hash32>& txs) {
  if (job.mode == Mode::kSingle) {
    Entry& e = job.entries[0];
    WriteReply r;
    if (e.item < 0) return r;
    Item& it = plan.items[size_t(e.item)];
    r.status = e.resp.http_status;
    if (!job.minimal) r.body = it.bytes;
    r.location = "/fhir/" + e.resp.location;
    r.etag = e.resp.etag;
    r.anchor_tx = ToHex(txs[it.chunk]);
    r.anchor_hash = ToHex(it.hash);
    return r;
  }
  std::vector<Value> entries;
  for (auto& e : job.entries) {
    if (!e.error.ok()) {
      fhir::EntryResponse er;
      er.http_status = w.entry_status(e.error.code());
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
  WriteReply r;
  r.body = fhir::Serialize(fhir::ResponseBundle(
      job.mode == Mode::kTransaction ? fhir::BundleKind::kTransaction : fhir::BundleKind::kBatch, std::move(entries)));
  return r;
}

// A job the committer has planned and staged in the index, waiting for the
// group to become durable.
struct Staged {
  std::shared_ptr<Job> job;
  Answer reply;
  std::shared_ptr<Plan> plan;
  std::map<std::string, std::string> keys;  // pseudonym → patient key
  Submitted sub;
};

// Answers a job that failed as a whole after planning.
void FailJob(const Writer& w, Job& job, Plan& plan, const Status& st, const Answer& reply) {
  if (job.mode != Mode::kBatch) return reply(Failed(st));
  for (auto& e : job.entries)
    if (e.error.ok() && e.item >= 0) e.error = st;
  reply(BuildReply(w, job, plan, {}));
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
  w->ctx->pool->WaitAll(
      s.sub.tx_ids, kCommitWait, [w, job, plan, undo, txs, reply](std::vector<node::TxOutcome> outs) {
        for (const auto& o : outs) {
          if (o.state == node::TxState::kCommitted) continue;
          if (o.state == node::TxState::kRejected) {
            {
              std::lock_guard<std::mutex> lock(w->mu);
              Status st = w->index->Restore(*undo);
              if (!st.ok()) spdlog::error("fhir index restore failed: {}", st.message());
            }
            return reply(Failed(
                Aborted("anchor transaction " + ToHex(o.id) + " rejected in its block: " +
                        model::RejectName(o.verdict.reason) + ": " + o.verdict.detail)));
          }
          return reply(Failed(
              Unavailable("anchors not committed within 60 s; transaction " + ToHex(o.id) + " is pending")));
        }
        w->work->Post([w, job, plan, txs, reply] { reply(BuildReply(*w, *job, *plan, txs)); });
      });
}

// Commits one group of queued jobs (see the file comment). Requires w.mu.
void CommitGroup(const std::shared_ptr<Writer>& w, std::vector<std::pair<std::shared_ptr<Job>, Answer>> group) {
  std::vector<Staged> staged;
  for (auto& [job, reply] : group) {
    Staged s{job, reply, std::make_shared<Plan>(), {}, {}};
    Planner planner(*w->index, w->subject.get(), w->ctx->state(), job->patient_key);
    Status st = PlanJob(planner, *job, *s.plan);
    if (!st.ok()) {
      reply(Failed(st));
      continue;
    }
    if (s.plan->items.empty()) {
      reply(BuildReply(*w, *job, *s.plan, {}));
      continue;
    }
    st = StageIndex(*w, *s.plan, &s.sub.undo);
    if (!st.ok()) {
      Status rst = w->index->Restore(s.sub.undo);
      if (!rst.ok()) spdlog::error("fhir index restore failed: {}", rst.message());
      FailJob(*w, *job, *s.plan, st, reply);
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
    for (auto& s : staged) FailJob(*w, *s.job, *s.plan, st, s.reply);
    return;
  }
  for (auto& s : staged) {
    st = SubmitAnchors(*w, *s.plan, s.keys, s.sub);
    if (!st.ok()) {
      FailJob(*w, *s.job, *s.plan, st, s.reply);
      continue;
    }
    AwaitCommit(w, std::move(s));
  }
}

void RunJob(std::shared_ptr<Writer> w, std::shared_ptr<Job> job, Answer reply) {
  // Validation, outside the lock.
  for (auto& e : job->entries) {
    Status st = fhir::ValidateResource(e.resource);
    if (!st.ok()) {
      st = Status(st.code(), st.message());
      e.error = Located(e, st);
      if (job->mode != Mode::kBatch) return reply(Failed(e.error));
    }
  }
  if (job->patient_key) {
    auto pk = crypto::ParsePublicId(*job->patient_key);
    if (!pk.ok()) return reply(Failed(InvalidArgument("the patient id is not a public id")));
    auto id = state::LoadIdentity(w->ctx->state(), *pk);
    if (!id || !id->active() || !id->Has(model::kRolePatient))
      return reply(Failed(InvalidArgument("the patient id is not an active identity with the patient role")));
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
    std::vector<std::pair<std::shared_ptr<Job>, Answer>> group;
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
Result<std::shared_ptr<Job>> ParseJob(const WriteRequest& req) {
  auto job = std::make_shared<Job>();
  const Mode mode = req.bundle ? Mode::kTransaction : Mode::kSingle;
  const std::string& type = req.type;
  const std::string& id = req.id;
  job->mode = mode;
  job->patient_key = req.patient_key;
  if (req.prefer) {
    job->representation = req.prefer->find("return=representation") != std::string::npos;
    job->minimal = req.prefer->find("return=minimal") != std::string::npos;
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
  if (req.if_none_exist) e.if_none_exist = *req.if_none_exist;
  e.resource = std::move(doc);
  job->entries.push_back(std::move(e));
  return job;
}

}  // namespace

Result<std::shared_ptr<Ingest>> Ingest::Open(Context* ctx, std::function<int(StatusCode)> entry_status) {
  auto w = std::make_shared<Impl>();
  w->ctx = ctx;
  w->entry_status = std::move(entry_status);
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
  // One worker at a time is the committer and spends part of its time
  // waiting for syncs; the others parse and validate the next bundles.
  int threads = std::max(4, 2 * int(std::thread::hardware_concurrency()));
  w->work = std::make_unique<WorkQueue>("fhir writes", threads);
  ctx->stoppers.push_back([wk = std::weak_ptr<Impl>(w)] {
    if (auto sp = wk.lock()) sp->work->Stop();
  });
  return std::shared_ptr<Ingest>(new Ingest(std::move(w)));
}

Ingest::~Ingest() = default;

bool Ingest::Post(std::function<void()> job) { return impl_->work->Post(std::move(job)); }

void Ingest::Write(WriteRequest req, std::function<void(WriteReply)> done) {
  auto job = ParseJob(req);
  if (!job.ok()) return done(Failed(job.status()));
  req.body.clear();
  req.body.shrink_to_fit();
  RunJob(impl_, *job, std::move(done));
}

std::string Ingest::custodian_subject() const { return impl_->subject->id(); }

}  // namespace medledger::custodian
