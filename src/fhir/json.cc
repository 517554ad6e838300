#include "fhir/json.h"

#include <algorithm>

namespace medledger::fhir {
namespace {

const std::string kEmptyString;
const Value::Array kEmptyArray;
const Value::Object kEmptyObject;

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Length of the RFC 8259 number at the start of `s`, or 0 if there is none.
size_t ScanNumber(std::string_view s) {
  size_t i = 0, n = s.size();
  if (i < n && s[i] == '-') ++i;
  if (i >= n) return 0;
  if (s[i] == '0') {
    ++i;
  } else if (s[i] >= '1' && s[i] <= '9') {
    while (i < n && IsDigit(s[i])) ++i;
  } else {
    return 0;
  }
  if (i < n && s[i] == '.') {
    ++i;
    if (i >= n || !IsDigit(s[i])) return 0;
    while (i < n && IsDigit(s[i])) ++i;
  }
  if (i < n && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < n && (s[i] == '+' || s[i] == '-')) ++i;
    if (i >= n || !IsDigit(s[i])) return 0;
    while (i < n && IsDigit(s[i])) ++i;
  }
  return i;
}

void AppendUtf8(uint32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(char(cp));
  } else if (cp < 0x800) {
    out->push_back(char(0xC0 | (cp >> 6)));
    out->push_back(char(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(char(0xE0 | (cp >> 12)));
    out->push_back(char(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(char(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(char(0xF0 | (cp >> 18)));
    out->push_back(char(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(char(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(char(0x80 | (cp & 0x3F)));
  }
}

// Length of the well-formed UTF-8 sequence (RFC 3629: no overlongs, no
// surrogates, at most U+10FFFF) starting at p[0] with a lead byte >= 0x80,
// or 0 if it is malformed.
size_t Utf8SequenceLength(const unsigned char* p, size_t avail) {
  unsigned char c = p[0];
  size_t len;
  unsigned char lo = 0x80, hi = 0xBF;  // bounds of the second byte
  if (c >= 0xC2 && c <= 0xDF) {
    len = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    len = 3;
    if (c == 0xE0) lo = 0xA0;
    if (c == 0xED) hi = 0x9F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    len = 4;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  if (avail < len) return 0;
  if (p[1] < lo || p[1] > hi) return 0;
  for (size_t k = 2; k < len; ++k)
    if ((p[k] & 0xC0) != 0x80) return 0;
  return len;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

// The recursive-descent parser. Depth is checked before each descent.
class Parser {
 public:
  Parser(std::string_view in, const ParseOptions& o) : in_(in), opt_(o) {}

  Result<Value> Run() {
    Value v;
    SkipWs();
    if (!ParseValue(&v, 0)) return Error();
    SkipWs();
    if (pos_ != in_.size()) {
      Fail("trailing characters");
      return Error();
    }
    return v;
  }

 private:
  Status Error() const {
    return InvalidArgument("json: " + error_ + " at byte " + std::to_string(error_pos_));
  }
  bool Fail(const char* what) {
    error_ = what;
    error_pos_ = pos_;
    return false;
  }
  void SkipWs() {
    while (pos_ < in_.size()) {
      char c = in_[pos_];
      if (c != ' ' && c != '\t' && c != '\n' && c != '\r') break;
      ++pos_;
    }
  }
  bool Literal(std::string_view word) {
    if (in_.substr(pos_, word.size()) != word) return Fail("invalid literal");
    pos_ += word.size();
    return true;
  }

  bool ParseValue(Value* v, size_t depth) {
    if (pos_ >= in_.size()) return Fail("unexpected end of input");
    char c = in_[pos_];
    switch (c) {
      case '{': return ParseObject(v, depth + 1);
      case '[': return ParseArray(v, depth + 1);
      case '"':
        v->type_ = Value::Type::kString;
        return ParseString(&v->text_);
      case 't': v->type_ = Value::Type::kBool; v->bool_ = true; return Literal("true");
      case 'f': v->type_ = Value::Type::kBool; v->bool_ = false; return Literal("false");
      case 'n': v->type_ = Value::Type::kNull; return Literal("null");
      default: {
        size_t len = ScanNumber(in_.substr(pos_));
        if (len == 0) return Fail(c == '-' || IsDigit(c) ? "invalid number" : "unexpected character");
        v->type_ = Value::Type::kNumber;
        v->text_.assign(in_.substr(pos_, len));
        pos_ += len;
        return true;
      }
    }
  }

  bool ParseArray(Value* v, size_t depth) {
    if (depth > opt_.max_depth) return Fail("nesting too deep");
    v->type_ = Value::Type::kArray;
    ++pos_;  // '['
    SkipWs();
    if (pos_ < in_.size() && in_[pos_] == ']') { ++pos_; return true; }
    while (true) {
      v->array_.emplace_back();
      SkipWs();
      if (!ParseValue(&v->array_.back(), depth)) return false;
      SkipWs();
      if (pos_ >= in_.size()) return Fail("unterminated array");
      if (in_[pos_] == ',') { ++pos_; continue; }
      if (in_[pos_] == ']') { ++pos_; return true; }
      return Fail("expected ',' or ']'");
    }
  }

  bool ParseObject(Value* v, size_t depth) {
    if (depth > opt_.max_depth) return Fail("nesting too deep");
    v->type_ = Value::Type::kObject;
    size_t start = pos_;
    ++pos_;  // '{'
    SkipWs();
    if (pos_ < in_.size() && in_[pos_] == '}') { ++pos_; return true; }
    while (true) {
      SkipWs();
      if (pos_ >= in_.size() || in_[pos_] != '"') return Fail("expected member name");
      v->object_.emplace_back();
      Value::Member& m = v->object_.back();
      if (!ParseString(&m.first)) return false;
      SkipWs();
      if (pos_ >= in_.size() || in_[pos_] != ':') return Fail("expected ':'");
      ++pos_;
      SkipWs();
      if (!ParseValue(&m.second, depth)) return false;
      SkipWs();
      if (pos_ >= in_.size()) return Fail("unterminated object");
      if (in_[pos_] == ',') { ++pos_; continue; }
      if (in_[pos_] == '}') { ++pos_; break; }
      return Fail("expected ',' or '}'");
    }
    if (HasDuplicateKey(v->object_)) {
      pos_ = start;
      return Fail("duplicate member name in object");
    }
    return true;
  }

  static bool HasDuplicateKey(const Value::Object& obj) {
    size_t n = obj.size();
    if (n < 2) return false;
    if (n <= 8) {
      for (size_t i = 0; i < n; ++i)
        for (size_t j = i + 1; j < n; ++j)
          if (obj[i].first == obj[j].first) return true;
      return false;
    }
    std::vector<std::string_view> keys;
    keys.reserve(n);
    for (const auto& m : obj) keys.push_back(m.first);
    std::sort(keys.begin(), keys.end());
    return std::adjacent_find(keys.begin(), keys.end()) != keys.end();
  }

  bool ParseHex4(uint32_t* out) {
    if (in_.size() - pos_ < 4) return Fail("truncated \\u escape");
    uint32_t v = 0;
    for (int k = 0; k < 4; ++k) {
      int h = HexValue(in_[pos_ + k]);
      if (h < 0) return Fail("invalid \\u escape");
      v = (v << 4) | uint32_t(h);
    }
    pos_ += 4;
    *out = v;
    return true;
  }

  bool ParseString(std::string* out) {
    ++pos_;  // opening quote
    const auto* p = reinterpret_cast<const unsigned char*>(in_.data());
    size_t n = in_.size();
    while (true) {
      // Copy a run of plain ASCII in one go.
      size_t run = pos_;
      while (run < n && p[run] >= 0x20 && p[run] < 0x80 && p[run] != '"' && p[run] != '\\') ++run;
      out->append(in_.data() + pos_, run - pos_);
      pos_ = run;
      if (pos_ >= n) return Fail("unterminated string");
      unsigned char c = p[pos_];
      if (c == '"') { ++pos_; return true; }
      if (c < 0x20) return Fail("control character in string");
      if (c >= 0x80) {
        size_t len = Utf8SequenceLength(p + pos_, n - pos_);
        if (len == 0) return Fail("invalid UTF-8");
        out->append(in_.data() + pos_, len);
        pos_ += len;
        continue;
      }
      // Backslash escape.
      ++pos_;
      if (pos_ >= n) return Fail("unterminated string");
      char e = in_[pos_++];
      switch (e) {
        case '"': out->push_back('"'); break;
        case '\\': out->push_back('\\'); break;
        case '/': out->push_back('/'); break;
        case 'b': out->push_back('\b'); break;
        case 'f': out->push_back('\f'); break;
        case 'n': out->push_back('\n'); break;
        case 'r': out->push_back('\r'); break;
        case 't': out->push_back('\t'); break;
        case 'u': {
          uint32_t cp;
          if (!ParseHex4(&cp)) return false;
          if (cp >= 0xDC00 && cp <= 0xDFFF) return Fail("lone low surrogate in \\u escape");
          if (cp >= 0xD800 && cp <= 0xDBFF) {
            uint32_t lo;
            if (in_.substr(pos_, 2) != "\\u") return Fail("lone high surrogate in \\u escape");
            pos_ += 2;
            if (!ParseHex4(&lo)) return false;
            if (lo < 0xDC00 || lo > 0xDFFF) return Fail("lone high surrogate in \\u escape");
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          }
          AppendUtf8(cp, out);
          break;
        }
        default:
          --pos_;
          return Fail("invalid escape");
      }
    }
  }

  std::string_view in_;
  const ParseOptions& opt_;
  size_t pos_ = 0;
  std::string error_;
  size_t error_pos_ = 0;
};

Result<Value> Value::Number(std::string_view text) {
  if (text.empty() || ScanNumber(text) != text.size())
    return InvalidArgument("json: not a JSON number");
  Value v;
  v.type_ = Type::kNumber;
  v.text_.assign(text);
  return v;
}

bool Value::is_integer() const {
  return type_ == Type::kNumber && text_.find_first_of(".eE") == std::string::npos;
}

const std::string& Value::string_value() const {
  return (type_ == Type::kString || type_ == Type::kNumber) ? text_ : kEmptyString;
}

const Value::Array& Value::array() const { return type_ == Type::kArray ? array_ : kEmptyArray; }

Value::Array& Value::mutable_array() {
  if (type_ == Type::kNull) type_ = Type::kArray;
  return array_;  // empty and unused for other types
}

void Value::Append(Value v) {
  if (type_ == Type::kNull) type_ = Type::kArray;
  if (type_ == Type::kArray) array_.push_back(std::move(v));
}

size_t Value::size() const {
  if (type_ == Type::kArray) return array_.size();
  if (type_ == Type::kObject) return object_.size();
  return 0;
}

const Value::Object& Value::members() const { return type_ == Type::kObject ? object_ : kEmptyObject; }

Value::Object& Value::mutable_members() {
  if (type_ == Type::kNull) type_ = Type::kObject;
  return object_;
}

const Value* Value::Get(std::string_view key) const {
  if (type_ != Type::kObject) return nullptr;
  for (const auto& m : object_)
    if (m.first == key) return &m.second;
  return nullptr;
}

Value* Value::Get(std::string_view key) {
  return const_cast<Value*>(static_cast<const Value*>(this)->Get(key));
}

void Value::Set(std::string_view key, Value v) {
  if (type_ == Type::kNull) type_ = Type::kObject;
  if (type_ != Type::kObject) return;
  if (Value* existing = Get(key)) {
    *existing = std::move(v);
    return;
  }
  object_.emplace_back(std::string(key), std::move(v));
}

bool Value::Remove(std::string_view key) {
  if (type_ != Type::kObject) return false;
  for (auto it = object_.begin(); it != object_.end(); ++it) {
    if (it->first == key) {
      object_.erase(it);
      return true;
    }
  }
  return false;
}

bool operator==(const Value& a, const Value& b) {
  if (a.type_ != b.type_) return false;
  switch (a.type_) {
    case Value::Type::kNull: return true;
    case Value::Type::kBool: return a.bool_ == b.bool_;
    case Value::Type::kNumber:
    case Value::Type::kString: return a.text_ == b.text_;
    case Value::Type::kArray: return a.array_ == b.array_;
    case Value::Type::kObject: return a.object_ == b.object_;
  }
  return false;
}

Result<Value> Parse(std::string_view text, const ParseOptions& options) {
  if (text.size() > options.max_bytes)
    return TooLarge("json: input of " + std::to_string(text.size()) + " bytes exceeds the limit");
  return Parser(text, options).Run();
}

namespace {

void WriteString(const std::string& s, std::string* out) {
  static const char kHex[] = "0123456789abcdef";
  out->push_back('"');
  size_t run = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out->append(s, run, i - run);
    run = i + 1;
    switch (c) {
      case '"': out->append("\\\""); break;
      case '\\': out->append("\\\\"); break;
      case '\b': out->append("\\b"); break;
      case '\f': out->append("\\f"); break;
      case '\n': out->append("\\n"); break;
      case '\r': out->append("\\r"); break;
      case '\t': out->append("\\t"); break;
      default:
        out->append("\\u00");
        out->push_back(kHex[c >> 4]);
        out->push_back(kHex[c & 0xF]);
    }
  }
  out->append(s, run, std::string::npos);
  out->push_back('"');
}

}  // namespace

void SerializeTo(const Value& v, std::string* out) {
  switch (v.type()) {
    case Value::Type::kNull: out->append("null"); return;
    case Value::Type::kBool: out->append(v.bool_value() ? "true" : "false"); return;
    case Value::Type::kNumber: out->append(v.number_text()); return;
    case Value::Type::kString: WriteString(v.string_value(), out); return;
    case Value::Type::kArray: {
      out->push_back('[');
      bool first = true;
      for (const Value& e : v.array()) {
        if (!first) out->push_back(',');
        first = false;
        SerializeTo(e, out);
      }
      out->push_back(']');
      return;
    }
    case Value::Type::kObject: {
      out->push_back('{');
      bool first = true;
      for (const auto& [k, e] : v.members()) {
        if (!first) out->push_back(',');
        first = false;
        WriteString(k, out);
        out->push_back(':');
        SerializeTo(e, out);
      }
      out->push_back('}');
      return;
    }
  }
}

std::string Serialize(const Value& value) {
  std::string out;
  SerializeTo(value, &out);
  return out;
}

}  // namespace medledger::fhir
