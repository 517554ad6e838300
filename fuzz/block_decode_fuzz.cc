// Untrusted input: blocks from peers, etcd, or a tampered disk.
#include "model/block.h"
#include "model/tx_json.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  medledger::Bytes b(data, data + size);
  auto blk = medledger::model::DecodeBlock(b);
  if (blk.ok()) {
    if (blk->Encode() != b) __builtin_trap();
    (void)medledger::model::BlockToJson(*blk, true);
  }
  (void)medledger::model::DecodeHeader(b);
  // The audit decodes into recycled blocks: whatever a block held before,
  // decoding into it must give exactly what a fresh decode gives.
  static medledger::model::Block reused;
  std::vector<medledger::model::TxSpan> spans;
  medledger::Status st = medledger::model::DecodeBlockInto(data, size, &reused, &spans);
  if (st.ok() != blk.ok()) __builtin_trap();
  if (st.ok() && (reused.Encode() != b || spans.size() != reused.txs.size())) __builtin_trap();
  return 0;
}
