// POST /epcis/capture, GET /epcis/capture/{id}, OPTIONS /epcis/capture
// (api/epcis_api.h; docs/SUPPLY.md, "Capture").
//
// A capture is checked here as far as the request alone allows (media type,
// GS1 headers, the document's structure, its size, the caller's role), so
// that a bad document gets its 400 at once and nothing of it reaches the
// chain. Then the node submits one epcis.capture transaction carrying the
// document with the party's request signature (the signature base and the
// signature itself): every node, and `medledger verify`, can check who
// signed which bytes. The job answers from the chain once the transaction
// is decided.
#include <spdlog/spdlog.h>

#include <map>
#include <mutex>
#include <nlohmann/json.hpp>

#include "api/auth.h"
#include "api/epcis_api.h"
#include "api/epcis_problem.h"
#include "api/http_signature.h"
#include "api/http_status.h"
#include "common/date_scan.h"
#include "common/work_queue.h"
#include "crypto/aead.h"
#include "epcis/document.h"
#include "model/tx_types.h"
#include "node/admission.h"
#include "node/orderer.h"
#include "supply/capture.h"

namespace medledger::api {

using nlohmann::json;

// The capture jobs submitted through this node: capture id -> transaction.
// Once the transaction is in a block the chain answers for the job (on
// every node); the map is what lets this node say "running" before that,
// and "failed" for a transaction the chain rejected. Bounded: the oldest
// jobs are forgotten first (their outcome stays on chain).
class CaptureJobs {
 public:
  struct Job {
    std::string tx;  // hex id
    int64_t created_ms = 0;
    std::string error_behaviour;
  };
  void Add(const std::string& id, Job job) {
    std::lock_guard l(mu_);
    if (order_.size() >= kMaxJobs) {
      jobs_.erase(order_.front());
      order_.erase(order_.begin());
    }
    order_.push_back(id);
    jobs_[id] = std::move(job);
  }
  std::optional<Job> Find(const std::string& id) const {
    std::lock_guard l(mu_);
    auto it = jobs_.find(id);
    if (it == jobs_.end()) return std::nullopt;
    return it->second;
  }
  WorkQueue& workers() { return workers_; }

 private:
  static constexpr size_t kMaxJobs = 100'000;
  mutable std::mutex mu_;
  std::map<std::string, Job> jobs_;
  std::vector<std::string> order_;
  // Admission runs the document through the rules once: not on an I/O thread.
  WorkQueue workers_{"epcis-capture", 2};
};

namespace {

void AddLimitHeaders(http::Response& r) {
  r.headers.emplace_back("GS1-EPCIS-Capture-Limit", std::to_string(kMaxCaptureEvents));
  r.headers.emplace_back("GS1-EPCIS-Capture-File-Size-Limit", std::to_string(kMaxCaptureDocumentBytes));
}

// What the request alone decides; the problem to answer, or nothing.
std::optional<http::Response> CheckRequest(const http::Request& req, const state::Caller& caller,
                                           std::string* error_behaviour) {
  const std::string type = req.MediaType();
  if (type == "application/xml" || type == "text/xml")
    return Problem(415, kValidationException, "EPCIS 1.2 XML is not accepted: send EPCIS 2.0 JSON or JSON-LD");
  if (type != "application/json" && type != "application/ld+json")
    return Problem(415, kValidationException, "Content-Type must be application/json or application/ld+json");
  for (const char* h : {"GS1-EPCIS-Version", "GS1-CBV-Version"})
    if (auto v = req.Header(h); v && !v->starts_with("2.0"))
      return Problem(400, kValidationException, std::string(h) + " " + v->substr(0, 16) + " is not supported (2.0.x)");
  *error_behaviour = req.Header("GS1-Capture-Error-Behaviour").value_or("rollback");
  if (*error_behaviour != "rollback" && *error_behaviour != "proceed")
    return Problem(400, kValidationException, "GS1-Capture-Error-Behaviour must be rollback or proceed");
  constexpr uint32_t kSupplyRoles =
      model::kRoleManufacturer | model::kRoleDistributor | model::kRoleDispenser | model::kRoleRegulator;
  if (!caller.identity.active() || !caller.Has(kSupplyRoles))
    return Problem(403, kSecurityException,
                   "capturing EPCIS events needs a supply-chain role: manufacturer, distributor, dispenser or regulator");
  if (req.body.size() > kMaxCaptureDocumentBytes) {
    // One document is one transaction; splitting under `proceed` would need
    // the party's signature over each part, which it did not give.
    http::Response r = Problem(413, kCaptureLimitExceededException,
                               "the document is " + std::to_string(req.body.size()) + " bytes; one capture holds at most " +
                                   std::to_string(kMaxCaptureDocumentBytes) + " (split it into several documents)");
    AddLimitHeaders(r);
    return r;
  }
  epcis::ParseOptions opts;
  opts.max_events = kMaxCaptureEvents;
  auto doc = epcis::ParseDocument(req.body, opts);
  if (!doc.ok()) {
    http::Response r = ProblemFor(doc.status());
    if (r.status == 413) AddLimitHeaders(r);
    return r;
  }
  if (doc->events.empty()) return Problem(400, kValidationException, "epcisBody.eventList: the document holds no event");
  return std::nullopt;
}

// The payload: the document and the party's RFC 9421 signature over it.
Result<json> CapturePayload(const http::Request& req, const state::Caller& caller, const std::string& capture_id,
                            const std::string& error_behaviour) {
  auto input = req.Header("Signature-Input");
  auto sig_field = req.Header("Signature");
  if (!input || !sig_field) return Unauthenticated("the capture request is not signed");
  ML_ASSIGN_OR_RETURN(auto parsed, ParseSignatureInput(*input));
  ML_ASSIGN_OR_RETURN(std::string base, SignatureBase(req, parsed.second));
  ML_ASSIGN_OR_RETURN(Bytes sig, ParseSignature(*sig_field, parsed.first));
  auto digest = req.Header("Content-Digest");
  if (!digest) return Unauthenticated("the capture request carries no Content-Digest");
  return json{{"capture_id", capture_id},
              {"document", req.body},
              {"content_digest", *digest},
              {"party", crypto::PublicId(caller.pk)},
              {"signature_base", base},
              {"signature", ToHex(sig)},
              {"error_behaviour", error_behaviour}};
}

void HandleCapture(SupplyContext* ctx, http::Request& req, const state::Caller& caller, http::Reply reply) {
  std::string error_behaviour;
  if (auto problem = CheckRequest(req, caller, &error_behaviour)) return reply(std::move(*problem));
  const std::string capture_id = crypto::RandomHexId();
  auto payload = CapturePayload(req, caller, capture_id, error_behaviour);
  if (!payload.ok()) return reply(ProblemFor(payload.status()));
  auto job = [ctx, capture_id, error_behaviour, payload = std::move(*payload), reply]() mutable {
    LedgerContext* l = ctx->ledger;
    auto o = node::SubmitAsNode(l->chain, l->admission, l->pool, *ctx->node_key, model::tx::kEpcisCapture, payload,
                                std::chrono::milliseconds(0));
    Status st = node::OutcomeStatus(o, "the capture");
    if (!st.ok()) return reply(ProblemFor(st));
    ctx->jobs->Add(capture_id, {ToHex(o.id), int64_t(node::NowMs()), error_behaviour});
    http::Response r;
    r.status = 202;
    r.content_type = "application/json";
    r.headers.emplace_back("Location", "/epcis/capture/" + capture_id);
    r.body = json{{"captureID", capture_id}, {"tx", ToHex(o.id)}}.dump();
    reply(std::move(r));
  };
  if (!ctx->jobs->workers().Post(std::move(job)))
    reply(ProblemFor(Unavailable("the node is stopping")));
}

json OutcomesJson(const supply::CaptureRecord& rec) {
  json events = json::array();
  for (const auto& e : rec.events)
    events.push_back({{"eventID", e.event_id}, {"hash", e.hash}, {"tx", rec.tx}, {"outcome", e.outcome},
                      {"reason", e.reason}});
  return events;
}

void HandleJob(SupplyContext* ctx, http::Request& req, const state::Caller&, http::Reply reply) {
  const std::string id = req.params[0];
  auto job = ctx->jobs->Find(id);
  // The chain first: a committed capture answers on every node.
  if (auto rec = supply::GetCapture(ctx->ledger->chain->state(), id)) {
    json out = {{"captureID", id},
                {"createdAt", FormatUtcMillis(job ? job->created_ms : int64_t(rec->at_ms))},
                {"finishedAt", FormatUtcMillis(int64_t(rec->at_ms))},
                {"running", false},
                {"success", true},  // suspect outcomes are findings, not errors
                {"captureErrorBehaviour", rec->error_behaviour},
                {"errors", json::array()},
                {"events", OutcomesJson(*rec)},
                {"tx", rec->tx},
                {"height", rec->height}};
    return reply(http::Response::Json(200, out.dump()));
  }
  if (!job) return reply(Problem(404, kNoSuchResourceException, "no capture job " + id.substr(0, 64)));
  auto id_bytes = FromHexFixed<32>(job->tx);
  auto o = id_bytes.ok() ? ctx->ledger->pool->Lookup(*id_bytes) : node::TxOutcome{};
  json out = {{"captureID", id},
              {"createdAt", FormatUtcMillis(job->created_ms)},
              {"captureErrorBehaviour", job->error_behaviour},
              {"tx", job->tx}};
  if (o.state == node::TxState::kRejected) {
    out["running"] = false;
    out["success"] = false;
    out["finishedAt"] = FormatUtcMillis(int64_t(node::NowMs()));
    out["errors"] = json::array({json{{"type", "epcisException:ValidationException"},
                                      {"detail", std::string(model::RejectName(o.verdict.reason)) + ": " + o.verdict.detail}}});
    out["events"] = json::array();
  } else {
    out["running"] = true;
    out["errors"] = json::array();
  }
  reply(http::Response::Json(200, out.dump()));
}

}  // namespace

Status RegisterEpcisCaptureRoutes(http::Server& server, SupplyContext* ctx) {
  if (!ctx->jobs) ctx->jobs = std::make_shared<CaptureJobs>();
  Authenticator* auth = ctx->ledger->auth;
  // Bound to this node: the node submits the transaction, so a captured
  // request must not be replayable at a sibling node (api/auth.h).
  const AuthNeed bound{.bound_to_node = true};
  server.Route("POST", "/epcis/capture", [ctx, auth, bound](http::Request& req, http::Reply reply) {
    auth->Authenticate(req, ProblemReply(std::move(reply)), bound, false,
                       [ctx](http::Request& r, const state::Caller& c, http::Reply rep) {
                         HandleCapture(ctx, r, c, std::move(rep));
                       });
  });
  server.Route("GET", "/epcis/capture/{id}", [ctx, auth](http::Request& req, http::Reply reply) {
    auth->Authenticate(req, ProblemReply(std::move(reply)), AuthNeed{}, false,
                       [ctx](http::Request& r, const state::Caller& c, http::Reply rep) {
                         HandleJob(ctx, r, c, std::move(rep));
                       });
  });
  server.Route("OPTIONS", "/epcis/capture", [](http::Request&, http::Reply reply) {
    http::Response r;
    r.status = 204;
    r.headers.emplace_back("Allow", "OPTIONS, POST");
    r.headers.emplace_back("GS1-EPCIS-Version", "2.0.0");
    r.headers.emplace_back("GS1-CBV-Version", "2.0.0");
    r.headers.emplace_back("GS1-Capture-Error-Behaviour", "rollback, proceed");
    AddLimitHeaders(r);
    reply(std::move(r));
  });
  return Status::Ok();
}

void StopEpcisRoutes(SupplyContext* ctx) {
  if (ctx && ctx->jobs) ctx->jobs->workers().Stop();
}

}  // namespace medledger::api
