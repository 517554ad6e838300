// EtcdClient: the node's connection to the etcd cluster that orders blocks.
// It speaks etcd v3's JSON gRPC gateway over plain HTTP/1.1 (Boost.Beast):
// /v3/kv/{put,range,txn,deleterange,compaction}, /v3/watch, /v3/cluster/member/list,
// /v3/maintenance/status. Keys and values travel base64-encoded, int64 fields
// as decimal strings.
//
// etcd settings this client relies on (see etcd/etcd_process.h, which
// builds members' command lines with them):
//   --max-request-bytes   must equal Options::max_request_bytes (default
//                         1.5 MiB, etcd's default). Writes whose request would
//                         exceed it are refused here with kInvalidArgument;
//                         if the server's limit is lower it refuses them too,
//                         and that also maps to kInvalidArgument.
//   --quota-backend-bytes when the backend is full etcd refuses writes
//                         (NOSPACE): kResourceExhausted.
//   --heartbeat-interval / --election-timeout: a leader change takes about
//                         one election timeout; Options::timeout must be
//                         several times longer for calls to ride over it.
//   plain http:// client URLs on trusted (loopback or private) links; no TLS,
//                         no etcd auth.
//   compaction: Watch and Range at an old revision fail with
//                         kFailedPrecondition("compacted ...") once it is gone.
// Every request carries the gRPC metadata `hasleader: true`, so a member cut
// off from the leader refuses at once (and cancels watches) instead of
// hanging; the client then tries the next endpoint.
//
// Failover: endpoints are tried starting from the last one that answered. A
// connection error, a timeout, or an etcd "unavailable"-class error moves to
// the next; after a full round without success the client backs off and
// retries until the call's deadline (Options::timeout), then returns
// kUnavailable. One attempt gets at most Options::attempt_timeout, so a hung
// member cannot eat a whole call.
//
// Writes and ambiguity: once a request has been sent, a lost answer leaves the
// outcome unknown. PutIfAbsent and Compact are idempotent here and are retried
// through it; Put and Delete are not (a retry could write a second
// revision), so an ambiguous Put returns kUnavailable("... outcome unknown") without retrying.
//
// Thread safety: all methods may be called concurrently. Unary calls share one
// keep-alive connection and are serialised; each Watch opens its own.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/bytes.h"
#include "common/status.h"
#include "etcd/etcd_process.h"

namespace medledger::etcd {

struct KeyValue {
  std::string key;
  Bytes value;
  int64_t create_revision = 0;
  int64_t mod_revision = 0;
  int64_t version = 0;  // 1 on creation, +1 per put; 0 in a delete event
};

struct WatchEvent {
  enum class Type { kPut, kDelete };
  Type type = Type::kPut;
  KeyValue kv;  // for kDelete only key and mod_revision are set
};

struct RangeResult {
  std::vector<KeyValue> kvs;  // ascending by key
  bool more = false;          // the limit cut the result short
  int64_t revision = 0;       // the store revision the range was read at
};

class EtcdClient {
 public:
  struct Options {
    // "host:port" or "http://host:port". At least one.
    std::vector<std::string> endpoints;
    // Total budget of one unary call, all retries included.
    std::chrono::milliseconds timeout{5000};
    // Budget of one attempt against one member; 0 means min(timeout / 2,
    // 2 s). A write sent to a follower whose leader just died is never
    // answered (etcd drops the forwarded proposal and only times out after
    // 5 s + 2 election timeouts), so this bounds what such an attempt costs
    // before the next member is tried. Longer than any healthy request.
    std::chrono::milliseconds attempt_timeout{0};
    // Must match the members' --max-request-bytes.
    int64_t max_request_bytes = kDefaultEtcdMaxRequestBytes;
    // Watch gives up with kUnavailable after this long without being able to
    // (re)establish a watch on any endpoint.
    std::chrono::milliseconds watch_reconnect_budget{30000};
    // Largest HTTP response body accepted (a Range of many blocks).
    uint64_t max_response_bytes = uint64_t{512} << 20;
  };

  // An empty endpoint list or a malformed endpoint is reported by every call
  // as kInvalidArgument.
  explicit EtcdClient(Options options);
  EtcdClient(std::vector<std::string> endpoints, std::chrono::milliseconds timeout);
  ~EtcdClient();
  EtcdClient(const EtcdClient&) = delete;
  EtcdClient& operator=(const EtcdClient&) = delete;

  // Unconditional write. Returns the revision of the write. Not retried once
  // sent (see above).
  Result<int64_t> Put(std::string_view key, const Bytes& value);

  // Creates key with value unless it exists, in one etcd transaction.
  // Idempotent: if key already holds exactly `value` (an earlier attempt of
  // this or another call wrote it), that counts as success. Returns the
  // key's create revision. kAborted when key holds a different value.
  Result<int64_t> PutIfAbsent(std::string_view key, const Bytes& value);

  // PutIfAbsent that also requires `guard_key`'s mod revision to equal
  // `guard_mod_revision` (0: the guard key is absent), in the same etcd
  // transaction. Idempotent like PutIfAbsent (key already holding exactly
  // `value` is success whatever the guard). kAborted when key holds another
  // value; kFailedPrecondition when key is absent but the guard moved.
  Result<int64_t> PutIfAbsentGuarded(std::string_view key, const Bytes& value, std::string_view guard_key,
                                     int64_t guard_mod_revision);

  // Writes key only if its mod revision is `mod_revision` (0: absent), in
  // one etcd transaction (compare-and-swap). kAborted when it moved.
  Result<int64_t> PutIfModRevision(std::string_view key, const Bytes& value, int64_t mod_revision);

  // Deletes key (absent is fine). Returns the revision after the call. Not
  // retried once sent, like Put.
  Result<int64_t> Delete(std::string_view key);

  // Deletes every key in [from, to_exclusive) (none is fine). Returns the
  // revision after the call. Retried like a read: deleting twice is the
  // same as deleting once.
  Result<int64_t> DeleteRange(std::string_view from, std::string_view to_exclusive);

  // Linearizable read of one key.
  Result<std::optional<KeyValue>> Get(std::string_view key);

  // Keys in [from, to_exclusive), ascending; to_exclusive "" means to the end
  // of the keyspace. limit 0: no limit. revision 0: the latest; otherwise read
  // the store as of that revision (kFailedPrecondition "compacted" if gone),
  // which keeps paged reads consistent. Pair the returned revision with
  // Watch(prefix, revision + 1, ...) to list then follow without a gap.
  Result<RangeResult> Range(std::string_view from, std::string_view to_exclusive,
                            int64_t limit = 0, int64_t revision = 0);

  // Linearizable and keys only: the greatest key in [from, to_exclusive)
  // (to_exclusive "" means to the end of the keyspace), nullopt when the
  // range is empty. One small request whatever the values' size: the
  // "has anything been ordered above height h" question of
  // node::EtcdOrderer::AwaitHead.
  Result<std::optional<std::string>> LastKey(std::string_view from, std::string_view to_exclusive);

  // Drops history before `revision`. Compacting an already compacted
  // revision is OK; a future revision is kInvalidArgument.
  Status Compact(int64_t revision);

  // The cluster's current store revision (linearizable).
  Result<int64_t> CurrentRevision();

  // Calls fn for every change of a key starting with `prefix`, from
  // start_rev (0: from now on), in revision order, each event once. Blocks
  // until fn returns false (OK), *stop becomes true (OK; polled every ~50 ms;
  // stop may be null), or an error. On a broken stream it reconnects, failing
  // over between endpoints, and resumes at the last delivered revision + 1.
  // Errors: kFailedPrecondition("compacted ...") when the revision to resume
  // from has been compacted (catch up with Range, then watch again);
  // kUnavailable when no endpoint accepted the watch for
  // Options::watch_reconnect_budget. fn runs on the calling thread.
  Status Watch(std::string_view prefix, int64_t start_rev,
               const std::function<bool(const WatchEvent&)>& fn,
               const std::atomic<bool>* stop);

  // "host:port" of the current Raft leader's first client URL.
  Result<std::string> LeaderEndpoint();

  // The endpoint the next unary call will try first (the last good one).
  std::string CurrentEndpoint() const;

  // Largest value that Put/PutIfAbsent accept for this key.
  size_t MaxValueBytes(std::string_view key) const;

  // The smallest key greater than every key with this prefix ("" for none:
  // an empty or all-0xff prefix), for Range(prefix, PrefixEnd(prefix)).
  static std::string PrefixEnd(std::string_view prefix);

 private:
  class Impl;
  // The create-if-absent transaction behind PutIfAbsent and PutIfAbsentGuarded.
  Result<int64_t> CreateIfAbsent(std::string_view key, const Bytes& value,
                                 const std::optional<std::pair<std::string_view, int64_t>>& guard);
  std::unique_ptr<Impl> impl_;
};

}  // namespace medledger::etcd
