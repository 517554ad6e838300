#include "state/module.h"

#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "model/value.h"

namespace medledger::state {

namespace {
[[noreturn]] void Bad(std::string msg) {
  throw PayloadError{model::Verdict::No(model::Reject::kInvalidPayload, std::move(msg))};
}
}  // namespace

std::string RequireString(const nlohmann::json& p, const char* name, size_t max_len) {
  auto it = p.find(name);
  if (it == p.end() || !it->is_string()) Bad(std::string("payload field '") + name + "' must be a string");
  const auto& s = it->get_ref<const std::string&>();
  if (s.empty() || s.size() > max_len) Bad(std::string("payload field '") + name + "' is empty or too long");
  return s;
}

std::optional<std::string> OptionalString(const nlohmann::json& p, const char* name, size_t max_len) {
  auto it = p.find(name);
  if (it == p.end() || it->is_null()) return std::nullopt;
  if (!it->is_string()) Bad(std::string("payload field '") + name + "' must be a string");
  const auto& s = it->get_ref<const std::string&>();
  if (s.size() > max_len) Bad(std::string("payload field '") + name + "' is too long");
  return s;
}

crypto::PublicKey RequireKey(const nlohmann::json& p, const char* name) {
  auto pk = crypto::ParsePublicId(RequireString(p, name, 64));
  if (!pk.ok()) Bad(std::string("payload field '") + name + "' is not a public id");
  return *pk;
}

Hash32 RequireHash(const nlohmann::json& p, const char* name) {
  auto h = FromHexFixed<32>(RequireString(p, name, 64));
  if (!h.ok()) Bad(std::string("payload field '") + name + "' is not a 32-byte hex hash");
  return *h;
}

int64_t RequireInt(const nlohmann::json& p, const char* name) {
  auto it = p.find(name);
  if (it == p.end() || !it->is_number_integer()) Bad(std::string("payload field '") + name + "' must be an integer");
  return it->get<int64_t>();
}

Bytes EncodeState(const nlohmann::json& j) {
  auto b = model::EncodeValue(j);
  // State documents are built by our own code from validated input; a
  // failure here is a programming error, not bad input.
  if (!b.ok()) throw std::logic_error("state value not encodable: " + b.status().message());
  return std::move(*b);
}

std::optional<nlohmann::json> DecodeState(const std::optional<Bytes>& b) {
  if (!b) return std::nullopt;
  auto j = model::DecodeValue(*b);
  if (!j.ok()) return std::nullopt;
  return std::move(*j);
}


void BadPayload(std::string msg) { throw PayloadError{model::Verdict::No(model::Reject::kInvalidPayload, std::move(msg))}; }

bool IsHexId(std::string_view s) {
  if (s.size() < 16 || s.size() > 64) return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

bool IsCode(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
           c == ':' || c == '-';
  });
}

std::string RequireHexId(const nlohmann::json& p, const char* name) {
  auto it = p.find(name);
  if (it == p.end() || !it->is_string() || !IsHexId(it->get_ref<const std::string&>()))
    BadPayload(std::string("payload field '") + name + "' must be 16 to 64 lower-case hex characters");
  return it->get<std::string>();
}

std::optional<std::string> OptionalHexId(const nlohmann::json& p, const char* name) {
  auto it = p.find(name);
  if (it == p.end() || it->is_null()) return std::nullopt;
  return RequireHexId(p, name);
}

std::string RequireCode(const nlohmann::json& p, const char* name) {
  auto it = p.find(name);
  if (it == p.end() || !it->is_string() || !IsCode(it->get_ref<const std::string&>()))
    BadPayload(std::string("payload field '") + name + "' must be a code of 1 to 64 characters [A-Za-z0-9._:-]");
  return it->get<std::string>();
}

std::optional<std::string> OptionalCode(const nlohmann::json& p, const char* name) {
  auto it = p.find(name);
  if (it == p.end() || it->is_null()) return std::nullopt;
  return RequireCode(p, name);
}

std::string Pad(uint64_t v, int width) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%0*llu", width, static_cast<unsigned long long>(v));
  return buf;
}

std::optional<nlohmann::json> LoadDoc(const StateReader& st, std::string_view key) {
  return DecodeState(st.Get(key));
}

}  // namespace medledger::state
