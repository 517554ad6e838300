// The clinical-trial payloads and the publication document (docs/TRIALS.md):
// pure decoders of untrusted JSON, no state. A bad field throws
// state::PayloadError (kInvalidPayload), as every module's payload helpers
// do; the module turns it into the verdict. The fuzz target
// (trial_payload_fuzz.cc) feeds them arbitrary JSON.
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace medledger::trials {

// An R4 ResearchStudy.objective: a name and a type from the
// research-study-objective-type codes.
struct Objective {
  std::string name;  // 1..256 printable characters (no control characters)
  std::string type;  // primary | secondary | exploratory
};

// trial.register and trial.amend.
struct StudyDef {
  std::string study_id;           // hex id
  int64_t version = 1;            // amend only: the new version (latest + 1)
  std::string protocol_sha256;    // 64 lower-case hex: SHA-256 of the protocol document
  std::string plan_definition;    // "PlanDefinition/<FHIR id>"
  std::vector<Objective> objectives;  // 1..32, unique names (NormaliseName), at least one primary
  std::vector<std::string> sites;     // 1..64 organisation ids, sorted, unique
  std::string registry_id;        // register only, optional code (e.g. an NCT number)
  std::string title;              // register only, optional: the study's public title
  std::string reason;             // amend only, a code
};

struct EnrolReq {
  std::string study_id, subject;  // subject: the site's patient pseudonym (hex id)
  std::string consent_record;     // optional: the anchored FHIR research Consent (a record id)
};

struct SubmitReq {
  std::string study_id, submission_id, subject, sha256;
  std::string resource_type;  // optional FHIR type name of the data submitted
};

// 21 CFR Part 11 §11.50 / §11.70: what is signed, and the manifestation.
struct SignReq {
  std::string record;         // a trial transaction's id (64 hex) or a submission id
  std::string record_sha256;  // the record's hash, as the signer saw it
  std::string printed_name;   // 1..128 printable characters
  std::string meaning;        // approval | review | responsibility | authorship
  int64_t signed_at_ms = 0;   // when the signer signed (the block time is recorded too)
};

struct WithdrawReq {
  std::string study_id, site, subject;
  std::string reason;  // optional code
};

struct LockReq {
  std::string study_id;
};

struct PublishReq {
  std::string study_id, publication_id, sha256;
  std::vector<Objective> objectives;  // as reported: 1..64, unique names
  std::string uri;                    // optional: where the publication is (a DOI, a URL)
};

StudyDef DecodeRegister(const nlohmann::json& p);
StudyDef DecodeAmend(const nlohmann::json& p);
EnrolReq DecodeEnrol(const nlohmann::json& p);
SubmitReq DecodeSubmit(const nlohmann::json& p);
SignReq DecodeSign(const nlohmann::json& p);
WithdrawReq DecodeWithdraw(const nlohmann::json& p);
LockReq DecodeLock(const nlohmann::json& p);
PublishReq DecodePublish(const nlohmann::json& p);

// The results publication document (docs/TRIALS.md, "Publication format"),
// as its author writes it. Only study_id and objectives are read; anything
// else (title, results, authors) is carried in the document, whose SHA-256
// goes on chain.
struct PublicationDoc {
  std::string study_id;
  std::vector<Objective> objectives;
  std::string uri;  // optional "uri"
};
// InvalidArgument for text that is not such a document.
Result<PublicationDoc> ParsePublicationDocument(std::string_view text);

// The objectives' JSON form, [{name, type}, ...], and its decoder.
nlohmann::json ObjectivesJson(const std::vector<Objective>& objs);
std::vector<Objective> DecodeObjectives(const nlohmann::json& arr, size_t max_items, bool need_primary);

// How names are compared: ASCII letters folded to lower case, runs of
// whitespace one space, no leading or trailing whitespace. "Overall
// Survival" and "overall  survival" are one objective.
std::string NormaliseName(std::string_view name);

inline constexpr std::string_view kMeanings[] = {"approval", "review", "responsibility", "authorship"};
inline constexpr std::string_view kObjectiveTypes[] = {"primary", "secondary", "exploratory"};

}  // namespace medledger::trials
