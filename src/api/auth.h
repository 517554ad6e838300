// Request authentication: the one place where a signed HTTP request becomes
// a verified caller (state/caller.h). Every signed route uses it: ledger
// reads, FHIR reads and writes, searches, erasure, and reads forwarded from
// another organisation's node (the hop signature of api/fhir_forward.h).
//
// In order, for each request:
//   1. The signatures (api/http_signature.h): the client's, and the hop's
//      when a node forwarded it. `created` at most 300 s old and at most
//      30 s ahead; every header the server acts on covered. 401 otherwise.
//   2. The restart floor: a signature created before this node's restart
//      floor might have been accepted before a crash, when its nonce was
//      spent in memory only: 503 with Retry-After until clients sign anew.
//   3. The node binding: X-Medledger-Node, when present, names this node (or
//      the forwarding node, for a hop); writes and erasures must carry it, so
//      a capture cannot be replayed at a sibling node with its own nonces.
//   4. The head barrier (node/orderer.h, AwaitHead): the node has applied
//      every block the ordering service held when the request arrived, so a
//      revocation acknowledged anywhere is seen here. 503 with Retry-After
//      when the head cannot be read or applied in time.
//   5. Registration: the key is a registered, active identity of an active
//      organisation (a hop key: a node key). 403 otherwise, the same answer
//      whether or not the key or the requested id exist; the attempt goes to
//      the security log and a /metrics counter, never to the chain.
//   6. The nonce is spent, within quotas per key and per organisation: a key
//      over its share gets 429 (only that key and its organisation's keys
//      once the organisation is over its own); no cache is global, so no key
//      under its share ever gets 503 because someone else filled it.
//
// Replay across restarts: a clean stop saves the unexpired nonces and the
// next start loads them. After a crash they are lost, so the node keeps a
// persisted bound above every `created` it accepted (raised, with an fsync,
// about every 10 s) and refuses signatures created below it (step 2).
//
// Thread safety: every method may be called from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "common/work_queue.h"
#include "http/message.h"
#include "node/chain.h"
#include "node/orderer.h"
#include "state/caller.h"

namespace spdlog {
class logger;
}

namespace medledger::api {

struct AuthOptions {
  std::string state_dir;  // restart floor and saved nonces; empty: memory only (tests)
  std::string node_id;    // this node's public id, for X-Medledger-Node
  std::chrono::seconds max_age{300};
  std::chrono::seconds max_skew{30};
  size_t key_quota = 1 << 16;       // unexpired nonces one key may hold (~200 requests/s sustained)
  size_t node_key_quota = 1 << 18;  // node keys: catch-up and forwarded reads
  size_t org_quota = 1 << 18;       // every key of one organisation together
  int workers = 2;                  // continue requests whose barrier completed elsewhere
  std::chrono::milliseconds barrier_bound{2000};
};

// What a route asks beyond a valid signature by an active identity.
struct AuthNeed {
  bool bound_to_node = false;  // X-Medledger-Node required (writes, erasure)
  bool allow_hop = false;      // may arrive forwarded by another organisation's node
  // A declared emergency (X-Break-Glass-Reason) is served even when the
  // chain head cannot be confirmed (no etcd quorum, a partition): the caller
  // is marked head_unconfirmed and the answer says so. Every other request
  // gets 503 then, since consent or a key may have been revoked meanwhile.
  bool break_glass_without_head = false;
  // A revoked or rotated key may still authenticate (its identity comes back
  // inactive, for the handler to confine): it may learn the fate of the
  // transactions it signed, such as its own rotation. Unknown keys never.
  bool allow_retired = false;
};

// A failed authentication: the status (kUnauthenticated 401,
// kPermissionDenied 403, kResourceExhausted 429, kUnavailable 503) and, for
// 429 and 503, when to try again.
struct AuthFailure {
  Status status;
  int retry_after_s = 0;
};

class Authenticator {
 public:
  // `orderer` may be null (no barrier: tests with a bare chain).
  static Result<std::unique_ptr<Authenticator>> Open(node::Chain* chain, node::Orderer* orderer, AuthOptions opts);
  ~Authenticator();

  // Blocking form, for worker threads: may wait up to the barrier bound.
  Result<state::Caller> Verify(const http::Request& req, const AuthNeed& need, AuthFailure* failure = nullptr);

  // Non-blocking form, for handlers on the HTTP I/O threads. On success
  // `then` runs with the request (moved out of `req`), the caller and the
  // reply, on this thread when the barrier needs no wait, else on one of
  // the authenticator's workers. On failure the reply is sent here, as
  // FHIR OperationOutcome (fhir = true) or medledger's JSON error.
  using Then = std::function<void(http::Request&, const state::Caller&, http::Reply)>;
  void Authenticate(http::Request& req, http::Reply reply, AuthNeed need, bool fhir, Then then);

  // Saves the unexpired nonces for the next start. Call after the server
  // stopped taking requests; later requests are refused.
  Status Close();

  // A denied read of a registered key that is not put on chain
  // (api/denial_limiter.h): logged to the security log and counted.
  void NoteSuppressedDenial(const std::string& accessor, const std::string& record_id, const std::string& reason);

  // Counters for /metrics (name, help, type, value).
  std::vector<node::Orderer::Metric> Metrics() const;

  // The floor below which signatures are refused (seconds); 0 when none.
  int64_t restart_floor() const { return floor_; }

 private:
  class NonceBook;
  struct Checked;
  Authenticator(node::Chain* chain, node::Orderer* orderer, AuthOptions opts);
  std::optional<AuthFailure> CheckSignatures(const http::Request& req, const AuthNeed& need, int64_t now_s,
                                             Checked* out);
  Result<state::Caller> Admit(const Checked& c, const Status& head, bool break_glass, AuthFailure* failure);
  Status RaiseBound(int64_t created);
  void Refuse(const AuthFailure& f, const std::string& who, const std::string& why);

  node::Chain* chain_;
  node::Orderer* orderer_;
  AuthOptions opts_;
  std::unique_ptr<NonceBook> nonces_;
  std::unique_ptr<WorkQueue> workers_;
  std::shared_ptr<spdlog::logger> security_log_;
  int64_t floor_ = 0;
  std::mutex bound_mu_;
  std::atomic<int64_t> bound_{0};
  std::atomic<bool> closed_{false};
  std::atomic<uint64_t> bad_signature_{0}, unregistered_{0}, over_quota_{0}, restart_window_{0}, barrier_unavailable_{0},
      replayed_{0}, admitted_{0}, denials_suppressed_{0};
};

// The HTTP answer to a failed authentication, with Retry-After when set.
http::Response AuthFailureResponse(const AuthFailure& f, bool fhir);

}  // namespace medledger::api
