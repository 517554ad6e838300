// Helpers shared by the ledger tests: scratch directories and synthetic
// commits whose contents are a function of the height, so a test can check
// any block without remembering what it wrote.
#pragma once

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <string>

#include "ledger/store.h"

namespace medledger::ledger::testing {

class ScratchDir {
 public:
  ScratchDir() {
    static std::atomic<int> counter{0};
    path_ = (std::filesystem::temp_directory_path() /
             ("medledger_ledger_" + std::to_string(::getpid()) + "_" + std::to_string(counter++)))
                .string();
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }
  std::string db() const { return path_ + "/db"; }

 private:
  std::string path_;
};

inline Hash32 FakeHash(uint8_t tag, uint64_t a, uint64_t b = 0) {
  Hash32 h{};
  h[0] = tag;
  for (int i = 0; i < 8; ++i) h[1 + i] = uint8_t(a >> (8 * (7 - i)));
  for (int i = 0; i < 8; ++i) h[9 + i] = uint8_t(b >> (8 * (7 - i)));
  for (int i = 17; i < 32; ++i) h[i] = uint8_t(h[i - 17] * 31 + i);
  return h;
}

inline Bytes BlockBytes(uint64_t height, size_t size) {
  Bytes b(size);
  for (size_t i = 0; i < size; ++i) b[i] = uint8_t((height * 131 + i * 7) ^ (i >> 8));
  return b;
}

inline std::string StateKey(uint64_t height, uint32_t i) {
  return "k/" + std::to_string(height) + "/" + std::to_string(i);
}
inline Bytes StateValue(uint64_t height, uint32_t i) {
  return ToBytes("v" + std::to_string(height * 1000 + i));
}

// Block `height` with `txs` transactions and as many state writes; the meta
// counts txs_per_block transactions for every block so far.
inline BlockCommit MakeCommit(uint64_t height, uint32_t txs = 3, size_t block_size = 200) {
  BlockCommit c;
  c.height = height;
  c.block = BlockBytes(height, block_size);
  c.block_hash = FakeHash(1, height);
  for (uint32_t i = 0; i < txs; ++i) {
    c.txs.push_back({FakeHash(2, height, i), TxLocation{height, i}});
    c.state_writes.push_back({StateKey(height, i), StateValue(height, i)});
  }
  c.meta.height = height;
  c.meta.last_block_hash = c.block_hash;
  c.meta.state_root = FakeHash(3, height);
  c.meta.committed_txs = (height + 1) * txs;
  c.meta.initialized = true;
  return c;
}

}  // namespace medledger::ledger::testing
