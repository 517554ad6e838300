// Contract subcommands (docs/CONTRACTS.md): deploy and upgrade (governance
// proposals that the signer's organisation approves by proposing), approve
// another organisation's proposal, call a function, show a contract. Rules:
// contracts/module.h and state/governance.h.
#include <CLI/CLI.hpp>
#include <fstream>
#include <sstream>

#include "cli/api_client.h"
#include "cli/commands.h"
#include "crypto/aead.h"
#include "model/tx_types.h"

namespace medledger::cli {

using nlohmann::json;

namespace {

// Where a contract proposal stands after a transaction: the contract as
// deployed, or the proposal still waiting for approvals.
json ProposalState(ApiClient& c, const crypto::KeyPair& key, const std::string& name, const std::string& pid) {
  json out;
  auto list = c.GetJson("/v1/governance/proposals");
  if (list.ok())
    for (const auto& p : list->value("proposals", json::array()))
      if (p.value("id", "") == pid) {
        out["proposal_status"] = p.value("status", "");
        out["approvals"] = p.value("approvals", json::array());
        out["threshold"] = list->value("threshold", 0);
        out["version"] = p.value("contract", json::object()).value("version", 0);
      }
  auto ctr = c.GetSignedJson(key, "/v1/contracts/" + name);
  if (ctr.ok()) out["current_version"] = ctr->value("version", 0);
  return out;
}

void Propose(const ClientOpts& o, uint16_t type, const std::string& name, const std::string& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return Fail("cannot read " + file, Exit::kUsage);
  std::stringstream ss;
  ss << in.rdbuf();
  auto key = LoadKey(o.key);
  if (!key.ok()) return Fail(key.status());
  auto b = crypto::RandomArray<16>();
  const std::string pid = ToHex(b.data(), b.size());
  ApiClient c(o.url);
  auto r = c.Submit(*key, type, {{"proposal_id", pid}, {"name", name}, {"source", ss.str()}}, !o.no_wait);
  if (!r.ok()) return Fail(r.status());
  json out = {{"name", name}, {"proposal_id", pid}, {"id", r->value("id", "")}, {"status", r->value("status", "")}};
  if (r->contains("height")) out["height"] = (*r)["height"];
  if (!o.no_wait) out.update(ProposalState(c, *key, name, pid));
  PrintJson(out);
}

}  // namespace

void RegisterContractCommands(CLI::App& app) {
  auto* top = app.add_subcommand("contract", "Deploy, upgrade, approve and call Lua contracts (docs/CONTRACTS.md)");
  top->require_subcommand(1);
  for (bool upgrade : {false, true}) {
    auto* cmd = top->add_subcommand(upgrade ? "upgrade" : "deploy",
                                    upgrade ? "Propose the next version of a contract (signed by a member org admin)"
                                            : "Propose a new contract (signed by a member org admin); on a "
                                              "one-organisation chain it is deployed at once");
    static ClientOpts opts[2];
    static std::string names[2], files[2];
    ClientOpts& o = opts[upgrade];
    AddClientOptions(cmd, &o, true);
    cmd->add_option("--name", names[upgrade], "Contract name: 1..64 of a-z 0-9 _ - .")->required();
    cmd->add_option("file", files[upgrade], "The contract's Lua source")->required();
    cmd->callback([upgrade] {
      Propose(opts[upgrade], upgrade ? model::tx::kContractUpgrade : model::tx::kContractDeploy, names[upgrade],
              files[upgrade]);
    });
  }
  {
    auto* cmd = top->add_subcommand("approve", "Approve an open deployment or upgrade for the signer's organisation");
    static ClientOpts o;
    static std::string name;
    static int64_t version = 0;
    AddClientOptions(cmd, &o, true);
    cmd->add_option("--name", name, "Contract name")->required();
    cmd->add_option("--version", version, "The proposed version (1 for a deployment)")->required();
    cmd->callback([] {
      auto key = LoadKey(o.key);
      if (!key.ok()) return Fail(key.status());
      ApiClient c(o.url);
      auto list = c.GetJson("/v1/governance/proposals?status=open");
      if (!list.ok()) return Fail(list.status());
      std::string pid;
      for (const auto& p : list->value("proposals", json::array())) {
        const json ctr = p.value("contract", json::object());
        if (ctr.value("name", "") == name && ctr.value("version", int64_t(0)) == version) pid = p.value("id", "");
      }
      if (pid.empty())
        return Fail(NotFound("no open proposal for version " + std::to_string(version) + " of contract " + name));
      auto r = c.Submit(*key, model::tx::kGovApprove, {{"proposal_id", pid}}, !o.no_wait);
      if (!r.ok()) return Fail(r.status());
      json out = {{"name", name}, {"proposal_id", pid}, {"id", r->value("id", "")}, {"status", r->value("status", "")}};
      if (r->contains("height")) out["height"] = (*r)["height"];
      if (!o.no_wait) out.update(ProposalState(c, *key, name, pid));
      PrintJson(out);
    });
  }
  {
    auto* cmd = top->add_subcommand("call", "Call a function of a deployed contract; prints its result once committed");
    static ClientOpts o;
    static std::string name, fn, args = "{}";
    static int64_t gas = 0;
    AddClientOptions(cmd, &o, true);
    cmd->add_option("--name", name, "Contract name")->required();
    cmd->add_option("--fn", fn, "The global function to call")->required();
    cmd->add_option("--args", args, "Its argument, as JSON (default {})");
    cmd->add_option("--gas", gas, "Gas limit (default and maximum: the chain's)");
    cmd->callback([] {
      json a = json::parse(args, nullptr, false);
      if (a.is_discarded()) return Fail("--args is not valid JSON", Exit::kUsage);
      auto key = LoadKey(o.key);
      if (!key.ok()) return Fail(key.status());
      json p = {{"name", name}, {"fn", fn}, {"args", a}};
      if (gas > 0) p["gas"] = gas;
      ApiClient c(o.url);
      // A failed call is a rejected transaction: Submit returns its reason
      // (contract_error, gas_exhausted, ...) and the command exits non-zero.
      auto r = c.Submit(*key, model::tx::kContractCall, p, !o.no_wait);
      if (!r.ok()) return Fail(r.status());
      const std::string id = r->value("id", "");
      if (o.no_wait) return PrintJson({{"id", id}, {"status", r->value("status", "")}});
      auto call = c.GetSignedJson(*key, "/v1/contracts/calls/" + id);
      if (!call.ok()) return Fail(call.status());
      PrintJson({{"id", id},
                 {"status", call->value("status", "")},
                 {"height", call->value("height", 0)},
                 {"result", call->value("result", json())},
                 {"gas_used", call->value("gas_used", 0)}});
    });
  }
  {
    auto* cmd = top->add_subcommand("show", "Show a deployed contract (--source adds its source)");
    static ClientOpts o;
    static std::string name;
    static bool source = false;
    AddClientOptions(cmd, &o, true);
    cmd->add_option("--name", name, "Contract name")->required();
    cmd->add_flag("--source", source, "Include the current version's source");
    cmd->callback([] {
      auto key = LoadKey(o.key);
      if (!key.ok()) return Fail(key.status());
      ApiClient c(o.url);
      auto r = c.GetSignedJson(*key, "/v1/contracts/" + name + (source ? "?source=1" : ""));
      if (!r.ok()) return Fail(r.status());
      PrintJson(*r);
    });
  }
}

}  // namespace medledger::cli
