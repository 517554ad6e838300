// Governance subcommands: propose adding or removing a member organisation,
// approve a proposal, list proposals; and `orgs` to list organisations.
// Rules: state/governance.h.
#include <CLI/CLI.hpp>
#include <iostream>

#include "cli/api_client.h"
#include "cli/commands.h"
#include "crypto/aead.h"
#include "model/tx_types.h"

namespace medledger::cli {

using nlohmann::json;

namespace {

// A fresh proposal id: 16 random bytes as 32 hex characters.
std::string NewProposalId() {
  auto b = crypto::RandomArray<16>();
  return ToHex(b.data(), b.size());
}

// Submits a proposal or approval and prints the proposal id with the
// transaction's outcome.
void SubmitGovernance(const ClientOpts& o, uint16_t type, const json& payload) {
  auto key = LoadKey(o.key);
  if (!key.ok()) return Fail(key.status());
  ApiClient c(o.url);
  auto r = c.Submit(*key, type, payload, !o.no_wait);
  if (!r.ok()) return Fail(r.status());
  json out = {{"proposal_id", payload["proposal_id"]}, {"id", r->value("id", "")}, {"status", r->value("status", "")}};
  if (r->contains("height")) out["height"] = (*r)["height"];
  if (!o.no_wait) {
    // Report where the proposal stands after this transaction.
    auto list = c.GetJson("/v1/governance/proposals");
    if (list.ok())
      for (const auto& p : list->value("proposals", json::array()))
        if (p.value("id", "") == payload["proposal_id"]) {
          out["proposal_status"] = p.value("status", "");
          out["approvals"] = p.value("approvals", json::array());
          out["threshold"] = list->value("threshold", 0);
        }
  }
  PrintJson(out);
}

}  // namespace

void RegisterGovernanceCommands(CLI::App& app) {
  auto* gov = app.add_subcommand("governance", "Add or remove member organisations, grant GS1 prefixes, by a threshold of member approvals");
  gov->require_subcommand(1);
  {
    auto* cmd = gov->add_subcommand("propose-add", "Propose a new member organisation (signed by a member org admin)");
    static ClientOpts o;
    static std::string org_id, name, admin, pid;
    static std::vector<std::string> nodes;
    static int64_t expires = -1;
    AddClientOptions(cmd, &o, true);
    cmd->add_option("--org-id", org_id, "Organisation id (A-Z a-z 0-9 - _ ., at most 64)")->required();
    cmd->add_option("--name", name, "Organisation name")->required();
    cmd->add_option("--admin", admin, "Public id of its admin key (gets member + org_admin)")->required();
    cmd->add_option("--node", nodes, "Public id of a node key (repeatable)");
    cmd->add_option("--proposal-id", pid, "Proposal id, 16..64 lower-case hex (default: random)");
    cmd->add_option("--expires-height", expires, "Last height at which it can be approved");
    cmd->callback([] {
      json p = {{"proposal_id", pid.empty() ? NewProposalId() : pid},
                {"action", "add_member"},
                {"org", {{"id", org_id}, {"name", name}, {"admin", admin}, {"nodes", nodes}}}};
      if (expires >= 0) p["expires_height"] = expires;
      SubmitGovernance(o, model::tx::kGovPropose, p);
    });
  }
  {
    auto* cmd = gov->add_subcommand("propose-remove", "Propose removing a member organisation");
    static ClientOpts o;
    static std::string org_id, pid;
    static int64_t expires = -1;
    AddClientOptions(cmd, &o, true);
    cmd->add_option("--org-id", org_id, "Organisation id")->required();
    cmd->add_option("--proposal-id", pid, "Proposal id, 16..64 lower-case hex (default: random)");
    cmd->add_option("--expires-height", expires, "Last height at which it can be approved");
    cmd->callback([] {
      json p = {{"proposal_id", pid.empty() ? NewProposalId() : pid}, {"action", "remove_member"}, {"org_id", org_id}};
      if (expires >= 0) p["expires_height"] = expires;
      SubmitGovernance(o, model::tx::kGovPropose, p);
    });
  }
  {
    // A GS1 company prefix for a member organisation's manufacturer: on a
    // chain of several organisations, gs1.register_prefix needs this grant.
    auto* cmd = gov->add_subcommand("propose-gs1-prefix",
                                    "Propose granting a GS1 company prefix to an organisation (docs/SUPPLY.md)");
    static ClientOpts o;
    static std::string org_id, prefix, pid;
    static int64_t expires = -1;
    AddClientOptions(cmd, &o, true);
    cmd->add_option("--org-id", org_id, "The organisation that will hold the prefix")->required();
    cmd->add_option("--prefix", prefix, "The GS1 company prefix, 6 to 12 digits")->required();
    cmd->add_option("--proposal-id", pid, "Proposal id, 16..64 lower-case hex (default: random)");
    cmd->add_option("--expires-height", expires, "Last height at which it can be approved");
    cmd->callback([] {
      json p = {{"proposal_id", pid.empty() ? NewProposalId() : pid}, {"action", "gs1_prefix"}, {"org_id", org_id},
                {"prefix", prefix}};
      if (expires >= 0) p["expires_height"] = expires;
      SubmitGovernance(o, model::tx::kGovPropose, p);
    });
  }
  {
    auto* cmd = gov->add_subcommand("approve", "Approve a proposal on behalf of the signer's organisation");
    static ClientOpts o;
    static std::string pid;
    AddClientOptions(cmd, &o, true);
    cmd->add_option("proposal_id", pid, "Proposal id")->required();
    cmd->callback([] { SubmitGovernance(o, model::tx::kGovApprove, {{"proposal_id", pid}}); });
  }
  {
    auto* cmd = gov->add_subcommand("list", "List proposals");
    static ClientOpts o;
    static std::string status;
    AddClientOptions(cmd, &o, false);
    cmd->add_option("--status", status, "Only open, executed or expired proposals");
    cmd->callback([] {
      ApiClient c(o.url);
      auto r = c.GetJson("/v1/governance/proposals" + (status.empty() ? "" : "?status=" + status));
      if (!r.ok()) return Fail(r.status());
      PrintJson(*r);
    });
  }
  {
    auto* cmd = app.add_subcommand("orgs", "List organisations (active and removed)");
    static ClientOpts o;
    AddClientOptions(cmd, &o, false);
    cmd->callback([] {
      ApiClient c(o.url);
      auto r = c.GetJson("/v1/orgs");
      if (!r.ok()) return Fail(r.status());
      PrintJson(*r);
    });
  }
}

}  // namespace medledger::cli
