#include "epcis/json.h"

#include <algorithm>
#include <nlohmann/json.hpp>

namespace medledger::epcis {

const JsonValue* JsonValue::Get(std::string_view key) const {
  if (type_ != Type::kObject) return nullptr;
  for (const auto& m : members_) {
    if (m.first == key) return &m.second;
  }
  return nullptr;
}

JsonValue JsonValue::Bool(bool b) {
  JsonValue v;
  v.type_ = Type::kBool;
  v.bool_ = b;
  return v;
}

JsonValue JsonValue::String(std::string s) {
  JsonValue v;
  v.type_ = Type::kString;
  v.text_ = std::move(s);
  return v;
}

JsonValue JsonValue::Number(std::string text) {
  JsonValue v;
  v.type_ = Type::kNumber;
  v.text_ = std::move(text);
  return v;
}

JsonValue JsonValue::Array(std::vector<JsonValue> items) {
  JsonValue v;
  v.type_ = Type::kArray;
  v.items_ = std::move(items);
  return v;
}

JsonValue JsonValue::Object(std::vector<Member> members) {
  JsonValue v;
  v.type_ = Type::kObject;
  v.members_ = std::move(members);
  return v;
}

// Builds the tree from nlohmann's SAX events. Returning false stops the
// parser at once; the reason is kept in `error`.
class JsonBuilder {
 public:
  using json = nlohmann::json;

  explicit JsonBuilder(const JsonLimits& limits) : limits_(limits) {}

  bool null() { return Add(JsonValue()); }
  bool boolean(bool b) { return Add(JsonValue::Bool(b)); }
  // nlohmann reads integers into int64/uint64 and hands over no text; their
  // decimal rendering is the JSON text except for "-0", which reads as 0.
  bool number_integer(json::number_integer_t n) { return Add(JsonValue::Number(std::to_string(n))); }
  bool number_unsigned(json::number_unsigned_t n) { return Add(JsonValue::Number(std::to_string(n))); }
  bool number_float(json::number_float_t, const json::string_t& text) {
    // Integers beyond 64 bits arrive here too, with their text intact.
    if (!CanonicalNumber(text).ok()) return Fail(InvalidArgument("json: number out of range"));
    return Add(JsonValue::Number(text));
  }
  bool string(json::string_t& s) { return Add(JsonValue::String(std::move(s))); }
  bool binary(json::binary_t&) { return Fail(InvalidArgument("json: binary values are not JSON")); }
  bool start_object(size_t) { return Open(JsonValue::Type::kObject); }
  bool start_array(size_t) { return Open(JsonValue::Type::kArray); }
  bool key(json::string_t& k) {
    keys_.push_back(std::move(k));
    return true;
  }
  bool end_object() {
    JsonValue v = std::move(stack_.back());
    stack_.pop_back();
    // Sorted views find a duplicate in O(n log n) even in a hostile object
    // with many members.
    std::vector<std::string_view> names;
    names.reserve(v.members_.size());
    for (const auto& m : v.members_) names.push_back(m.first);
    std::sort(names.begin(), names.end());
    auto dup = std::adjacent_find(names.begin(), names.end());
    if (dup != names.end()) {
      std::string shown(dup->substr(0, 64));
      return Fail(InvalidArgument("json: duplicate key '" + shown + "'"));
    }
    return Add(std::move(v));
  }
  bool end_array() {
    JsonValue v = std::move(stack_.back());
    stack_.pop_back();
    return Add(std::move(v));
  }
  bool parse_error(size_t position, const std::string&, const nlohmann::detail::exception& e) {
    // nlohmann's message quotes the offending token; the position is enough.
    const char* what = e.id == 406 ? "number out of range" : "malformed JSON";
    return Fail(InvalidArgument("json: " + std::string(what) + " at byte " + std::to_string(position)));
  }

  Status error;
  JsonValue root;

 private:
  bool Fail(Status s) {
    if (error.ok()) error = std::move(s);
    return false;
  }
  bool Count() {
    if (++values_ > limits_.max_values)
      return Fail(TooLarge("json: more than " + std::to_string(limits_.max_values) + " values"));
    return true;
  }
  bool Open(JsonValue::Type t) {
    if (!Count()) return false;
    if (stack_.size() >= limits_.max_depth)
      return Fail(InvalidArgument("json: nested deeper than " + std::to_string(limits_.max_depth) + " levels"));
    JsonValue v;
    v.type_ = t;
    stack_.push_back(std::move(v));
    return true;
  }
  bool Add(JsonValue v) {
    if (v.type_ != JsonValue::Type::kObject && v.type_ != JsonValue::Type::kArray && !Count()) return false;
    if (stack_.empty()) {
      root = std::move(v);
      return true;
    }
    JsonValue& top = stack_.back();
    if (top.type_ == JsonValue::Type::kArray) {
      top.items_.push_back(std::move(v));
    } else {
      top.members_.emplace_back(std::move(keys_.back()), std::move(v));
      keys_.pop_back();
    }
    return true;
  }

  const JsonLimits& limits_;
  std::vector<JsonValue> stack_;
  std::vector<std::string> keys_;
  size_t values_ = 0;
};

Result<JsonValue> ParseJson(std::string_view text, const JsonLimits& limits) {
  if (text.size() > limits.max_bytes)
    return TooLarge("json: document larger than " + std::to_string(limits.max_bytes) + " bytes");
  JsonBuilder builder(limits);
  bool ok = nlohmann::json::sax_parse(text.begin(), text.end(), &builder, nlohmann::json::input_format_t::json,
                                      /*strict=*/true);
  if (!ok) return builder.error.ok() ? InvalidArgument("json: malformed JSON") : builder.error;
  return std::move(builder.root);
}

// --- spans: a scanner over text that ParseJson accepted ---

namespace {

size_t SkipWs(std::string_view t, size_t i) {
  while (i < t.size() && (t[i] == ' ' || t[i] == '\t' || t[i] == '\n' || t[i] == '\r')) ++i;
  return i;
}

// `i` at the opening quote; returns the index after the closing quote.
size_t SkipString(std::string_view t, size_t i) {
  for (++i; i < t.size(); ++i) {
    if (t[i] == '\\') {
      ++i;
    } else if (t[i] == '"') {
      return i + 1;
    }
  }
  return t.size();
}

size_t SkipValue(std::string_view t, size_t i) {
  if (i >= t.size()) return t.size();
  if (t[i] == '"') return SkipString(t, i);
  if (t[i] != '{' && t[i] != '[') {
    while (i < t.size() && t[i] != ',' && t[i] != '}' && t[i] != ']' && t[i] != ' ' && t[i] != '\t' &&
           t[i] != '\n' && t[i] != '\r')
      ++i;
    return i;
  }
  size_t depth = 0;
  while (i < t.size()) {
    char c = t[i];
    if (c == '"') {
      i = SkipString(t, i);
      continue;
    }
    if (c == '{' || c == '[') ++depth;
    if (c == '}' || c == ']') {
      if (--depth == 0) return i + 1;
    }
    ++i;
  }
  return t.size();
}

// The decoded key whose quoted token is t[begin, end).
std::string DecodeKey(std::string_view t, size_t begin, size_t end) {
  std::string_view token = t.substr(begin, end - begin);
  if (token.find('\\') == std::string_view::npos) return std::string(token.substr(1, token.size() - 2));
  auto v = nlohmann::json::parse(token, nullptr, /*allow_exceptions=*/false);
  return v.is_string() ? v.get<std::string>() : std::string();
}

}  // namespace

std::optional<Span> MemberSpan(std::string_view text, const std::vector<std::string_view>& path) {
  size_t i = SkipWs(text, 0);
  for (size_t step = 0; step < path.size(); ++step) {
    if (i >= text.size() || text[i] != '{') return std::nullopt;
    i = SkipWs(text, i + 1);
    bool found = false;
    while (i < text.size() && text[i] == '"') {
      size_t key_end = SkipString(text, i);
      std::string key = DecodeKey(text, i, key_end);
      i = SkipWs(text, key_end);
      if (i >= text.size() || text[i] != ':') return std::nullopt;
      i = SkipWs(text, i + 1);
      size_t value_end = SkipValue(text, i);
      if (key == path[step]) {
        if (step + 1 == path.size()) return Span{i, value_end};
        found = true;
        break;
      }
      i = SkipWs(text, value_end);
      if (i < text.size() && text[i] == ',') i = SkipWs(text, i + 1);
    }
    if (!found) return std::nullopt;
  }
  return path.empty() ? std::optional<Span>(Span{i, SkipValue(text, i)}) : std::nullopt;
}

std::vector<Span> ElementSpans(std::string_view text, Span array) {
  std::vector<Span> out;
  size_t i = array.begin;
  if (i >= text.size() || text[i] != '[') return out;
  i = SkipWs(text, i + 1);
  while (i < array.end && text[i] != ']') {
    size_t end = SkipValue(text, i);
    out.push_back(Span{i, end});
    i = SkipWs(text, end);
    if (i < text.size() && text[i] == ',') i = SkipWs(text, i + 1);
  }
  return out;
}

// --- numbers ---

Result<std::string> CanonicalNumber(std::string_view n) {
  auto bad = [] { return InvalidArgument("not a JSON number in range"); };
  size_t i = 0;
  bool negative = false;
  if (i < n.size() && n[i] == '-') {
    negative = true;
    ++i;
  }
  auto digit = [&](size_t k) { return k < n.size() && n[k] >= '0' && n[k] <= '9'; };
  if (!digit(i)) return bad();
  std::string digits;  // integer and fraction digits, the value being digits x 10^exp
  if (n[i] == '0') {
    ++i;
    if (digit(i)) return bad();  // no leading zeros in JSON
  } else {
    while (digit(i)) digits += n[i++];
  }
  long exp = 0;
  if (i < n.size() && n[i] == '.') {
    ++i;
    if (!digit(i)) return bad();
    while (digit(i)) {
      digits += n[i++];
      --exp;
    }
  }
  if (i < n.size() && (n[i] == 'e' || n[i] == 'E')) {
    ++i;
    bool exp_negative = false;
    if (i < n.size() && (n[i] == '+' || n[i] == '-')) exp_negative = n[i++] == '-';
    if (!digit(i)) return bad();
    long e = 0;
    while (digit(i)) {
      e = e * 10 + (n[i++] - '0');
      if (e > kMaxNumberExponent) return bad();
    }
    exp += exp_negative ? -e : e;
  }
  if (i != n.size()) return bad();
  size_t first = digits.find_first_not_of('0');
  if (first == std::string::npos) return std::string("0");
  digits.erase(0, first);
  while (digits.back() == '0') {
    digits.pop_back();
    ++exp;
  }
  std::string out = negative ? "-" : "";
  if (exp >= 0) {
    out += digits;
    out.append(static_cast<size_t>(exp), '0');
    return out;
  }
  long point = static_cast<long>(digits.size()) + exp;  // digits before the decimal point
  if (point > 0) {
    out += digits.substr(0, static_cast<size_t>(point));
    out += '.';
    out += digits.substr(static_cast<size_t>(point));
  } else {
    out += "0.";
    out.append(static_cast<size_t>(-point), '0');
    out += digits;
  }
  return out;
}

}  // namespace medledger::epcis
