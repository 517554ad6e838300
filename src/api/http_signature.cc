#include "api/http_signature.h"

#include <algorithm>
#include <cctype>

#include "crypto/aead.h"
#include "crypto/sha256.h"

namespace medledger::api {

namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

Status Bad(std::string m) { return Unauthenticated("signature: " + std::move(m)); }

// A minimal RFC 8941 parser for what Signature-Input and Signature hold: a
// dictionary whose members are inner lists of strings with parameters, or
// byte sequences.
class SfParser {
 public:
  explicit SfParser(std::string_view s) : s_(s) {}

  bool AtEnd() const { return i_ >= s_.size(); }
  void SkipSp() {
    while (i_ < s_.size() && s_[i_] == ' ') i_++;
  }
  void SkipOws() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t')) i_++;
  }
  bool Eat(char c) {
    if (i_ < s_.size() && s_[i_] == c) {
      i_++;
      return true;
    }
    return false;
  }
  char Peek() const { return i_ < s_.size() ? s_[i_] : '\0'; }

  Result<std::string> Key() {
    char c = Peek();
    if (!(std::islower(static_cast<unsigned char>(c)) || c == '*')) return Bad("malformed key");
    size_t start = i_;
    while (i_ < s_.size()) {
      char d = s_[i_];
      if (std::islower(static_cast<unsigned char>(d)) || std::isdigit(static_cast<unsigned char>(d)) || d == '_' ||
          d == '-' || d == '.' || d == '*')
        i_++;
      else
        break;
    }
    return std::string(s_.substr(start, i_ - start));
  }

  Result<std::string> String() {
    if (!Eat('"')) return Bad("expected a string");
    std::string out;
    while (i_ < s_.size()) {
      char c = s_[i_++];
      if (c == '\\') {
        if (i_ >= s_.size()) return Bad("bad escape");
        char e = s_[i_++];
        if (e != '"' && e != '\\') return Bad("bad escape");
        out.push_back(e);
      } else if (c == '"') {
        return out;
      } else if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) > 0x7e) {
        return Bad("non-printable character in string");
      } else {
        out.push_back(c);
      }
    }
    return Bad("unterminated string");
  }

  Result<SigParam> BareItem(std::string name) {
    SigParam p;
    p.name = std::move(name);
    char c = Peek();
    if (c == '"') {
      ML_ASSIGN_OR_RETURN(p.str_value, String());
      p.kind = SigParam::Kind::kString;
    } else if (c == '-' || std::isdigit(static_cast<unsigned char>(c))) {
      size_t start = i_;
      if (c == '-') i_++;
      size_t digits = i_;
      while (i_ < s_.size() && std::isdigit(static_cast<unsigned char>(s_[i_]))) i_++;
      if (i_ == digits || i_ - digits > 15) return Bad("bad integer");
      if (Peek() == '.') return Bad("decimals are not allowed here");
      p.kind = SigParam::Kind::kInt;
      p.int_value = std::stoll(std::string(s_.substr(start, i_ - start)));
    } else if (c == '?') {
      i_++;
      if (Eat('1')) p.int_value = 1;
      else if (Eat('0')) p.int_value = 0;
      else return Bad("bad boolean");
      p.kind = SigParam::Kind::kBool;
    } else if (std::isalpha(static_cast<unsigned char>(c)) || c == '*') {
      size_t start = i_;
      while (i_ < s_.size() && (std::isalnum(static_cast<unsigned char>(s_[i_])) ||
                                std::string_view("!#$%&'*+-.^_`|~:/").find(s_[i_]) != std::string_view::npos))
        i_++;
      p.kind = SigParam::Kind::kToken;
      p.str_value = std::string(s_.substr(start, i_ - start));
    } else {
      return Bad("unsupported parameter value");
    }
    return p;
  }

  Result<std::vector<SigParam>> Params() {
    std::vector<SigParam> out;
    while (Eat(';')) {
      SkipSp();
      ML_ASSIGN_OR_RETURN(std::string k, Key());
      SigParam p;
      if (Eat('=')) {
        ML_ASSIGN_OR_RETURN(p, BareItem(k));
      } else {
        p.name = k;
        p.kind = SigParam::Kind::kBool;
        p.int_value = 1;
      }
      for (const auto& q : out)
        if (q.name == p.name) return Bad("duplicate parameter " + p.name);
      out.push_back(std::move(p));
    }
    return out;
  }

  Result<SignatureParams> InnerList() {
    SignatureParams sp;
    if (!Eat('(')) return Bad("expected an inner list");
    for (;;) {
      SkipSp();
      if (Eat(')')) break;
      ML_ASSIGN_OR_RETURN(std::string comp, String());
      if (Peek() == ';') return Bad("component parameters are not supported");
      if (Lower(comp) != comp) return Bad("component identifiers must be lower case");
      sp.components.push_back(std::move(comp));
      char c = Peek();
      if (c != ' ' && c != ')') return Bad("malformed inner list");
    }
    ML_ASSIGN_OR_RETURN(sp.params, Params());
    return sp;
  }

  Result<Bytes> ByteSeq() {
    if (!Eat(':')) return Bad("expected a byte sequence");
    size_t start = i_;
    while (i_ < s_.size() && s_[i_] != ':') i_++;
    if (i_ >= s_.size()) return Bad("unterminated byte sequence");
    auto b = Base64Decode(s_.substr(start, i_ - start));
    i_++;
    if (!b.ok()) return Bad("bad base64 in byte sequence");
    return *b;
  }

  // Skips one member value of a kind we do not need.
  Status SkipValue() {
    char c = Peek();
    if (c == '(') {
      auto r = InnerList();
      return r.ok() ? Status::Ok() : r.status();
    }
    if (c == ':') {
      auto r = ByteSeq();
      if (!r.ok()) return r.status();
    } else {
      auto r = BareItem("");
      if (!r.ok()) return r.status();
    }
    auto p = Params();
    return p.ok() ? Status::Ok() : p.status();
  }

  // After a member: OWS, then either the end or "," OWS.
  Result<bool> NextMember() {
    SkipOws();
    if (AtEnd()) return false;
    if (!Eat(',')) return Bad("malformed dictionary");
    SkipOws();
    if (AtEnd()) return Bad("trailing comma");
    return true;
  }

 private:
  std::string_view s_;
  size_t i_ = 0;
};

std::string SerializeString(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

bool IsPrintableAscii(std::string_view s) {
  for (char c : s)
    if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) > 0x7e) return false;
  return true;
}

std::string TargetPath(std::string_view target) {
  size_t q = target.find('?');
  std::string p(target.substr(0, q));
  return p.empty() ? "/" : p;
}

int64_t NowSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

const SigParam* SignatureParams::Find(std::string_view name) const {
  for (const auto& p : params)
    if (p.name == name) return &p;
  return nullptr;
}

std::string SignatureParams::Serialize() const {
  std::string out = "(";
  for (size_t i = 0; i < components.size(); ++i) {
    if (i) out.push_back(' ');
    out += SerializeString(components[i]);
  }
  out.push_back(')');
  for (const auto& p : params) {
    out.push_back(';');
    out += p.name;
    switch (p.kind) {
      case SigParam::Kind::kInt:
        out += "=" + std::to_string(p.int_value);
        break;
      case SigParam::Kind::kString:
        out += "=" + SerializeString(p.str_value);
        break;
      case SigParam::Kind::kToken:
        out += "=" + p.str_value;
        break;
      case SigParam::Kind::kBool:
        if (!p.int_value) out += "=?0";
        break;
    }
  }
  return out;
}

Result<std::string> ComponentValue(const http::Request& req, std::string_view component) {
  if (component.empty()) return InvalidArgument("empty component");
  if (component[0] == '@') {
    if (component == "@method") return req.method;
    if (component == "@path") return TargetPath(req.target);
    if (component == "@query") {
      size_t q = req.target.find('?');
      return q == std::string::npos ? std::string("?") : req.target.substr(q);
    }
    if (component == "@request-target") return req.target;
    if (component == "@authority" || component == "@target-uri") {
      auto host = req.Header("host");
      if (!host) return InvalidArgument("no Host header for " + std::string(component));
      std::string authority = Lower(Trim(*host));
      if (component == "@authority") return authority;
      return "http://" + authority + req.target;
    }
    return InvalidArgument("unsupported derived component " + std::string(component));
  }
  bool found = false;
  std::string value;
  for (const auto& [name, v] : req.headers) {
    if (Lower(name) != component) continue;
    if (found) value += ", ";
    value += Trim(v);
    found = true;
  }
  if (!found) return InvalidArgument("covered header " + std::string(component) + " is absent");
  return value;
}

Result<std::string> SignatureBase(const http::Request& req, const SignatureParams& params) {
  std::string base;
  for (size_t i = 0; i < params.components.size(); ++i) {
    const auto& c = params.components[i];
    for (size_t j = 0; j < i; ++j)
      if (params.components[j] == c) return InvalidArgument("component " + c + " covered twice");
    ML_ASSIGN_OR_RETURN(std::string v, ComponentValue(req, c));
    if (!IsPrintableAscii(v)) return InvalidArgument("component " + c + " is not printable ASCII");
    base += SerializeString(c) + ": " + v + "\n";
  }
  base += "\"@signature-params\": " + params.Serialize();
  return base;
}

Result<std::pair<std::string, SignatureParams>> ParseSignatureInput(std::string_view field, std::string_view label) {
  SfParser p(field);
  p.SkipSp();
  for (;;) {
    ML_ASSIGN_OR_RETURN(std::string key, p.Key());
    if (!p.Eat('=')) return Bad("Signature-Input member without a value");
    if (label.empty() || key == label) {
      ML_ASSIGN_OR_RETURN(SignatureParams sp, p.InnerList());
      return std::make_pair(key, std::move(sp));
    }
    ML_RETURN_IF_ERROR(p.SkipValue());
    ML_ASSIGN_OR_RETURN(bool more, p.NextMember());
    if (!more) break;
  }
  return Bad("no Signature-Input member " + std::string(label));
}

Result<Bytes> ParseSignature(std::string_view field, std::string_view label) {
  SfParser p(field);
  p.SkipSp();
  for (;;) {
    ML_ASSIGN_OR_RETURN(std::string key, p.Key());
    if (!p.Eat('=')) return Bad("Signature member without a value");
    if (key == label) return p.ByteSeq();
    ML_RETURN_IF_ERROR(p.SkipValue());
    ML_ASSIGN_OR_RETURN(bool more, p.NextMember());
    if (!more) break;
  }
  return Bad("no Signature member for label " + std::string(label));
}

std::string ContentDigest(std::string_view body) {
  Hash32 h = crypto::Sha256(body);
  return "sha-256=:" + Base64Encode(h.data(), h.size()) + ":";
}

static bool CoversAll(const SignatureParams& sp, const std::vector<std::string>& needed, std::string* missing) {
  for (const auto& c : needed)
    if (std::find(sp.components.begin(), sp.components.end(), c) == sp.components.end()) {
      *missing = c;
      return false;
    }
  return true;
}

std::vector<std::string> RequiredClientComponents(const http::Request& req) {
  std::vector<std::string> c = {"@method"};
  for (std::string_view h : kCoveredHeaders)
    if (req.Header(h)) c.emplace_back(h);
  return c;
}

Result<SignatureCheck> CheckSignature(const http::Request& req, const SignatureRules& rules, int64_t now_s) {
  auto input = req.Header(rules.input_field);
  auto sig_field = req.Header(rules.signature_field);
  if (!input || !sig_field)
    return Bad("the request is not signed (" + std::string(rules.input_field) + " and " +
               std::string(rules.signature_field) + " required)");
  auto parsed = ParseSignatureInput(*input, rules.label);
  if (!parsed.ok()) return parsed.status();
  const auto& [label, sp] = *parsed;
  auto sig_bytes = ParseSignature(*sig_field, label);
  if (!sig_bytes.ok()) return sig_bytes.status();
  if (sig_bytes->size() != 64) return Bad("an ed25519 signature is 64 bytes");

  // Parameters.
  const SigParam* alg = sp.Find("alg");
  if (!alg || alg->kind != SigParam::Kind::kString || alg->str_value != "ed25519")
    return Bad("alg=\"ed25519\" is required");
  const SigParam* keyid = sp.Find("keyid");
  if (!keyid || keyid->kind != SigParam::Kind::kString) return Bad("keyid is required");
  auto pk = crypto::ParsePublicId(keyid->str_value);
  if (!pk.ok()) return Bad("keyid must be a public id (64 hex characters)");
  const SigParam* created = sp.Find("created");
  if (!created || created->kind != SigParam::Kind::kInt) return Bad("created is required");
  if (created->int_value < now_s - rules.max_age.count())
    return Bad("stale: created is older than " + std::to_string(rules.max_age.count()) + " s");
  if (created->int_value > now_s + rules.max_skew.count())
    return Bad("created is more than " + std::to_string(rules.max_skew.count()) + " s in the future");
  if (const SigParam* exp = sp.Find("expires")) {
    if (exp->kind != SigParam::Kind::kInt) return Bad("expires must be an integer");
    if (exp->int_value <= now_s) return Bad("expired");
  }
  const SigParam* nonce = sp.Find("nonce");
  if (!nonce || nonce->kind != SigParam::Kind::kString) return Bad("nonce is required");
  if (nonce->str_value.size() < 8 || nonce->str_value.size() > 128) return Bad("nonce must be 8 to 128 characters");

  // Coverage: what the server acts on must be signed.
  auto covers = [&](std::string_view c) {
    return std::find(sp.components.begin(), sp.components.end(), c) != sp.components.end();
  };
  std::string missing;
  if (!CoversAll(sp, rules.required(req), &missing)) return Bad(missing + " must be covered");
  if (!covers("@path") && !covers("@target-uri")) return Bad("@path or @target-uri must be covered");
  if (req.target.find('?') != std::string::npos && !covers("@query") && !covers("@target-uri") &&
      !covers("@request-target"))
    return Bad("@query must be covered");
  if (!req.body.empty()) {
    auto digest = req.Header("content-digest");
    if (!digest || !covers("content-digest")) return Bad("a request with a body needs a covered Content-Digest");
    if (std::string(Trim(*digest)) != ContentDigest(req.body)) return Bad("Content-Digest does not match the body");
  }

  auto base = SignatureBase(req, sp);
  if (!base.ok()) return Bad(base.status().message());
  crypto::Signature sig;
  std::copy(sig_bytes->begin(), sig_bytes->end(), sig.begin());
  if (!crypto::Verify(*pk, reinterpret_cast<const uint8_t*>(base->data()), base->size(), sig))
    return Bad("the signature does not verify");
  SignatureCheck out;
  out.pk = *pk;
  out.keyid = keyid->str_value;
  out.nonce = nonce->str_value;
  out.created = created->int_value;
  return out;
}

Result<SignatureCheck> CheckRequestSignature(const http::Request& req, int64_t now_s) {
  return CheckSignature(req, SignatureRules{}, now_s);
}

http::HeaderList SignRequest(const crypto::KeyPair& key, std::string_view method, std::string_view target,
                             std::string_view body, http::HeaderList headers, std::optional<int64_t> created,
                             std::string nonce) {
  if (!body.empty()) {
    headers.emplace_back("Content-Digest", ContentDigest(body));
    // The server reads the body by its type, so the type is signed too.
    bool typed = std::any_of(headers.begin(), headers.end(), [](const auto& h) { return Lower(h.first) == "content-type"; });
    if (!typed) headers.emplace_back("Content-Type", "application/json");
  }
  if (nonce.empty()) nonce = crypto::RandomHexId();
  http::Request req;
  req.method = std::string(method);
  req.target = std::string(target);
  req.headers = headers;
  SignatureParams sp;
  sp.components = {"@method", "@path", "@query"};
  for (std::string_view h : kCoveredHeaders)
    if (req.Header(h)) sp.components.emplace_back(h);
  sp.params.push_back({"created", SigParam::Kind::kInt, created.value_or(NowSeconds()), ""});
  sp.params.push_back({"keyid", SigParam::Kind::kString, 0, key.id()});
  sp.params.push_back({"alg", SigParam::Kind::kString, 0, "ed25519"});
  sp.params.push_back({"nonce", SigParam::Kind::kString, 0, nonce});
  auto base = SignatureBase(req, sp);
  // Every component above is present by construction; a non-printable header
  // value is the only failure, and then the request goes unsigned (and the
  // server answers 401).
  if (!base.ok()) return headers;
  crypto::Signature sig = key.Sign(reinterpret_cast<const uint8_t*>(base->data()), base->size());
  headers.emplace_back("Signature-Input", "sig1=" + sp.Serialize());
  headers.emplace_back("Signature", "sig1=:" + Base64Encode(sig.data(), sig.size()) + ":");
  return headers;
}

}  // namespace medledger::api
