// The demo's medicine supply chain (`make demo`, cli/demo_cmd.cc; issue 15
// part 8): a manufacturer and a pharmacy at the first organisation, a
// distributor at the second, a lifecycle captured through POST
// /epcis/capture, a counterfeit and a recalled lot to find.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <string>

#include "common/status.h"
#include "crypto/ed25519.h"

namespace medledger::cli {

struct DemoOrgRef {
  std::string id;   // org1, org2
  std::string url;  // its node
  const crypto::KeyPair* admin = nullptr;
};

// Loads the supply chain on a fresh demo network, after the health data:
//   - identities: keys/manufacturer.key (org1, manufacturer),
//     keys/distributor.key (org2, distributor); the pharmacy is the demo's
//     dispenser keys/pharmacy.key (org1), which must exist already;
//   - the manufacturer's GS1 company prefix: a governance grant proposed by
//     org1's admin and approved by org2's (two organisations, threshold 2),
//     then bound by the manufacturer;
//   - three capture documents, each signed by its party and sent to its own
//     organisation's node: commissioning two lots, packing each into a case
//     and shipping both cases (manufacturer); receiving, unpacking one case
//     and shipping four packs on (distributor); receiving, a dispensing, and
//     a pack whose serial was never commissioned (pharmacy);
//   - a recall of the second lot by the manufacturer.
// `check` is called between steps; its error stops the loading. Returns
// what demo.json keeps ("supply"): the parties, the identifiers and the
// verification answer each gave when loaded.
Result<nlohmann::json> LoadDemoSupply(const DemoOrgRef& org1, const DemoOrgRef& org2, const std::string& key_dir,
                                      const std::function<Status()>& check);

// The summary's supply section, with "try:" lines for `bin` (a good pack,
// the counterfeit, a recalled pack, a trace, an event query). `show` turns
// a path into what to print.
std::string DemoSupplySummary(const nlohmann::json& supply, const std::string& bin,
                              const std::function<std::string(const std::string&)>& show);

}  // namespace medledger::cli
