// Untrusted input: the JSON form of transactions (POST /v1/tx).
#include <nlohmann/json.hpp>

#include "model/transaction.h"
#include "model/tx_json.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto j = nlohmann::json::parse(data, data + size, nullptr, false);
  if (j.is_discarded()) return 0;
  auto tx = medledger::model::TxFromJson(j);
  if (tx.ok()) {
    auto back = medledger::model::TxFromJson(medledger::model::TxToJson(*tx));
    if (!back.ok() || back->Encode() != tx->Encode()) __builtin_trap();
  }
  return 0;
}
