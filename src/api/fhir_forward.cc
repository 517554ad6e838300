// Cross-organisation reads: the forwarding workers at the client's node,
// and the hop headers the custodian checks. See
// fhir_forward.h and docs/RECORDS.md, "Cross-organisation reads".
#include "api/fhir_forward.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "api/http_signature.h"
#include "common/work_queue.h"
#include "crypto/aead.h"
#include "crypto/sha256.h"
#include "fhir/outcome.h"
#include "model/tx_types.h"
#include "records/records.h"
#include "state/identity_record.h"

namespace medledger::api {

using nlohmann::json;

namespace {


int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

http::Response OutcomeResponse(int status, fhir::IssueCode code, std::string_view msg) {
  http::Response r;
  r.status = status;
  r.content_type = "application/fhir+json";
  r.body = fhir::OperationOutcome(fhir::Severity::kError, code, msg);
  return r;
}

const state::StateReader& State(const FhirContext* ctx) { return ctx->state(); }

// The forwarding side of one node.
class Forwarder {
 public:
  Forwarder(const FhirContext* ctx, ForwardOptions opts)
      : ctx_(ctx), opts_(std::move(opts)), dir_(ctx->chain, opts_.etcd_endpoints) {}
  ~Forwarder() { Stop(); }

  void Start() {
    pool_ = std::make_unique<WorkQueue>("forwarded reads", opts_.workers);
    dir_.StartPublishing(*ctx_->node_key, ctx_->org, opts_.advertise_url, opts_.republish_interval);
  }

  // Reads still queued are answered 503 by their jobs (they see stopping()).
  void Stop() {
    if (stop_.exchange(true)) return;
    dir_.Stop();
    if (pool_) pool_->Stop();
  }

  bool stopping() const { return stop_.load(); }

  // False once stopping: the caller answers the read itself.
  bool Post(std::function<void()> job) { return pool_ && !stopping() && pool_->Post(std::move(job)); }

  // Verified directory entries of `org`'s nodes, the most recently
  // published first.
  Result<std::vector<node::PeerEntry>> Peers(const std::string& org) { return dir_.Peers(org); }

  const ForwardOptions& opts() const { return opts_; }

 private:
  const FhirContext* ctx_;
  ForwardOptions opts_;
  node::PeerDirectory dir_;
  std::atomic<bool> stop_{false};
  // The forwarding jobs have their own pool, apart from the directory's
  // publisher: sharing one condition variable between the two once let a
  // job's wakeup reach the publisher (see work_queue.h).
  std::unique_ptr<WorkQueue> pool_;
};

// One Forwarder per FhirContext (one per node; tests may run several nodes
// in a process). FhirContext belongs to another engineer's interface, so the
// association lives here rather than in a field.
std::mutex g_mu;
std::map<const FhirContext*, std::shared_ptr<Forwarder>> g_forwarders;

std::shared_ptr<Forwarder> ForwarderFor(const FhirContext* ctx) {
  std::lock_guard l(g_mu);
  auto it = g_forwarders.find(ctx);
  return it == g_forwarders.end() ? nullptr : it->second;
}

// The custodian the request names (header first, then ?custodian=).
std::optional<std::string> NamedCustodian(const http::Request& req) {
  if (auto h = req.Header(kCustodianHeader); h && !h->empty()) return *h;
  if (auto q = req.Query("custodian"); q && !q->empty()) return *q;
  return std::nullopt;
}

// Runs on a forwarding worker: calls the custodian's nodes in turn, checks
// what comes back against the anchor, replies.
http::Response ForwardNow(const FhirContext* ctx, Forwarder& fw, const std::string& custodian,
                          const std::string& method, const std::string& target, const http::HeaderList& fwd_headers,
                          const std::optional<std::string>& vid) {
  auto peers = fw.Peers(custodian);
  if (!peers.ok()) return OutcomeResponse(503, fhir::IssueCode::kException, peers.status().message());
  if (peers->empty())
    return OutcomeResponse(404, fhir::IssueCode::kNotFound,
              "no registered node of organisation " + custodian + " is in the peer directory");
  std::optional<http::ClientResponse> got;
  std::string served_by, last_error;
  for (const auto& p : *peers) {
    http::HeaderList h = fwd_headers;
    // A fresh hop signature (and nonce) per attempt: a retry to another node
    // of the same organisation is a new hop.
    for (auto& kv : HopHeaders(*ctx->node_key, method, target, fwd_headers)) h.push_back(std::move(kv));
    http::Client client(p.url, fw.opts().peer_timeout);
    auto r = client.Request(method, target, {}, h);
    if (!r.ok()) {
      last_error = r.status().message();
      spdlog::warn("forwarded read: node {} of {} at {} unreachable: {}", p.node_id.substr(0, 16), custodian, p.url,
                   last_error);
      continue;
    }
    got = std::move(*r);
    served_by = p.node_id;
    break;
  }
  if (!got) return OutcomeResponse(502, fhir::IssueCode::kException, "no node of organisation " + custodian + " answered: " + last_error);

  http::Response out;
  out.status = got->status;
  out.content_type = got->Header("Content-Type").value_or("application/fhir+json");
  out.headers.emplace_back(std::string(kServedByHeader), served_by);
  out.headers.emplace_back(std::string(kCustodianHeader), custodian);
  if (auto ev = got->Header("X-Medledger-Access-Event")) out.headers.emplace_back("X-Medledger-Access-Event", *ev);
  if (got->status != 200) {
    // The custodian's OperationOutcome (403 with the reason, 404, 410...).
    out.body = std::move(got->body);
    return out;
  }
  auto rid = got->Header("X-Medledger-Record-Id");
  auto ver = got->Header("X-Medledger-Version");
  char* end = nullptr;
  long long v = ver ? std::strtoll(ver->c_str(), &end, 10) : 0;
  if (!rid || !ver || *end || v <= 0 || (vid && *vid != *ver))
    return OutcomeResponse(502, fhir::IssueCode::kException, "integrity check failed: the custodian did not name the anchor read");
  // B may be a block ahead of A: wait (bounded) for A's own ledger to hold it.
  std::optional<records::AnchorInfo> anchor;
  const auto deadline = std::chrono::steady_clock::now() + fw.opts().anchor_wait;
  for (;;) {
    anchor = records::GetAnchor(State(ctx), *rid, v);
    if (anchor || std::chrono::steady_clock::now() >= deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  if (!anchor) return OutcomeResponse(502, fhir::IssueCode::kException, "integrity check failed: record " + *rid + " version " + *ver + " is not anchored on this node's ledger");
  if (anchor->org != custodian)
    return OutcomeResponse(502, fhir::IssueCode::kException, "integrity check failed: record " + *rid + " is not held by " + custodian);
  if (ToHex(crypto::Sha256(got->body)) != anchor->hash) {
    spdlog::error("forwarded read: bytes from node {} of {} for record {} version {} do not hash to the anchor",
                  served_by.substr(0, 16), custodian, *rid, v);
    return OutcomeResponse(502, fhir::IssueCode::kException,
              "integrity check failed for record " + *rid + " version " + *ver + ": nothing returned");
  }
  out.body = std::move(got->body);
  out.headers.emplace_back("ETag", "W/\"" + std::to_string(anchor->version) + "\"");
  out.headers.emplace_back("X-Medledger-Anchor", anchor->hash);
  out.headers.emplace_back("X-Medledger-Record-Id", anchor->record_id);
  out.headers.emplace_back("X-Medledger-Version", std::to_string(anchor->version));
  if (auto bg = got->Header("X-Medledger-Break-Glass")) out.headers.emplace_back("X-Medledger-Break-Glass", *bg);
  return out;
}

}  // namespace

// The hop-signed components: the client's signature fields, the request
// line, and whichever purpose / custodian headers the request carries.
std::vector<std::string> HopComponents(const http::Request& req) {
  std::vector<std::string> c = {"@method", "@path", "@query", "signature-input", "signature"};
  for (std::string_view h : {std::string_view("x-purpose-of-use"), std::string_view("x-break-glass-reason"),
                             std::string_view("x-medledger-custodian"), std::string_view("x-medledger-node")})
    if (req.Header(h)) c.emplace_back(h);
  return c;
}

Status EnableCrossOrgReads(FhirContext* ctx, ForwardOptions opts) {
  if (opts.etcd_endpoints.empty()) return InvalidArgument("cross-organisation reads need the etcd endpoints");
  if (opts.advertise_url.empty()) return InvalidArgument("cross-organisation reads need this node's URL");
  auto fw = std::make_shared<Forwarder>(ctx, std::move(opts));
  {
    std::lock_guard l(g_mu);
    if (g_forwarders.count(ctx)) return AlreadyExists("cross-organisation reads already enabled");
    g_forwarders[ctx] = fw;
  }
  fw->Start();
  return Status::Ok();
}

Result<std::vector<node::PeerEntry>> DirectoryPeers(const FhirContext* ctx, const std::string& org) {
  auto fw = ForwarderFor(ctx);
  if (!fw) return Unavailable("this node has no peer directory (it is not on an etcd network)");
  return fw->Peers(org);
}

void DisableCrossOrgReads(FhirContext* ctx) {
  std::shared_ptr<Forwarder> fw;
  {
    std::lock_guard l(g_mu);
    auto it = g_forwarders.find(ctx);
    if (it == g_forwarders.end()) return;
    fw = std::move(it->second);
    g_forwarders.erase(it);
  }
  fw->Stop();
}

http::HeaderList HopHeaders(const crypto::KeyPair& node_key, std::string_view method, std::string_view target,
                            const http::HeaderList& headers, std::optional<int64_t> created, std::string nonce) {
  if (nonce.empty()) nonce = crypto::RandomHexId();
  http::Request req;
  req.method = std::string(method);
  req.target = std::string(target);
  req.headers = headers;
  SignatureParams sp;
  sp.components = HopComponents(req);
  sp.params.push_back({"created", SigParam::Kind::kInt, created.value_or(NowMs() / 1000), ""});
  sp.params.push_back({"keyid", SigParam::Kind::kString, 0, node_key.id()});
  sp.params.push_back({"alg", SigParam::Kind::kString, 0, "ed25519"});
  sp.params.push_back({"nonce", SigParam::Kind::kString, 0, nonce});
  auto base = SignatureBase(req, sp);
  if (!base.ok()) return {};  // no client signature to bind to: the custodian refuses the hop
  crypto::Signature sig = node_key.Sign(reinterpret_cast<const uint8_t*>(base->data()), base->size());
  return {{std::string(kHopSignatureInputHeader), std::string(kHopLabel) + "=" + sp.Serialize()},
          {std::string(kHopSignatureHeader),
           std::string(kHopLabel) + "=:" + Base64Encode(sig.data(), sig.size()) + ":"}};
}

bool MaybeForwardRead(const FhirContext* ctx, const http::Request& req, const http::Reply& reply,
                      const std::optional<std::string>& vid) {
  auto custodian = NamedCustodian(req);
  if (!custodian || *custodian == ctx->org) return false;
  // One hop only: a forwarded request is never forwarded again.
  if (req.Header(kHopSignatureInputHeader)) return false;
  auto fw = ForwarderFor(ctx);
  if (!fw) {
    reply(OutcomeResponse(503, fhir::IssueCode::kNotSupported,
             "this node does not forward reads to other organisations (it needs the etcd peer directory)"));
    return true;
  }
  http::HeaderList fwd;
  for (const auto& [name, value] : req.headers) {
    std::string l;
    for (char ch : name) l.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(ch))));
    if (l == "signature-input" || l == "signature" || l == "x-purpose-of-use" || l == "x-break-glass-reason" ||
        l == "x-medledger-custodian" || l == "x-medledger-node" || l == "accept")
      fwd.emplace_back(name, value);
  }
  std::string method = req.method, target = req.target, org = *custodian;
  auto shutting_down = [] { return OutcomeResponse(503, fhir::IssueCode::kException, "the node is shutting down"); };
  bool queued = fw->Post([ctx, fw, reply, org, method, target, fwd, vid, shutting_down] {
    if (fw->stopping()) return reply(shutting_down());
    reply(ForwardNow(ctx, *fw, org, method, target, fwd, vid));
  });
  if (!queued) reply(shutting_down());
  return true;
}

}  // namespace medledger::api
