// Untrusted input: binary transactions (POST /v1/tx, batches, blocks).
#include "model/transaction.h"
#include "model/tx_json.h"
#include "model/value.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto tx = medledger::model::DecodeTransaction(data, size);
  if (tx.ok()) {
    // Whatever decodes must re-encode to the same bytes (one encoding per tx).
    medledger::Bytes again = tx->Encode();
    if (again.size() != size || std::memcmp(again.data(), data, size) != 0) __builtin_trap();
    (void)medledger::model::TxToJson(*tx);
    (void)tx->VerifySignature();
  }
  return 0;
}
