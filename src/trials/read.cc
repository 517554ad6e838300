#include "trials/read.h"

#include "state/module.h"
#include "trials/schema.h"

namespace medledger::trials {

using nlohmann::json;

namespace {

std::vector<json> ScanDocs(const state::StateReader& st, const std::string& prefix) {
  std::vector<json> out;
  st.Scan(prefix, [&](std::string_view, const Bytes& v) {
    if (auto d = state::DecodeState(v)) out.push_back(std::move(*d));
    return true;
  });
  return out;
}

json WithSignatures(const state::StateReader& st, json doc) {
  doc["signatures"] = ListSignatures(st, doc.value("tx", ""));
  return doc;
}

}  // namespace

json ListSignatures(const state::StateReader& st, std::string_view record) {
  json out = json::array();
  if (record.empty()) return out;
  for (auto& d : ScanDocs(st, SignaturePrefix(record))) {
    d["signed_at_utc"] = FormatUtc(d.value("signed_at", int64_t(0)));
    out.push_back(std::move(d));
  }
  return out;
}

std::optional<json> GetStudy(const state::StateReader& st, std::string_view study_id) {
  auto s = state::LoadDoc(st, StudyKey(study_id));
  if (!s) return std::nullopt;
  json versions = json::array();
  for (auto& v : ScanDocs(st, VersionPrefix(study_id))) versions.push_back(WithSignatures(st, std::move(v)));
  (*s)["versions"] = std::move(versions);
  json pubs = json::array();
  for (auto& p : ScanDocs(st, PublicationPrefix(study_id))) pubs.push_back(WithSignatures(st, std::move(p)));
  (*s)["publications"] = std::move(pubs);
  if (s->contains("lock")) (*s)["lock"] = WithSignatures(st, (*s)["lock"]);
  return s;
}

std::vector<json> ListStudies(const state::StateReader& st) { return ScanDocs(st, std::string(kStudyPrefix)); }

std::vector<json> ListSubjects(const state::StateReader& st, std::string_view study_id) {
  std::vector<json> out;
  for (auto& d : ScanDocs(st, SubjectPrefix(study_id))) {
    json w = d.value("withdrawal", json::object());
    d = WithSignatures(st, std::move(d));
    if (!w.empty()) d["withdrawal_signatures"] = ListSignatures(st, w.value("tx", ""));
    out.push_back(std::move(d));
  }
  return out;
}

std::vector<json> ListSubmissions(const state::StateReader& st, std::string_view study_id, std::string_view subject) {
  std::vector<json> out;
  const std::string prefix = SubmissionIndexPrefix(study_id);
  st.Scan(prefix, [&](std::string_view key, const Bytes&) {
    std::string_view id = key.substr(key.rfind('/') + 1);
    auto d = state::LoadDoc(st, SubmissionKey(id));
    if (d && (subject.empty() || d->value("subject", "") == subject)) {
      (*d)["signatures"] = ListSignatures(st, id);
      out.push_back(std::move(*d));
    }
    return true;
  });
  return out;
}

std::optional<json> GetRecord(const state::StateReader& st, std::string_view record) {
  auto r = state::LoadDoc(st, RecordKey(record));
  if (!r) return std::nullopt;
  json out = {{"record", record},
              {"kind", r->value("kind", "")},
              {"study_id", r->value("study_id", "")},
              {"sha256", r->value("sha256", "")}};
  auto doc = state::LoadDoc(st, r->value("key", ""));
  // A lock's document is the study's (which holds "lock"); every other
  // kind has a document of its own.
  if (doc) out["document"] = std::move(*doc);
  out["signatures"] = ListSignatures(st, record);
  return out;
}

}  // namespace medledger::trials
