// Chain parameters, fixed at genesis (and later changed by governance).
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <string>

#include "common/status.h"

namespace medledger::state {

struct ChainParams {
  std::string chain_id;
  uint32_t governance_threshold = 1;
  uint32_t max_txs_per_block = 5000;
  uint32_t block_interval_ms = 50;
  // A transaction's expiry_height may be at most this far ahead of the block
  // that includes it; so nodes remember tx ids for this many blocks only.
  uint32_t max_expiry_window = 10000;
  // LUA_VERSION_RELEASE_NUM of the contract engine the chain was started
  // with (genesis "contracts": {"lua_release": N}); 0: not recorded. Gas
  // counts and allocation sizes can differ between Lua releases, so a node
  // built with another one refuses to serve the chain (src/contracts).
  uint32_t lua_release = 0;

  nlohmann::json ToJson() const;
  static Result<ChainParams> FromJson(const nlohmann::json& j);
};

inline constexpr const char* kParamsKey = "params/chain";

}  // namespace medledger::state
