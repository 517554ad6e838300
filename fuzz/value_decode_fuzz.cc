// Untrusted input: canonical payload values inside transactions.
#include <cstring>
#include <nlohmann/json.hpp>

#include "model/value.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto v = medledger::model::DecodeValue(data, size);
  if (v.ok()) {
    auto again = medledger::model::EncodeValue(*v);
    if (!again.ok() || again->size() != size || std::memcmp(again->data(), data, size) != 0) __builtin_trap();
  }
  // The fast reader of flat string objects takes a subset of what the full
  // decoder takes, and reads it the same way.
  medledger::Bytes bytes(data, data + size);
  std::vector<std::pair<std::string_view, std::string_view>> fields;
  if (medledger::model::ReadStringObject(bytes, 8, &fields)) {
    if (!v.ok() || !v->is_object() || v->size() != fields.size()) __builtin_trap();
    for (const auto& [k, s] : fields) {
      auto it = v->find(std::string(k));
      if (it == v->end() || !it->is_string() || it->get_ref<const std::string&>() != s) __builtin_trap();
    }
  }
  return 0;
}
