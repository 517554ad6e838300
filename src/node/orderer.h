// How blocks get their order. The solo orderer (the default) cuts blocks
// itself; the etcd orderer (etcd_orderer.h) orders whole blocks through an
// etcd cluster shared by the organisations' nodes. Both feed the same Chain,
// so the chain format does not depend on the mode and a chain can move from
// one to the other.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <thread>

#include "crypto/ed25519.h"
#include "node/chain.h"
#include "node/mempool.h"

namespace medledger::node {

class Orderer {
 public:
  virtual ~Orderer() = default;
  virtual const char* name() const = 0;
  virtual Status Start() = 0;
  virtual void Stop() = 0;
  // Extra fields for GET /v1/status (peers, etcd endpoints...).
  virtual nlohmann::json StatusJson() const;  // {} unless overridden (solo_orderer.cc)
  // Extra Prometheus gauges/counters as (name, help, value).
  struct Metric {
    std::string name, help, type;
    uint64_t value;
  };
  virtual std::vector<Metric> Metrics() const { return {}; }

  // Calls done(Status) once this node has applied every block that the
  // ordering service held when the call was made (a linearizable read issued
  // after the call); Unavailable when the head cannot be read or is not
  // applied within `bound`, or the node is halted. Screening a request
  // against local state after Ok means screening it against a state at least
  // as new as anything acknowledged to anyone before the request arrived.
  // Solo: done(Ok) at once (this node makes every block). `done` may run on
  // any thread, possibly before AwaitHead returns, and must not block for
  // long: the etcd orderer runs completions one after another.
  virtual void AwaitHead(std::function<void(Status)> done,
                         std::chrono::milliseconds bound = std::chrono::seconds(2)) {
    done(Status::Ok());
  }
  // The same, blocking the calling thread: never on an HTTP I/O thread.
  Status AwaitHeadSync(std::chrono::milliseconds bound = std::chrono::seconds(2));
};

struct SoloOptions {
  uint32_t max_txs_per_block = 5000;
  uint32_t block_interval_ms = 20;  // longest a pending transaction waits for a block
};

// One thread: take what is pending (up to max), make the block, commit it
// (one fsync), repeat. Under load blocks fill up while the previous one is
// being synced, so the fsync cost is shared by every transaction in a block.
class SoloOrderer : public Orderer {
 public:
  SoloOrderer(Chain* chain, Mempool* pool, crypto::KeyPair key, SoloOptions opts);
  ~SoloOrderer() override;
  const char* name() const override { return "solo"; }
  Status Start() override;
  void Stop() override;
  uint64_t failures() const { return failures_; }

 private:
  void Loop();
  Chain* chain_;
  Mempool* pool_;
  crypto::KeyPair key_;
  SoloOptions opts_;
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> failures_{0};
  std::thread thread_;
};

uint64_t NowMs();

}  // namespace medledger::node
