// The custodian's read side: reads decided by consent with a durable access
// event for each, $everything, the Consent and AuditEvent resources of a
// patient, disclosures, erasure, legal holds, and the anchor look-ups a
// client uses to check what it read. Contract: docs/RECORDS.md, "Access,
// audit and erasure API". api/fhir_read.cc routes HTTP requests here.
//
// Every call takes a caller that api/auth.h verified (the signature, the
// chain head, an active identity, an unspent nonce). Errors are Status codes:
// kNotFound, kPermissionDenied (with the reason), kGone (erased), kDataLoss
// (stored bytes do not match their anchor), kUnavailable (not journaled, not
// committed in time, shutting down: retry), kInvalidArgument.
//
// Threads: nothing here waits for a block or a sync on the caller's thread.
// The access journal's writer thread answers reads once their events are
// durable, the mempool's reaper answers what waits for a commit, and one
// worker thread runs erasures (vault compaction takes a while). Journaled
// events are signed and admitted as access.event transactions by a submitter
// thread, off the path of the reply.
#pragma once

#include <functional>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <vector>

#include "custodian/context.h"
#include "model/transaction.h"
#include "records/purpose.h"
#include "records/records.h"
#include "state/caller.h"

namespace medledger::custodian {

struct ReadResult {
  records::AnchorInfo anchor;
  std::string bytes;     // the stored resource; its SHA-256 is the anchor's
  std::string event_id;  // the access event; "" for a resource of no patient
  bool break_glass = false;
};

struct EverythingEntry {
  std::string type, id;  // the resource's Type/id
  std::string bytes;
};

struct DisclosureRequest {
  std::string patient;  // Patient id in this custodian's index
  std::string recipient_name, recipient_address;
  std::string description, purpose;  // codes ([A-Za-z0-9._:-], 1-64)
  std::vector<std::string> records;  // Type/id, optional
  std::optional<int64_t> at_ms;      // default: now
};

struct DisclosureReceipt {
  std::string disclosure_id, recipient_ref, tx;
  uint64_t height = 0;
};

template <typename T>
using Done = std::function<void(Result<T>)>;

class ReadService {
 public:
  // Opens the access journal; before anything is served, destroys again the
  // keys of records erased on chain (a restored backup still holds them),
  // resubmits journaled access events the chain does not hold, and decides
  // erasure requests left undecided. Registers its stopper in ctx.
  static Result<std::unique_ptr<ReadService>> Open(Context* ctx);
  ~ReadService();

  // Type/id, its latest committed version or `version`.
  void Read(const state::Caller& c, const std::string& type, const std::string& id, std::optional<int64_t> version,
            const records::PurposeOfUse& purpose, Done<ReadResult> done);
  // Every record of the patient the caller may read (kPermissionDenied when
  // none), one access event each.
  void Everything(const state::Caller& c, const std::string& patient_id, const records::PurposeOfUse& purpose,
                  Done<std::vector<EverythingEntry>> done);
  // For the patient (public id, or Patient/<public id>), an active
  // representative or an auditor.
  Result<std::vector<nlohmann::json>> Consents(const state::Caller& c, const std::string& patient);
  // Access events (committed and journaled) and disclosures; with
  // `accounting`, the disclosures of the last six years only (45 CFR 164.528).
  Result<std::vector<nlohmann::json>> AuditEvents(const state::Caller& c, const std::string& patient,
                                                  bool accounting);
  // By the custodian's staff.
  void Disclose(const state::Caller& c, DisclosureRequest req, Done<DisclosureReceipt> done);
  // The organisation's holds on chain by record id (org admins, auditors).
  Result<nlohmann::json> LegalHolds(const state::Caller& c);
  // The patient's signed erasure.request for Type/id: admitted, then decided
  // (refused under a legal hold, else erased). Answers the signed receipt.
  void Erase(const state::Caller& c, const std::string& type, const std::string& id, model::Transaction request,
             Done<nlohmann::json> done);
  // Record id, latest version and erased flag of Type/id; one anchor.
  Result<nlohmann::json> LookupRecord(const state::Caller& c, const std::string& reference);
  Result<nlohmann::json> Anchor(const state::Caller& c, const std::string& record_id, int64_t version);
  // The pseudonyms bound to the caller's own key, {pseudonyms: [{org,
  // pseudonym}]}: what a patient hands its insurer so that the insurer can
  // register coverage for it at a provider (docs/CLAIMS.md). Only the key
  // itself asks; nobody else learns which pseudonyms are one patient's.
  Result<nlohmann::json> OwnPseudonyms(const state::Caller& c);

  struct Service;  // the threads and the journal, shared with pending answers

 private:
  explicit ReadService(std::shared_ptr<Service> s) : s_(std::move(s)) {}
  std::shared_ptr<Service> s_;
};

}  // namespace medledger::custodian
