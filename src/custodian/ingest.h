// The custodian's write path (docs/RECORDS.md, "Ingestion and the local
// index"): FHIR creates and updates, single or in transaction/batch bundles,
// stored encrypted in the vault, indexed locally and anchored on chain.
//
// A write: parse and validate everything (no lock); then queue the job for
// the committer. One committer at a time (group commit) takes every queued
// job and, for each in turn, plans it (custodian/ingest_plan.h) and writes
// its local index changes without a sync (so the next job's plan sees them).
// Then the whole group is made durable at once: one vault PutBatch holding
// every version of every job, and one sync of the index, side by side. Only
// then are the anchors submitted, job by job in plan order, as
// record.anchor_batch transactions signed by the node key (chunks of at most
// 500 anchors and 56 KiB of payload). Each answer is given from the mempool's
// WaitAll callback once every chunk of its job committed: no caller's thread
// waits. A failure to make the group durable fails every job of the group
// (nothing of it is anchored; the index is restored).
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "common/status.h"
#include "custodian/context.h"

namespace medledger::custodian {

struct WriteRequest {
  bool bundle = false;  // POST /fhir: a transaction or batch Bundle
  std::string type, id;  // single: the URL's type, and id for an update
  std::string body;
  std::optional<std::string> patient_key;    // the patient's public id (a new Patient)
  std::optional<std::string> prefer;         // return=minimal | representation
  std::optional<std::string> if_none_exist;  // single conditional create
};

// A write's answer, for the API to put into HTTP.
struct WriteReply {
  Status error;  // the whole request failed
  // Otherwise: for a single resource, the entry's status (201 created, 200
  // updated or matched), the stored bytes ("" with return=minimal) and where
  // it is; for a bundle, 200 and the response Bundle.
  int status = 200;
  std::string body;
  std::string location, etag, anchor_tx, anchor_hash;  // single only
};

class Ingest {
 public:
  // Opens the FHIR index (ctx->index) unless open, and the custodian subject
  // key. `entry_status` gives a failed bundle entry's HTTP status code (the
  // API's table; FHIR puts it into Bundle.entry.response.status).
  static Result<std::shared_ptr<Ingest>> Open(Context* ctx, std::function<int(StatusCode)> entry_status);
  ~Ingest();

  // Runs `job` on the write pool: parsing, validation, encryption and fsyncs
  // never run on the HTTP I/O threads. False once stopping.
  bool Post(std::function<void()> job);
  // On a pool thread (Post): parses, validates and queues the write; `done`
  // runs once its anchors committed, or it failed.
  void Write(WriteRequest req, std::function<void(WriteReply)> done);
  // The public id of the custodian subject key, which binds the custodian
  // pseudonym (resources that belong to no patient).
  std::string custodian_subject() const;

  struct Impl;

 private:
  explicit Ingest(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}
  std::shared_ptr<Impl> impl_;
};

}  // namespace medledger::custodian
