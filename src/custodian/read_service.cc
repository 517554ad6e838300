#include "custodian/read_service.h"

#include <spdlog/spdlog.h>

#include <condition_variable>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "common/work_queue.h"
#include "crypto/aead.h"
#include "crypto/sha256.h"
#include "custodian/access_journal.h"
#include "custodian/denial_limiter.h"
#include "custodian/erasure.h"
#include "custodian/fhir_index.h"
#include "custodian/fhir_resources.h"
#include "fhir/json.h"
#include "model/tx_types.h"
#include "model/value.h"
#include "records/access.h"
#include "records/consent.h"
#include "records/decision.h"
#include "records/erasure.h"
#include "records/legal_hold.h"
#include "records/reasons.h"
#include "records/schema.h"
#include "state/identity_record.h"

namespace medledger::custodian {

using nlohmann::json;
using state::Caller;

namespace {

constexpr int64_t kAccountingWindowMs = int64_t(6) * 366 * 24 * 3600 * 1000;  // 45 CFR 164.528: six years

// Journaled access events waiting to be signed and admitted as access.event
// transactions. They are durable already, so the reads they record are
// answered before this thread gets to them: signing, signature verification
// and admission stay off the path of the reply. The queue is shared with the
// thread, which may outlive its owner by a moment when it held the last
// reference to it (see ReadService::Service::Shutdown).
struct SubmitQueue {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::pair<json, uint64_t>> items;
  bool stop = false;
};

}  // namespace

// One shared service per node: the journal, the submitter and the erasure
// worker. Calls hold it by shared_ptr, so it lives as long as their answers.
struct ReadService::Service {
  Context* ctx = nullptr;
  std::unique_ptr<AccessJournal> journal;
  DenialLimiter denials;  // which denied reads go on chain
  // Erasures, one at a time. Its jobs hold the service by shared_ptr, so
  // the destructor may run on the worker's thread (WorkQueue allows that).
  WorkQueue worker{"erasure worker", 1};
  std::shared_ptr<SubmitQueue> sq = std::make_shared<SubmitQueue>();
  std::thread submitter;
  std::mutex submitter_mu;  // Shutdown may run on the daemon's thread and in the destructor

  ~Service() { Shutdown(); }
  // Finishes the erasure in progress and stops both threads. The daemon
  // calls it (Context::stoppers) before it closes the vault and the index: a
  // job holds the service, so the routes going away is not enough.
  void Shutdown() {
    worker.Stop();
    {
      std::lock_guard l(sq->mu);
      sq->stop = true;
    }
    sq->cv.notify_all();
    // What is still queued stays in the journal and is resubmitted at the
    // next start (Recover). When the submitter itself dropped the last
    // reference, it is running this destructor: it exits on its own.
    std::lock_guard l(submitter_mu);
    if (submitter.joinable()) {
      if (submitter.get_id() == std::this_thread::get_id()) submitter.detach();
      else submitter.join();
    }
  }
  void StartSubmitter(std::function<void(const json&, uint64_t)> submit) {
    submitter = std::thread([q = sq, submit = std::move(submit)] {
      std::unique_lock l(q->mu);
      for (;;) {
        q->cv.wait(l, [&] { return q->stop || !q->items.empty(); });
        if (q->stop) return;
        auto batch = std::move(q->items);
        q->items.clear();
        l.unlock();
        for (const auto& [payload, ticket] : batch) {
          try {
            submit(payload, ticket);
          } catch (const std::exception& e) {
            spdlog::error("access event submission failed: {}", e.what());
          }
        }
        l.lock();
      }
    });
  }
  void QueueSubmit(json payload, uint64_t ticket) {
    {
      std::lock_guard l(sq->mu);
      sq->items.emplace_back(std::move(payload), ticket);
    }
    sq->cv.notify_one();
  }
  const state::StateReader& State() const { return ctx->state(); }
};

namespace {

using ServiceRef = std::shared_ptr<ReadService::Service>;

// Follows an access.event (or replayed journal entry) until it commits, then
// releases its journal entry. One still pending after many tries, or one the
// node forgot, stays journaled and is resubmitted at the next start.
void Track(const ServiceRef& s, const Hash32& id, uint64_t ticket, int attempts) {
  s->ctx->pool->WaitAll({id}, std::chrono::seconds(30), [s, id, ticket, attempts](std::vector<node::TxOutcome> outs) {
    auto state = outs.empty() ? node::TxState::kUnknown : outs[0].state;
    if (state == node::TxState::kCommitted) {
      s->journal->Resolved(ticket);
    } else if (state == node::TxState::kRejected) {
      spdlog::error("access event tx {} rejected in its block: {}: {}", ToHex(id),
                    model::RejectName(outs[0].verdict.reason), outs[0].verdict.detail);
      s->journal->Resolved(ticket);
    } else if (state == node::TxState::kPending && attempts < 40) {
      Track(s, id, ticket, attempts + 1);
    }
  });
}

void SubmitJournaled(const ServiceRef& s, const json& payload, uint64_t ticket) {
  auto o = s->ctx->SubmitAsNode(model::tx::kAccessEvent, payload, std::chrono::milliseconds(0));
  if (o.state == node::TxState::kPending) {
    Track(s, o.id, ticket, 0);
  } else if (o.state == node::TxState::kCommitted) {
    s->journal->Resolved(ticket);
  } else {
    // Kept in the journal: resubmitted at the next start.
    spdlog::error("access event {} not admitted: {}", payload.value("event_id", ""),
                  OutcomeStatus(o, "access.event").message());
  }
}

// Makes the event durable, then calls `then` (on the journal's writer
// thread) with the journal's status: not OK means nothing may be sent. The
// durable event is then queued for submission as an access.event
// transaction (the submitter thread; it commits within the next blocks).
void RecordEvent(const ServiceRef& s, json payload, std::function<void(Status)> then) {
  s->journal->Append(payload, [s, payload, then = std::move(then)](Status st, uint64_t ticket) mutable {
    then(st);
    if (st.ok()) s->QueueSubmit(std::move(payload), ticket);
  });
}

const Status kNotJournaled = Unavailable("the access could not be journaled; nothing was returned");

struct ReadPlan {
  records::AnchorInfo anchor;
  records::Decision decision;
  bool erased = false;
  Result<std::string> bytes = Internal("not read");
  json event;  // empty when the record belongs to no patient
};

// Decides one read and prepares its event; reads the vault when allowed.
ReadPlan PlanRead(const ServiceRef& s, const Caller& c, const records::AnchorInfo& anchor,
                  const records::PurposeOfUse& purpose, int64_t now_ms) {
  ReadPlan p;
  p.anchor = anchor;
  p.erased = anchor.erased;
  const auto& st = s->State();
  const std::string& reason = purpose.break_glass_reason;
  auto patient = records::BoundPatient(st, anchor.org, anchor.pseudonym);
  if (!patient) {
    // Organisational resources (Organization, Practitioner, Location) belong
    // to no patient: any registered identity may read them, unaudited.
    p.decision.allowed = true;
  } else {
    records::AccessRequest ar;
    ar.accessor = c.pk;
    ar.accessor_org = c.org();
    ar.accessor_roles = c.identity.roles;
    ar.custodian_org = s->ctx->org;
    ar.patient = *patient;
    ar.resource_type = anchor.resource_type;
    ar.record_id = anchor.record_id;
    ar.labels = anchor.labels;
    ar.purpose = purpose.code;
    ar.break_glass_reason = reason;
    ar.now_ms = now_ms;
    p.decision = records::Decide(st, ar);
  }
  if (p.decision.allowed && !p.erased) {
    p.bytes = s->ctx->vault->Get({anchor.record_id, static_cast<uint32_t>(anchor.version)});
    if (p.bytes.ok() && ToHex(crypto::Sha256(*p.bytes)) != anchor.hash)
      p.bytes = DataLoss("stored bytes do not hash to the anchor");
    if (!p.bytes.ok() && p.bytes.status().code() == StatusCode::kGone) p.erased = true;
  }
  if (!patient) return p;
  json e = {{"event_id", crypto::RandomHexId()}, {"accessor", c.id},       {"record_id", anchor.record_id},
            {"version", anchor.version},         {"purpose", purpose.code}, {"at_ms", now_ms}};
  const auto& d = p.decision;
  if (d.allowed) {
    e["outcome"] = "granted";
    e["basis"] = records::BasisName(d.basis);
    if (d.basis == records::Basis::kConsent) e["consent_id"] = d.consent_id;
    if (d.basis == records::Basis::kBreakGlass) {
      // Clinician text never goes on chain, even shaped like a code (it can
      // hold a name and a birth date): a code of the vocabulary goes as is,
      // anything else is kept in the vault under the patient's pseudonym and
      // the chain says "other".
      std::string_view code = records::BreakGlassReasonCode(reason);
      e["break_glass_reason"] = std::string(code);
      if (code != reason) {
        auto put = s->ctx->vault->Put(anchor.pseudonym, {"bgnote-" + e["event_id"].get<std::string>(), 1}, reason);
        if (!put.ok())
          spdlog::warn("break-glass note of event {} not stored: {}", e["event_id"].get<std::string>(),
                       put.status().message());
      }
    }
  } else {
    // One on-chain denial per key, record and reason within the window: a
    // retried read adds nothing, a new reason (revoked since) still shows.
    if (!s->denials.Admit(c.id, anchor.record_id + "#" + d.code, now_ms)) {
      // Answered 403 all the same; the chain is not the flood's to fill.
      if (s->ctx->on_suppressed_denial) s->ctx->on_suppressed_denial(c.id, anchor.record_id, d.reason);
      return p;
    }
    e["outcome"] = "denied";
    e["denial_reason"] = d.code;  // the vocabulary code; the sentence is for the 403
  }
  p.event = std::move(e);
  return p;
}

// What a planned read answers: the bytes, or why not.
Result<ReadResult> Answer(const ReadPlan& p, const std::string& ref) {
  const auto& d = p.decision;
  if (!d.allowed) return PermissionDenied("access denied: " + d.reason);
  if (p.erased) return Gone(ref + " was erased at the patient's request");
  if (!p.bytes.ok()) {
    // Tampered ciphertext (the vault's authentication) or bytes that do not
    // hash to their anchor: the same answer, and nothing of the record.
    if (p.bytes.status().code() == StatusCode::kDataLoss)
      return DataLoss("integrity check failed for record " + p.anchor.record_id + " version " +
                      std::to_string(p.anchor.version) + ": nothing returned");
    return p.bytes.status();
  }
  ReadResult r;
  r.anchor = p.anchor;
  r.bytes = *p.bytes;
  if (!p.event.is_null()) r.event_id = p.event["event_id"].get<std::string>();
  r.break_glass = d.break_glass;
  return r;
}

Status RequireIndex(const ServiceRef& s) {
  if (!s->ctx->index) return Unavailable("the FHIR index is not open yet");
  return Status::Ok();
}

// Patient, active representative or auditor: who may see a patient's
// consents and access log.
Result<crypto::PublicKey> PatientQuery(const ServiceRef& s, const Caller& c, std::string pid) {
  if (pid.empty()) return InvalidArgument("patient=<patient public id> is required");
  if (pid.rfind("Patient/", 0) == 0) pid = pid.substr(8);
  auto pk = crypto::ParsePublicId(pid);
  if (!pk.ok()) return InvalidArgument("patient must be a public id (64 hex characters)");
  bool ok = c.pk == *pk || c.Has(model::kRoleAuditor) || records::IsActiveRepresentative(s->State(), *pk, c.pk, NowMs());
  if (!ok) return PermissionDenied("only the patient, a representative or an auditor may read this");
  return *pk;
}

// Accesses this node answered whose access.event is not committed yet: the
// journal's unresolved entries whose record belongs to `patient`. Call it
// before reading the chain's events: an entry leaves the journal only after
// its event committed, so an event committed in between is in both lists
// (the chain's copy wins) and never in neither.
std::vector<records::AccessEventInfo> PendingAccessEvents(const ServiceRef& s, const crypto::PublicKey& patient) {
  std::vector<records::AccessEventInfo> out;
  auto journaled = s->journal->Unresolved();
  const auto& st = s->State();
  for (const auto& p : journaled) {
    records::AccessEventInfo e;
    e.record_id = p.value("record_id", "");
    e.version = p.value("version", int64_t(0));
    auto a = records::GetAnchor(st, e.record_id, e.version);
    if (!a) continue;
    auto bound = records::BoundPatient(st, a->org, a->pseudonym);
    if (!bound || *bound != patient) continue;
    e.org = a->org;
    e.pseudonym = a->pseudonym;
    e.resource_type = a->resource_type;
    e.event_id = p.value("event_id", "");
    e.accessor = p.value("accessor", "");
    if (auto pk = crypto::ParsePublicId(e.accessor); pk.ok())
      if (auto id = state::LoadIdentity(st, *pk)) e.accessor_org = id->org;
    e.purpose = p.value("purpose", "");
    e.granted = p.value("outcome", "") == "granted";
    e.basis = p.value("basis", "");
    e.consent_id = p.value("consent_id", "");
    e.break_glass = e.granted && e.basis == records::BasisName(records::Basis::kBreakGlass);
    e.break_glass_reason = p.value("break_glass_reason", "");
    e.denial_reason = p.value("denial_reason", "");
    e.at_ms = p.value("at_ms", int64_t(0));
    out.push_back(std::move(e));
  }
  return out;
}

std::string RecipientRef(std::string_view name, std::string_view address) {
  return ToHex(crypto::Sha256(std::string(name) + "\n" + std::string(address)));
}

// Anchors are read by member identities: keys that hold any role of a member
// organisation (staff, nodes, auditors). A key that is only a patient reads
// the anchors of its own records, or of a patient it represents, which `record
// get` and `erase` need to check what they receive; anyone else's are 403.
Status CheckAnchorReader(const ServiceRef& s, const Caller& c, const records::AnchorInfo& a) {
  if (c.identity.roles & ~uint32_t(model::kRolePatient)) return Status::Ok();
  auto bound = records::BoundPatient(s->State(), a.org, a.pseudonym);
  if (bound && (*bound == c.pk || records::IsActiveRepresentative(s->State(), *bound, c.pk, NowMs())))
    return Status::Ok();
  return PermissionDenied("anchors are readable by member organisations' keys, and by a patient for their own records");
}

// At start-up, before serving: destroy again the keys of records erased on
// chain (a restored backup still holds them), then resubmit journaled access
// events the chain does not hold.
Status Recover(const ServiceRef& s) {
  ML_RETURN_IF_ERROR(ReapplyErasures(*s->ctx));
  size_t resubmitted = 0;
  for (const auto& e : s->journal->Pending()) {
    std::string id = e.payload.value("event_id", "");
    if (records::GetAccessEvent(s->State(), id)) {
      s->journal->Resolved(e.ticket);
      continue;
    }
    SubmitJournaled(s, e.payload, e.ticket);
    resubmitted++;
  }
  if (resubmitted) spdlog::info("resubmitted {} journaled access events not yet on chain", resubmitted);
  return Status::Ok();
}

}  // namespace

Result<std::unique_ptr<ReadService>> ReadService::Open(Context* ctx) {
  auto s = std::make_shared<Service>();
  s->ctx = ctx;
  AccessJournal::Options jo;
  jo.file_sync = ctx->journal_sync;
  ML_ASSIGN_OR_RETURN(s->journal, AccessJournal::Open(ctx->data_dir + "/access-journal", jo));
  ML_RETURN_IF_ERROR(Recover(s));
  // The thread holds a weak reference: the service owns the thread.
  s->StartSubmitter([w = std::weak_ptr<Service>(s)](const json& payload, uint64_t ticket) {
    if (auto sp = w.lock()) SubmitJournaled(sp, payload, ticket);
  });
  // Requests decided nowhere yet, on the erasure worker (custodian/erasure.h).
  for (auto& job : LeftoverErasures(*ctx))
    s->worker.Post([s, job = std::move(job)] { job(); });
  ctx->stoppers.push_back([w = std::weak_ptr<Service>(s)] {
    if (auto sp = w.lock()) sp->Shutdown();
  });
  return std::unique_ptr<ReadService>(new ReadService(std::move(s)));
}

ReadService::~ReadService() = default;

void ReadService::Read(const Caller& c, const std::string& type, const std::string& id, std::optional<int64_t> version,
                       const records::PurposeOfUse& purpose, Done<ReadResult> done) {
  const ServiceRef& s = s_;
  if (Status st = RequireIndex(s); !st.ok()) return done(st);
  auto look = s->ctx->index->Lookup(type, id);
  if (!look.ok()) return done(look.status());
  if (!*look) return done(NotFound(type + "/" + id + " is not known here"));
  const std::string rid = (*look)->record_id;
  std::optional<records::AnchorInfo> anchor;
  if (version) {
    if (*version <= 0) return done(NotFound("no such version"));
    anchor = records::GetAnchor(s->State(), rid, *version);
  } else {
    anchor = records::GetLatestAnchor(s->State(), rid);
  }
  if (!anchor || anchor->org != s->ctx->org)
    return done(NotFound(type + "/" + id + (version ? " has no such committed version" : " is not committed yet")));
  ReadPlan plan = PlanRead(s, c, *anchor, purpose, NowMs());
  std::string ref = type + "/" + id;
  // Cross-organisation reads: the forwarding node goes in the log (access.event has no field for it).
  if (!c.via.empty() && !plan.event.is_null())
    spdlog::info("access event {} was forwarded by node {}", plan.event["event_id"].get<std::string>(),
                 c.via.substr(0, 16));
  if (plan.event.is_null()) return done(Answer(plan, ref));
  json ev = plan.event;
  auto shared = std::make_shared<ReadPlan>(std::move(plan));
  RecordEvent(s, std::move(ev), [done = std::move(done), shared, ref](Status st) {
    if (!st.ok()) return done(kNotJournaled);
    done(Answer(*shared, ref));
  });
}

void ReadService::Everything(const Caller& c, const std::string& patient_id, const records::PurposeOfUse& purpose,
                             Done<std::vector<EverythingEntry>> done) {
  const ServiceRef& s = s_;
  if (Status st = RequireIndex(s); !st.ok()) return done(st);
  auto look = s->ctx->index->Lookup("Patient", patient_id);
  if (!look.ok()) return done(look.status());
  if (!*look) return done(NotFound("Patient/" + patient_id + " is not known here"));
  const auto& st = s->State();
  auto head = records::GetLatestAnchor(st, (*look)->record_id);
  if (!head || head->org != s->ctx->org) return done(NotFound("Patient/" + patient_id + " is not committed yet"));
  const int64_t now = NowMs();
  struct Acc {
    std::mutex mu;
    std::vector<std::shared_ptr<ReadPlan>> plans;
    size_t remaining = 0;
    bool failed = false;
    bool any_allowed = false;
    std::string first_denial;
  };
  auto acc = std::make_shared<Acc>();
  std::vector<json> events;
  for (const auto& r : records::ListPatientRecords(st, head->org, head->pseudonym)) {
    if (r.erased) continue;
    auto a = records::GetLatestAnchor(st, r.record_id);
    if (!a) continue;
    auto p = std::make_shared<ReadPlan>(PlanRead(s, c, *a, purpose, now));
    if (p->decision.allowed) acc->any_allowed = true;
    else if (acc->first_denial.empty()) acc->first_denial = p->decision.reason;
    acc->plans.push_back(p);
    if (!p->event.is_null()) events.push_back(p->event);
  }
  auto finish = [s, acc, done]() {
    if (acc->failed) return done(kNotJournaled);
    if (!acc->any_allowed) return done(PermissionDenied("access denied: " + acc->first_denial));
    std::vector<EverythingEntry> out;
    for (const auto& p : acc->plans) {
      if (!p->decision.allowed || p->erased || !p->bytes.ok()) continue;
      auto ref = s->ctx->index->LookupRecord(p->anchor.record_id);
      out.push_back({p->anchor.resource_type, ref.ok() && *ref ? (*ref)->id : p->anchor.record_id, *p->bytes});
    }
    done(std::move(out));
  };
  if (events.empty()) return finish();
  acc->remaining = events.size();
  for (auto& e : events) {
    RecordEvent(s, std::move(e), [acc, finish](Status st) {
      bool last;
      {
        std::lock_guard l(acc->mu);
        if (!st.ok()) acc->failed = true;
        last = --acc->remaining == 0;
      }
      if (last) finish();
    });
  }
}

Result<std::vector<json>> ReadService::Consents(const Caller& c, const std::string& patient) {
  ML_ASSIGN_OR_RETURN(auto pk, PatientQuery(s_, c, patient));
  std::vector<json> out;
  int64_t now = NowMs();
  for (const auto& ci : records::ListConsents(s_->State(), pk)) {
    json r = ConsentResource(ci, now);
    Status st = ValidateBuilt(r);
    if (!st.ok()) return Internal("Consent " + ci.consent_id + ": " + st.message());
    out.push_back(std::move(r));
  }
  return out;
}

Result<std::vector<json>> ReadService::AuditEvents(const Caller& c, const std::string& patient, bool accounting) {
  const ServiceRef& s = s_;
  ML_ASSIGN_OR_RETURN(auto pk, PatientQuery(s, c, patient));
  // Journal first, then the chain (see PendingAccessEvents).
  std::vector<records::AccessEventInfo> pending;
  if (!accounting) pending = PendingAccessEvents(s, pk);
  const auto& st = s->State();
  int64_t now = NowMs();
  std::vector<json> out;
  if (!accounting) {
    std::set<std::string> committed;
    for (const auto& e : records::ListAccessEvents(st, pk)) {
      committed.insert(e.event_id);
      out.push_back(AccessAuditEvent(*s->ctx, e));
    }
    for (const auto& e : pending)
      if (!committed.count(e.event_id)) out.push_back(AccessAuditEvent(*s->ctx, e));
  }
  for (const auto& d : records::ListDisclosures(st, pk, accounting, now - kAccountingWindowMs, now))
    out.push_back(DisclosureAuditEvent(*s->ctx, d));
  for (const auto& r : out) {
    Status vs = ValidateBuilt(r);
    if (!vs.ok()) return Internal("AuditEvent " + r["id"].get<std::string>() + ": " + vs.message());
  }
  return out;
}

void ReadService::Disclose(const Caller& c, DisclosureRequest req, Done<DisclosureReceipt> done) {
  const ServiceRef& s = s_;
  bool staff = c.org() == s->ctx->org && c.Has(model::kRoleOrgAdmin | model::kRolePractitioner | model::kRoleNode);
  if (!staff) return done(PermissionDenied("only the custodian's staff record disclosures"));
  if (Status st = RequireIndex(s); !st.ok()) return done(st);
  if (req.patient.rfind("Patient/", 0) == 0) req.patient = req.patient.substr(8);
  if (req.recipient_name.empty()) return done(InvalidArgument("recipient_name is required"));
  if (!records::IsCode(req.description) || !records::IsCode(req.purpose))
    return done(InvalidArgument("description and purpose must be codes ([A-Za-z0-9._:-], 1-64)"));
  auto pl = s->ctx->index->Lookup("Patient", req.patient);
  if (!pl.ok()) return done(pl.status());
  if (!*pl) return done(NotFound("Patient/" + req.patient + " is not known here"));
  json rids = json::array();
  for (const auto& ref : req.records) {
    auto slash = ref.find('/');
    if (slash == std::string::npos) return done(InvalidArgument("records must be Type/id"));
    auto l = s->ctx->index->Lookup(ref.substr(0, slash), ref.substr(slash + 1));
    if (!l.ok() || !*l) return done(NotFound(ref + " is not known here"));
    rids.push_back((*l)->record_id);
  }
  std::string did = crypto::RandomHexId();
  int64_t at = req.at_ms.value_or(NowMs());
  // Recipient name and address stay here, sealed in the vault under the
  // patient's pseudonym; the chain gets their SHA-256 only.
  auto put = s->ctx->vault->Put((*pl)->pseudonym, {"disc-" + did, 1},
                                json({{"name", req.recipient_name}, {"address", req.recipient_address}}).dump());
  if (!put.ok()) return done(put.status());
  std::string recipient_ref = RecipientRef(req.recipient_name, req.recipient_address);
  json payload = {{"disclosure_id", did}, {"patient", (*pl)->pseudonym}, {"recipient_ref", recipient_ref},
                  {"description", req.description}, {"purpose", req.purpose}, {"at_ms", at}};
  if (!rids.empty()) payload["record_ids"] = rids;
  auto o = s->ctx->SubmitAsNode(model::tx::kDisclosure, payload, std::chrono::milliseconds(0));
  if (o.state != node::TxState::kPending) return done(OutcomeStatus(o, "disclosure"));
  s->ctx->pool->WaitAll({o.id}, std::chrono::seconds(30), [done, did, recipient_ref](std::vector<node::TxOutcome> outs) {
    const auto& r = outs[0];
    if (r.state != node::TxState::kCommitted) {
      Status st = OutcomeStatus(r, "disclosure");
      return done(st.ok() ? Unavailable("disclosure not committed in time") : st);
    }
    done(DisclosureReceipt{did, recipient_ref, ToHex(r.id), r.height});
  });
}

// Legal holds are on chain: an org admin sets or releases one with a signed
// record.legal_hold transaction (POST /v1/tx; `medledger legal-hold`), so
// the hold binds every node of the organisation. This lists the
// organisation's holds from committed state, by record id, with the FHIR
// reference when this node's index knows it.
Result<json> ReadService::LegalHolds(const Caller& c) {
  if (!(c.org() == s_->ctx->org && c.Has(model::kRoleOrgAdmin | model::kRoleAuditor)))
    return PermissionDenied("org admins and auditors only");
  json out = json::object();
  for (const auto& h : records::ListLegalHolds(s_->State(), s_->ctx->org)) {
    json j = {{"reason", h.reason}, {"set_by", h.set_by}, {"height", h.height}, {"at_ms", h.at_ms}, {"tx", h.tx}};
    if (s_->ctx->index)
      if (auto ref = s_->ctx->index->LookupRecord(h.record_id); ref.ok() && *ref)
        j["reference"] = (*ref)->type + "/" + (*ref)->id;
    out[h.record_id] = std::move(j);
  }
  return out;
}

void ReadService::Erase(const Caller& c, const std::string& type, const std::string& id, model::Transaction request,
                        Done<json> done) {
  const ServiceRef& s = s_;
  if (Status st = RequireIndex(s); !st.ok()) return done(st);
  const std::string ref = type + "/" + id;
  auto look = s->ctx->index->Lookup(type, id);
  if (!look.ok()) return done(look.status());
  if (!*look) return done(NotFound(ref + " is not known here"));
  if (request.type != model::tx::kErasureRequest || request.signer != c.pk)
    return done(InvalidArgument("the transaction must be an erasure.request signed by the request's signer"));
  auto payload = model::DecodeValue(request.payload);
  if (!payload.ok() || !payload->is_object() || payload->value("record_id", "") != (*look)->record_id)
    return done(InvalidArgument("the request's record_id is not " + ref + "'s"));
  std::string request_id = payload->value("request_id", "");
  auto o = s->ctx->admission->Admit(std::move(request));
  if (o.state == node::TxState::kRejected || !o.error.ok()) return done(OutcomeStatus(o, "erasure request"));
  std::string rid = (*look)->record_id;
  s->ctx->pool->WaitAll({o.id}, std::chrono::seconds(30), [s, ref, rid, request_id, done](std::vector<node::TxOutcome> outs) {
    const auto& r = outs[0];
    if (r.state != node::TxState::kCommitted) {
      Status st = OutcomeStatus(r, "erasure request");
      return done(st.ok() ? Unavailable("erasure request not committed in time") : st);
    }
    std::string request_tx = ToHex(r.id);
    ErasureRequest er{ref, rid, request_id, request_tx};
    if (!s->worker.Post([ctx = s->ctx, s, er, done] { done(DecideErasure(*ctx, er)); }))
      done(Unavailable("erasure request " + request_tx + " is committed; the node is shutting down before deciding it"));
  });
}

Result<json> ReadService::LookupRecord(const Caller& c, const std::string& reference) {
  if (Status st = RequireIndex(s_); !st.ok()) return st;
  auto slash = reference.find('/');
  if (slash == std::string::npos) return InvalidArgument("reference=Type/id is required");
  ML_ASSIGN_OR_RETURN(auto l, s_->ctx->index->Lookup(reference.substr(0, slash), reference.substr(slash + 1)));
  auto head = l ? records::GetLatestAnchor(s_->State(), l->record_id) : std::nullopt;
  if (!head) return NotFound(reference + " is not known here");
  ML_RETURN_IF_ERROR(CheckAnchorReader(s_, c, *head));
  return json({{"reference", reference}, {"record_id", head->record_id}, {"latest", head->version},
               {"erased", head->erased}, {"org", head->org}});
}

Result<json> ReadService::OwnPseudonyms(const Caller& c) {
  json out = json::array();
  for (const auto& p : records::PseudonymsOf(s_->State(), c.pk)) out.push_back({{"org", p.org}, {"pseudonym", p.pseudonym}});
  return json({{"pseudonyms", out}});
}

Result<json> ReadService::Anchor(const Caller& c, const std::string& record_id, int64_t version) {
  if (version <= 0) return InvalidArgument("bad version");
  auto a = records::GetAnchor(s_->State(), record_id, version);
  if (!a) return NotFound("no such record version");
  ML_RETURN_IF_ERROR(CheckAnchorReader(s_, c, *a));
  return json({{"record_id", a->record_id}, {"version", a->version}, {"hash", a->hash},
               {"resource_type", a->resource_type}, {"org", a->org}, {"labels", a->labels},
               {"tx", a->tx}, {"height", a->height}, {"at_ms", a->at_ms}, {"erased", a->erased}});
}

}  // namespace medledger::custodian
