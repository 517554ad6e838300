// State keys of the clinical-trial module (docs/TRIALS.md, "State keys"):
// the builders here are the only place that spells them. Nothing under
// tri/ carries patient data: subjects are the site's pseudonyms, data are
// SHA-256 hashes; staff printed names appear only in Part 11 signatures.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace medledger::trials {

std::string StudyKey(std::string_view study_id);                              // tri/study/<study>
std::string VersionKey(std::string_view study_id, int64_t version);           // tri/ver/<study>/<v:010>
std::string VersionPrefix(std::string_view study_id);                         // tri/ver/<study>/
std::string SubjectKey(std::string_view study_id, std::string_view site,
                       std::string_view subject);                             // tri/subj/<study>/<site>/<subject>
std::string SubjectPrefix(std::string_view study_id);                         // tri/subj/<study>/
std::string SubmissionKey(std::string_view submission_id);                    // tri/sub/<id>
std::string SubmissionIndexKey(std::string_view study_id, uint64_t height,
                               std::string_view submission_id);               // tri/subs/<study>/<h:020>/<id>
std::string SubmissionIndexPrefix(std::string_view study_id);                 // tri/subs/<study>/
std::string RecordKey(std::string_view record);                               // tri/rec/<record>
std::string SignatureKey(std::string_view record, uint64_t height,
                         std::string_view tx);                                // tri/sig/<record>/<h:020>/<tx>
std::string SignaturePrefix(std::string_view record);                         // tri/sig/<record>/
std::string SignerKey(std::string_view public_id);                            // tri/signer/<pid>
std::string PublicationKey(std::string_view study_id, std::string_view pub_id);  // tri/pub/<study>/<id>
std::string PublicationPrefix(std::string_view study_id);                     // tri/pub/<study>/
inline constexpr std::string_view kStudyPrefix = "tri/study/";

// Milliseconds since the epoch as "YYYY-MM-DDThh:mm:ss.sssZ" (UTC, proleptic
// Gregorian): the date and time of a signature's manifestation. Pure
// arithmetic, no time zone database, so every node writes the same text.
std::string FormatUtc(int64_t ms);

// The human-readable manifestation of a signature (21 CFR 11.50):
// "<printed name> | <meaning> | <signed at, UTC>".
std::string Manifestation(std::string_view printed_name, std::string_view meaning, int64_t signed_at_ms);

}  // namespace medledger::trials
