// Untrusted input: blocks from peers, etcd, or a tampered disk.
#include "model/block.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  medledger::Bytes b(data, data + size);
  auto blk = medledger::model::DecodeBlock(b);
  if (blk.ok()) {
    if (blk->Encode() != b) __builtin_trap();
    (void)medledger::model::BlockToJson(*blk, true);
  }
  (void)medledger::model::DecodeHeader(b);
  return 0;
}
