// Clinical-trial subcommands (docs/TRIALS.md): trial register|amend|enrol|
// submit|sign|withdraw|lock|publish|show. Each signs a transaction with
// --key and prints JSON; rules and verdicts: trials/module.h; exit codes:
// cli/exit_codes.h (a rejection's reason picks the code: denied 3,
// conflict 5, ...). A publication that switches outcomes is accepted: its
// flags are printed and the exit code is 0.
#include <CLI/CLI.hpp>
#include <chrono>
#include <fstream>
#include <sstream>

#include "cli/api_client.h"
#include "cli/commands.h"
#include "crypto/aead.h"
#include "crypto/sha256.h"
#include "model/tx_types.h"
#include "state/module.h"
#include "trials/payload.h"
#include "trials/schema.h"

namespace medledger::cli {

using nlohmann::json;
namespace tx = model::tx;

namespace {

Result<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return InvalidArgument("cannot read " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string Sha256Hex(std::string_view bytes) {
  auto h = crypto::Sha256(bytes);
  return ToHex(h.data(), h.size());
}

// A hash from --X-sha256, or the SHA-256 of --X's file; exactly one.
Result<std::string> HashOption(const std::string& file, const std::string& hex, const char* what) {
  if (file.empty() == hex.empty())
    return InvalidArgument(std::string("give one of --") + what + " FILE and --" + what + "-sha256 HEX");
  if (!hex.empty()) return hex;
  ML_ASSIGN_OR_RETURN(std::string bytes, ReadFile(file));
  return Sha256Hex(bytes);
}

// Signs and submits; prints `out` with the transaction's id, status and
// height added, or fails with the verdict's exit code.
Result<json> Send(const ClientOpts& o, uint16_t type, const json& payload) {
  ML_ASSIGN_OR_RETURN(auto key, LoadKey(o.key));
  ApiClient c(o.url);
  ML_ASSIGN_OR_RETURN(json r, c.Submit(key, type, payload, !o.no_wait));
  json out = {{"tx", r.value("id", "")}, {"status", r.value("status", "")}};
  if (r.contains("height")) out["height"] = r["height"];
  return out;
}

Result<json> Read(const ClientOpts& o, const std::string& path) {
  ML_ASSIGN_OR_RETURN(auto key, LoadKey(o.key));
  ApiClient c(o.url);
  return c.GetSignedJson(key, path);
}

void Print(const Result<json>& r, json extra = json::object()) {
  if (!r.ok()) return Fail(r.status());
  json out = extra;
  out.update(*r);
  PrintJson(out);
}

// The study definition shared by register and amend.
struct StudyOpts {
  ClientOpts c;
  std::string study, protocol, protocol_sha256, plan, registry_id, title, reason;
  std::vector<std::string> objectives, sites;
  int64_t version = 0;
};

void AddStudyOptions(CLI::App* cmd, StudyOpts* o, bool amend) {
  AddClientOptions(cmd, &o->c, true);
  auto* study = cmd->add_option("--study", o->study,
                                amend ? "The study id" : "Study id: 16..64 lower-case hex (default: a random one)");
  if (amend) study->required();
  cmd->add_option("--protocol", o->protocol, "The protocol document: its SHA-256 goes on chain");
  cmd->add_option("--protocol-sha256", o->protocol_sha256, "The protocol's SHA-256 (64 hex), instead of --protocol");
  cmd->add_option("--plan-definition", o->plan, "The protocol's FHIR PlanDefinition: PlanDefinition/<id>")->required();
  cmd->add_option("--objective", o->objectives,
                  "An objective as TYPE:NAME, TYPE primary, secondary or exploratory (repeat; at least one primary)")
      ->required()
      ->expected(1)
      ->allow_extra_args(false)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  cmd->add_option("--site", o->sites, "An organisation that may enrol (repeat)")
      ->required()
      ->expected(1)
      ->allow_extra_args(false)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  if (amend) {
    cmd->add_option("--version", o->version, "The new version (default: the current one + 1)");
    cmd->add_option("--reason", o->reason, "Why: a code, e.g. dose-change")->required();
  } else {
    cmd->add_option("--registry-id", o->registry_id, "A public registry id, e.g. NCT01234567");
    cmd->add_option("--title", o->title, "The study's public title");
  }
}

Result<json> StudyPayload(StudyOpts& o, bool amend) {
  json p;
  p["study_id"] = o.study.empty() ? crypto::RandomHexId() : o.study;
  ML_ASSIGN_OR_RETURN(p["protocol_sha256"], HashOption(o.protocol, o.protocol_sha256, "protocol"));
  p["plan_definition"] = o.plan;
  json objs = json::array();
  for (const auto& s : o.objectives) {
    auto colon = s.find(':');
    if (colon == std::string::npos) return InvalidArgument("--objective is TYPE:NAME, e.g. primary:Overall survival");
    objs.push_back({{"type", s.substr(0, colon)}, {"name", s.substr(colon + 1)}});
  }
  p["objectives"] = objs;
  p["sites"] = o.sites;
  if (amend) {
    p["reason"] = o.reason;
    if (o.version <= 0) {
      ML_ASSIGN_OR_RETURN(json s, Read(o.c, "/v1/trials/" + o.study));
      o.version = s.value("version", int64_t(0)) + 1;
    }
    p["version"] = o.version;
  } else {
    if (!o.registry_id.empty()) p["registry_id"] = o.registry_id;
    if (!o.title.empty()) p["title"] = o.title;
  }
  // The node's own decoder, here, so that a bad flag is a usage error
  // before anything is signed.
  try {
    amend ? trials::DecodeAmend(p) : trials::DecodeRegister(p);
  } catch (const state::PayloadError& e) {
    return InvalidArgument(e.verdict.detail);
  }
  return p;
}

void RegisterStudyCommand(CLI::App* top, bool amend) {
  auto* cmd = top->add_subcommand(amend ? "amend" : "register",
                                  amend ? "Amend a study: a new protocol version (the sponsor)"
                                        : "Register a study before enrolment: protocol SHA-256, PlanDefinition, "
                                          "objectives, sites (a sponsor key)");
  static StudyOpts opts[2];
  StudyOpts* o = &opts[amend];
  AddStudyOptions(cmd, o, amend);
  cmd->callback([o, amend] {
    auto p = StudyPayload(*o, amend);
    if (!p.ok()) return Fail(p.status());
    Print(Send(o->c, amend ? tx::kTrialAmend : tx::kTrialRegister, *p),
          {{"study_id", (*p)["study_id"]},
           {"version", amend ? (*p)["version"] : json(1)},
           {"protocol_sha256", (*p)["protocol_sha256"]}});
  });
}

}  // namespace

void RegisterTrialCommands(CLI::App& app) {
  auto* top = app.add_subcommand("trial", "Clinical trials: register, enrol, submit, sign (21 CFR Part 11), withdraw, "
                                          "lock, publish (docs/TRIALS.md)");
  top->require_subcommand(1);
  RegisterStudyCommand(top, false);
  RegisterStudyCommand(top, true);
  {
    auto* cmd = top->add_subcommand("enrol", "Enrol a subject: the site's pseudonym of a patient whose research "
                                             "consent (HRESCH) covers the signer (a practitioner of a site)");
    static ClientOpts o;
    static std::string study, subject, consent_record;
    AddClientOptions(cmd, &o, true);
    cmd->add_option("--study", study, "The study id")->required();
    cmd->add_option("--subject", subject, "The patient's pseudonym at the signer's organisation")->required();
    cmd->add_option("--consent-record", consent_record, "The anchored FHIR research Consent's record id");
    cmd->callback([] {
      json p = {{"study_id", study}, {"subject", subject}};
      if (!consent_record.empty()) p["consent_record"] = consent_record;
      Print(Send(o, tx::kTrialEnrol, p), {{"study_id", study}, {"subject", subject}});
    });
  }
  {
    auto* cmd = top->add_subcommand("submit", "Anchor a site's data for a subject: the SHA-256, the site, the time "
                                              "(a practitioner or node of the subject's site)");
    static ClientOpts o;
    static std::string study, subject, file, sha, id, type;
    AddClientOptions(cmd, &o, true);
    cmd->add_option("--study", study, "The study id")->required();
    cmd->add_option("--subject", subject, "The subject's pseudonym")->required();
    cmd->add_option("--file", file, "The data: its SHA-256 is anchored, the bytes stay at the site");
    cmd->add_option("--sha256", sha, "The data's SHA-256 (64 hex), instead of --file");
    cmd->add_option("--submission-id", id, "Submission id, 16..64 hex (default: a random one)");
    cmd->add_option("--resource-type", type, "The data's FHIR resource type, e.g. Observation");
    cmd->callback([] {
      auto h = HashOption(file, sha, "file");
      if (!h.ok()) return Fail(h.status(), Exit::kUsage);
      const std::string sid = id.empty() ? crypto::RandomHexId() : id;
      json p = {{"study_id", study}, {"submission_id", sid}, {"subject", subject}, {"sha256", *h}};
      if (!type.empty()) p["resource_type"] = type;
      Print(Send(o, tx::kTrialSubmit, p), {{"submission_id", sid}, {"sha256", *h}});
    });
  }
  {
    auto* cmd = top->add_subcommand(
        "sign", "Sign a trial record under 21 CFR Part 11: printed name, date and time, meaning (one person's key, "
                "never an org admin's or a node's)");
    static ClientOpts o;
    static std::string record, name, meaning, sha;
    AddClientOptions(cmd, &o, true);
    cmd->add_option("--record", record, "The record: a trial transaction id or a submission id")->required();
    cmd->add_option("--name", name, "The signer's printed name")->required();
    cmd->add_option("--meaning", meaning, "What the signature means: approval, review, responsibility, authorship")
        ->required();
    cmd->add_option("--record-sha256", sha, "The record's hash as you checked it (default: the node's)");
    cmd->callback([] {
      json shown;
      if (sha.empty()) {
        auto r = Read(o, "/v1/trials/records/" + record);
        if (!r.ok()) return Fail(r.status());
        sha = r->value("sha256", "");
        shown = {{"kind", r->value("kind", "")}, {"study_id", r->value("study_id", "")}};
      }
      const int64_t at = std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
      json p = {{"record", record}, {"record_sha256", sha}, {"printed_name", name}, {"meaning", meaning},
                {"signed_at", at}};
      shown.update(p);
      shown["signed_at_utc"] = trials::FormatUtc(at);
      shown["manifestation"] = trials::Manifestation(name, meaning, at);
      Print(Send(o, tx::kTrialSign, p), shown);
    });
  }
  {
    auto* cmd = top->add_subcommand("withdraw", "Withdraw a subject: new data are refused, earlier data stay (the "
                                                "patient's key, its representative's, or a practitioner of the site)");
    static ClientOpts o;
    static std::string study, site, subject, reason;
    AddClientOptions(cmd, &o, true);
    cmd->add_option("--study", study, "The study id")->required();
    cmd->add_option("--site", site, "The organisation where the subject is enrolled")->required();
    cmd->add_option("--subject", subject, "The subject's pseudonym at that site")->required();
    cmd->add_option("--reason", reason, "A code, e.g. patient-request");
    cmd->callback([] {
      json p = {{"study_id", study}, {"site", site}, {"subject", subject}};
      if (!reason.empty()) p["reason"] = reason;
      Print(Send(o, tx::kTrialWithdraw, p), {{"study_id", study}, {"subject", subject}, {"subject_status", "withdrawn"}});
    });
  }
  {
    auto* cmd = top->add_subcommand("lock", "Lock the study's database: no enrolment, data or amendment after it "
                                            "(the sponsor)");
    static ClientOpts o;
    static std::string study;
    AddClientOptions(cmd, &o, true);
    cmd->add_option("--study", study, "The study id")->required();
    cmd->callback([] { Print(Send(o, tx::kTrialLock, {{"study_id", study}}), {{"study_id", study}}); });
  }
  {
    auto* cmd = top->add_subcommand("publish", "Publish results after the lock: the document's SHA-256 and its "
                                               "objectives, compared with the registered ones (the sponsor)");
    static ClientOpts o;
    static std::string file, id;
    AddClientOptions(cmd, &o, true);
    cmd->add_option("file", file, "The publication document (JSON, docs/TRIALS.md)")->required();
    cmd->add_option("--publication-id", id, "Publication id, 16..64 hex (default: a random one)");
    cmd->callback([] {
      auto text = ReadFile(file);
      if (!text.ok()) return Fail(text.status(), Exit::kUsage);
      auto doc = trials::ParsePublicationDocument(*text);
      if (!doc.ok()) return Fail(doc.status());
      const std::string pid = id.empty() ? crypto::RandomHexId() : id;
      json p = {{"study_id", doc->study_id},
                {"publication_id", pid},
                {"sha256", Sha256Hex(*text)},
                {"objectives", trials::ObjectivesJson(doc->objectives)}};
      if (!doc->uri.empty()) p["uri"] = doc->uri;
      auto sent = Send(o, tx::kTrialPublish, p);
      if (!sent.ok()) return Fail(sent.status());
      json out = {{"study_id", doc->study_id}, {"publication_id", pid}, {"sha256", p["sha256"]}};
      out.update(*sent);
      if (!o.no_wait) {
        auto s = Read(o, "/v1/trials/" + doc->study_id);
        if (!s.ok()) return Fail(s.status());
        for (const auto& pub : s->value("publications", json::array()))
          if (pub.value("publication_id", "") == pid) {
            out["flags"] = pub.value("flags", json::array());
            out["outcome_switch"] = pub.value("outcome_switch", false);
            out["baseline_version"] = pub.value("baseline_version", 0);
          }
      }
      PrintJson(out);
    });
  }
  {
    auto* cmd = top->add_subcommand("show", "Show a study with its versions, lock and publications (and their "
                                            "signatures); --subjects, --submissions add those");
    static ClientOpts o;
    static std::string study;
    static bool subjects = false, submissions = false;
    AddClientOptions(cmd, &o, true);
    cmd->add_option("--study", study, "The study id")->required();
    cmd->add_flag("--subjects", subjects, "Add the subjects");
    cmd->add_flag("--submissions", submissions, "Add the data submissions");
    cmd->callback([] {
      auto s = Read(o, "/v1/trials/" + study);
      if (!s.ok()) return Fail(s.status());
      json out = *s;
      if (subjects) {
        auto r = Read(o, "/v1/trials/" + study + "/subjects");
        if (!r.ok()) return Fail(r.status());
        out["subjects"] = (*r)["subjects"];
      }
      if (submissions) {
        auto r = Read(o, "/v1/trials/" + study + "/submissions");
        if (!r.ok()) return Fail(r.status());
        out["submissions"] = (*r)["submissions"];
      }
      PrintJson(out);
    });
  }
}

}  // namespace medledger::cli
