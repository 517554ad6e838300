// Rule scenarios: data-driven tests of the chain's rules that a compliance
// reviewer can read (tests/scenarios/*.scn, run by scenario_test as
// scenario.RuleScenario/ScenarioTest.Runs/<file name>; README.md there shows
// examples).
//
// A scenario file runs top to bottom on a fresh chain in memory
// (testing::TestChain with the modules a node runs: identity, anchor,
// governance, records, consent, access, erasure, legal hold, supply chain,
// clinical trials, contracts, claims). One statement
// per line; words are separated by blanks; leading and trailing blanks do not
// count.
//
//   # text            A comment: a line whose first non-blank character is #.
//                     Blank lines are ignored too.
//
// Declarations
//
//   key <name>...     Declares keys. A key's Ed25519 seed is
//                     SHA-256("key:" + name), so a name is the same key in
//                     every file (and testing::Key(name) in C++ tests).
//                     Names: [A-Za-z0-9_], at most 64, each declared once;
//                     id, hash, time, tx and preauth are reserved (see $
//                     below).
//   org <id> <admin> [<node>...]
//                     A genesis organisation: its admin key holds member and
//                     org_admin (a voting member), each node key holds node.
//                     The keys must be declared. At least one org is needed.
//   threshold <n>     The genesis governance threshold (default 1).
//
// org and threshold come before the first tx, block or root line, where the
// genesis is built: chain id "scenario", organisation names = ids, at most
// 5000 transactions per block, max_expiry_window 10000.
//
// Transactions
//
//   tx <signer> <type> <json>
//                     A transaction of type <type> (its name in
//                     model/tx_types.cc, e.g. consent.grant) signed by the
//                     declared key <signer>, whose payload is the JSON object
//                     on the rest of the line once these are replaced:
//                       $<name>      the public id (64 hex) of key <name>
//                       $id:<word>   32 hex characters: testing::Id(word),
//                                    the first half of SHA-256("id:" + word);
//                                    for record, pseudonym, consent, event,
//                                    request and proposal ids
//                       $hash:<word> 64 hex: SHA-256 of <word>
//                       $time:<h>    the timestamp (ms) of block <h>, a number
//                                    (write it unquoted)
//                       $tx:<word>   64 hex: the id of the transaction named
//                                    <word> (name, below)
//                       $preauth:<word>
//                                    the pre_auth_ref the policy granted the
//                                    claims.submit named <word> (a
//                                    preauthorization); executes the open
//                                    block first
//                       $$           a $
//                     where <word> is [A-Za-z0-9_.#-]+. The transaction joins
//                     the open block; nonces count up from 1; it expires 1000
//                     blocks after the last executed one.
//   expect ok
//   expect <reason> [<text>]
//                     Follows every tx (only comments and blank lines between):
//                     the verdict the transaction must get, ok or a rejection
//                     reason as model::RejectName writes it (conflict,
//                     role_not_permitted, not_found, invalid_payload, ...).
//                     <text>, when given, must occur in the verdict's detail:
//                     several rules share one reason, and the text says which
//                     one is meant.
//   name <word>       Right after an expect line: names that transaction, for
//                     $tx:<word>, $preauth:<word> and the claim and item
//                     lines. Each word names one transaction.
//
// Contracts (src/contracts, docs/CONTRACTS.md)
//
//   deploy <signer> <contract name> <path>
//                     A contract.deploy transaction (proposal id
//                     $id:<contract name>) whose source is the file at <path>,
//                     relative to the repository root (MEDLEDGER_SOURCE_DIR,
//                     src/testing/CMakeLists.txt), e.g. policies/managed.lua.
//                     Needs its expect line, like tx. With threshold 1 the
//                     contract is deployed when the block executes.
//
// Claims (src/claims, docs/CLAIMS.md): checks of the claim recorded by the
// claims.submit named <word>; each executes the open block first.
//
//   claim <word> complete | error <code> | active | replaced | voided | paid <amount>
//                     Its outcome (with error: the code of its first error,
//                     no-coverage, unknown-plan, ...), its status, or the sum
//                     of the payments recorded against it (minor units).
//   item <word> <sequence> <benefit> [<category>=<amount>...] [<text>]
//                     The decision on the item with that sequence: its
//                     benefit, and any other adjudication amounts named
//                     (submitted, eligible, copay, deductible). With <text>,
//                     one of its reasons must contain it (ar001, ar002,
//                     prior-auth-required, ...); without, it must have none.
//
// Supply chain (src/supply, docs/SUPPLY.md)
//
//   capture <signer> <party> <word> <json array>
//                     An epcis.capture transaction: the events (a JSON array
//                     of EPCIS 2.0 events, $ substitutions as for tx) in one
//                     EPCISDocument with the standard @context, its HTTP
//                     request signed by key <party>, submitted by key
//                     <signer>, capture id $id:<word>. Needs its expect line,
//                     like tx.
//   outcome <word> <i> ok|suspect|duplicate [<text>]
//                     Executes the open block, then checks the outcome of
//                     event <i> (from 0) of capture <word>; <text> must occur
//                     in its reason.
//   verify <gtin14> <serial> <lot> <expiry> <today> <status>
//                     Executes the open block, then checks the status the
//                     product verification answers (supply::Verify; dates
//                     YYYY-MM-DD).
//
// Blocks
//
//   block [<n>]       Executes the open block (its transactions in order, or
//                     none) and then n - 1 empty blocks; n defaults to 1.
//   root <hex>        The state root (64 hex) after the last executed block
//                     must be this. If the open block holds transactions it is
//                     executed first. A root line pins the scenario's state:
//                     a change to any rule, encoding or library that alters it
//                     fails here (a determinism guard).
//   The end of the file executes the open block if it holds transactions.
//
// Block h has timestamp 1,000,000 + (h - 1) * 1000 ms (TestChain::Hospitals
// timing). Within a block each transaction sees the effects of the accepted
// ones before it, as on a node. Verdicts are known when their block executes,
// and a wrong one is reported at its expect line with the verdict's detail.
//
// Errors in the file itself (an unknown statement, key, type or reason, bad
// JSON, a tx without its expect line, an org line after the genesis...) stop
// the run and are reported at their line; wrong verdicts and roots do not
// stop it, so one run reports all of them.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace medledger::testing {

struct ScenarioFailure {
  std::string file;
  int line = 0;  // 1-based
  std::string message;
};

struct ScenarioSummary {
  int transactions = 0;
  int expected_ok = 0;        // expect ok
  int expected_rejected = 0;  // expect <reason>
  int roots = 0;              // root lines
  int blocks = 0;             // blocks executed
};

// Runs the scenario `text`; `file` names it in failures. No failures: every
// verdict and root was as expected. `summary`, when given, counts what ran.
std::vector<ScenarioFailure> RunScenario(const std::string& file, std::string_view text,
                                         ScenarioSummary* summary = nullptr);

}  // namespace medledger::testing
