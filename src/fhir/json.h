// A JSON document model for FHIR that keeps what generic JSON libraries lose:
//   - numbers keep the exact text they were written with (FHIR decimals are
//     precision-significant: 1.00 is not 1, and 1e2 stays 1e2);
//   - object members keep their written order (a vector of pairs, no map).
//
// Parse() is strict RFC 8259 plus FHIR rules: valid UTF-8 only (no lone
// surrogates in \u escapes either), no duplicate keys, a bounded nesting depth
// (checked before descending, so hostile input cannot overflow the stack), and
// linear time in the input size (duplicate-key checks are O(n log n) per
// object). Serialize() writes compact JSON: numbers from their stored text,
// strings escaped per RFC 8259 (", \, and control characters; other UTF-8 is
// written as is, '/' is not escaped), members in stored order.
//
// Values are plain values (deep copies on copy); no thread-safety beyond that
// of std::vector. Error messages name a byte offset, never document content.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

namespace medledger::fhir {

class Value {
 public:
  enum class Type : uint8_t { kNull, kBool, kNumber, kString, kArray, kObject };
  using Member = std::pair<std::string, Value>;
  using Array = std::vector<Value>;
  using Object = std::vector<Member>;

  Value() = default;  // null
  Value(bool b) : type_(Type::kBool), bool_(b) {}  // NOLINT: implicit by design
  Value(const char* s) : type_(Type::kString), text_(s) {}  // NOLINT
  Value(std::string s) : type_(Type::kString), text_(std::move(s)) {}  // NOLINT
  Value(std::string_view s) : type_(Type::kString), text_(s) {}  // NOLINT
  Value(int64_t n) : type_(Type::kNumber), text_(std::to_string(n)) {}  // NOLINT
  Value(int n) : Value(int64_t{n}) {}  // NOLINT

  static Value MakeArray() { Value v; v.type_ = Type::kArray; return v; }
  static Value MakeObject() { Value v; v.type_ = Type::kObject; return v; }
  // A number from its JSON text; InvalidArgument unless `text` matches the
  // RFC 8259 number grammar exactly.
  static Result<Value> Number(std::string_view text);

  Type type() const { return type_; }
  bool is_null() const { return type_ == Type::kNull; }
  bool is_bool() const { return type_ == Type::kBool; }
  bool is_number() const { return type_ == Type::kNumber; }
  bool is_string() const { return type_ == Type::kString; }
  bool is_array() const { return type_ == Type::kArray; }
  bool is_object() const { return type_ == Type::kObject; }
  // True for a number written without fraction or exponent ("12", "-3").
  bool is_integer() const;

  // Accessors: calling one on the wrong type is a programming error (it
  // returns false / an empty string / an empty container, it does not throw).
  bool bool_value() const { return type_ == Type::kBool && bool_; }
  // The string's decoded UTF-8, or a number's JSON text; empty otherwise.
  const std::string& string_value() const;
  const std::string& number_text() const { return string_value(); }

  // Array operations. Mutating calls turn a null into an empty array first;
  // on any other non-array type they do nothing.
  const Array& array() const;
  Array& mutable_array();
  void Append(Value v);
  size_t size() const;  // elements or members; 0 for scalars
  const Value& operator[](size_t i) const { return array()[i]; }

  // Object operations. Mutating calls turn a null into an empty object first.
  const Object& members() const;
  Object& mutable_members();
  // nullptr when absent or when this is not an object. O(members).
  const Value* Get(std::string_view key) const;
  Value* Get(std::string_view key);
  // Replaces the value in place (keeping the member's position) or appends.
  void Set(std::string_view key, Value v);
  // True when the key was present.
  bool Remove(std::string_view key);

  // Structural equality; numbers compare by text, objects by ordered members.
  friend bool operator==(const Value& a, const Value& b);

 private:
  friend class Parser;
  Type type_ = Type::kNull;
  bool bool_ = false;
  std::string text_;  // string contents or number text
  Array array_;
  Object object_;
};

struct ParseOptions {
  size_t max_depth = 64;                // arrays + objects nested; deeper: InvalidArgument
  size_t max_bytes = 64 * 1024 * 1024;  // larger input: ResourceExhausted
};

// InvalidArgument with "json: <what> at byte <offset>" on malformed input.
Result<Value> Parse(std::string_view text, const ParseOptions& options = {});

std::string Serialize(const Value& value);
void SerializeTo(const Value& value, std::string* out);

}  // namespace medledger::fhir
