// Patient-side subcommands: consent grant|revoke|list and audit. Each takes
// the patient's key file (--key), or the patient's seed and custodians
// (--seed, --custodians), from which a key per custodian is derived on this
// machine (cli/patient_keys.h): one consent per custodian, each signed by
// that custodian's key, revoked together by the group id the grant prints;
// one audit gathered from every custodian's node into one Bundle.
// Exit codes: cli/exit_codes.h.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <ctime>
#include <iostream>

#include "api/http_signature.h"
#include "cli/api_client.h"
#include "cli/commands.h"
#include "cli/patient_keys.h"
#include "crypto/aead.h"
#include "crypto/derive.h"
#include "crypto/keyfile.h"
#include "model/tx_types.h"

namespace medledger::cli {

using nlohmann::json;

namespace {

// "2025-12-31", "2025-12-31T18:00:00Z" or milliseconds since the epoch.
Result<int64_t> ParseDateMs(const std::string& s) {
  if (!s.empty() && std::all_of(s.begin(), s.end(), ::isdigit) && s.size() > 8) return std::stoll(s);
  std::tm tm{};
  int y, mo, d, h = 0, mi = 0, sec = 0;
  if (std::sscanf(s.c_str(), "%d-%d-%dT%d:%d:%d", &y, &mo, &d, &h, &mi, &sec) < 3)
    return InvalidArgument("dates are YYYY-MM-DD, YYYY-MM-DDThh:mm:ssZ (UTC) or epoch milliseconds");
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = sec;
  return static_cast<int64_t>(timegm(&tm)) * 1000;
}

// Turns "org:ID" or a public id into a grantee; anything else is refused.
Result<std::string> ParseGrantee(const std::string& to) {
  if (to.rfind("org:", 0) == 0 && to.size() > 4) return to;
  if (crypto::ParsePublicId(to).ok()) return to;
  return InvalidArgument("--to takes a public id (64 hex) or org:ID");
}

struct GrantOpts {
  ClientOpts c;
  PatientKeyOpts p;
  std::string to, org, until, not_before, patient;
  std::vector<std::string> types, purposes, labels;
};

// The consent.grant payload shared by every custodian (no id, no
// patient_org yet).
Result<json> GrantPayload(const GrantOpts& o) {
  ML_ASSIGN_OR_RETURN(std::string grantee, ParseGrantee(o.to));
  json p = {{"grantee", grantee}};
  auto ts = SplitComma(o.types);
  if (ts.size() == 1 && (ts[0] == "all" || ts[0] == "*")) ts = {"*"};
  p["types"] = ts;
  json ps = json::array();
  for (const auto& x : SplitComma(o.purposes)) ps.push_back(ToPurposeCode(x));
  p["purposes"] = ps;
  auto ls = SplitComma(o.labels);
  if (!ls.empty()) p["labels"] = ls;
  if (!o.patient.empty()) p["patient"] = o.patient;
  // The macro is several statements: braces, not a bare if.
  if (!o.until.empty()) {
    ML_ASSIGN_OR_RETURN(p["until_ms"], ParseDateMs(o.until));
  }
  if (!o.not_before.empty()) {
    ML_ASSIGN_OR_RETURN(p["not_before_ms"], ParseDateMs(o.not_before));
  }
  return p;
}

json Committed(const json& r) {
  json out = {{"tx", r.value("id", "")}, {"status", r.value("status", "")}};
  if (r.contains("height")) out["height"] = r["height"];
  return out;
}

// The seed's key file and the chain id: what consent-group ids derive from.
struct GroupSeed {
  crypto::KeyPair seed;
  std::string chain_id;
};
Result<GroupSeed> LoadGroupSeed(const ClientOpts& c, const PatientKeyOpts& p) {
  ML_ASSIGN_OR_RETURN(auto seed, crypto::ReadKeyFile(p.seed));
  ApiClient entry(c.url);
  std::string chain = entry.chain_id();
  if (chain.empty()) return Unavailable("cannot read the chain id from " + c.url);
  return GroupSeed{std::move(seed), std::move(chain)};
}

void Grant(const GrantOpts& o) {
  auto base = GrantPayload(o);
  if (!base.ok()) return Fail(base.status());
  auto keys = ResolvePatientKeys(o.c, o.p, false);
  if (!keys.ok()) return Fail(keys.status());
  ApiClient c(o.c.url);
  if (o.p.seed.empty()) {
    json p = *base;
    p["consent_id"] = crypto::RandomHexId();
    p["patient_org"] = o.org.empty() ? "*" : o.org;
    auto r = c.Submit(keys->front().key, model::tx::kConsentGrant, p, !o.c.no_wait);
    if (!r.ok()) return Fail(r.status());
    json out = Committed(*r);
    out["consent_id"] = p["consent_id"];
    return PrintJson(out);
  }
  if (!o.org.empty()) return Fail("with --seed each grant covers its own custodian: --org does not apply", Exit::kUsage);
  if (!o.patient.empty() && keys->size() != 1)
    return Fail("--patient names the patient at one custodian: give one custodian", Exit::kUsage);
  auto gs = LoadGroupSeed(o.c, o.p);
  if (!gs.ok()) return Fail(gs.status());
  // The group id stays here (printed for `consent revoke --group`); on chain
  // each custodian's consent has its own id derived from it and the seed.
  const std::string group = crypto::RandomHexId();
  json grants = json::array();
  Status first_failure = Status::Ok();
  for (const auto& k : *keys) {
    json p = *base;
    auto id = crypto::ConsentGroupMemberId(gs->seed, gs->chain_id, group, k.org);
    if (!id.ok()) return Fail(id.status());
    p["consent_id"] = *id;
    p["patient_org"] = k.org;
    json entry = {{"custodian", k.org}, {"patient", p.value("patient", k.key.id())}, {"consent_id", *id}};
    auto r = c.Submit(k.key, model::tx::kConsentGrant, p, !o.c.no_wait);
    if (r.ok()) {
      entry.update(Committed(*r));
    } else {
      entry["error"] = r.status().message();
      if (first_failure.ok()) first_failure = r.status();
    }
    grants.push_back(std::move(entry));
  }
  PrintJson({{"group", group}, {"grants", grants}});
  if (!first_failure.ok()) Fail(first_failure);
}

struct RevokeOpts {
  ClientOpts c;
  PatientKeyOpts p;
  std::string consent_id, group;
};

// One revocation's outcome. A consent already revoked, or never granted at
// that custodian (a grant of the group that failed), leaves nothing active
// there: reported, not a failure.
json RevokeOne(ApiClient& c, const crypto::KeyPair& key, const std::string& consent_id, bool wait, Status* failure) {
  json entry = {{"consent_id", consent_id}};
  auto r = c.Submit(key, model::tx::kConsentRevoke, {{"consent_id", consent_id}}, wait);
  if (r.ok()) {
    entry.update(Committed(*r));
    entry["outcome"] = "revoked";
    return entry;
  }
  std::string_view reason = RejectReason(r.status().message());
  if (reason == "conflict" && r.status().message().find("already revoked") != std::string::npos) {
    entry["outcome"] = "already-revoked";
  } else if (reason == "not_found") {
    entry["outcome"] = "never-granted";
  } else {
    entry["outcome"] = "failed";
    entry["error"] = r.status().message();
    if (failure->ok()) *failure = r.status();
  }
  return entry;
}

void Revoke(const RevokeOpts& o) {
  if (o.consent_id.empty() == o.group.empty()) return Fail("give a CONSENT_ID or --group, one of them", Exit::kUsage);
  if (!o.group.empty() && o.p.seed.empty()) return Fail("--group needs --seed: the ids derive from it", Exit::kUsage);
  auto keys = ResolvePatientKeys(o.c, o.p, false);
  if (!keys.ok()) return Fail(keys.status());
  ApiClient c(o.c.url);
  Status failure = Status::Ok();
  if (o.group.empty()) {
    if (keys->size() != 1) return Fail("a CONSENT_ID is at one custodian: give one", Exit::kUsage);
    json r = RevokeOne(c, keys->front().key, o.consent_id, !o.c.no_wait, &failure);
    if (!keys->front().org.empty()) r["custodian"] = keys->front().org;
    PrintJson(r);
    if (!failure.ok()) Fail(failure);
    return;
  }
  auto gs = LoadGroupSeed(o.c, o.p);
  if (!gs.ok()) return Fail(gs.status());
  json out = json::array();
  for (const auto& k : *keys) {
    auto id = crypto::ConsentGroupMemberId(gs->seed, gs->chain_id, o.group, k.org);
    if (!id.ok()) return Fail(id.status());
    json r = RevokeOne(c, k.key, *id, !o.c.no_wait, &failure);
    r["custodian"] = k.org;
    out.push_back(std::move(r));
  }
  PrintJson({{"group", o.group}, {"revocations", out}});
  if (!failure.ok()) Fail(failure);
}

struct SearchOpts {
  ClientOpts c;
  PatientKeyOpts p;
  std::string patient;
  bool accounting = false;
};

// GET `path`?patient=<id> at each custodian, merged when --seed names
// several. `locate`: ask each custodian's own node (the audit holds
// accesses not yet in a block; consents are on chain, any node has them).
void PatientSearch(const SearchOpts& o, const std::string& path, bool locate) {
  if (o.p.seed.empty() == o.patient.empty())
    return Fail(o.p.seed.empty() ? "--patient is required with --key" : "--patient goes with --key; --seed derives it",
                Exit::kUsage);
  auto keys = ResolvePatientKeys(o.c, o.p, locate);
  if (!keys.ok()) return Fail(keys.status());
  std::vector<std::pair<std::string, json>> bundles;
  for (const auto& k : *keys) {
    std::string target = path + "?patient=" + (o.patient.empty() ? k.key.id() : o.patient);
    if (o.accounting) target += "&_accounting=true";
    ApiClient c(k.url);
    auto r = c.SignedRequest(k.key, "GET", target);
    if (!r.ok()) return Fail(r.status());
    if (r->status != 200)
      return Fail((k.org.empty() ? "" : k.org + ": ") + ErrorText(*r), ExitForHttp(r->status));
    if (o.p.seed.empty()) {
      std::cout << r->body << std::endl;
      return;
    }
    json b = json::parse(r->body, nullptr, false);
    if (b.is_discarded()) return Fail(k.org + ": the node answered with invalid JSON");
    bundles.emplace_back(k.org, std::move(b));
  }
  PrintJson(MergeBundles(bundles));
}

}  // namespace

void RegisterPatientCommands(CLI::App& app) {
  auto* consent = app.add_subcommand("consent", "Patient consent: grant, revoke, list");
  consent->require_subcommand(1);
  {
    static GrantOpts o;
    auto* grant = consent->add_subcommand("grant", "Grant access (signed by the patient or its representative)");
    AddClientOptions(grant, &o.c, true);
    AddPatientKeyOptions(grant, &o.p, true);
    grant->add_option("--to", o.to, "Grantee: a public id or org:ID")->required();
    grant->add_option("--types", o.types, "Resource types (T1,T2) or all")->required();
    grant->add_option("--purpose", o.purposes, "treatment, payment, operations, research (comma-separated)")->required();
    grant->add_option("--until", o.until, "End of the grant (exclusive): YYYY-MM-DD[Thh:mm:ssZ] or epoch ms");
    grant->add_option("--from", o.not_before, "Start of the grant");
    grant->add_option("--labels", o.labels, "Sensitive labels the grant includes: substance-use, hiv, mental-health");
    grant->add_option("--org", o.org, "With --key: the custodian whose records it covers (default: all, *)");
    grant->add_option("--patient", o.patient, "The patient's public id, when a representative grants");
    grant->callback([] { Grant(o); });
  }
  {
    static RevokeOpts o;
    auto* revoke = consent->add_subcommand("revoke", "Revoke a consent, or with --seed every consent of a group");
    AddClientOptions(revoke, &o.c, true);
    AddPatientKeyOptions(revoke, &o.p, true);
    revoke->add_option("--group", o.group, "The group id `consent grant --seed` printed");
    revoke->add_option("consent_id", o.consent_id, "CONSENT_ID");
    revoke->callback([] { Revoke(o); });
  }
  {
    static SearchOpts o;
    auto* list = consent->add_subcommand("list", "The patient's consents as a FHIR Bundle of Consent resources");
    AddClientOptions(list, &o.c, true);
    AddPatientKeyOptions(list, &o.p, true);
    list->add_option("--patient", o.patient, "The patient's public id (with --key)");
    list->callback([] { PatientSearch(o, "/fhir/Consent", false); });
  }
  {
    static SearchOpts o;
    auto* audit = app.add_subcommand("audit", "A patient's access log (FHIR AuditEvent Bundle)");
    AddClientOptions(audit, &o.c, true);
    AddPatientKeyOptions(audit, &o.p, true);
    audit->add_option("--patient", o.patient, "The patient's public id (with --key)");
    audit->add_flag("--accounting", o.accounting, "Only the HIPAA accounting of disclosures (45 CFR 164.528)");
    audit->callback([] { PatientSearch(o, "/fhir/AuditEvent", true); });
  }
  {
    static ClientOpts o;
    auto* cmd = app.add_subcommand("pseudonyms", "The signing patient key's pseudonyms, by organisation: what the "
                                                 "patient tells an insurer that registers its coverage (docs/CLAIMS.md)");
    AddClientOptions(cmd, &o, true);
    cmd->callback([] {
      auto key = LoadKey(o.key);
      if (!key.ok()) return Fail(key.status());
      ApiClient c(o.url);
      auto r = c.GetSignedJson(*key, "/v1/patients/me/pseudonyms");
      if (!r.ok()) return Fail(r.status());
      PrintJson(*r);
    });
  }
}

}  // namespace medledger::cli
