#include "model/value.h"

#include <algorithm>
#include <nlohmann/json.hpp>

namespace medledger::model {

namespace {

enum Tag : uint8_t { kNull = 0, kFalse = 1, kTrue = 2, kInt = 3, kString = 4, kArray = 5, kObject = 6 };
constexpr size_t kMaxString = 1 << 20;
constexpr uint32_t kMaxItems = 1 << 16;

bool ValidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = s[i];
    size_t len;
    uint32_t cp;
    if (c < 0x80) { i++; continue; }
    else if ((c & 0xE0) == 0xC0) { len = 2; cp = c & 0x1F; }
    else if ((c & 0xF0) == 0xE0) { len = 3; cp = c & 0x0F; }
    else if ((c & 0xF8) == 0xF0) { len = 4; cp = c & 0x07; }
    else return false;
    if (i + len > s.size()) return false;
    for (size_t k = 1; k < len; ++k) {
      unsigned char cc = s[i + k];
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
        cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
      return false;
    i += len;
  }
  return true;
}

Status Encode(const nlohmann::json& v, ByteWriter& w, size_t depth) {
  if (depth > kMaxValueDepth) return InvalidArgument("payload nested too deeply");
  switch (v.type()) {
    case nlohmann::json::value_t::null: w.U8(kNull); return Status::Ok();
    case nlohmann::json::value_t::boolean: w.U8(v.get<bool>() ? kTrue : kFalse); return Status::Ok();
    case nlohmann::json::value_t::number_integer:
      w.U8(kInt);
      w.U64(uint64_t(v.get<int64_t>()));
      return Status::Ok();
    case nlohmann::json::value_t::number_unsigned: {
      uint64_t u = v.get<uint64_t>();
      if (u > uint64_t(INT64_MAX)) return InvalidArgument("payload integer out of int64 range");
      w.U8(kInt);
      w.U64(u);
      return Status::Ok();
    }
    case nlohmann::json::value_t::number_float:
      return InvalidArgument("payload may not contain floating-point numbers; use a string");
    case nlohmann::json::value_t::string: {
      const auto& s = v.get_ref<const std::string&>();
      if (s.size() > kMaxString) return InvalidArgument("payload string too long");
      if (!ValidUtf8(s)) return InvalidArgument("payload string is not valid UTF-8");
      w.U8(kString);
      w.Var(s);
      return Status::Ok();
    }
    case nlohmann::json::value_t::array:
      if (v.size() > kMaxItems) return InvalidArgument("payload array too long");
      w.U8(kArray);
      w.U32(uint32_t(v.size()));
      for (const auto& e : v) ML_RETURN_IF_ERROR(Encode(e, w, depth + 1));
      return Status::Ok();
    case nlohmann::json::value_t::object: {
      if (v.size() > kMaxItems) return InvalidArgument("payload object too large");
      // nlohmann's default object is a std::map: keys already sorted bytewise, unique.
      w.U8(kObject);
      w.U32(uint32_t(v.size()));
      for (auto it = v.begin(); it != v.end(); ++it) {
        if (!ValidUtf8(it.key())) return InvalidArgument("payload key is not valid UTF-8");
        w.Var(it.key());
        ML_RETURN_IF_ERROR(Encode(it.value(), w, depth + 1));
      }
      return Status::Ok();
    }
    default:
      return InvalidArgument("unsupported JSON value in payload");
  }
}

// A u32-length-prefixed string read straight into its destination (one
// allocation; ByteReader::VarString makes two).
bool ReadString(ByteReader& r, std::string* out) {
  uint32_t n = r.U32();
  if (!r.ok() || n > kMaxString || n > r.remaining()) return false;
  out->resize(n);
  return r.Raw(reinterpret_cast<uint8_t*>(out->data()), n);
}

Status Decode(ByteReader& r, nlohmann::json* out, size_t depth) {
  if (depth > kMaxValueDepth) return InvalidArgument("payload nested too deeply");
  uint8_t tag = r.U8();
  if (!r.ok()) return InvalidArgument("truncated payload");
  switch (tag) {
    case kNull: *out = nullptr; return Status::Ok();
    case kFalse: *out = false; return Status::Ok();
    case kTrue: *out = true; return Status::Ok();
    case kInt: {
      uint64_t u = r.U64();
      if (!r.ok()) return InvalidArgument("truncated payload integer");
      *out = int64_t(u);
      return Status::Ok();
    }
    case kString: {
      std::string s;
      if (!ReadString(r, &s)) return InvalidArgument("truncated payload string");
      if (!ValidUtf8(s)) return InvalidArgument("payload string is not valid UTF-8");
      *out = std::move(s);
      return Status::Ok();
    }
    case kArray: {
      uint32_t n = r.U32();
      if (!r.ok() || n > kMaxItems || n > r.remaining()) return InvalidArgument("bad payload array");
      *out = nlohmann::json::array();
      for (uint32_t i = 0; i < n; ++i) {
        nlohmann::json e;
        ML_RETURN_IF_ERROR(Decode(r, &e, depth + 1));
        out->push_back(std::move(e));
      }
      return Status::Ok();
    }
    case kObject: {
      uint32_t n = r.U32();
      if (!r.ok() || n > kMaxItems || n > r.remaining()) return InvalidArgument("bad payload object");
      *out = nlohmann::json::object();
      auto& obj = out->get_ref<nlohmann::json::object_t&>();
      const std::string* prev = nullptr;  // the last key inserted; map keys do not move
      for (uint32_t i = 0; i < n; ++i) {
        std::string key;
        if (!ReadString(r, &key)) return InvalidArgument("truncated payload key");
        if (prev && !(*prev < key)) return InvalidArgument("payload object keys not in canonical order");
        if (!ValidUtf8(key)) return InvalidArgument("payload key is not valid UTF-8");
        nlohmann::json e;
        ML_RETURN_IF_ERROR(Decode(r, &e, depth + 1));
        // Keys arrive in ascending order, so each one goes at the end.
        auto it = obj.emplace_hint(obj.end(), std::move(key), std::move(e));
        prev = &it->first;
      }
      return Status::Ok();
    }
    default:
      return InvalidArgument("unknown payload value tag");
  }
}

}  // namespace

Status EncodeValueTo(const nlohmann::json& v, Bytes* out) {
  ByteWriter w(out);
  return Encode(v, w, 0);
}

Result<Bytes> EncodeValue(const nlohmann::json& v) {
  // Encoded into a reused buffer and copied out at its exact size: one
  // allocation instead of one per doubling, and no slack kept in state.
  thread_local Bytes scratch;
  scratch.clear();
  ML_RETURN_IF_ERROR(EncodeValueTo(v, &scratch));
  Bytes out(scratch.begin(), scratch.end());
  if (scratch.capacity() > (size_t{1} << 20)) Bytes().swap(scratch);  // don't keep a huge one
  return out;
}

bool ReadStringObject(const Bytes& bytes, size_t max_fields,
                      std::vector<std::pair<std::string_view, std::string_view>>* fields) {
  fields->clear();
  ByteReader r(bytes);
  if (r.U8() != kObject) return false;
  uint32_t n = r.U32();
  if (!r.ok() || n > max_fields) return false;
  auto view = [&](std::string_view* out) {
    uint32_t len = r.U32();
    if (!r.ok() || len > kMaxString || len > r.remaining()) return false;
    *out = std::string_view(reinterpret_cast<const char*>(r.pos()), len);
    return r.Skip(len) && ValidUtf8(*out);
  };
  for (uint32_t i = 0; i < n; ++i) {
    std::string_view key, value;
    if (!view(&key)) return false;
    if (!fields->empty() && !(fields->back().first < key)) return false;  // canonical: ascending, unique
    if (r.U8() != kString || !view(&value)) return false;
    fields->emplace_back(key, value);
  }
  return r.ok() && r.AtEnd();
}

ObjectWriter::ObjectWriter(Bytes* out, uint32_t fields) : out_(out), w_(out) {
  w_.U8(kObject);
  w_.U32(fields);
}

ObjectWriter& ObjectWriter::Int(std::string_view key, int64_t v) {
  w_.Var(key);
  w_.U8(kInt);
  w_.U64(uint64_t(v));
  return *this;
}

ObjectWriter& ObjectWriter::String(std::string_view key, std::string_view v) {
  w_.Var(key);
  w_.U8(kString);
  w_.Var(v);
  return *this;
}

ObjectWriter& ObjectWriter::Hex(std::string_view key, const uint8_t* p, size_t n) {
  static constexpr char kDigits[] = "0123456789abcdef";
  w_.Var(key);
  w_.U8(kString);
  w_.U32(uint32_t(2 * n));
  size_t at = out_->size();
  out_->resize(at + 2 * n);
  uint8_t* d = out_->data() + at;
  for (size_t i = 0; i < n; ++i) {
    d[2 * i] = uint8_t(kDigits[p[i] >> 4]);
    d[2 * i + 1] = uint8_t(kDigits[p[i] & 15]);
  }
  return *this;
}

Result<nlohmann::json> DecodeValue(const uint8_t* p, size_t n) {
  ByteReader r(p, n);
  nlohmann::json v;
  ML_RETURN_IF_ERROR(Decode(r, &v, 0));
  if (!r.AtEnd()) return InvalidArgument("trailing bytes after payload");
  return v;
}

Result<nlohmann::json> DecodeValue(const Bytes& b) { return DecodeValue(b.data(), b.size()); }

}  // namespace medledger::model
