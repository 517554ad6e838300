// Deployed contracts as state keeps them (docs/CONTRACTS.md, "Deployment").
// Governance writes them when a deploy_contract or upgrade_contract proposal
// executes (state/governance.h); the contract module (src/contracts) reads
// them to run calls. Kept in src/state so that governance needs no Lua.
//
//   ctr/meta/<name>              {name, version, source_sha256, height, proposal_id}
//   ctr/src/<name>/<version:20>  {source}   every version, kept for the audit
#pragma once

#include <optional>
#include <string>

#include "state/state_view.h"

namespace medledger::state {

struct ContractRecord {
  std::string name;
  uint64_t version = 0;       // 1 at deployment, +1 per upgrade
  std::string source_sha256;  // hex, of the current version's source
  uint64_t height = 0;        // the block that made this version current
  std::string proposal_id;
};

// 1..64 characters of a-z 0-9 _ - . (a state key part and a CLI argument).
bool ValidContractName(std::string_view name);
std::string ContractMetaKey(std::string_view name);
std::string ContractSourceKey(std::string_view name, uint64_t version);

std::optional<ContractRecord> LoadContract(const StateReader& st, std::string_view name);
std::optional<std::string> LoadContractSource(const StateReader& st, std::string_view name, uint64_t version);
// Writes the record and the version's source.
void StoreContract(Overlay& st, const ContractRecord& rec, const std::string& source);

}  // namespace medledger::state
