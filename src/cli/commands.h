// Subcommand registration. Each Register* adds its subcommands to the app
// with callbacks that set the process exit code (ExitCode(); the codes are
// in cli/exit_codes.h).
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

#include "cli/exit_codes.h"
#include "common/status.h"
#include "crypto/ed25519.h"
#include "http/client.h"

// Declared, not included: CLI11 is a large header-only library, and only
// the .cc files that build commands include <CLI/CLI.hpp>.
namespace CLI {
class App;
}  // namespace CLI

namespace medledger::cli {

void RegisterCommands(CLI::App& app);
void RegisterLedgerCommands(CLI::App& app);
void RegisterBenchCommand(CLI::App& app);
void RegisterDemoCommand(CLI::App& app);
void RegisterNetworkCommand(CLI::App& app);     // cli/network_cmd.cc
void RegisterGovernanceCommands(CLI::App& app);  // cli/governance_cmds.cc
void RegisterContractCommands(CLI::App& app);    // cli/contract_cmds.cc: contract deploy|upgrade|approve|call|show
void RegisterClaimCommands(CLI::App& app);       // cli/claim_cmds.cc: claim submit|coverage|end-coverage|void|pay|restrict
void RegisterTrialCommands(CLI::App& app);       // cli/trial_cmds.cc: trial register|amend|enrol|submit|sign|withdraw|lock|publish|show
void RegisterAccessCommands(CLI::App& app);      // cli/access_cmds.cc: record get, consent, audit, erase...
void RegisterRecordPutCommand(CLI::App& app);
void RegisterPatientCommands(CLI::App& app);     // cli/patient_cmds.cc: consent, audit
void RegisterSupplyBenchCommands(CLI::App& app);  // cli/supply_bench_cmd.cc: epcis bench-capture, product bench-verify
void RegisterSupplyCommands(CLI::App& app);      // cli/supply_cmds.cc: gs1, epcis, product    // cli/record_cmds.cc: record put, bench-ingest

// The process exit code (cli/exit_codes.h has the table).
int ExitCode();
void SetExit(Exit code);
// Prints "medledger: <message>" on stderr and sets the exit code.
void Fail(const std::string& message, Exit code = Exit::kFailure);
// The exit code follows the status's code (ExitForStatus) unless given.
void Fail(const Status& st);
void Fail(const Status& st, Exit code);
void PrintJson(const nlohmann::json& j);

class ApiClient;  // cli/api_client.h

// A FHIR answer's message: an OperationOutcome's first diagnostics, or the
// start of the body (cli/record_cmds.cc).
std::string OutcomeMessage(const std::string& body);
// A signed FHIR request (application/fhir+json both ways), with the
// patient's key header when `patient` is not empty.
Result<http::ClientResponse> SignedSend(ApiClient& c, const crypto::KeyPair& key, const std::string& method,
                                        const std::string& target, const std::string& body,
                                        const std::string& patient);

// Options shared by every client subcommand.
struct ClientOpts {
  std::string url;
  std::string key;
  bool no_wait = false;
};
void AddClientOptions(CLI::App* cmd, ClientOpts* o, bool needs_key);
// Signs and submits a transaction with the key of `o` and prints {id,
// status, height} (after the commit unless --no-wait), plus the fields of
// `extra` (an object, or null).
void SubmitAndReport(const ClientOpts& o, uint16_t type, const nlohmann::json& payload);
void SubmitAndReport(const ClientOpts& o, uint16_t type, const nlohmann::json& payload, const nlohmann::json& extra);
Result<crypto::KeyPair> LoadKey(const std::string& path);
// treatment, payment, operations, research, emergency -> TREAT, HPAYMT,
// HOPERAT, HRESCH, ETREAT; anything else upper-cased (an ActReason code).
std::string ToPurposeCode(const std::string& p);
// "a,b" "c" -> a, b, c (empty parts dropped).
std::vector<std::string> SplitComma(const std::vector<std::string>& in);

// Where the binary finds its assets (demo data): next to the executable's
// source tree, whatever the current directory.
std::string AssetDir();

}  // namespace medledger::cli
