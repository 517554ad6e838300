#include "custodian/context.h"

#include "node/orderer.h"

namespace medledger::custodian {

// One wall clock for the node (node/orderer.h).
int64_t NowMs() { return int64_t(node::NowMs()); }

node::TxOutcome Context::SubmitAsNode(uint16_t type, const nlohmann::json& payload,
                                      std::chrono::milliseconds wait) const {
  return node::SubmitAsNode(chain, admission, pool, *node_key, type, payload, wait);
}

}  // namespace medledger::custodian
