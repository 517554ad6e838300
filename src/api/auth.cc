#include "api/auth.h"

#include <spdlog/sinks/rotating_file_sink.h>
#include <spdlog/spdlog.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <queue>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "api/fhir_forward.h"
#include "api/http_signature.h"
#include "api/http_status.h"
#include "crypto/keyfile.h"
#include "fhir/outcome.h"
#include "model/tx_types.h"
#include "state/identity_record.h"

namespace medledger::api {

namespace {

constexpr const char* kFloorFile = "auth-created-bound";
constexpr const char* kNoncesFile = "auth-nonces.json";
// How far ahead of the newest accepted `created` the persisted bound runs:
// one fsync per this many seconds of traffic, and at most this much extra
// refusal after a crash.
constexpr int64_t kBoundStepS = 10;

int64_t NowS() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string Short(const std::string& id) { return id.substr(0, 16); }

AuthFailure Fail(StatusCode code, std::string msg, int retry_after_s = 0) {
  return AuthFailure{Status(code, std::move(msg)), retry_after_s};
}

bool BreakGlass(const http::Request& req, const AuthNeed& need) {
  return need.break_glass_without_head && req.Header(kBreakGlassHeader).has_value();
}

}  // namespace

// Spent nonces with their expiry, counted per key and per organisation so
// that quotas are per sender rather than one cache anyone can fill.
class Authenticator::NonceBook {
 public:
  struct Entry {
    int64_t expire_at_s;
    std::string keyid, org, nonce;
  };

  // kAlreadyExists when spent before; kResourceExhausted when the key or its
  // organisation holds its quota of unexpired nonces.
  Status Spend(Entry e, int64_t now_s, size_t key_quota, size_t org_quota) {
    std::lock_guard l(mu_);
    Expire(now_s);
    std::string k = e.keyid + "/" + e.nonce;
    if (seen_.count(k)) return AlreadyExists("replayed nonce");
    if (per_key_[e.keyid] >= key_quota)
      return ResourceExhausted("this key has " + std::to_string(key_quota) + " signed requests in the replay window");
    if (per_org_[e.org] >= org_quota)
      return ResourceExhausted("this organisation's keys have " + std::to_string(org_quota) +
                               " signed requests in the replay window");
    Add(std::move(e), std::move(k));
    return Status::Ok();
  }

  std::vector<Entry> Unexpired(int64_t now_s) {
    std::lock_guard l(mu_);
    Expire(now_s);
    std::vector<Entry> out;
    auto copy = heap_;
    while (!copy.empty()) {
      out.push_back(copy.top());
      copy.pop();
    }
    return out;
  }

  void Load(std::vector<Entry> entries, int64_t now_s) {
    std::lock_guard l(mu_);
    for (auto& e : entries) {
      if (e.expire_at_s < now_s) continue;
      std::string k = e.keyid + "/" + e.nonce;
      if (!seen_.count(k)) Add(std::move(e), std::move(k));
    }
  }

 private:
  struct Later {
    bool operator()(const Entry& a, const Entry& b) const { return a.expire_at_s > b.expire_at_s; }
  };
  void Add(Entry e, std::string k) {
    seen_.insert(std::move(k));
    per_key_[e.keyid]++;
    per_org_[e.org]++;
    heap_.push(std::move(e));
  }
  void Expire(int64_t now_s) {
    while (!heap_.empty() && heap_.top().expire_at_s < now_s) {
      const Entry& e = heap_.top();
      seen_.erase(e.keyid + "/" + e.nonce);
      if (--per_key_[e.keyid] == 0) per_key_.erase(e.keyid);
      if (--per_org_[e.org] == 0) per_org_.erase(e.org);
      heap_.pop();
    }
  }
  std::mutex mu_;
  std::unordered_set<std::string> seen_;
  std::unordered_map<std::string, size_t> per_key_, per_org_;
  std::priority_queue<Entry, std::vector<Entry>, Later> heap_;
};

// What the signature step found: the client's signature, and the hop's when
// another node forwarded the request.
struct Authenticator::Checked {
  SignatureCheck client;
  std::optional<SignatureCheck> hop;
  bool allow_retired = false;
};

Authenticator::Authenticator(node::Chain* chain, node::Orderer* orderer, AuthOptions opts)
    : chain_(chain), orderer_(orderer), opts_(std::move(opts)), nonces_(std::make_unique<NonceBook>()) {}

Authenticator::~Authenticator() {
  if (workers_) workers_->Stop();
}

Result<std::unique_ptr<Authenticator>> Authenticator::Open(node::Chain* chain, node::Orderer* orderer,
                                                           AuthOptions opts) {
  std::unique_ptr<Authenticator> a(new Authenticator(chain, orderer, std::move(opts)));
  a->workers_ = std::make_unique<WorkQueue>("auth", std::max(1, a->opts_.workers));
  const std::string& dir = a->opts_.state_dir;
  if (dir.empty()) {
    a->security_log_ = spdlog::default_logger();
    return a;
  }
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  try {
    // Bounded on disk: a flood of refused requests rotates, never fills it.
    a->security_log_ = std::make_shared<spdlog::logger>(
        "security", std::make_shared<spdlog::sinks::rotating_file_sink_mt>(dir + "/security.log", 8 << 20, 2));
    a->security_log_->flush_on(spdlog::level::warn);
  } catch (const std::exception& e) {
    return Unavailable(std::string("cannot open the security log: ") + e.what());
  }
  auto bound = crypto::ReadFile(dir + "/" + kFloorFile);
  int64_t persisted = 0;
  if (bound.ok()) {
    try {
      persisted = std::stoll(*bound);
    } catch (...) {
      return DataLoss(dir + "/" + kFloorFile + " is not a number");
    }
  }
  a->bound_ = persisted;
  auto saved = crypto::ReadFile(dir + "/" + kNoncesFile);
  if (saved.ok()) {
    // A clean stop: every nonce it accepted is here, so no floor is needed.
    auto j = nlohmann::json::parse(*saved, nullptr, false);
    if (j.is_discarded() || !j.is_array()) return DataLoss(dir + "/" + kNoncesFile + " is not a JSON array");
    std::vector<NonceBook::Entry> entries;
    for (const auto& e : j)
      entries.push_back({e.value("expire_at_s", int64_t(0)), e.value("keyid", ""), e.value("org", ""),
                         e.value("nonce", "")});
    a->nonces_->Load(std::move(entries), NowS());
    // Used once: if this run crashes, its nonces are not in the file.
    if (!std::filesystem::remove(dir + "/" + kNoncesFile, ec) || ec)
      return Unavailable("cannot remove " + dir + "/" + kNoncesFile);
  } else {
    a->floor_ = persisted;
    if (persisted > 0)
      spdlog::warn("no saved nonces (the node did not stop cleanly): signatures created before {} are refused",
                   persisted);
  }
  return a;
}

Status Authenticator::RaiseBound(int64_t created) {
  if (created < bound_.load()) return Status::Ok();
  std::lock_guard l(bound_mu_);
  if (created < bound_.load()) return Status::Ok();
  int64_t next = std::max(created, NowS()) + kBoundStepS;
  if (!opts_.state_dir.empty())
    ML_RETURN_IF_ERROR(crypto::WriteFileAtomic(opts_.state_dir + "/" + kFloorFile, std::to_string(next), 0600));
  bound_ = next;
  return Status::Ok();
}

void Authenticator::Refuse(const AuthFailure& f, const std::string& who, const std::string& why) {
  switch (f.status.code()) {
    case StatusCode::kUnauthenticated: bad_signature_++; break;
    case StatusCode::kPermissionDenied: unregistered_++; break;
    case StatusCode::kResourceExhausted: over_quota_++; break;
    default: break;
  }
  security_log_->warn("refused {}: {} {}", who.empty() ? std::string("unsigned request") : Short(who), why,
                      f.status.message());
}

std::optional<AuthFailure> Authenticator::CheckSignatures(const http::Request& req, const AuthNeed& need,
                                                          int64_t now_s, Checked* out) {
  SignatureRules rules;
  rules.max_age = opts_.max_age;
  rules.max_skew = opts_.max_skew;
  const bool has_hop = req.Header(kHopSignatureInputHeader) || req.Header(kHopSignatureHeader);
  if (has_hop) {
    if (!need.allow_hop) return Fail(StatusCode::kUnauthenticated, "this route takes no forwarded requests");
    SignatureRules hop = rules;
    hop.input_field = kHopSignatureInputHeader;
    hop.signature_field = kHopSignatureHeader;
    hop.label = kHopLabel;
    hop.required = &HopComponents;
    auto h = CheckSignature(req, hop, now_s);
    if (!h.ok()) return Fail(StatusCode::kUnauthenticated, "node-to-node " + h.status().message());
    out->hop = std::move(*h);
  }
  auto c = CheckSignature(req, rules, now_s);
  if (!c.ok()) return Fail(StatusCode::kUnauthenticated, c.status().message() + " (RFC 9421; docs/RECORDS.md)");
  out->client = std::move(*c);
  out->allow_retired = need.allow_retired;

  // Signed before the restart floor: possibly accepted before a crash.
  for (int64_t created : {out->client.created, out->hop ? out->hop->created : INT64_MAX}) {
    if (created < floor_) {
      restart_window_++;
      return Fail(StatusCode::kUnavailable,
                  "the node restarted after a crash and refuses signatures created before " + std::to_string(floor_) +
                      "; sign the request again",
                  static_cast<int>(std::clamp<int64_t>(floor_ - now_s + 1, 1, 60)));
    }
  }
  auto node = req.Header(kNodeHeader);
  if (node) {
    bool here = *node == opts_.node_id || (out->hop && *node == out->hop->keyid);
    if (!here) return Fail(StatusCode::kUnauthenticated, "the request names another node (X-Medledger-Node)");
  } else if (need.bound_to_node) {
    return Fail(StatusCode::kUnauthenticated,
                "this request must name the node it is sent to (X-Medledger-Node: node_id of GET /v1/status)");
  }
  return std::nullopt;
}

Result<state::Caller> Authenticator::Admit(const Checked& c, const Status& head, bool break_glass,
                                           AuthFailure* failure) {
  auto fail = [&](AuthFailure f, const std::string& who, const std::string& why) -> Result<state::Caller> {
    Refuse(f, who, why);
    Status st = f.status;
    if (failure) *failure = std::move(f);
    return st;
  };
  if (!head.ok()) {
    barrier_unavailable_++;
    if (!break_glass) return fail(Fail(StatusCode::kUnavailable, head.message(), 1), c.client.keyid, "no head:");
    security_log_->warn("break-glass request of {} served without a confirmed chain head: {}", Short(c.client.keyid),
                        head.message());
  }
  if (closed_) return fail(Fail(StatusCode::kUnavailable, "the node is shutting down", 1), c.client.keyid, "");
  const auto& st = chain_->state();
  std::string hop_org;
  if (c.hop) {
    auto org = node::RegisteredNode(st, c.hop->pk);
    if (!org.ok())
      return fail(Fail(StatusCode::kPermissionDenied, "node-to-node call refused: the hop key is " + org.status().message()),
                  c.hop->keyid, "hop:");
    hop_org = *org;
  }
  auto rec = state::LoadIdentity(st, c.client.pk);
  std::optional<state::OrgRecord> org;
  if (rec && (rec->active() || c.allow_retired)) org = state::LoadOrg(st, rec->org);
  if (!rec || !(rec->active() || c.allow_retired) || !org || !org->active)
    return fail(Fail(StatusCode::kPermissionDenied,
                     "the signing key is not a registered, active identity of an active organisation"),
                c.client.keyid, "unregistered:");
  // The bound is raised before any nonce of this request counts as spent.
  int64_t newest = std::max(c.client.created, c.hop ? c.hop->created : 0);
  if (Status b = RaiseBound(newest); !b.ok())
    return fail(Fail(StatusCode::kUnavailable, "cannot persist the replay bound: " + b.message(), 1), c.client.keyid,
                "");
  const int64_t now = NowS();
  const int64_t window = opts_.max_age.count() + 1;
  auto spend = [&](const SignatureCheck& s, const std::string& o, size_t key_quota) -> std::optional<AuthFailure> {
    Status sp = nonces_->Spend({s.created + window, s.keyid, o, s.nonce}, now, key_quota, opts_.org_quota);
    if (sp.ok()) return std::nullopt;
    if (sp.code() == StatusCode::kAlreadyExists) {
      replayed_++;
      return Fail(StatusCode::kUnauthenticated, "signature: replayed nonce");
    }
    // The oldest nonce leaves within the window; one second is a fair first try.
    return Fail(StatusCode::kResourceExhausted, sp.message(), 1);
  };
  if (c.hop) {
    if (auto f = spend(*c.hop, hop_org, opts_.node_key_quota)) return fail(std::move(*f), c.hop->keyid, "hop:");
  }
  size_t quota = rec->Has(model::kRoleNode) ? opts_.node_key_quota : opts_.key_quota;
  if (auto f = spend(c.client, rec->org, quota)) return fail(std::move(*f), c.client.keyid, "");
  admitted_++;
  state::Caller caller;
  caller.pk = c.client.pk;
  caller.id = c.client.keyid;
  caller.identity = std::move(*rec);
  if (c.hop) caller.via = c.hop->keyid;
  caller.head_unconfirmed = !head.ok();
  return caller;
}

Result<state::Caller> Authenticator::Verify(const http::Request& req, const AuthNeed& need, AuthFailure* failure) {
  Checked c;
  if (auto f = CheckSignatures(req, need, NowS(), &c)) {
    Refuse(*f, c.client.keyid, "");
    Status st = f->status;
    if (failure) *failure = std::move(*f);
    return st;
  }
  Status head = orderer_ ? orderer_->AwaitHeadSync(opts_.barrier_bound) : Status::Ok();
  return Admit(c, head, BreakGlass(req, need), failure);
}

void Authenticator::Authenticate(http::Request& req, http::Reply reply, AuthNeed need, bool fhir, Then then) {
  auto r = std::make_shared<http::Request>(std::move(req));
  auto c = std::make_shared<Checked>();
  if (auto f = CheckSignatures(*r, need, NowS(), c.get())) {
    Refuse(*f, c->client.keyid, "");
    return reply(AuthFailureResponse(*f, fhir));
  }
  const bool break_glass = BreakGlass(*r, need);
  auto admit = [this, r, c, reply, fhir, then, break_glass](Status head) {
    AuthFailure f;
    auto caller = Admit(*c, head, break_glass, &f);
    if (!caller.ok()) return reply(AuthFailureResponse(f, fhir));
    then(*r, *caller, reply);
  };
  if (!orderer_) return admit(Status::Ok());
  // The barrier answers at once on a solo node (continue here, on the I/O
  // thread), or later from the orderer's thread (continue on a worker, so
  // that no orderer thread runs request handling).
  const auto self = std::this_thread::get_id();
  orderer_->AwaitHead(
      [this, self, admit, reply, fhir](Status head) {
        if (std::this_thread::get_id() == self) return admit(std::move(head));
        if (!workers_->Post([admit, head] { admit(head); }))
          reply(AuthFailureResponse(Fail(StatusCode::kUnavailable, "the node is shutting down", 1), fhir));
      },
      opts_.barrier_bound);
}

Status Authenticator::Close() {
  closed_ = true;
  if (opts_.state_dir.empty()) return Status::Ok();
  nlohmann::json j = nlohmann::json::array();
  for (const auto& e : nonces_->Unexpired(NowS()))
    j.push_back({{"expire_at_s", e.expire_at_s}, {"keyid", e.keyid}, {"org", e.org}, {"nonce", e.nonce}});
  return crypto::WriteFileAtomic(opts_.state_dir + "/" + kNoncesFile, j.dump(), 0600);
}

void Authenticator::NoteSuppressedDenial(const std::string& accessor, const std::string& record_id,
                                         const std::string& reason) {
  denials_suppressed_++;
  security_log_->warn("denied read not put on chain (rate limit): {} record {}: {}", Short(accessor), record_id, reason);
}

std::vector<node::Orderer::Metric> Authenticator::Metrics() const {
  return {
      {"medledger_auth_admitted_total", "Signed requests admitted", "counter", admitted_.load()},
      {"medledger_auth_bad_signature_total", "Requests refused 401: missing, malformed, stale or wrong signatures",
       "counter", bad_signature_.load()},
      {"medledger_auth_replayed_total", "Requests refused 401 for a nonce already spent", "counter", replayed_.load()},
      {"medledger_auth_unregistered_total",
       "Requests refused 403: the key is not an active identity of an active organisation (never written to the chain)",
       "counter", unregistered_.load()},
      {"medledger_auth_over_quota_total", "Requests refused 429: the key or its organisation is over its nonce quota",
       "counter", over_quota_.load()},
      {"medledger_auth_restart_window_total", "Requests refused 503: signed before the restart floor", "counter",
       restart_window_.load()},
      {"medledger_access_denials_suppressed_total",
       "Denied reads recorded in the security log only: the key already had a denial of that record, or its limit, "
       "on chain within the window",
       "counter", denials_suppressed_.load()},
      {"medledger_auth_barrier_unavailable_total", "Requests refused 503: the chain head could not be read or applied",
       "counter", barrier_unavailable_.load()},
  };
}

http::Response AuthFailureResponse(const AuthFailure& f, bool fhir) {
  const int status = HttpStatus(f.status.code());
  const char* code = ErrorCodeName(f.status.code());
  http::Response r;
  if (fhir) {
    r.status = status;
    r.content_type = "application/fhir+json";
    r.body = fhir::OperationOutcome(fhir::Severity::kError, fhir::IssueCodeFor(f.status.code()), f.status.message());
  } else {
    r = http::Response::Error(status, code, f.status.message());
  }
  if (f.retry_after_s > 0) r.headers.emplace_back("Retry-After", std::to_string(f.retry_after_s));
  return r;
}

}  // namespace medledger::api
