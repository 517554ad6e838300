// The read side of the FHIR API: signed reads with consent decisions and
// durable access events, $everything, Consent and AuditEvent search,
// disclosures, erasure, legal holds, and the anchor look-ups the CLI uses to
// check what it read. Contract and formats: docs/RECORDS.md, "Access, audit
// and erasure API".
//
//   GET  /fhir/{type}/{id}                  signed; the latest version
//   GET  /fhir/{type}/{id}/_history/{vid}   signed; one version
//   GET  /fhir/Patient/{id}/$everything     signed; Bundle searchset of what the caller may read
//   GET  /fhir/Consent?patient=PID          signed; patient, representative or auditor
//   GET  /fhir/AuditEvent?patient=PID[&_accounting=true]   same callers
//   POST /fhir/{type}/{id}/$erase           signed; body: the patient's erasure.request tx (JSON)
//   POST /v1/disclosures                    signed by the custodian's staff; records a disclosure
//   GET  /v1/admin/legal-hold               signed; the custodian's holds on chain (org admins, auditors)
//   GET  /v1/records?reference=Type/id      signed; record id, latest version, erased
//   GET  /v1/records/{record_id}/{version}  signed; the on-chain anchor
//
// Threads: handlers run on the HTTP I/O threads and never wait there: the
// access journal's writer thread answers reads once their events are
// durable, the mempool's reaper answers what waits for a commit, and one
// worker thread here runs erasures (vault compaction takes a while).
#include <spdlog/spdlog.h>

#include <algorithm>
#include <condition_variable>
#include <ctime>
#include <mutex>
#include <set>
#include <thread>

#include "api/access_journal.h"
#include "api/auth.h"
#include "api/denial_limiter.h"
#include "api/fhir_context.h"
#include "api/fhir_forward.h"
#include "api/fhir_index.h"
#include "api/http_signature.h"
#include "common/work_queue.h"
#include "crypto/aead.h"
#include "crypto/sha256.h"
#include "fhir/json.h"
#include "fhir/outcome.h"
#include "fhir/validate.h"
#include "model/transaction.h"
#include "model/value.h"
#include "model/tx_types.h"
#include "records/access.h"
#include "records/consent.h"
#include "records/decision.h"
#include "records/erasure.h"
#include "records/legal_hold.h"
#include "records/reasons.h"
#include "records/records.h"
#include "records/schema.h"
#include "state/identity_record.h"

namespace medledger::api {

using nlohmann::json;

namespace {

constexpr int64_t kAccountingWindowMs = int64_t(6) * 366 * 24 * 3600 * 1000;  // 45 CFR 164.528: six years
constexpr const char* kIdSystem = "urn:medledger:public-id";
constexpr const char* kOrgSystem = "urn:medledger:org";
constexpr const char* kRecordSystem = "urn:medledger:record-id";
constexpr const char* kTxSystem = "urn:medledger:tx";
constexpr const char* kAuditStatusSystem = "urn:medledger:audit-status";
constexpr const char* kActReason = "http://terminology.hl7.org/CodeSystem/v3-ActReason";
constexpr const char* kActCode = "http://terminology.hl7.org/CodeSystem/v3-ActCode";

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}


std::string NewId() { return RandomHexId(); }

http::Response Fhir(int status, std::string body) {
  http::Response r;
  r.status = status;
  r.content_type = "application/fhir+json";
  r.body = std::move(body);
  return r;
}

http::Response Oo(int status, fhir::IssueCode code, std::string_view msg) {
  return Fhir(status, fhir::OperationOutcome(fhir::Severity::kError, code, msg));
}

http::Response OoFor(const Status& st) {
  int status = 500;
  switch (st.code()) {
    case StatusCode::kInvalidArgument: status = 400; break;
    case StatusCode::kNotFound: status = 404; break;
    case StatusCode::kAlreadyExists: status = 409; break;
    case StatusCode::kPermissionDenied: status = 403; break;
    case StatusCode::kUnauthenticated: status = 401; break;
    case StatusCode::kFailedPrecondition: status = 409; break;
    case StatusCode::kAborted: status = 409; break;
    case StatusCode::kUnavailable: status = 503; break;
    case StatusCode::kResourceExhausted: status = 429; break;
    case StatusCode::kGone: status = 410; break;
    default: break;
  }
  return Oo(status, fhir::IssueCodeFor(st.code()), st.message());
}

// The purpose header: treatment, payment, operations, research, emergency,
// or the ActReason code itself.
std::optional<std::string> ParsePurpose(std::string_view s) {
  std::string l;
  for (char c : s) l.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  if (l == "treatment" || l == "treat") return "TREAT";
  if (l == "payment" || l == "hpaymt") return "HPAYMT";
  if (l == "operations" || l == "hoperat") return "HOPERAT";
  if (l == "research" || l == "hresch") return "HRESCH";
  if (l == "emergency" || l == "etreat" || l == "break-glass") return "ETREAT";
  return std::nullopt;
}

std::string SensitiveLabelCode(std::string_view label) {
  if (label == "hiv") return "HIV";
  if (label == "substance-use") return "ETH";
  if (label == "mental-health") return "PSY";
  return std::string(label);
}

std::string BaseUrl(const http::Request& req) {
  auto host = req.Header("host");
  return "http://" + (host ? *host : std::string("localhost")) + "/fhir";
}

// Every handler below runs after api/auth.h verified its caller (the
// signature, the chain head, an active identity, an unspent nonce).
using Caller = state::Caller;

// One shared service per node: nonces, the journal and the erasure worker.
// Handlers hold it by shared_ptr, so it lives as long as the server's routes.
struct ReadService {
  FhirContext* ctx = nullptr;
  std::unique_ptr<AccessJournal> journal;
  DenialLimiter denials;  // which denied reads go on chain

  // Erasures, one at a time. Its jobs hold the service by shared_ptr, so
  // this destructor may run on the worker's thread (WorkQueue allows that).
  WorkQueue worker{"erasure worker", 1};

  // Journaled access events waiting to be signed and admitted as
  // access.event transactions. They are durable already, so the reads they
  // record are answered before this thread gets to them: signing, signature
  // verification and admission stay off the path of the reply.
  // The queue is shared with the thread, which may outlive this object by a
  // moment when it held the last reference to it (see the destructor).
  struct SubmitQueue {
    std::mutex mu;
    std::condition_variable cv;
    std::vector<std::pair<json, uint64_t>> items;
    bool stop = false;
  };
  std::shared_ptr<SubmitQueue> sq = std::make_shared<SubmitQueue>();
  std::thread submitter;
  std::mutex submitter_mu;  // Shutdown may run on the daemon's thread and in the destructor

  ~ReadService() { Shutdown(); }
  // Finishes the erasure in progress and stops both threads. The daemon
  // calls it (FhirContext::stoppers) before it closes the vault and the
  // index: a job holds the service, so the routes going away is not enough.
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
  // False once the service is shutting down.
  bool Post(std::function<void()> job) { return worker.Post(std::move(job)); }
  // Legal holds are on chain (record.legal_hold), so a hold set through any
  // node of the organisation counts here.
  bool OnHold(const std::string& record_id) {
    return records::GetLegalHold(ctx->ledger->chain->state(), record_id).has_value();
  }
};

using Svc = std::shared_ptr<ReadService>;

const state::StateReader& State(const Svc& s) { return s->ctx->ledger->chain->state(); }

// Follows an access.event (or replayed journal entry) until it commits, then
// releases its journal entry. One still pending after many tries, or one the
// node forgot, stays journaled and is resubmitted at the next start.
void Track(const Svc& s, const Hash32& id, uint64_t ticket, int attempts) {
  s->ctx->ledger->pool->WaitAll({id}, std::chrono::seconds(30),
                                [s, id, ticket, attempts](std::vector<node::TxOutcome> outs) {
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

void SubmitJournaled(const Svc& s, const json& payload, uint64_t ticket) {
  auto o = s->ctx->SubmitAsNode(model::tx::kAccessEvent, payload, std::chrono::milliseconds(0));
  if (o.state == node::TxState::kPending) {
    Track(s, o.id, ticket, 0);
  } else if (o.state == node::TxState::kCommitted) {
    s->journal->Resolved(ticket);
  } else {
    // Kept in the journal: resubmitted at the next start.
    spdlog::error("access event {} not admitted: {}: {}", payload.value("event_id", ""),
                  model::RejectName(o.verdict.reason), o.verdict.detail);
  }
}

// Makes the event durable, then calls `then` (on the journal's writer
// thread) with the journal's status: not OK means nothing may be sent. The
// durable event is then queued for submission as an access.event
// transaction (the submitter thread; it commits within the next blocks).
void RecordEvent(const Svc& s, json payload, std::function<void(Status)> then) {
  s->journal->Append(payload, [s, payload, then = std::move(then)](Status st, uint64_t ticket) mutable {
    then(st);
    if (st.ok()) s->QueueSubmit(std::move(payload), ticket);
  });
}

struct ReadPlan {
  records::AnchorInfo anchor;
  records::Decision decision;
  bool erased = false;
  Result<std::string> bytes = Internal("not read");
  json event;  // empty when the record belongs to no patient
};

// Decides one read and prepares its event; reads the vault when allowed.
ReadPlan PlanRead(const Svc& s, const Caller& c, const records::AnchorInfo& anchor, const std::string& purpose,
                  const std::string& reason, int64_t now_ms) {
  ReadPlan p;
  p.anchor = anchor;
  p.erased = anchor.erased;
  const auto& st = State(s);
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
    ar.labels = anchor.labels;
    ar.purpose = purpose;
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
  json e = {{"event_id", NewId()}, {"accessor", c.id},       {"record_id", anchor.record_id},
            {"version", anchor.version}, {"purpose", purpose}, {"at_ms", now_ms}};
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
        if (!put.ok()) spdlog::warn("break-glass note of event {} not stored: {}", e["event_id"].get<std::string>(),
                                    put.status().message());
      }
    }
  } else {
    // One on-chain denial per key, record and reason within the window: a
    // retried read adds nothing, a new reason (revoked since) still shows.
    if (!s->denials.Admit(c.id, anchor.record_id + "#" + d.code, now_ms)) {
      // Answered 403 all the same; the chain is not the flood's to fill.
      s->ctx->ledger->auth->NoteSuppressedDenial(c.id, anchor.record_id, d.reason);
      return p;
    }
    e["outcome"] = "denied";
    e["denial_reason"] = d.code;  // the vocabulary code; the sentence is for the 403
  }
  p.event = std::move(e);
  return p;
}

// Parses purpose and break-glass headers; sets an error response on failure.
std::optional<http::Response> ReadPurpose(const http::Request& req, std::string* purpose, std::string* reason) {
  auto ph = req.Header(kPurposeHeader);
  if (!ph) return Oo(400, fhir::IssueCode::kInvalid, "X-Purpose-Of-Use is required (treatment, payment, operations, research, or an ActReason code)");
  auto p = ParsePurpose(*ph);
  if (!p) return Oo(400, fhir::IssueCode::kInvalid, "unknown purpose of use");
  auto r = req.Header(kBreakGlassHeader);
  *reason = r ? *r : "";
  while (!reason->empty() && reason->back() == ' ') reason->pop_back();
  while (!reason->empty() && reason->front() == ' ') reason->erase(0, 1);
  if (!reason->empty() && *p == "TREAT") *p = "ETREAT";  // a stated emergency is break-glass
  if (!reason->empty() && *p != "ETREAT")
    return Oo(400, fhir::IssueCode::kInvalid, "X-Break-Glass-Reason goes with purpose ETREAT (emergency treatment)");
  *purpose = *p;
  return std::nullopt;
}

std::optional<http::Response> RequireIndex(const Svc& s) {
  if (!s->ctx->index) return Oo(503, fhir::IssueCode::kException, "the FHIR index is not open yet");
  return std::nullopt;
}

void AddRecordHeaders(http::Response& r, const records::AnchorInfo& a) {
  r.headers.emplace_back("ETag", "W/\"" + std::to_string(a.version) + "\"");
  r.headers.emplace_back("X-Medledger-Anchor", a.hash);
  r.headers.emplace_back("X-Medledger-Record-Id", a.record_id);
  r.headers.emplace_back("X-Medledger-Version", std::to_string(a.version));
}

void HandleRead(const Svc& s, http::Request& req, const Caller& c, http::Reply reply, std::optional<std::string> vid) {
  // Cross-organisation reads (fhir_forward.h): `via` names the node that
  // forwarded this one, whose hop signature api/auth.h checked.
  const std::string via = c.via;
  if (!via.empty())
    reply = [reply, via](http::Response r) {
      r.headers.emplace_back(std::string(kForwardedByHeader), via);
      reply(std::move(r));
    };
  std::string purpose, reason;
  if (auto e = ReadPurpose(req, &purpose, &reason)) return reply(*e);
  // Cross-organisation reads: another custodian named; answered by a worker.
  if (MaybeForwardRead(s->ctx, req, reply, vid)) return;
  if (auto e = RequireIndex(s)) return reply(*e);
  const std::string type = req.params[0], id = req.params[1];
  auto look = s->ctx->index->Lookup(type, id);
  if (!look.ok()) return reply(OoFor(look.status()));
  if (!*look) return reply(Oo(404, fhir::IssueCode::kNotFound, type + "/" + id + " is not known here"));
  const std::string rid = (*look)->record_id;
  std::optional<records::AnchorInfo> anchor;
  if (vid) {
    char* end = nullptr;
    long long v = std::strtoll(vid->c_str(), &end, 10);
    if (vid->empty() || *end || v <= 0) return reply(Oo(404, fhir::IssueCode::kNotFound, "no such version"));
    anchor = records::GetAnchor(State(s), rid, v);
  } else {
    anchor = records::GetLatestAnchor(State(s), rid);
  }
  if (!anchor || anchor->org != s->ctx->org)
    return reply(Oo(404, fhir::IssueCode::kNotFound, type + "/" + id + (vid ? " has no such committed version" : " is not committed yet")));
  ReadPlan plan = PlanRead(s, c, *anchor, purpose, reason, NowMs());
  std::string ref = type + "/" + id;
  // Cross-organisation reads: the forwarding node goes in the log (access.event has no field for it).
  if (!via.empty() && !plan.event.is_null())
    spdlog::info("access event {} was forwarded by node {}", plan.event["event_id"].get<std::string>(), via.substr(0, 16));
  // A break-glass read served without a confirmed chain head says so.
  const bool unconfirmed = c.head_unconfirmed;
  auto answer = [ref, unconfirmed](const ReadPlan& p) {
    const auto& d = p.decision;
    if (!d.allowed) return Oo(403, fhir::IssueCode::kForbidden, "access denied: " + d.reason);
    if (p.erased) return Oo(410, fhir::IssueCode::kDeleted, ref + " was erased at the patient's request");
    if (!p.bytes.ok()) {
      if (p.bytes.status().code() == StatusCode::kDataLoss)
        return Oo(500, fhir::IssueCode::kException,
                  "integrity check failed for record " + p.anchor.record_id + " version " +
                      std::to_string(p.anchor.version) + ": nothing returned");
      return OoFor(p.bytes.status());
    }
    http::Response r = Fhir(200, *p.bytes);
    AddRecordHeaders(r, p.anchor);
    if (!p.event.is_null()) r.headers.emplace_back("X-Medledger-Access-Event", p.event["event_id"].get<std::string>());
    if (d.break_glass) r.headers.emplace_back("X-Medledger-Break-Glass", "true");
    if (unconfirmed) r.headers.emplace_back("X-Medledger-Head-Unconfirmed", "true");
    return r;
  };
  if (plan.event.is_null()) return reply(answer(plan));
  json ev = plan.event;
  auto shared = std::make_shared<ReadPlan>(std::move(plan));
  RecordEvent(s, std::move(ev), [reply, shared, answer](Status st) {
    if (!st.ok())
      return reply(Oo(503, fhir::IssueCode::kException, "the access could not be journaled; nothing was returned"));
    reply(answer(*shared));
  });
}

void HandleEverything(const Svc& s, http::Request& req, const Caller& c, http::Reply reply) {
  std::string purpose, reason;
  if (auto e = ReadPurpose(req, &purpose, &reason)) return reply(*e);
  if (auto e = RequireIndex(s)) return reply(*e);
  const std::string id = req.params[0];
  auto look = s->ctx->index->Lookup("Patient", id);
  if (!look.ok()) return reply(OoFor(look.status()));
  if (!*look) return reply(Oo(404, fhir::IssueCode::kNotFound, "Patient/" + id + " is not known here"));
  const auto& st = State(s);
  auto head = records::GetLatestAnchor(st, (*look)->record_id);
  if (!head || head->org != s->ctx->org)
    return reply(Oo(404, fhir::IssueCode::kNotFound, "Patient/" + id + " is not committed yet"));
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
    auto p = std::make_shared<ReadPlan>(PlanRead(s, c, *a, purpose, reason, now));
    if (p->decision.allowed) acc->any_allowed = true;
    else if (acc->first_denial.empty()) acc->first_denial = p->decision.reason;
    acc->plans.push_back(p);
    if (!p->event.is_null()) events.push_back(p->event);
  }
  std::string base = BaseUrl(req);
  auto finish = [s, acc, reply, base]() {
    if (acc->failed)
      return reply(Oo(503, fhir::IssueCode::kException, "the access could not be journaled; nothing was returned"));
    if (!acc->any_allowed)
      return reply(Oo(403, fhir::IssueCode::kForbidden, "access denied: " + acc->first_denial));
    std::string entries;
    size_t n = 0;
    for (const auto& p : acc->plans) {
      if (!p->decision.allowed || p->erased || !p->bytes.ok()) continue;
      auto ref = s->ctx->index->LookupRecord(p->anchor.record_id);
      std::string full = base + "/" + p->anchor.resource_type + "/" +
                         (ref.ok() && *ref ? (*ref)->id : p->anchor.record_id);
      if (n++) entries += ",";
      entries += "{\"fullUrl\":" + json(full).dump() + ",\"resource\":" + *p->bytes +
                 ",\"search\":{\"mode\":\"match\"}}";
    }
    std::string body = "{\"resourceType\":\"Bundle\",\"type\":\"searchset\",\"total\":" + std::to_string(n) +
                       ",\"entry\":[" + entries + "]}";
    if (n == 0) body = "{\"resourceType\":\"Bundle\",\"type\":\"searchset\",\"total\":0}";
    reply(Fhir(200, std::move(body)));
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

// Patient, active representative or auditor: who may see a patient's
// consents and access log.
std::optional<http::Response> PatientQuery(const Svc& s, const http::Request& req, const Caller& c,
                                           crypto::PublicKey* patient) {
  auto q = req.Query("patient");
  if (!q) return Oo(400, fhir::IssueCode::kInvalid, "patient=<patient public id> is required");
  std::string pid = *q;
  if (pid.rfind("Patient/", 0) == 0) pid = pid.substr(8);
  auto pk = crypto::ParsePublicId(pid);
  if (!pk.ok()) return Oo(400, fhir::IssueCode::kInvalid, "patient must be a public id (64 hex characters)");
  *patient = *pk;
  bool ok = c.pk == *pk || c.Has(model::kRoleAuditor) ||
            records::IsActiveRepresentative(State(s), *pk, c.pk, NowMs());
  if (!ok) return Oo(403, fhir::IssueCode::kForbidden, "only the patient, a representative or an auditor may read this");
  return std::nullopt;
}

json Coding(const char* system, std::string code) { return {{"system", system}, {"code", std::move(code)}}; }

json IdRef(const std::string& who) {
  if (who.rfind("org:", 0) == 0)
    return {{"type", "Organization"}, {"identifier", {{"system", kOrgSystem}, {"value", who.substr(4)}}}};
  return {{"identifier", {{"system", kIdSystem}, {"value", who}}}};
}

json ConsentResource(const records::ConsentInfo& ci, int64_t now_ms) {
  bool active = !ci.revoked && (!ci.until_ms || now_ms < *ci.until_ms);
  json provision = {{"type", "permit"}};
  if (ci.not_before_ms || ci.until_ms) {
    json period = json::object();
    if (ci.not_before_ms) period["start"] = fhir::FormatInstant(*ci.not_before_ms);
    if (ci.until_ms) period["end"] = fhir::FormatInstant(*ci.until_ms);
    provision["period"] = period;
  }
  json actor_ref = IdRef(ci.grantee);
  provision["actor"] = json::array(
      {{{"role", {{"coding", json::array({Coding("http://terminology.hl7.org/CodeSystem/v3-ParticipationType", "IRCP")})}}},
        {"reference", actor_ref}}});
  provision["action"] = json::array(
      {{{"coding", json::array({Coding("http://terminology.hl7.org/CodeSystem/consentaction", "access")})}}});
  json purposes = json::array();
  for (const auto& p : ci.purposes) purposes.push_back(Coding(kActReason, p));
  provision["purpose"] = purposes;
  if (!(ci.types.size() == 1 && ci.types[0] == "*")) {
    json cls = json::array();
    for (const auto& t : ci.types) cls.push_back(Coding("http://hl7.org/fhir/resource-types", t));
    provision["class"] = cls;
  }
  if (!ci.labels.empty()) {
    json labels = json::array();
    for (const auto& l : ci.labels) labels.push_back(Coding(kActCode, SensitiveLabelCode(l)));
    provision["securityLabel"] = labels;
  }
  json c = {
      {"resourceType", "Consent"},
      {"id", ci.consent_id},
      {"identifier", json::array({{{"system", kTxSystem}, {"value", ci.tx}}})},
      {"status", active ? "active" : "inactive"},
      {"scope", {{"coding", json::array({Coding("http://terminology.hl7.org/CodeSystem/consentscope", "patient-privacy")})}}},
      {"category", json::array({{{"coding", json::array({Coding("http://loinc.org", "59284-0")})}}})},
      {"patient", IdRef(ci.patient)},
      {"performer", json::array({IdRef(ci.granted_by)})},
      {"policyRule", {{"coding", json::array({Coding(kActCode, "OPTIN")})}}},
      {"provision", provision}};
  if (ci.patient_org != "*") c["organization"] = json::array({IdRef("org:" + ci.patient_org)});
  return c;
}

// Validates a resource built here; a failure is a bug, logged and reported.
Status ValidateBuilt(const json& resource) {
  auto v = fhir::Parse(resource.dump());
  if (!v.ok()) return Internal("built resource does not parse: " + v.status().message());
  Status st = fhir::ValidateResource(*v);
  if (!st.ok()) spdlog::error("built {} fails validation: {}", resource.value("resourceType", "?"), st.message());
  return st;
}

http::Response SearchBundle(const std::string& base, const std::vector<json>& resources) {
  json entries = json::array();
  for (const auto& r : resources)
    entries.push_back({{"fullUrl", base + "/" + r["resourceType"].get<std::string>() + "/" + r["id"].get<std::string>()},
                       {"resource", r},
                       {"search", {{"mode", "match"}}}});
  json b = {{"resourceType", "Bundle"}, {"type", "searchset"}, {"total", resources.size()}};
  if (!entries.empty()) b["entry"] = entries;
  return Fhir(200, b.dump());
}

void HandleConsentSearch(const Svc& s, http::Request& req, const Caller& c, http::Reply reply) {
  crypto::PublicKey patient{};
  if (auto e = PatientQuery(s, req, c, &patient)) return reply(*e);
  std::vector<json> out;
  int64_t now = NowMs();
  for (const auto& ci : records::ListConsents(State(s), patient)) {
    json r = ConsentResource(ci, now);
    Status st = ValidateBuilt(r);
    if (!st.ok()) return reply(Oo(500, fhir::IssueCode::kException, "Consent " + ci.consent_id + ": " + st.message()));
    out.push_back(std::move(r));
  }
  reply(SearchBundle(BaseUrl(req), out));
}

json AuditType(const char* code, const char* display) {
  return {{"system", "http://dicom.nema.org/resources/ontology/DCM"}, {"code", code}, {"display", display}};
}

json AccessAuditEvent(const Svc& s, const records::AccessEventInfo& e) {
  json purpose = {{"coding", json::array({Coding(kActReason, e.purpose)})}};
  json agent = {{"type", {{"coding", json::array({Coding("http://terminology.hl7.org/CodeSystem/v3-ParticipationType", "IRCP")})}}},
                {"who", IdRef(e.accessor)},
                {"requestor", true},
                {"purposeOfUse", json::array({purpose})}};
  if (!e.accessor_org.empty()) agent["altId"] = e.accessor_org;
  json what = {{"identifier", {{"system", kRecordSystem}, {"value", e.record_id}}}};
  if (e.org == s->ctx->org && s->ctx->index) {
    auto ref = s->ctx->index->LookupRecord(e.record_id);
    if (ref.ok() && *ref) what["reference"] = (*ref)->type + "/" + (*ref)->id + "/_history/" + std::to_string(e.version);
  }
  json detail = json::array({{{"type", "version"}, {"valueString", std::to_string(e.version)}}});
  if (!e.basis.empty()) detail.push_back({{"type", "basis"}, {"valueString", e.basis}});
  if (!e.consent_id.empty()) detail.push_back({{"type", "consent"}, {"valueString", "Consent/" + e.consent_id}});
  if (e.break_glass) {
    detail.push_back({{"type", "break-glass-reason"}, {"valueString", e.break_glass_reason}});
    if (e.org == s->ctx->org && e.break_glass_reason == records::kOtherBreakGlassReason) {
      auto note = s->ctx->vault->Get({"bgnote-" + e.event_id, 1});
      if (note.ok()) detail.push_back({{"type", "break-glass-note"}, {"valueString", *note}});
    }
  }
  json ev = {
      {"resourceType", "AuditEvent"},
      {"id", e.event_id},
      {"type", Coding("http://terminology.hl7.org/CodeSystem/audit-event-type", "rest")},
      {"subtype", json::array({Coding("http://hl7.org/fhir/restful-interaction", "read")})},
      {"action", "R"},
      {"recorded", fhir::FormatInstant(e.at_ms)},
      // R4 AuditEventOutcome: 0 success; a refused read is 4, "minor
      // failure" (the request ended normally with a 4xx answer), not 8/12.
      {"outcome", e.granted ? "0" : "4"},
      {"purposeOfEvent", json::array({purpose})},
      {"agent", json::array({agent})},
      {"source", {{"site", e.org},
                  {"observer", IdRef("org:" + e.org)},
                  {"type", json::array({Coding("http://terminology.hl7.org/CodeSystem/security-source-type", "4")})}}},
      {"entity", json::array({{{"what", what},
                               {"type", Coding("http://terminology.hl7.org/CodeSystem/audit-entity-type", "2")},
                               {"detail", detail}},
                              {{"what", {{"identifier", {{"system", kTxSystem}, {"value", e.tx}}}}},
                               {"type", Coding("http://terminology.hl7.org/CodeSystem/audit-entity-type", "4")},
                               {"description", "access.event transaction, block " + std::to_string(e.height)}}})}};
  if (!e.granted) ev["outcomeDesc"] = e.denial_reason;
  if (e.break_glass)
    ev["meta"]["security"] = json::array({{{"system", kActCode}, {"code", "BTG"}, {"display", "break the glass"}}});
  if (e.tx.empty()) {
    // Journaled here, not in a block yet (PendingAccessEvents): no
    // transaction to name, and tagged so that nobody takes it for committed.
    ev["entity"].erase(1);
    ev["meta"]["tag"] = json::array({{{"system", kAuditStatusSystem}, {"code", "pending"},
                                      {"display", "journaled by the custodian, not yet in a block"}}});
  }
  return ev;
}

// Accesses this node answered whose access.event is not committed yet: the
// journal's unresolved entries whose record belongs to `patient`. Call it
// before reading the chain's events: an entry leaves the journal only after
// its event committed, so an event committed in between is in both lists
// (the chain's copy wins) and never in neither.
std::vector<records::AccessEventInfo> PendingAccessEvents(const Svc& s, const crypto::PublicKey& patient) {
  std::vector<records::AccessEventInfo> out;
  auto journaled = s->journal->Unresolved();
  const auto& st = State(s);
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

json DisclosureAuditEvent(const Svc& s, const records::DisclosureInfo& d) {
  json recipient = {{"who", {{"identifier", {{"system", "urn:medledger:recipient-ref"}, {"value", d.recipient_ref}}}}},
                    {"requestor", false}};
  if (d.org == s->ctx->org) {
    auto local = s->ctx->vault->Get({"disc-" + d.disclosure_id, 1});
    if (local.ok()) {
      json j = json::parse(*local, nullptr, false);
      if (j.is_object()) {
        std::string name = j.value("name", ""), address = j.value("address", "");
        if (!name.empty()) recipient["name"] = name;
        if (!address.empty()) recipient["who"]["display"] = address;
      }
    }
  }
  json entities = json::array();
  for (const auto& rid : d.record_ids) {
    json what = {{"identifier", {{"system", kRecordSystem}, {"value", rid}}}};
    if (d.org == s->ctx->org && s->ctx->index) {
      auto ref = s->ctx->index->LookupRecord(rid);
      if (ref.ok() && *ref) what["reference"] = (*ref)->type + "/" + (*ref)->id;
    }
    entities.push_back({{"what", what}, {"type", Coding("http://terminology.hl7.org/CodeSystem/audit-entity-type", "2")}});
  }
  entities.push_back({{"what", {{"identifier", {{"system", kTxSystem}, {"value", d.tx}}}}},
                      {"type", Coding("http://terminology.hl7.org/CodeSystem/audit-entity-type", "4")},
                      {"description", "disclosure.record transaction, block " + std::to_string(d.height) +
                                          "; description " + d.description}});
  json purpose = {{"coding", json::array({Coding(kActReason, d.purpose)})}};
  return {{"resourceType", "AuditEvent"},
          {"id", d.disclosure_id},
          {"type", AuditType("110106", "Export")},
          {"action", "R"},
          {"recorded", fhir::FormatInstant(d.at_ms)},
          {"outcome", "0"},
          {"purposeOfEvent", json::array({purpose})},
          {"agent", json::array({{{"who", IdRef("org:" + d.org)}, {"requestor", true}, {"purposeOfUse", json::array({purpose})}},
                                 recipient})},
          {"source", {{"site", d.org}, {"observer", IdRef("org:" + d.org)}}},
          {"entity", entities}};
}

void HandleAuditSearch(const Svc& s, http::Request& req, const Caller& c, http::Reply reply) {
  crypto::PublicKey patient{};
  if (auto e = PatientQuery(s, req, c, &patient)) return reply(*e);
  auto acc = req.Query("_accounting");
  bool accounting = acc && (*acc == "true" || *acc == "1");
  // Journal first, then the chain (see PendingAccessEvents).
  std::vector<records::AccessEventInfo> pending;
  if (!accounting) pending = PendingAccessEvents(s, patient);
  const auto& st = State(s);
  int64_t now = NowMs();
  std::vector<json> out;
  if (!accounting) {
    std::set<std::string> committed;
    for (const auto& e : records::ListAccessEvents(st, patient)) {
      committed.insert(e.event_id);
      out.push_back(AccessAuditEvent(s, e));
    }
    for (const auto& e : pending)
      if (!committed.count(e.event_id)) out.push_back(AccessAuditEvent(s, e));
  }
  for (const auto& d : records::ListDisclosures(st, patient, accounting, now - kAccountingWindowMs, now))
    out.push_back(DisclosureAuditEvent(s, d));
  for (const auto& r : out) {
    Status vs = ValidateBuilt(r);
    if (!vs.ok()) return reply(Oo(500, fhir::IssueCode::kException, "AuditEvent " + r["id"].get<std::string>() + ": " + vs.message()));
  }
  reply(SearchBundle(BaseUrl(req), out));
}

bool IsStaff(const Svc& s, const Caller& c) {
  return c.org() == s->ctx->org &&
         c.Has(model::kRoleOrgAdmin | model::kRolePractitioner | model::kRoleNode);
}

std::string RecipientRef(std::string_view name, std::string_view address) {
  return ToHex(crypto::Sha256(std::string(name) + "\n" + std::string(address)));
}

void HandleDisclosure(const Svc& s, http::Request& req, const Caller& c, http::Reply reply) {
  if (!IsStaff(s, c)) return reply(Oo(403, fhir::IssueCode::kForbidden, "only the custodian's staff record disclosures"));
  if (auto e = RequireIndex(s)) return reply(*e);
  json b = json::parse(req.body, nullptr, false);
  if (!b.is_object()) return reply(Oo(400, fhir::IssueCode::kInvalid, "body must be a JSON object"));
  std::string patient = b.value("patient", ""), name = b.value("recipient_name", ""),
              address = b.value("recipient_address", ""), description = b.value("description", ""),
              purpose = b.value("purpose", "");
  if (patient.rfind("Patient/", 0) == 0) patient = patient.substr(8);
  if (name.empty()) return reply(Oo(400, fhir::IssueCode::kInvalid, "recipient_name is required"));
  if (!records::IsCode(description) || !records::IsCode(purpose))
    return reply(Oo(400, fhir::IssueCode::kInvalid, "description and purpose must be codes ([A-Za-z0-9._:-], 1-64)"));
  auto pl = s->ctx->index->Lookup("Patient", patient);
  if (!pl.ok()) return reply(OoFor(pl.status()));
  if (!*pl) return reply(Oo(404, fhir::IssueCode::kNotFound, "Patient/" + patient + " is not known here"));
  json rids = json::array();
  if (b.contains("records")) {
    if (!b["records"].is_array()) return reply(Oo(400, fhir::IssueCode::kInvalid, "records must be an array of Type/id"));
    for (const auto& r : b["records"]) {
      std::string ref = r.is_string() ? r.get<std::string>() : "";
      auto slash = ref.find('/');
      if (slash == std::string::npos) return reply(Oo(400, fhir::IssueCode::kInvalid, "records must be Type/id"));
      auto l = s->ctx->index->Lookup(ref.substr(0, slash), ref.substr(slash + 1));
      if (!l.ok() || !*l) return reply(Oo(404, fhir::IssueCode::kNotFound, ref + " is not known here"));
      rids.push_back((*l)->record_id);
    }
  }
  std::string did = NewId();
  int64_t at = b.contains("at_ms") && b["at_ms"].is_number_integer() ? b["at_ms"].get<int64_t>() : NowMs();
  // Recipient name and address stay here, sealed in the vault under the
  // patient's pseudonym; the chain gets their SHA-256 only.
  auto put = s->ctx->vault->Put((*pl)->pseudonym, {"disc-" + did, 1}, json({{"name", name}, {"address", address}}).dump());
  if (!put.ok()) return reply(OoFor(put.status()));
  json payload = {{"disclosure_id", did}, {"patient", (*pl)->pseudonym}, {"recipient_ref", RecipientRef(name, address)},
                  {"description", description}, {"purpose", purpose}, {"at_ms", at}};
  if (!rids.empty()) payload["record_ids"] = rids;
  auto o = s->ctx->SubmitAsNode(model::tx::kDisclosure, payload, std::chrono::milliseconds(0));
  if (o.state == node::TxState::kRejected)
    return reply(Oo(model::RejectHttpStatus(o.verdict.reason), fhir::IssueCode::kProcessing,
                    std::string(model::RejectName(o.verdict.reason)) + ": " + o.verdict.detail));
  s->ctx->ledger->pool->WaitAll({o.id}, std::chrono::seconds(30), [reply, did, payload](std::vector<node::TxOutcome> outs) {
    const auto& r = outs[0];
    if (r.state != node::TxState::kCommitted)
      return reply(Oo(r.state == node::TxState::kRejected ? 409 : 503, fhir::IssueCode::kProcessing,
                      std::string("disclosure not committed: ") + node::TxStateName(r.state) + " " + r.verdict.detail));
    json out = {{"disclosure_id", did}, {"recipient_ref", payload["recipient_ref"]}, {"tx", ToHex(r.id)}, {"height", r.height}};
    reply(http::Response::Json(201, out.dump()));
  });
}

// Legal holds are on chain: an org admin sets or releases one with a signed
// record.legal_hold transaction (POST /v1/tx; `medledger legal-hold`), so
// the hold binds every node of the organisation. This lists the
// organisation's holds from committed state, by record id, with the FHIR
// reference when this node's index knows it.
void HandleListHolds(const Svc& s, http::Request& req, const Caller& c, http::Reply reply) {
  if (!(c.org() == s->ctx->org && c.Has(model::kRoleOrgAdmin | model::kRoleAuditor)))
    return reply(Oo(403, fhir::IssueCode::kForbidden, "org admins and auditors only"));
  json out = json::object();
  for (const auto& h : records::ListLegalHolds(State(s), s->ctx->org)) {
    json j = {{"reason", h.reason}, {"set_by", h.set_by}, {"height", h.height}, {"at_ms", h.at_ms}, {"tx", h.tx}};
    if (s->ctx->index)
      if (auto ref = s->ctx->index->LookupRecord(h.record_id); ref.ok() && *ref)
        j["reference"] = (*ref)->type + "/" + (*ref)->id;
    out[h.record_id] = std::move(j);
  }
  reply(http::Response::Json(200, out.dump()));
}

// Canonical bytes of a receipt: a domain prefix and the compact JSON of the
// receipt without "signature" (object keys sorted, as nlohmann::json dumps).
std::string ReceiptSigningBytes(json receipt) {
  receipt.erase("signature");
  return "medledger-erasure-receipt-v1\n" + receipt.dump();
}

void DecideErasure(const Svc& s, std::string ref, std::string record_id, std::string request_id, std::string request_tx,
                   http::Reply reply) {
  const auto wait = std::chrono::seconds(30);
  auto refuse = [&] {
    json d = {{"request_id", request_id}, {"decision", "refused"}, {"legal_hold", true}};
    auto o = s->ctx->SubmitAsNode(model::tx::kErasureDecision, d, wait);
    std::string where = o.state == node::TxState::kCommitted
                            ? " (decision tx " + ToHex(o.id) + ", block " + std::to_string(o.height) + ")"
                            : " (decision not committed: " + std::string(node::TxStateName(o.state)) + ")";
    reply(Oo(409, fhir::IssueCode::kConflict, "erasure refused: legal-hold" + where));
  };
  if (s->OnHold(record_id)) return refuse();
  json d = {{"request_id", request_id}, {"decision", "erased"}};
  auto o = s->ctx->SubmitAsNode(model::tx::kErasureDecision, d, wait);
  // A hold committed since the check above (through any node) makes the
  // chain reject "erased": refuse instead.
  if (o.state == node::TxState::kRejected && s->OnHold(record_id)) return refuse();
  if (o.state != node::TxState::kCommitted)
    return reply(Oo(503, fhir::IssueCode::kException,
                    std::string("erasure decision not committed: ") + node::TxStateName(o.state) + " " + o.verdict.detail));
  // The chain says erased first; if the node dies before the keys are gone,
  // the start-up re-application destroys them before serving.
  Status st = s->ctx->vault->Erase(record_id);
  if (!st.ok()) return reply(Oo(500, fhir::IssueCode::kException, "vault erase failed: " + st.message()));
  // The record's identifiers (an MRN, say) leave the index too, older
  // versions of its entries included; the Type/id entry stays as a
  // tombstone, so reads still find the record and answer 410.
  if (s->ctx->index) st = s->ctx->index->EraseRecords({record_id});
  if (!st.ok()) return reply(Oo(500, fhir::IssueCode::kException, "index erase failed: " + st.message()));
  auto er = records::GetErased(State(s), record_id);
  json versions = json::array();
  for (int64_t v = 1; er && v <= er->versions; ++v) versions.push_back(v);
  json receipt = {{"type", "medledger-erasure-receipt"},
                  {"version", 1},
                  {"reference", ref},
                  {"record_id", record_id},
                  {"versions_destroyed", versions},
                  {"request_id", request_id},
                  {"request_tx", request_tx},
                  {"decision_tx", ToHex(o.id)},
                  {"block_height", o.height},
                  {"erased_at_ms", er ? er->at_ms : 0},
                  {"erased_at", fhir::FormatInstant(er ? static_cast<int64_t>(er->at_ms) : NowMs())},
                  {"custodian", s->ctx->org},
                  {"node_key", s->ctx->node_key->id()},
                  {"recipients_notified", er ? json(er->recipients) : json::array()}};
  std::string bytes = ReceiptSigningBytes(receipt);
  auto sig = s->ctx->node_key->Sign(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
  receipt["signature"] = ToHex(sig);
  reply(http::Response::Json(200, receipt.dump()));
}

void HandleErase(const Svc& s, http::Request& req, const Caller& c, http::Reply reply) {
  if (auto e = RequireIndex(s)) return reply(*e);
  const std::string type = req.params[0], id = req.params[1], ref = type + "/" + id;
  auto look = s->ctx->index->Lookup(type, id);
  if (!look.ok()) return reply(OoFor(look.status()));
  if (!*look) return reply(Oo(404, fhir::IssueCode::kNotFound, ref + " is not known here"));
  auto parsed = json::parse(req.body, nullptr, false);
  auto tx = parsed.is_discarded() ? Result<model::Transaction>(InvalidArgument("body is not JSON")) : model::TxFromJson(parsed);
  if (!tx.ok()) return reply(Oo(400, fhir::IssueCode::kInvalid, "body must be the signed erasure.request transaction: " + tx.status().message()));
  if (tx->type != model::tx::kErasureRequest || tx->signer != c.pk)
    return reply(Oo(400, fhir::IssueCode::kInvalid, "the transaction must be an erasure.request signed by the request's signer"));
  auto payload = model::DecodeValue(tx->payload);
  if (!payload.ok() || !payload->is_object() || payload->value("record_id", "") != (*look)->record_id)
    return reply(Oo(400, fhir::IssueCode::kInvalid, "the request's record_id is not " + ref + "'s"));
  std::string request_id = payload->value("request_id", "");
  auto o = AdmitTx(s->ctx->ledger, *tx);
  if (o.state == node::TxState::kRejected)
    return reply(Oo(model::RejectHttpStatus(o.verdict.reason), fhir::IssueCode::kProcessing,
                    std::string("erasure request rejected: ") + model::RejectName(o.verdict.reason) + ": " + o.verdict.detail));
  std::string rid = (*look)->record_id;
  s->ctx->ledger->pool->WaitAll({o.id}, std::chrono::seconds(30), [s, ref, rid, request_id, reply](std::vector<node::TxOutcome> outs) {
    const auto& r = outs[0];
    if (r.state != node::TxState::kCommitted)
      return reply(Oo(r.state == node::TxState::kRejected ? model::RejectHttpStatus(r.verdict.reason) : 503,
                      fhir::IssueCode::kProcessing,
                      std::string("erasure request not committed: ") + node::TxStateName(r.state) + " " +
                          model::RejectName(r.verdict.reason) + " " + r.verdict.detail));
    std::string request_tx = ToHex(r.id);
    if (!s->Post([s, ref, rid, request_id, request_tx, reply] { DecideErasure(s, ref, rid, request_id, request_tx, reply); }))
      reply(Oo(503, fhir::IssueCode::kException,
               "erasure request " + request_tx + " is committed; the node is shutting down before deciding it"));
  });
}

// Anchors are read by member identities: keys that hold any role of a member
// organisation (staff, nodes, auditors). A key that is only a patient reads
// the anchors of its own records, or of a patient it represents, which `record
// get` and `erase` need to check what they receive; anyone else's are 403.
std::optional<http::Response> CheckAnchorReader(const Svc& s, const Caller& c, const records::AnchorInfo& a) {
  if (c.identity.roles & ~uint32_t(model::kRolePatient)) return std::nullopt;
  auto bound = records::BoundPatient(State(s), a.org, a.pseudonym);
  if (bound && (*bound == c.pk || records::IsActiveRepresentative(State(s), *bound, c.pk, NowMs())))
    return std::nullopt;
  return http::Response::Error(403, "forbidden",
                               "anchors are readable by member organisations' keys, and by a patient for their own records");
}

void HandleRecordLookup(const Svc& s, http::Request& req, const Caller& c, http::Reply reply) {
  if (auto e = RequireIndex(s)) return reply(*e);
  auto ref = req.Query("reference");
  auto slash = ref ? ref->find('/') : std::string::npos;
  if (slash == std::string::npos) return reply(http::Response::Error(400, "invalid_argument", "reference=Type/id is required"));
  auto l = s->ctx->index->Lookup(ref->substr(0, slash), ref->substr(slash + 1));
  if (!l.ok()) return reply(http::Response::Error(500, "internal", l.status().message()));
  auto head = *l ? records::GetLatestAnchor(State(s), (*l)->record_id) : std::nullopt;
  if (!head) return reply(http::Response::Error(404, "not_found", *ref + " is not known here"));
  if (auto e = CheckAnchorReader(s, c, *head)) return reply(std::move(*e));
  reply(http::Response::Json(200, json({{"reference", *ref}, {"record_id", head->record_id}, {"latest", head->version},
                                        {"erased", head->erased}, {"org", head->org}})
                                      .dump()));
}

void HandleAnchor(const Svc& s, http::Request& req, const Caller& c, http::Reply reply) {
  char* end = nullptr;
  long long v = std::strtoll(req.params[1].c_str(), &end, 10);
  if (req.params[1].empty() || *end || v <= 0) return reply(http::Response::Error(400, "invalid_argument", "bad version"));
  auto a = records::GetAnchor(State(s), req.params[0], v);
  if (!a) return reply(http::Response::Error(404, "not_found", "no such record version"));
  if (auto e = CheckAnchorReader(s, c, *a)) return reply(std::move(*e));
  reply(http::Response::Json(200, json({{"record_id", a->record_id}, {"version", a->version}, {"hash", a->hash},
                                        {"resource_type", a->resource_type}, {"org", a->org}, {"labels", a->labels},
                                        {"tx", a->tx}, {"height", a->height}, {"at_ms", a->at_ms}, {"erased", a->erased}})
                                      .dump()));
}

// At start-up, before serving: destroy again the keys of records erased on
// chain (a restored backup still holds them), then resubmit journaled access
// events the chain does not hold.
// Erasure requests of this organisation's records that are on chain but
// undecided. The erase handler decides each request it submits. A request
// stays pending if the node stopped between the two, or if it reached the
// chain by another way (POST /v1/tx). A pending request blocks any new one
// for the record, so the patient could never ask again. They are decided
// now, on the erasure worker, as the handler would decide them (refused
// under a legal hold, else erased). Nobody waits for these answers; they
// are logged. Another node of the organisation may decide the same request
// first; the chain then rejects this one as already decided, which is
// harmless.
void DecideLeftoverErasures(const Svc& s) {
  for (const auto& p : records::ListPendingErasures(State(s), s->ctx->org)) {
    spdlog::info("erasure request {} for record {} was never decided; deciding it now", p.request_id, p.record_id);
    auto log = [id = p.request_id](http::Response r) {
      if (r.status == 200) spdlog::info("erasure request {}: record erased", id);
      else spdlog::warn("erasure request {}: HTTP {}: {}", id, r.status, r.body);
    };
    s->Post([s, p, log] { DecideErasure(s, "", p.record_id, p.request_id, p.tx, log); });
  }
}

Status Recover(const Svc& s) {
  std::vector<std::string> erased;
  for (const auto& e : records::ListErased(State(s)))
    if (e.org == s->ctx->org) erased.push_back(e.record_id);
  ML_RETURN_IF_ERROR(s->ctx->vault->ReapplyErasures(erased));
  // The index too: a node stopped between the vault and the index, or an
  // index restored from a backup, still holds the identifiers.
  if (!erased.empty() && s->ctx->index) ML_RETURN_IF_ERROR(s->ctx->index->EraseRecords(erased));
  if (!erased.empty()) spdlog::info("re-applied {} on-chain erasures to the vault and the index", erased.size());
  size_t resubmitted = 0;
  for (const auto& e : s->journal->Pending()) {
    std::string id = e.payload.value("event_id", "");
    if (records::GetAccessEvent(State(s), id)) {
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

Status RegisterFhirReadRoutes(http::Server& server, FhirContext* ctx) {
  auto s = std::make_shared<ReadService>();
  s->ctx = ctx;
  AccessJournal::Options jo;
  jo.file_sync = ctx->journal_sync;
  ML_ASSIGN_OR_RETURN(s->journal, AccessJournal::Open(ctx->data_dir + "/access-journal", jo));
  ML_RETURN_IF_ERROR(Recover(s));
  // The thread holds a weak reference: the service owns the thread.
  s->StartSubmitter([w = std::weak_ptr<ReadService>(s)](const json& payload, uint64_t ticket) {
    if (auto sp = w.lock()) SubmitJournaled(sp, payload, ticket);
  });
  DecideLeftoverErasures(s);
  ctx->stoppers.push_back([w = std::weak_ptr<ReadService>(s)] {
    if (auto sp = w.lock()) sp->Shutdown();
  });

  // Every route is signed: api/auth.h verifies the caller first. Reads may
  // come forwarded from another organisation's node; writes to the chain on
  // the patient's behalf (erasure) are bound to this node.
  Authenticator* auth = ctx->ledger->auth;
  using Handler = void (*)(const Svc&, http::Request&, const Caller&, http::Reply);
  auto signed_route = [&](const char* method, const char* path, AuthNeed need, Handler h) {
    server.Route(method, path, [s, auth, need, h](http::Request& req, http::Reply reply) {
      auth->Authenticate(req, std::move(reply), need, true,
                         [s, h](http::Request& r, const Caller& c, http::Reply rep) { h(s, r, c, std::move(rep)); });
    });
  };
  const AuthNeed read{.bound_to_node = false, .allow_hop = true, .break_glass_without_head = true};
  const AuthNeed local{};
  const AuthNeed bound{.bound_to_node = true, .allow_hop = false};
  signed_route("GET", "/fhir/{type}/{id}", read, [](const Svc& s, http::Request& r, const Caller& c, http::Reply rep) {
    HandleRead(s, r, c, std::move(rep), std::nullopt);
  });
  signed_route("GET", "/fhir/{type}/{id}/_history/{vid}", read,
               [](const Svc& s, http::Request& r, const Caller& c, http::Reply rep) {
                 HandleRead(s, r, c, std::move(rep), r.params[2]);
               });
  signed_route("GET", "/fhir/Patient/{id}/$everything", local, HandleEverything);
  signed_route("GET", "/fhir/Consent", local, HandleConsentSearch);
  signed_route("GET", "/fhir/AuditEvent", local, HandleAuditSearch);
  signed_route("POST", "/fhir/{type}/{id}/$erase", bound, HandleErase);
  signed_route("POST", "/v1/disclosures", bound, HandleDisclosure);
  signed_route("GET", "/v1/admin/legal-hold", local, HandleListHolds);
  signed_route("GET", "/v1/records", local, HandleRecordLookup);
  signed_route("GET", "/v1/records/{record_id}/{version}", local, HandleAnchor);
  return Status::Ok();
}

}  // namespace medledger::api
