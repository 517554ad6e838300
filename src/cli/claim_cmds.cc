// Claim subcommands (docs/CLAIMS.md): the insurer registers and ends
// coverage and records payments; the provider submits claims and voids
// them; the patient restricts disclosure to a plan. Rules: claims/module.h.
#include <CLI/CLI.hpp>
#include <fstream>
#include <sstream>

#include "cli/api_client.h"
#include "claims/schema.h"
#include "cli/commands.h"
#include "crypto/aead.h"
#include "model/tx_types.h"

namespace medledger::cli {

using nlohmann::json;

namespace {

// A FHIR request whose 2xx answer is printed as is.
void SendFhir(const ClientOpts& o, const std::string& target, const std::string& body) {
  auto key = LoadKey(o.key);
  if (!key.ok()) return Fail(key.status());
  ApiClient c(o.url);
  auto r = SignedSend(c, *key, "POST", target, body, "");
  if (!r.ok()) return Fail(r.status());
  if (r->status / 100 != 2) return Fail(OutcomeMessage(r->body), ExitForHttp(r->status));
  json j = json::parse(r->body, nullptr, false);
  if (j.is_discarded()) return Fail("the node's answer is not JSON");
  PrintJson(j);
}

std::string NewId() {
  auto b = crypto::RandomArray<16>();
  return ToHex(b.data(), b.size());
}

}  // namespace

void RegisterClaimBench(CLI::App* claim);  // cli/claim_bench_cmd.cc

void RegisterClaimCommands(CLI::App& app) {
  auto* top = app.add_subcommand("claim", "Insurance claims: coverage, $submit, voids, payments, restrictions (docs/CLAIMS.md)");
  top->require_subcommand(1);
  RegisterClaimBench(top);
  {
    auto* cmd = top->add_subcommand("submit", "Submit a FHIR Claim (or a Parameters or Bundle holding one) to the "
                                              "provider's node; prints the ClaimResponse, exit 0 whenever one was produced");
    static ClientOpts o;
    static std::string file;
    AddClientOptions(cmd, &o, true);
    cmd->add_option("file", file, "The Claim, Parameters or Bundle (JSON)")->required();
    cmd->callback([] {
      std::ifstream in(file, std::ios::binary);
      if (!in) return Fail("cannot read " + file, Exit::kUsage);
      std::stringstream ss;
      ss << in.rdbuf();
      SendFhir(o, "/fhir/Claim/$submit", ss.str());
    });
  }
  {
    auto* cmd = top->add_subcommand("coverage", "Register a member's coverage (signed by an insurer key); prints the "
                                                "coverage id to put in the provider's FHIR Coverage");
    static ClientOpts o;
    static std::string id, patient, provider, plan, policy;
    static int64_t days = 0;
    AddClientOptions(cmd, &o, true);
    cmd->add_option("--coverage-id", id, "32 hex characters (default: random)");
    cmd->add_option("--patient", patient, "The patient's pseudonym at the provider (the patient tells it)")->required();
    cmd->add_option("--provider", provider, "The provider organisation")->required();
    cmd->add_option("--plan", plan, "The plan, as the policy names it")->required();
    cmd->add_option("--policy", policy, "The insurer's deployed policy contract")->required();
    cmd->add_option("--period-days", days, "Length of the coverage period in days (its dates stay off chain)")->required();
    cmd->callback([] {
      if (id.empty()) id = NewId();
      SubmitAndReport(o, model::tx::kClaimCoverage,
               {{"coverage_id", id}, {"patient", patient}, {"provider", provider}, {"plan", plan}, {"policy", policy},
                {"period_days", days}},
               {{"coverage_id", id},
                {"identifier", {{"system", claims::kCoverageIdSystem}, {"value", id}}}});
    });
  }
  {
    auto* cmd = top->add_subcommand("end-coverage", "End a coverage from a day of its period (insurer)");
    static ClientOpts o;
    static std::string id;
    static int64_t day = 0;
    AddClientOptions(cmd, &o, true);
    cmd->add_option("--coverage-id", id, "The coverage")->required();
    cmd->add_option("--from-day", day, "First day (from 0) no longer covered")->required();
    cmd->callback([] { SubmitAndReport(o, model::tx::kClaimCoverageCancel, {{"coverage_id", id}, {"from_day", day}}); });
  }
  {
    auto* cmd = top->add_subcommand("void", "Void a claim: sends a Task cancel focused on the Claim (provider)");
    static ClientOpts o;
    static std::string claim_id;
    AddClientOptions(cmd, &o, true);
    cmd->add_option("--claim-id", claim_id, "The stored Claim's FHIR id")->required();
    cmd->callback([] {
      json task = {{"resourceType", "Task"},
                   {"status", "requested"},
                   {"intent", "order"},
                   {"code", {{"coding", {{{"system", "http://hl7.org/fhir/financial-taskcode"}, {"code", "cancel"}}}}}},
                   {"focus", {{"reference", "Claim/" + claim_id}}}};
      SendFhir(o, "/fhir/Task", task.dump());
    });
  }
  {
    auto* cmd = top->add_subcommand("pay", "Record a payment of an adjudicated claim (insurer)");
    static ClientOpts o;
    static std::string claim, currency = "USD", id;
    static int64_t amount = 0;
    AddClientOptions(cmd, &o, true);
    cmd->add_option("--claim", claim, "The claims.submit transaction id (ClaimResponse.identifier)")->required();
    cmd->add_option("--amount", amount, "Amount in minor units (cents)")->required();
    cmd->add_option("--currency", currency, "ISO 4217 code (default USD)");
    cmd->add_option("--payment-id", id, "32 hex characters (default: random)");
    cmd->callback([] {
      if (id.empty()) id = NewId();
      SubmitAndReport(o, model::tx::kClaimPayment, {{"payment_id", id}, {"claim", claim}, {"amount", amount}, {"currency", currency}},
               {{"payment_id", id}});
    });
  }
  {
    auto* cmd = top->add_subcommand("restrict", "Restrict disclosure of a record to a plan, for an item paid in full "
                                                "out of pocket (the patient's key; HIPAA 164.522(a)(1)(vi))");
    static ClientOpts o;
    static std::string provider, pseudonym, record, insurer = "*";
    AddClientOptions(cmd, &o, true);
    cmd->add_option("--provider", provider, "The provider organisation")->required();
    cmd->add_option("--pseudonym", pseudonym, "The patient's pseudonym there")->required();
    cmd->add_option("--record", record, "The record id")->required();
    cmd->add_option("--insurer", insurer, "The plan's organisation, or * for every plan (default)");
    cmd->callback([] {
      std::string id = NewId();
      SubmitAndReport(o, model::tx::kClaimRestrict,
               {{"restriction_id", id}, {"provider", provider}, {"pseudonym", pseudonym}, {"record", record}, {"insurer", insurer}},
               {{"restriction_id", id}});
    });
  }
}

}  // namespace medledger::cli
