#include "trials/schema.h"

#include <cstdio>

#include "state/module.h"

namespace medledger::trials {

using state::Pad;

namespace {
std::string Cat(std::initializer_list<std::string_view> parts) {
  std::string s;
  for (auto p : parts) s += p;
  return s;
}
}  // namespace

std::string StudyKey(std::string_view s) { return Cat({kStudyPrefix, s}); }
std::string VersionKey(std::string_view s, int64_t v) { return Cat({"tri/ver/", s, "/", Pad(uint64_t(v), 10)}); }
std::string VersionPrefix(std::string_view s) { return Cat({"tri/ver/", s, "/"}); }
std::string SubjectKey(std::string_view s, std::string_view site, std::string_view subj) {
  return Cat({"tri/subj/", s, "/", site, "/", subj});
}
std::string SubjectPrefix(std::string_view s) { return Cat({"tri/subj/", s, "/"}); }
std::string SubmissionKey(std::string_view id) { return Cat({"tri/sub/", id}); }
std::string SubmissionIndexKey(std::string_view s, uint64_t h, std::string_view id) {
  return Cat({"tri/subs/", s, "/", Pad(h), "/", id});
}
std::string SubmissionIndexPrefix(std::string_view s) { return Cat({"tri/subs/", s, "/"}); }
std::string RecordKey(std::string_view r) { return Cat({"tri/rec/", r}); }
std::string SignatureKey(std::string_view r, uint64_t h, std::string_view tx) {
  return Cat({"tri/sig/", r, "/", Pad(h), "/", tx});
}
std::string SignaturePrefix(std::string_view r) { return Cat({"tri/sig/", r, "/"}); }
std::string SignerKey(std::string_view pid) { return Cat({"tri/signer/", pid}); }
std::string PublicationKey(std::string_view s, std::string_view id) { return Cat({"tri/pub/", s, "/", id}); }
std::string PublicationPrefix(std::string_view s) { return Cat({"tri/pub/", s, "/"}); }

std::string FormatUtc(int64_t ms) {
  // Days from civil (H. Hinnant's algorithm), floor division for times
  // before 1970.
  int64_t secs = ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000);
  int64_t milli = ms - secs * 1000;
  int64_t days = secs >= 0 ? secs / 86400 : -((-secs + 86399) / 86400);
  int64_t rem = secs - days * 86400;
  int64_t z = days + 719468;
  int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  int64_t doe = z - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t y = yoe + era * 400;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153;
  int64_t d = doy - (153 * mp + 2) / 5 + 1;
  int64_t m = mp < 10 ? mp + 3 : mp - 9;
  if (m <= 2) ++y;
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04lld-%02lld-%02lldT%02lld:%02lld:%02lld.%03lldZ", (long long)y, (long long)m,
                (long long)d, (long long)(rem / 3600), (long long)(rem / 60 % 60), (long long)(rem % 60),
                (long long)milli);
  return buf;
}

std::string Manifestation(std::string_view name, std::string_view meaning, int64_t signed_at_ms) {
  return Cat({name, " | ", meaning, " | ", FormatUtc(signed_at_ms)});
}

}  // namespace medledger::trials
