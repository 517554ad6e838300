// The demo's small clinical trial (`make demo`, cli/demo_cmd.cc; issue 16
// part 3; docs/TRIALS.md). Runs against a fresh demo network, after the
// health data:
//   - identities: keys/trial-sponsor.key (org2, sponsor),
//     keys/trial-investigator.key (org1, practitioner: the site's
//     investigator), keys/trial-patient-1.key and -2.key (org1 patients);
//   - the patients' pseudonyms at org1 bound by org1's admin (an anchor of
//     a research Consent record each), and their research consents
//     (consent.grant, purpose HRESCH, to org1);
//   - the study registered by the sponsor (site org1), its registration
//     signed (approval), both subjects enrolled, data anchored and signed
//     by the investigator (authorship);
//   - patient 2 withdraws; a later submission for it is refused (conflict);
//   - the lock, and a publication that demotes the registered primary
//     objective: accepted, with its flags.
// `check` is called between steps; its error stops the loading. Returns
// what demo.json keeps ("trial"): the keys, ids, the refusal and the flags.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <string>

#include "cli/demo_supply.h"
#include "common/status.h"

namespace medledger::cli {

Result<nlohmann::json> LoadDemoTrial(const DemoOrgRef& org1, const DemoOrgRef& org2, const std::string& key_dir,
                                     const std::function<Status()>& check);

// The summary's trial section, with "try:" lines for `bin`. `show` turns a
// path into what to print.
std::string DemoTrialSummary(const nlohmann::json& trial, const std::string& bin,
                             const std::function<std::string(const std::string&)>& show);

}  // namespace medledger::cli
