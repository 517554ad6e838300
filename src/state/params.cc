#include "state/params.h"

#include <nlohmann/json.hpp>

namespace medledger::state {

nlohmann::json ChainParams::ToJson() const {
  nlohmann::json j = {{"chain_id", chain_id},
                      {"governance_threshold", int64_t(governance_threshold)},
                      {"max_txs_per_block", int64_t(max_txs_per_block)},
                      {"block_interval_ms", int64_t(block_interval_ms)},
                      {"max_expiry_window", int64_t(max_expiry_window)}};
  // Absent when not recorded, so chains that never had it keep their state.
  if (lua_release) j["lua_release"] = int64_t(lua_release);
  return j;
}

Result<ChainParams> ChainParams::FromJson(const nlohmann::json& j) {
  ChainParams p;
  if (!j.is_object()) return InvalidArgument("chain parameters must be an object");
  try {
    p.chain_id = j.at("chain_id").get<std::string>();
    p.governance_threshold = uint32_t(j.value("governance_threshold", int64_t(1)));
    p.max_txs_per_block = uint32_t(j.value("max_txs_per_block", int64_t(5000)));
    p.block_interval_ms = uint32_t(j.value("block_interval_ms", int64_t(50)));
    p.max_expiry_window = uint32_t(j.value("max_expiry_window", int64_t(10000)));
    p.lua_release = uint32_t(j.value("lua_release", int64_t(0)));
  } catch (const nlohmann::json::exception& e) {
    return InvalidArgument(std::string("bad chain parameters: ") + e.what());
  }
  if (p.chain_id.empty() || p.chain_id.size() > 64) return InvalidArgument("chain_id must be 1..64 bytes");
  if (p.governance_threshold == 0) return InvalidArgument("governance_threshold must be at least 1");
  if (p.max_txs_per_block == 0 || p.max_txs_per_block > 100000) return InvalidArgument("max_txs_per_block out of range");
  if (p.max_expiry_window == 0 || p.max_expiry_window > 1000000) return InvalidArgument("max_expiry_window out of range");
  return p;
}

}  // namespace medledger::state
