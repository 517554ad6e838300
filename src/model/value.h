// The canonical binary form of a transaction payload ("cval").
//
// Payloads are JSON values restricted so that the JSON <-> binary mapping is
// lossless and unique: null, booleans, 64-bit signed integers, UTF-8 strings,
// arrays, and objects with unique keys. No floating point (a decimal that
// matters, like a price, travels as a string). Objects are encoded with their
// keys sorted bytewise, so the signed bytes do not depend on JSON key order or
// whitespace. Format: docs/SIGNING.md.
//
// Only the forward declaration of nlohmann::json is included: code that
// builds or reads a json value includes <nlohmann/json.hpp> itself.
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <string_view>
#include <utility>
#include <vector>

#include "common/bytes.h"

namespace medledger::model {

inline constexpr size_t kMaxValueDepth = 32;

// Fails with InvalidArgument on floats, integers outside int64, invalid
// UTF-8 or nesting deeper than kMaxValueDepth.
Result<Bytes> EncodeValue(const nlohmann::json& v);
Status EncodeValueTo(const nlohmann::json& v, Bytes* out);
// Strict: rejects trailing bytes, unsorted or duplicate keys and any
// non-canonical form, so every value has exactly one encoding.
Result<nlohmann::json> DecodeValue(const uint8_t* p, size_t n);
Result<nlohmann::json> DecodeValue(const Bytes& b);

// Reads `bytes` as a canonical object whose values are all strings, without
// building a json tree: true, with (key, value) views into `bytes` in key
// order, only if the whole input is exactly such an object with at most
// `max_fields` fields that DecodeValue would accept. False for anything else
// (other value types, nesting, bad encoding): callers then decode in full.
bool ReadStringObject(const Bytes& bytes, size_t max_fields,
                      std::vector<std::pair<std::string_view, std::string_view>>* fields);

// Writes the canonical encoding of a flat object field by field, without a
// json tree: for records written once per transaction (anchors), where
// building and encoding the tree cost more than the rest of the module.
// The caller must give exactly the promised number of fields, with keys in
// ascending bytewise order and strings in valid UTF-8; the result is
// byte-for-byte what EncodeValue gives for the same object (tested).
class ObjectWriter {
 public:
  ObjectWriter(Bytes* out, uint32_t fields);
  ObjectWriter& Int(std::string_view key, int64_t v);
  ObjectWriter& String(std::string_view key, std::string_view v);
  // A string field holding the lowercase hex of `n` bytes.
  ObjectWriter& Hex(std::string_view key, const uint8_t* p, size_t n);

 private:
  Bytes* out_;
  ByteWriter w_;
};

}  // namespace medledger::model
