// Cross-organisation reads: the peer directory in etcd, the forwarding
// workers at the client's node, and the hop check at the custodian. See
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
#include "etcd/etcd_client.h"
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

http::Response Oo(int status, fhir::IssueCode code, std::string_view msg) {
  http::Response r;
  r.status = status;
  r.content_type = "application/fhir+json";
  r.body = fhir::OperationOutcome(fhir::Severity::kError, code, msg);
  return r;
}

const state::StateReader& State(const FhirContext* ctx) { return ctx->ledger->chain->state(); }
const std::string& ChainId(const FhirContext* ctx) { return ctx->ledger->chain->params().chain_id; }

// The forwarding side of one node.
class Forwarder {
 public:
  Forwarder(const FhirContext* ctx, ForwardOptions opts) : ctx_(ctx), opts_(std::move(opts)) {
    etcd::EtcdClient::Options eo;
    eo.endpoints = opts_.etcd_endpoints;
    eo.timeout = std::chrono::milliseconds(5000);
    publish_etcd_ = std::make_unique<etcd::EtcdClient>(eo);
    read_etcd_ = std::make_unique<etcd::EtcdClient>(eo);
  }
  ~Forwarder() { Stop(); }

  void Start() {
    pool_ = std::make_unique<WorkQueue>("forwarded reads", opts_.workers);
    publisher_ = std::thread([this] { PublishLoop(); });
  }

  // Reads still queued are answered 503 by their jobs (they see stopping()).
  void Stop() {
    {
      std::lock_guard l(mu_);  // so the publisher cannot miss the wakeup
      if (stop_.exchange(true)) return;
    }
    cv_.notify_all();
    if (publisher_.joinable()) publisher_.join();
    if (pool_) pool_->Stop();
  }

  bool stopping() const { return stop_.load(); }

  // False once stopping: the caller answers the read itself.
  bool Post(std::function<void()> job) { return pool_ && !stopping() && pool_->Post(std::move(job)); }

  // Verified directory entries of `org`'s nodes, the most recently
  // published first.
  Result<std::vector<PeerEntry>> Peers(const std::string& org) {
    const std::string prefix = PeerDirectoryPrefix(ChainId(ctx_));
    std::lock_guard l(read_mu_);
    auto r = read_etcd_->Range(prefix, etcd::EtcdClient::PrefixEnd(prefix));
    if (!r.ok()) return Unavailable("peer directory: " + r.status().message());
    std::vector<PeerEntry> out;
    const auto& st = State(ctx_);
    for (const auto& kv : r->kvs) {
      auto e = PeerEntry::FromJson(AsStringView(kv.value));
      if (!e.ok() || kv.key != prefix + e->node_id) continue;
      auto pk = crypto::ParsePublicId(e->node_id);
      if (!pk.ok() || !crypto::Verify(*pk, e->SigningBytes(ChainId(ctx_)), e->sig)) {
        spdlog::warn("peer directory: entry {} does not verify; ignored", kv.key);
        continue;
      }
      if (e->org != org) continue;
      auto reg = RegisteredNode(st, *pk, e->org);
      if (!reg.ok()) {
        spdlog::warn("peer directory: node {} of {} ignored: {}", e->node_id.substr(0, 16), e->org,
                     reg.status().message());
        continue;
      }
      out.push_back(std::move(*e));
    }
    std::sort(out.begin(), out.end(), [](const PeerEntry& a, const PeerEntry& b) { return a.time_ms > b.time_ms; });
    return out;
  }

  const ForwardOptions& opts() const { return opts_; }

 private:
  void PublishLoop() {
    const std::string key = PeerDirectoryPrefix(ChainId(ctx_)) + ctx_->node_key->id();
    std::unique_lock l(mu_);
    while (!stop_) {
      l.unlock();
      PeerEntry e;
      e.node_id = ctx_->node_key->id();
      e.org = ctx_->org;
      e.url = opts_.advertise_url;
      e.time_ms = NowMs();
      e.sig = ctx_->node_key->Sign(e.SigningBytes(ChainId(ctx_)));
      // A plain Put: an ambiguous outcome is harmless, the next round rewrites it.
      auto r = publish_etcd_->Put(key, ToBytes(e.ToJson()));
      if (!r.ok()) spdlog::warn("peer directory: publishing {} failed: {}", key, r.status().message());
      l.lock();
      cv_.wait_for(l, r.ok() ? opts_.republish_interval : std::chrono::milliseconds(1000), [&] { return stop_.load(); });
    }
  }

  const FhirContext* ctx_;
  ForwardOptions opts_;
  std::unique_ptr<etcd::EtcdClient> publish_etcd_;
  std::mutex read_mu_;
  std::unique_ptr<etcd::EtcdClient> read_etcd_;
  // mu_ and cv_ only pace the publisher and wake it to stop. The forwarding
  // jobs have their own pool: sharing one condition variable between the
  // two once let a job's wakeup reach the publisher (see work_queue.h).
  std::mutex mu_;
  std::condition_variable cv_;
  std::atomic<bool> stop_{false};
  std::thread publisher_;
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
  if (!peers.ok()) return Oo(503, fhir::IssueCode::kException, peers.status().message());
  if (peers->empty())
    return Oo(404, fhir::IssueCode::kNotFound,
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
  if (!got) return Oo(502, fhir::IssueCode::kException, "no node of organisation " + custodian + " answered: " + last_error);

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
    return Oo(502, fhir::IssueCode::kException, "integrity check failed: the custodian did not name the anchor read");
  // B may be a block ahead of A: wait (bounded) for A's own ledger to hold it.
  std::optional<records::AnchorInfo> anchor;
  const auto deadline = std::chrono::steady_clock::now() + fw.opts().anchor_wait;
  for (;;) {
    anchor = records::GetAnchor(State(ctx), *rid, v);
    if (anchor || std::chrono::steady_clock::now() >= deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  if (!anchor) return Oo(502, fhir::IssueCode::kException, "integrity check failed: record " + *rid + " version " + *ver + " is not anchored on this node's ledger");
  if (anchor->org != custodian)
    return Oo(502, fhir::IssueCode::kException, "integrity check failed: record " + *rid + " is not held by " + custodian);
  if (ToHex(crypto::Sha256(got->body)) != anchor->hash) {
    spdlog::error("forwarded read: bytes from node {} of {} for record {} version {} do not hash to the anchor",
                  served_by.substr(0, 16), custodian, *rid, v);
    return Oo(502, fhir::IssueCode::kException,
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

Bytes PeerEntry::SigningBytes(const std::string& chain_id) const {
  return ToBytes("medledger-peer-v1\n" + chain_id + "\n" + node_id + "\n" + org + "\n" + url + "\n" +
                 std::to_string(time_ms));
}

std::string PeerEntry::ToJson() const {
  return json{{"node_id", node_id}, {"org", org}, {"url", url}, {"time_ms", time_ms}, {"sig", ToHex(sig)}}.dump();
}

Result<PeerEntry> PeerEntry::FromJson(std::string_view text) {
  auto j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return InvalidArgument("peer entry is not a JSON object");
  PeerEntry e;
  try {
    e.node_id = j.at("node_id").get<std::string>();
    e.org = j.at("org").get<std::string>();
    e.url = j.at("url").get<std::string>();
    e.time_ms = j.at("time_ms").get<int64_t>();
    ML_ASSIGN_OR_RETURN(e.sig, FromHexFixed<64>(j.at("sig").get<std::string>()));
  } catch (const std::exception& ex) {
    return InvalidArgument(std::string("peer entry: ") + ex.what());
  }
  if (e.url.rfind("http://", 0) != 0 && e.url.rfind("https://", 0) != 0)
    return InvalidArgument("peer entry: url must be http(s)://");
  return e;
}

// A node key registered on chain with role node, by `org` when given, of an
// active organisation. Returns the org, or the reason it is not.
Result<std::string> RegisteredNode(const state::StateReader& st, const crypto::PublicKey& pk,
                                   std::string_view org) {
  auto rec = state::LoadIdentity(st, pk);
  if (!rec || !rec->active()) return PermissionDenied("not a registered, active key");
  if (!rec->Has(model::kRoleNode)) return PermissionDenied("not a node key");
  if (!org.empty() && rec->org != org) return PermissionDenied("a node key of another organisation");
  auto o = state::LoadOrg(st, rec->org);
  if (!o || !o->active) return PermissionDenied("its organisation is not an active member");
  return rec->org;
}

// The hop-signed components: the client's signature fields, the request
// line, and whichever purpose / custodian headers the request carries.
std::vector<std::string> HopComponents(const http::Request& req) {
  std::vector<std::string> c = {"@method", "@path", "@query", "signature-input", "signature"};
  for (std::string_view h : {std::string_view("x-purpose-of-use"), std::string_view("x-break-glass-reason"),
                             std::string_view("x-medledger-custodian"), std::string_view("x-medledger-node")})
    if (req.Header(h)) c.emplace_back(h);
  return c;
}

std::string PeerDirectoryPrefix(const std::string& chain_id) { return "/medledger/" + chain_id + "/nodes/"; }

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
    reply(Oo(503, fhir::IssueCode::kNotSupported,
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
  auto shutting_down = [] { return Oo(503, fhir::IssueCode::kException, "the node is shutting down"); };
  bool queued = fw->Post([ctx, fw, reply, org, method, target, fwd, vid, shutting_down] {
    if (fw->stopping()) return reply(shutting_down());
    reply(ForwardNow(ctx, *fw, org, method, target, fwd, vid));
  });
  if (!queued) reply(shutting_down());
  return true;
}

}  // namespace medledger::api
