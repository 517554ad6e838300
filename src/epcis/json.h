// The JSON tree that EPCIS documents are read into. It keeps what the
// EPCIS event hash and the ledger need and generic DOMs lose:
//   - a number keeps its JSON text ("26.50" stays "26.50"): quantities and
//     sensor values travel as text, the ledger has no floating point, and
//     CanonicalNumber() works on the digits, not on a double;
//   - object members keep their written order;
//   - duplicate keys are refused (JSON-LD leaves them undefined, and two
//     readers of one document must not see two different events).
//
// Parsing runs nlohmann's SAX parser (strict RFC 8259, UTF-8 checked, not
// recursive) into this tree under hard limits (JsonLimits), checked while
// reading, so a hostile document costs at most the limits. Error messages
// name a byte offset and never echo document content.
//
// Values are plain values (deep copies on copy); no thread-safety beyond that
// of std::vector.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

namespace medledger::epcis {

class JsonValue {
 public:
  enum class Type : uint8_t { kNull, kBool, kNumber, kString, kArray, kObject };
  using Member = std::pair<std::string, JsonValue>;

  Type type() const { return type_; }
  bool is_null() const { return type_ == Type::kNull; }
  bool is_bool() const { return type_ == Type::kBool; }
  bool is_number() const { return type_ == Type::kNumber; }
  bool is_string() const { return type_ == Type::kString; }
  bool is_array() const { return type_ == Type::kArray; }
  bool is_object() const { return type_ == Type::kObject; }

  bool bool_value() const { return type_ == Type::kBool && bool_; }
  // A string's decoded UTF-8, or a number's JSON text; empty otherwise.
  const std::string& text() const { return text_; }
  const std::vector<JsonValue>& items() const { return items_; }   // arrays
  const std::vector<Member>& members() const { return members_; }  // objects
  // nullptr when absent or when this is not an object. O(members).
  const JsonValue* Get(std::string_view key) const;

  static JsonValue Null() { return JsonValue(); }
  static JsonValue Bool(bool b);
  static JsonValue String(std::string s);
  static JsonValue Number(std::string text);  // the caller guarantees RFC 8259 syntax
  static JsonValue Array(std::vector<JsonValue> items);
  static JsonValue Object(std::vector<Member> members);

 private:
  friend class JsonBuilder;
  Type type_ = Type::kNull;
  bool bool_ = false;
  std::string text_;
  std::vector<JsonValue> items_;
  std::vector<Member> members_;
};

struct JsonLimits {
  size_t max_bytes = 8 * 1024 * 1024;  // larger input: TooLarge
  size_t max_depth = 32;               // arrays + objects nested; deeper: InvalidArgument
  size_t max_values = 500'000;         // values of any kind; more: TooLarge
};

// InvalidArgument "json: ... at byte N" on malformed JSON, a duplicate key or
// a too-deep nesting; TooLarge when a size limit is exceeded.
Result<JsonValue> ParseJson(std::string_view text, const JsonLimits& limits = {});

// A byte range [begin, end) of `text`.
struct Span {
  size_t begin = 0;
  size_t end = 0;
  std::string_view Of(std::string_view text) const { return text.substr(begin, end - begin); }
};

// Where a value sits in the text it was parsed from, so that the ledger can
// store each event exactly as received. `text` must be JSON that ParseJson
// accepted (no duplicate keys, so a member is unambiguous).
//   MemberSpan: the value reached from the root object through `path` (object
//   keys, compared after unescaping); nullopt when a step is missing or not
//   an object.
//   ElementSpans: the elements of the array at `array`; empty when it is not
//   an array.
std::optional<Span> MemberSpan(std::string_view text, const std::vector<std::string_view>& path);
std::vector<Span> ElementSpans(std::string_view text, Span array);

// The canonical text of a JSON number for the event hash: plain decimal
// notation (no exponent), no leading zeros, no trailing fractional zeros, no
// '.' without fraction, "0" for any zero ("600", "0.1", "1.5E3" -> "1500",
// "-0.0" -> "0"). InvalidArgument unless `number` is RFC 8259 number syntax
// whose decimal exponent lies within +-kMaxNumberExponent (bounds the
// expansion).
inline constexpr int kMaxNumberExponent = 400;
Result<std::string> CanonicalNumber(std::string_view number);

}  // namespace medledger::epcis
