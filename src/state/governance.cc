#include "state/governance.h"

#include <algorithm>
#include <set>

#include "model/tx_types.h"
#include "state/contract_record.h"

namespace medledger::state {

using model::Reject;
using model::Verdict;
using nlohmann::json;

namespace {

constexpr const char* kAddMember = "add_member";
constexpr const char* kRemoveMember = "remove_member";
constexpr const char* kGs1Prefix = "gs1_prefix";
constexpr const char* kDeployContract = "deploy_contract";
constexpr const char* kUpgradeContract = "upgrade_contract";
constexpr size_t kMaxNodes = 16;

[[noreturn]] void Bad(std::string msg) { throw PayloadError{Verdict::No(Reject::kInvalidPayload, std::move(msg))}; }

std::string ProposalKey(std::string_view id) { return kProposalPrefix + std::string(id); }
std::string Gs1GrantKey(std::string_view prefix) { return kGs1PrefixGrantPrefix + std::string(prefix); }
// A contract proposal's source, from proposal to execution.
std::string ContractSourceOfProposal(std::string_view id) { return "gov/contract_src/" + std::string(id); }
bool IsContractAction(const std::string& a) { return a == kDeployContract || a == kUpgradeContract; }

bool IsLowerHex(const std::string& s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

std::string RequireProposalId(const json& p) {
  std::string id = RequireString(p, "proposal_id", 64);
  if (id.size() < 16 || !IsLowerHex(id)) Bad("'proposal_id' must be 16..64 lower-case hex characters");
  return id;
}

// Organisation ids added by governance become state keys ("org/<id>") and
// CLI arguments, so they are kept to a safe alphabet.
bool ValidOrgId(const std::string& s) {
  return !s.empty() && s.size() <= 64 && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
           c == '.';
  });
}

// A voting key: member and org_admin. The executor has already checked that
// the key and its organisation are active.
bool CanVote(const IdentityRecord& signer) {
  return signer.Has(model::kRoleMember) && signer.Has(model::kRoleOrgAdmin);
}

uint64_t CountActiveOrgs(const StateReader& st) {
  uint64_t n = 0;
  for (const auto& o : ListOrgs(st))
    if (o.active) n++;
  return n;
}

// The add_member org object, normalised: {id, name, admin, nodes}.
json ParseNewOrg(const json& p) {
  auto it = p.find("org");
  if (it == p.end() || !it->is_object()) Bad("add_member needs an 'org' object");
  const json& o = *it;
  std::string id = RequireString(o, "id", 64);
  if (!ValidOrgId(id)) Bad("'org.id' must be 1..64 characters of A-Z a-z 0-9 - _ .");
  std::string name = RequireString(o, "name", 128);
  crypto::PublicKey admin = RequireKey(o, "admin");
  std::set<std::string> seen = {crypto::PublicId(admin)};
  json nodes = json::array();
  if (auto n = o.find("nodes"); n != o.end() && !n->is_null()) {
    if (!n->is_array()) Bad("'org.nodes' must be an array of public ids");
    if (n->size() > kMaxNodes) Bad("'org.nodes' lists more than " + std::to_string(kMaxNodes) + " keys");
    for (const auto& v : *n) {
      if (!v.is_string()) Bad("'org.nodes' must be an array of public ids");
      auto pk = crypto::ParsePublicId(v.get<std::string>());
      if (!pk.ok()) Bad("'org.nodes' holds something that is not a public id");
      if (!seen.insert(crypto::PublicId(*pk)).second) Bad("a key is listed twice in 'org'");
      nodes.push_back(crypto::PublicId(*pk));
    }
  }
  return {{"id", id}, {"name", name}, {"admin", crypto::PublicId(admin)}, {"nodes", nodes}};
}

std::vector<crypto::PublicKey> KeysOf(const json& org) {
  std::vector<crypto::PublicKey> keys = {*crypto::ParsePublicId(org.at("admin").get<std::string>())};
  for (const auto& n : org.at("nodes")) keys.push_back(*crypto::ParsePublicId(n.get<std::string>()));
  return keys;
}

// The rules an action must meet, checked at proposal and again at execution.
Verdict CheckAction(const StateReader& st, const ChainParams& params, const ProposalInfo& p) {
  if (IsContractAction(p.action)) {
    auto cur = LoadContract(st, p.contract_name);
    if (p.action == kDeployContract) {
      if (cur) return Verdict::No(Reject::kConflict, "contract '" + p.contract_name + "' is already deployed");
      if (p.contract_version != 1) return Verdict::No(Reject::kInvalidPayload, "a deployment is version 1");
      return Verdict::Accept();
    }
    if (!cur) return Verdict::No(Reject::kNotFound, "contract '" + p.contract_name + "' is not deployed");
    if (p.contract_version != cur->version + 1)
      return Verdict::No(Reject::kConflict, "contract '" + p.contract_name + "' is at version " +
                                                std::to_string(cur->version) + ": an upgrade is version " +
                                                std::to_string(cur->version + 1));
    return Verdict::Accept();
  }
  if (p.action == kGs1Prefix) {
    auto org = LoadOrg(st, p.org_id);
    if (!org) return Verdict::No(Reject::kNotFound, "organisation '" + p.org_id + "' does not exist");
    if (!org->active) return Verdict::No(Reject::kConflict, "organisation '" + p.org_id + "' was removed");
    if (st.Get(Gs1GrantKey(p.prefix)))
      return Verdict::No(Reject::kConflict, "GS1 prefix " + p.prefix + " is already approved");
    return Verdict::Accept();
  }
  if (p.action == kAddMember) {
    if (LoadOrg(st, p.org_id)) return Verdict::No(Reject::kConflict, "organisation '" + p.org_id + "' already exists");
    for (const auto& k : KeysOf(p.org))
      if (LoadIdentity(st, k)) return Verdict::No(Reject::kConflict, "key " + crypto::PublicId(k) + " is already registered");
    return Verdict::Accept();
  }
  auto org = LoadOrg(st, p.org_id);
  if (!org) return Verdict::No(Reject::kNotFound, "organisation '" + p.org_id + "' does not exist");
  if (!org->active) return Verdict::No(Reject::kConflict, "organisation '" + p.org_id + "' was already removed");
  uint64_t remaining = CountActiveOrgs(st) - 1;
  if (remaining == 0 || remaining < params.governance_threshold)
    return Verdict::No(Reject::kConflict, "removing '" + p.org_id + "' would leave " + std::to_string(remaining) +
                                              " active organisations, fewer than the governance threshold of " +
                                              std::to_string(params.governance_threshold));
  return Verdict::Accept();
}

void Execute(TxContext& ctx, ProposalInfo& p) {
  if (IsContractAction(p.action)) {
    auto src = LoadDoc(ctx.state, ContractSourceOfProposal(p.id));
    ContractRecord rec{p.contract_name, p.contract_version, p.source_sha256, ctx.height, p.id};
    StoreContract(ctx.state, rec, src ? src->value("source", "") : "");
    ctx.Delete(ContractSourceOfProposal(p.id));  // kept under ctr/src from now on
  } else if (p.action == kGs1Prefix) {
    // A grant, not the binding: the organisation's manufacturer then
    // registers the prefix (src/supply, gs1.register_prefix), which checks
    // overlaps with the prefixes already bound.
    ctx.Put(Gs1GrantKey(p.prefix),
            EncodeState({{"org", p.org_id}, {"proposal_id", p.id}, {"height", int64_t(ctx.height)}}));
  } else if (p.action == kAddMember) {
    OrgRecord org;
    org.id = p.org_id;
    org.name = p.org.at("name").get<std::string>();
    org.active = true;
    org.since = ctx.height;
    StoreOrg(ctx.state, org);
    auto keys = KeysOf(p.org);
    for (size_t i = 0; i < keys.size(); ++i) {
      IdentityRecord rec;
      rec.key = keys[i];
      rec.org = org.id;
      rec.roles = i == 0 ? (model::kRoleMember | model::kRoleOrgAdmin) : model::kRoleNode;
      rec.registered_at = ctx.height;
      rec.label = i == 0 ? "admin" : "node";
      StoreIdentity(ctx.state, rec);
    }
  } else {
    auto org = LoadOrg(ctx.state, p.org_id);
    org->active = false;
    StoreOrg(ctx.state, *org);
  }
  p.executed = true;
  p.executed_at = ctx.height;
}

// Approvals that count: those of organisations still active.
size_t CountingApprovals(const StateReader& st, const ProposalInfo& p) {
  size_t n = 0;
  for (const auto& org : p.approvals) {
    auto o = LoadOrg(st, org);
    if (o && o->active) n++;
  }
  return n;
}

// Records the signer's organisation's approval and executes the action once
// the threshold is reached.
Verdict ApproveAndMaybeExecute(TxContext& ctx, ProposalInfo& p) {
  p.approvals.push_back(ctx.signer.org);
  if (CountingApprovals(ctx.state, p) >= ctx.params.governance_threshold) {
    if (Verdict v = CheckAction(ctx.state, ctx.params, p); !v.ok()) {
      v.detail = "proposal cannot execute: " + v.detail;
      return v;
    }
    Execute(ctx, p);
  }
  ctx.Put(ProposalKey(p.id), EncodeState(p.ToJson()));
  return Verdict::Accept();
}

// What every proposal shares once its action is parsed: expiry, the
// proposer's right to vote, a new id, the action's rules, and the
// proposer's organisation's approval.
Verdict Submit(TxContext& ctx, ProposalInfo& p) {
  const json& pl = ctx.payload;
  uint64_t window = ctx.params.max_expiry_window;
  p.expires_height = ctx.height + window;
  if (pl.contains("expires_height") && !pl["expires_height"].is_null()) {
    int64_t e = RequireInt(pl, "expires_height");
    if (e < int64_t(ctx.height) || uint64_t(e) > ctx.height + window)
      Bad("'expires_height' must be between the current height and " + std::to_string(window) + " blocks ahead");
    p.expires_height = uint64_t(e);
  }
  if (!CanVote(ctx.signer))
    return Verdict::No(Reject::kRoleNotPermitted, "only an admin of a member organisation (roles member and org_admin) may propose");
  if (ctx.Get(ProposalKey(p.id))) return Verdict::No(Reject::kConflict, "proposal id is already used");
  if (Verdict v = CheckAction(ctx.state, ctx.params, p); !v.ok()) return v;
  p.proposer = crypto::PublicId(ctx.signer.key);
  p.proposer_org = ctx.signer.org;
  p.created_at = ctx.height;
  return ApproveAndMaybeExecute(ctx, p);
}

Verdict Propose(TxContext& ctx) {
  const json& pl = ctx.payload;
  ProposalInfo p;
  p.id = RequireProposalId(pl);
  std::string action = RequireString(pl, "action", 32);
  if (action == kAddMember) {
    p.org = ParseNewOrg(pl);
    p.org_id = p.org["id"].get<std::string>();
  } else if (action == kRemoveMember) {
    p.org_id = RequireString(pl, "org_id", 64);
  } else if (action == kGs1Prefix) {
    p.org_id = RequireString(pl, "org_id", 64);
    p.prefix = RequireString(pl, "prefix", 12);
    if (p.prefix.size() < 6 ||
        !std::all_of(p.prefix.begin(), p.prefix.end(), [](char c) { return c >= '0' && c <= '9'; }))
      Bad("'prefix' must be a GS1 company prefix of 6 to 12 digits");
  } else if (IsContractAction(action)) {
    Bad("contracts are proposed with contract.deploy or contract.upgrade, which check the source");
  } else {
    Bad("'action' must be add_member or remove_member or gs1_prefix");
  }
  p.action = action;
  return Submit(ctx, p);
}

Verdict Approve(TxContext& ctx) {
  std::string id = RequireProposalId(ctx.payload);
  if (!CanVote(ctx.signer))
    return Verdict::No(Reject::kRoleNotPermitted, "only an admin of a member organisation (roles member and org_admin) may approve");
  auto p = LoadProposal(ctx.state, id);
  if (!p) return Verdict::No(Reject::kNotFound, "no proposal " + id);
  if (p->executed) return Verdict::No(Reject::kConflict, "proposal was already executed at height " + std::to_string(p->executed_at));
  if (ctx.height > p->expires_height)
    return Verdict::No(Reject::kConflict, "proposal expired at height " + std::to_string(p->expires_height));
  if (std::find(p->approvals.begin(), p->approvals.end(), ctx.signer.org) != p->approvals.end())
    return Verdict::No(Reject::kConflict, "organisation '" + ctx.signer.org + "' has already approved");
  return ApproveAndMaybeExecute(ctx, *p);
}

}  // namespace

Verdict ProposeContract(TxContext& ctx, const ContractProposal& c) {
  ProposalInfo p;
  p.id = RequireProposalId(ctx.payload);
  p.action = c.upgrade ? kUpgradeContract : kDeployContract;
  if (!ValidContractName(c.name)) Bad("'name' must be 1..64 characters of a-z 0-9 _ - .");
  p.contract_name = c.name;
  p.contract_version = c.version;
  p.source_sha256 = c.source_sha256;
  // Written first: with a threshold of 1 the proposal executes at once and
  // reads it. A rejection drops the whole transaction's writes.
  ctx.Put(ContractSourceOfProposal(p.id), EncodeState({{"source", c.source}}));
  return Submit(ctx, p);
}

bool GovernanceModule::Handles(uint16_t type) const {
  return type == model::tx::kGovPropose || type == model::tx::kGovApprove;
}

Verdict GovernanceModule::Apply(TxContext& ctx) {
  switch (ctx.tx.type) {
    case model::tx::kGovPropose: return Propose(ctx);
    case model::tx::kGovApprove: return Approve(ctx);
  }
  return Verdict::No(Reject::kUnknownType, "not a governance transaction");
}

std::string ProposalInfo::StatusAt(uint64_t height) const {
  if (executed) return "executed";
  return height > expires_height ? "expired" : "open";
}

json ProposalInfo::ToJson() const {
  json j = {{"id", id},
            {"action", action},
            {"org_id", org_id},
            {"proposer", proposer},
            {"proposer_org", proposer_org},
            {"created_at", int64_t(created_at)},
            {"expires_height", int64_t(expires_height)},
            {"approvals", approvals},
            {"executed", executed},
            {"executed_at", int64_t(executed_at)}};
  if (!org.is_null()) j["org"] = org;
  if (!prefix.empty()) j["prefix"] = prefix;
  if (!contract_name.empty()) {
    j["contract"] = {{"name", contract_name}, {"version", int64_t(contract_version)}, {"source_sha256", source_sha256}};
  }
  return j;
}

std::optional<ProposalInfo> ProposalInfo::FromJson(const json& j) {
  try {
    ProposalInfo p;
    p.id = j.at("id").get<std::string>();
    p.action = j.at("action").get<std::string>();
    p.org_id = j.at("org_id").get<std::string>();
    if (j.contains("org")) p.org = j["org"];
    if (j.contains("prefix")) p.prefix = j["prefix"].get<std::string>();
    if (j.contains("contract")) {
      const json& c = j["contract"];
      p.contract_name = c.at("name").get<std::string>();
      p.contract_version = uint64_t(c.at("version").get<int64_t>());
      p.source_sha256 = c.at("source_sha256").get<std::string>();
    }
    p.proposer = j.at("proposer").get<std::string>();
    p.proposer_org = j.at("proposer_org").get<std::string>();
    p.created_at = uint64_t(j.at("created_at").get<int64_t>());
    p.expires_height = uint64_t(j.at("expires_height").get<int64_t>());
    p.approvals = j.at("approvals").get<std::vector<std::string>>();
    p.executed = j.at("executed").get<bool>();
    p.executed_at = uint64_t(j.at("executed_at").get<int64_t>());
    return p;
  } catch (const json::exception&) {
    return std::nullopt;
  }
}

std::optional<ProposalInfo> LoadProposal(const StateReader& st, std::string_view id) {
  auto j = DecodeState(st.Get(ProposalKey(id)));
  if (!j) return std::nullopt;
  return ProposalInfo::FromJson(*j);
}

std::vector<ProposalInfo> ListProposals(const StateReader& st) {
  std::vector<ProposalInfo> out;
  st.Scan(kProposalPrefix, [&](std::string_view, const Bytes& v) {
    auto j = DecodeState(v);
    if (j)
      if (auto p = ProposalInfo::FromJson(*j)) out.push_back(std::move(*p));
    return true;
  });
  return out;
}

std::vector<OrgRecord> ListOrgs(const StateReader& st) {
  std::vector<std::string> ids;
  st.Scan("org/", [&](std::string_view k, const Bytes&) {
    ids.emplace_back(k.substr(4));
    return true;
  });
  std::vector<OrgRecord> out;
  for (const auto& id : ids)
    if (auto o = LoadOrg(st, id)) out.push_back(std::move(*o));
  return out;
}

}  // namespace medledger::state
