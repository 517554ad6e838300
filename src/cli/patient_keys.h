// A patient's signing keys on the command line: one key file (--key), or
// the patient's seed (--seed) and the custodians it acts at (--custodian,
// --custodians), from which a key per custodian is derived here, on the
// patient's machine (crypto/derive.h). The seed never leaves this process:
// nodes see only the derived keys, and each custodian only its own.
//
// A patient command at custodian X talks to a node of X when it must (its
// audit includes accesses not yet in a block; an erasure is decided there):
// the node at --url when it belongs to X, else --custodian-url X=URL, else
// the first of X's nodes that --url's peer directory names (GET /v1/peers).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "crypto/ed25519.h"

namespace medledger::cli {

struct PatientKeyOpts {
  std::string seed;                          // --seed FILE
  std::vector<std::string> custodians;       // --custodian / --custodians (comma-separated)
  std::vector<std::string> custodian_urls;   // --custodian-url ORG=URL (repeatable)
};

// Adds --seed, --custodian-url and --custodians (many) or --custodian (one).
// The command's --key becomes optional: ResolvePatientKeys checks that
// exactly one of --key and --seed is given.
void AddPatientKeyOptions(CLI::App* cmd, PatientKeyOpts* o, bool many);

// One signing identity at one custodian and the node to send its requests.
struct CustodianKey {
  std::string org;  // empty with --key: whichever custodian the key is bound at
  crypto::KeyPair key;
  std::string url;  // a node of `org` (with --key: --url)
};

// With --key: that key at --url. With --seed: one entry per custodian, in
// the order given; `locate` false sends every request to --url (transactions
// go to any node: the chain is shared). InvalidArgument for --key and --seed
// both or neither, --seed without a custodian, or a custodian list with a
// single-custodian command.
Result<std::vector<CustodianKey>> ResolvePatientKeys(const ClientOpts& c, const PatientKeyOpts& p, bool locate);

// `keygen --derive`: the key for `org` from the seed in `seed_file`, written
// to `out` (mode 0600). The chain id is `chain_id`, or that of the node at
// `url` when chain_id is empty. Returns the derived key.
Result<crypto::KeyPair> DeriveKeyFile(const std::string& seed_file, const std::string& org, const std::string& chain_id,
                                      const std::string& url, const std::string& out);

// Search-set Bundles from several custodians as one: each entry's resource
// tagged with its custodian (meta.tag, system urn:medledger:org), entries
// oldest first by `recorded` (AuditEvent) when present, total the sum.
nlohmann::json MergeBundles(const std::vector<std::pair<std::string, nlohmann::json>>& by_custodian);

}  // namespace medledger::cli
