// Admission: the one way a transaction enters this node's mempool, whether a
// client posted it (POST /v1/tx, /v1/txs) or the node made it (record
// anchors, access events, erasure decisions). The stateless checks, the
// signature (checked a whole batch at a time), the stateful check against the
// latest committed state, then the mempool.
//
// A verdict is for the transaction: malformed, unauthorised or against a
// rule. It is final and recorded, so GET /v1/tx/{id} reports it. A failure of
// this node (its state could not be read, its mempool is full) is no verdict:
// the outcome carries it in `error`, nothing is recorded, and the caller
// answers "retry" (503 or 429) rather than "rejected".
//
// Thread safety: every method may be called from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <nlohmann/json_fwd.hpp>
#include <string_view>
#include <vector>

#include "common/bytes.h"
#include "crypto/ed25519.h"
#include "model/transaction.h"
#include "node/chain.h"
#include "node/mempool.h"

namespace medledger::node {

// Transactions whose signatures are checked: the stateless half of
// admission, which callers do before waiting for the chain head since it does
// not depend on state and is most of the cost.
struct VerifiedTxs {
  std::vector<model::Transaction> txs;
  std::vector<Bytes> signing;
  std::vector<uint8_t> sig_ok;
};

class Admission {
 public:
  struct Counters {
    std::atomic<uint64_t> received{0};
    std::atomic<uint64_t> admitted{0};
    std::atomic<uint64_t> rejected{0};
    std::atomic<uint64_t> unavailable{0};  // not decided: a failure of this node
  };

  Admission(Chain* chain, Mempool* pool) : chain_(chain), pool_(pool) {}

  // Encodes each transaction once, for both its id and its signature, and
  // checks the whole batch's signatures together.
  static VerifiedTxs Verify(std::vector<model::Transaction> txs);

  // The outcome of each transaction, in order: pending (admitted, or already
  // pending), committed (already in a block), rejected with a verdict, or
  // kUnknown with `error` set when this node could not decide.
  std::vector<TxOutcome> Admit(VerifiedTxs v);
  TxOutcome Admit(model::Transaction tx);

  const Counters& counters() const { return counters_; }

 private:
  std::optional<TxOutcome> Screen(const model::Transaction& tx, const Hash32& id, bool sig_ok);
  TxOutcome Added(const Hash32& id, const Status& added);

  Chain* chain_;
  Mempool* pool_;
  Counters counters_;
};

// The one way this node submits a transaction of its own (record anchors,
// access events, erasure decisions, EPCIS captures): `payload` signed as a
// transaction of `type` with the node key (random nonce, expiry 1000 blocks
// ahead), admitted, and with wait > 0 waited for up to that long. The
// outcome says committed / rejected (with verdict) / pending (not waited or
// timed out), or carries `error` when admission could not decide.
TxOutcome SubmitAsNode(Chain* chain, Admission* admission, Mempool* pool, const crypto::KeyPair& node_key,
                       uint16_t type, const nlohmann::json& payload, std::chrono::milliseconds wait);

// The error an outcome means for the caller: OK when committed (or pending,
// when not waited for), the verdict's code for a rejection
// (model::RejectStatusCode), Unavailable when not decided in time. `what`
// names the transaction in the message ("the anchor", "the capture").
Status OutcomeStatus(const TxOutcome& o, std::string_view what);

}  // namespace medledger::node
