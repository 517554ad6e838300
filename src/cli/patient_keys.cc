#include "cli/patient_keys.h"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <filesystem>

#include "cli/api_client.h"
#include "crypto/derive.h"
#include "crypto/keyfile.h"

namespace medledger::cli {

using nlohmann::json;

void AddPatientKeyOptions(CLI::App* cmd, PatientKeyOpts* o, bool many) {
  cmd->add_option("--seed", o->seed,
                  "The patient's seed key file: a key per custodian is derived from it here (instead of --key)");
  // One value per occurrence: a vector option would otherwise swallow the
  // command's positional argument (TYPE/ID, CONSENT_ID).
  auto one_each = [](CLI::Option* opt) {
    opt->expected(1)->allow_extra_args(false)->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  };
  if (many)
    one_each(cmd->add_option("--custodians", o->custodians,
                             "With --seed: the custodian organisations (ORG1,ORG2,...)"));
  else
    one_each(cmd->add_option("--custodian", o->custodians, "With --seed: the custodian organisation"));
  one_each(cmd->add_option("--custodian-url", o->custodian_urls,
                           "ORG=URL: a node of that custodian (default: found in the peer directory of --url)"));
  // A --key in the environment must not stop a --seed given on the line.
  if (auto* k = cmd->get_option_no_throw("--key")) k->required(false);
}

namespace {

// A node of `org`: --url's own when it belongs to org, an explicit
// --custodian-url, or the peer directory (asked with the derived key).
Result<std::string> CustodianUrl(ApiClient& entry, const ClientOpts& c, const PatientKeyOpts& p,
                                 const std::string& org, const crypto::KeyPair& key) {
  for (const auto& kv : p.custodian_urls) {
    auto eq = kv.find('=');
    if (eq == std::string::npos) return InvalidArgument("--custodian-url takes ORG=URL, not '" + kv + "'");
    if (kv.substr(0, eq) == org) return kv.substr(eq + 1);
  }
  ML_ASSIGN_OR_RETURN(json st, entry.Status());
  if (st.value("org", "") == org) return c.url;
  auto peers = entry.GetSignedJson(key, "/v1/peers?org=" + org);
  if (!peers.ok())
    return Status(peers.status().code(), "no node of custodian " + org + " known to " + c.url + " (" +
                                             peers.status().message() + "); name one with --custodian-url " + org +
                                             "=URL");
  for (const auto& n : peers->value("nodes", json::array()))
    if (n.contains("url") && n["url"].is_string()) return n["url"].get<std::string>();
  return NotFound("no node of custodian " + org + " is in the peer directory of " + c.url);
}

}  // namespace

Result<std::vector<CustodianKey>> ResolvePatientKeys(const ClientOpts& c, const PatientKeyOpts& p, bool locate) {
  std::vector<CustodianKey> out;
  if (!c.key.empty() && !p.seed.empty()) return InvalidArgument("give --key or --seed, not both");
  if (p.seed.empty()) {
    // A key file is already one custodian's key: naming custodians would
    // suggest a derivation that does not happen.
    if (!p.custodians.empty() || !p.custodian_urls.empty())
      return InvalidArgument("--custodian(s) and --custodian-url go with --seed; --key is already one custodian's key");
    ML_ASSIGN_OR_RETURN(auto key, LoadKey(c.key));
    out.push_back({"", std::move(key), c.url});
    return out;
  }
  auto orgs = SplitComma(p.custodians);
  if (orgs.empty()) return InvalidArgument("--seed needs the custodian(s) to derive keys for");
  std::sort(orgs.begin(), orgs.end());
  if (std::adjacent_find(orgs.begin(), orgs.end()) != orgs.end())
    return InvalidArgument("a custodian is named twice");
  orgs = SplitComma(p.custodians);  // the order the patient gave
  ML_ASSIGN_OR_RETURN(auto seed, crypto::ReadKeyFile(p.seed));
  ApiClient entry(c.url);
  const std::string chain_id = entry.chain_id();
  if (chain_id.empty()) return Unavailable("cannot read the chain id from " + c.url);
  for (const auto& org : orgs) {
    ML_ASSIGN_OR_RETURN(auto key, crypto::DeriveCustodianKey(seed, chain_id, org));
    std::string url = c.url;
    if (locate) {
      ML_ASSIGN_OR_RETURN(url, CustodianUrl(entry, c, p, org, key));
    }
    out.push_back({org, std::move(key), std::move(url)});
  }
  return out;
}

Result<crypto::KeyPair> DeriveKeyFile(const std::string& seed_file, const std::string& org, const std::string& chain_id,
                                      const std::string& url, const std::string& out) {
  if (std::filesystem::exists(out)) return AlreadyExists("refusing to overwrite existing key file " + out);
  ML_ASSIGN_OR_RETURN(auto seed, crypto::ReadKeyFile(seed_file));
  std::string chain = chain_id;
  if (chain.empty()) {
    if (url.empty()) return InvalidArgument("--derive needs --chain-id or --url (the chain the key is for)");
    ApiClient c(url);
    chain = c.chain_id();
    if (chain.empty()) return Unavailable("cannot read the chain id from " + url);
  }
  ML_ASSIGN_OR_RETURN(auto key, crypto::DeriveCustodianKey(seed, chain, org));
  ML_RETURN_IF_ERROR(crypto::WriteKeyFile(out, key));
  return key;
}

json MergeBundles(const std::vector<std::pair<std::string, json>>& by_custodian) {
  std::vector<json> entries;
  for (const auto& [org, bundle] : by_custodian) {
    for (auto e : bundle.value("entry", json::array())) {
      json& r = e["resource"];
      json tag = {{"system", "urn:medledger:org"}, {"code", org}};
      if (!r["meta"].is_object()) r["meta"] = json::object();
      if (!r["meta"]["tag"].is_array()) r["meta"]["tag"] = json::array();
      r["meta"]["tag"].push_back(tag);
      entries.push_back(std::move(e));
    }
  }
  // Oldest first, as one custodian lists them. ISO 8601 instants of one
  // format sort as strings; ties (and resources without `recorded`) keep the
  // custodians' order.
  std::stable_sort(entries.begin(), entries.end(), [](const json& a, const json& b) {
    return a["resource"].value("recorded", "") < b["resource"].value("recorded", "");
  });
  json out = {{"resourceType", "Bundle"}, {"type", "searchset"}, {"total", entries.size()}};
  if (!entries.empty()) out["entry"] = entries;
  return out;
}

}  // namespace medledger::cli
