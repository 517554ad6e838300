// Planning a FHIR write (docs/RECORDS.md, "Ingestion and the local index"):
// for each entry of a request, its target id (conditional create and update
// resolved against the index and the request itself), references rewritten
// (urn:uuid and conditional ones), the patient pseudonym it is anchored
// under, id and meta set, and the bytes that are stored and returned.
// Used by custodian/ingest.cc under its committer lock: a plan sees the
// index entries of every job planned before it.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/status.h"
#include "crypto/ed25519.h"
#include "custodian/fhir_index.h"
#include "fhir/bundle.h"
#include "fhir/json.h"
#include "state/state_view.h"

namespace medledger::custodian {

struct Entry {
  std::string method;         // POST or PUT
  std::string type;
  std::string id;             // PUT Type/id
  std::string cond_query;     // PUT Type?query (conditional update)
  std::string if_none_exist;  // POST conditional create
  std::string full_url;
  fhir::Value resource;
  std::string location_prefix;  // "Bundle.entry[3]" or ""
  // Outcome
  Status error;
  fhir::EntryResponse resp;
  int item = -1;  // index into Plan::items when written
};

struct Item {
  size_t entry = 0;
  IndexedResource idx;
  std::optional<IndexedResource> prev;
  fhir::Value resource;
  std::string bytes;
  Hash32 hash{};
  std::vector<std::string> labels;
  std::string last_updated;
  bool created = false;
  size_t chunk = 0;
};

struct Plan {
  std::vector<Item> items;
  std::map<std::string, IndexedPatient> patients;  // new patient id → pseudonym/key
  std::map<std::string, std::vector<std::string>> idents;  // type \0 sys|val → ids, this request
  std::unordered_map<std::string, std::string> ids;  // fullUrl → Type/id
  std::set<std::string> written;  // Type/id written by this request
};

class Planner {
 public:
  Planner(FhirIndex& index, const crypto::KeyPair* subject, const state::StateReader& state,
          std::optional<std::string> patient_key)
      : index_(index), subject_(subject), state_(state), patient_key_(std::move(patient_key)) {}

  // Matches of a conditional query: FHIR ids of `type`.
  Result<std::vector<std::string>> Match(std::string_view type, std::string_view query, const Plan& plan);
  // Decides the target id of an entry (first pass, so that fullUrls map
  // before any reference is rewritten). Sets e.item = -2 for a conditional
  // create that matched (nothing written).
  Status Target(Entry& e, Plan& plan);
  // Second pass: rewrite, find the patient, set id/meta, serialize.
  Status Build(Entry& e, size_t entry_index, Plan& plan);

  const std::map<std::string, std::string>& keys() const { return keys_; }

 private:
  static void MapFullUrl(const Entry& e, Plan& plan);

  FhirIndex& index_;
  const crypto::KeyPair* subject_;  // binds the custodian pseudonym
  const state::StateReader& state_;
  std::optional<std::string> patient_key_;
  std::map<std::string, std::string> keys_;  // pseudonym → patient key
  int new_patients_ = 0;
};

// The error with the entry's location ("Bundle.entry[3]: ...").
Status Located(const Entry& e, const Status& st);

}  // namespace medledger::custodian
