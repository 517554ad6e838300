#include "api/http_signature.h"

#include <gtest/gtest.h>

namespace medledger::api {
namespace {

// RFC 9421 Appendix B.1.4: the test-key-ed25519 key pair (JWK "d" and "x").
constexpr char kRfcSeedHex[] = "9f8362f87a484a954e6e740c5b4c0e84229139a20aa8ab56ff66586f6a7d29c5";
constexpr char kRfcPublicHex[] = "26b40b8f93fff3d897112f7ebc582b232dbd72517d082fe83cfb30ddce43d1bb";

crypto::KeyPair RfcKey() {
  crypto::InitCrypto();
  auto seed = FromHexFixed<32>(kRfcSeedHex);
  return crypto::KeyPair::FromSeed(*seed);
}

// RFC 9421 Appendix B.2: the "test-request" message.
http::Request RfcTestRequest() {
  http::Request r;
  r.method = "POST";
  r.target = "/foo?param=Value&Pet=dog";
  r.path = "/foo";
  r.headers = {{"Host", "example.com"},
               {"Date", "Tue, 20 Apr 2021 02:07:55 GMT"},
               {"Content-Type", "application/json"},
               {"Content-Digest",
                "sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNyealdVLvRwEmTHWXvJwew==:"},
               {"Content-Length", "18"}};
  r.body = "{\"hello\": \"world\"}";
  return r;
}

TEST(HttpSignature, RfcB26SignatureBaseAndSignature) {
  // RFC 9421 B.2.6 "Signing a Request Using ed25519".
  auto parsed = ParseSignatureInput(
      "sig-b26=(\"date\" \"@method\" \"@path\" \"@authority\" \"content-type\" \"content-length\");"
      "created=1618884473;keyid=\"test-key-ed25519\"");
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->first, "sig-b26");
  auto base = SignatureBase(RfcTestRequest(), parsed->second);
  ASSERT_TRUE(base.ok()) << base.status().ToString();
  EXPECT_EQ(*base,
            "\"date\": Tue, 20 Apr 2021 02:07:55 GMT\n"
            "\"@method\": POST\n"
            "\"@path\": /foo\n"
            "\"@authority\": example.com\n"
            "\"content-type\": application/json\n"
            "\"content-length\": 18\n"
            "\"@signature-params\": (\"date\" \"@method\" \"@path\" \"@authority\" \"content-type\" "
            "\"content-length\");created=1618884473;keyid=\"test-key-ed25519\"");
  auto kp = RfcKey();
  EXPECT_EQ(kp.id(), kRfcPublicHex);
  auto sig = kp.Sign(reinterpret_cast<const uint8_t*>(base->data()), base->size());
  // Ed25519 is deterministic: the RFC's Signature value, byte for byte.
  EXPECT_EQ(Base64Encode(sig.data(), sig.size()),
            "wqcAqbmYJ2ji2glfAMaRy4gruYYnx2nEFN2HN6jrnDnQCK1u02Gb04v9EDgwUPiu4A0w6vuQv5lIp5WPpBKRCw==");
  auto from_header = ParseSignature(
      "sig-b26=:wqcAqbmYJ2ji2glfAMaRy4gruYYnx2nEFN2HN6jrnDnQCK1u02Gb04v9EDgwUPiu4A0w6vuQv5lIp5WPpBKRCw==:",
      "sig-b26");
  ASSERT_TRUE(from_header.ok());
  crypto::Signature s2;
  std::copy(from_header->begin(), from_header->end(), s2.begin());
  EXPECT_TRUE(crypto::Verify(kp.public_key(), reinterpret_cast<const uint8_t*>(base->data()), base->size(), s2));
}

TEST(HttpSignature, RfcB22SignatureParamsAndQuery) {
  // B.2.2 "Selective Covered Components": parameter order is kept as sent,
  // and the serialisation is the RFC's.
  auto parsed = ParseSignatureInput(
      "sig-b22=(\"@authority\" \"content-digest\" \"@query-param\";name=\"Pet\");"
      "created=1618884473;keyid=\"test-key-rsa-pss\";tag=\"header-example\"");
  EXPECT_FALSE(parsed.ok());  // component parameters are refused, not ignored
  auto p2 = ParseSignatureInput(
      "other=:AAAA:, sig-b21=();created=1618884473;keyid=\"test-key-rsa-pss\";nonce=\"b3k2pp5k7z-50gnwp.yemd\"",
      "sig-b21");
  ASSERT_TRUE(p2.ok()) << p2.status().ToString();
  EXPECT_EQ(p2->second.Serialize(), "();created=1618884473;keyid=\"test-key-rsa-pss\";nonce=\"b3k2pp5k7z-50gnwp.yemd\"");
  // §2.2.7: @query keeps the leading '?', and is "?" when there is none.
  EXPECT_EQ(*ComponentValue(RfcTestRequest(), "@query"), "?param=Value&Pet=dog");
  http::Request r;
  r.method = "GET";
  r.target = "/fhir/Patient/1";
  EXPECT_EQ(*ComponentValue(r, "@query"), "?");
  EXPECT_EQ(*ComponentValue(r, "@path"), "/fhir/Patient/1");
  EXPECT_EQ(*ComponentValue(RfcTestRequest(), "@target-uri"), "http://example.com/foo?param=Value&Pet=dog");
  // Repeated header fields are joined with ", ", values trimmed.
  r.headers = {{"X-A", " one "}, {"x-a", "two"}};
  EXPECT_EQ(*ComponentValue(r, "x-a"), "one, two");
  EXPECT_FALSE(ComponentValue(r, "x-b").ok());
}

struct Fixture {
  crypto::KeyPair key = crypto::KeyPair::Generate();
  int64_t now = 1'700'000'000;

  http::Request Make(std::string method, std::string target, std::string body, http::HeaderList extra,
                     int64_t created, std::string nonce = {}) {
    http::Request r;
    r.method = method;
    r.target = target;
    r.path = target.substr(0, target.find('?'));
    r.body = body;
    r.headers = SignRequest(key, method, target, body, extra, created, nonce);
    r.headers.emplace_back("Host", "127.0.0.1:1");
    return r;
  }
};

TEST(HttpSignature, SignedRequestVerifies) {
  crypto::InitCrypto();
  Fixture f;
  auto r = f.Make("GET", "/fhir/Observation/abc", "", {{"X-Purpose-Of-Use", "treatment"}}, f.now);
  auto pk = CheckRequestSignature(r, f.now);
  ASSERT_TRUE(pk.ok()) << pk.status().ToString();
  EXPECT_EQ(pk->pk, f.key.public_key());
  EXPECT_NE(r.Header("signature-input")->find("\"x-purpose-of-use\""), std::string::npos);
  EXPECT_NE(r.Header("signature-input")->find("alg=\"ed25519\""), std::string::npos);
}

TEST(HttpSignature, StaleAndFutureRejected) {
  crypto::InitCrypto();
  Fixture f;
  auto stale = f.Make("GET", "/fhir/Observation/abc", "", {}, f.now - 301);
  auto st = CheckRequestSignature(stale, f.now);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.status().message().find("stale"), std::string::npos);
  auto future = f.Make("GET", "/fhir/Observation/abc", "", {}, f.now + 31);
  EXPECT_FALSE(CheckRequestSignature(future, f.now).ok());
}

TEST(HttpSignature, CoverageAndTamperingRejected) {
  crypto::InitCrypto();
  Fixture f;
  // Unsigned.
  http::Request plain;
  plain.method = "GET";
  plain.target = "/fhir/Observation/abc";
  EXPECT_EQ(CheckRequestSignature(plain, f.now).status().code(), StatusCode::kUnauthenticated);
  // A purpose header added after signing is not covered.
  auto r = f.Make("GET", "/fhir/Observation/abc", "", {}, f.now);
  r.headers.emplace_back("X-Purpose-Of-Use", "ETREAT");
  auto st = CheckRequestSignature(r, f.now);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.status().message().find("x-purpose-of-use must be covered"), std::string::npos);
  // Same for a break-glass reason.
  auto bg = f.Make("GET", "/fhir/Observation/abc", "", {{"X-Purpose-Of-Use", "ETREAT"}}, f.now);
  bg.headers.emplace_back("X-Break-Glass-Reason", "unconscious");
  EXPECT_FALSE(CheckRequestSignature(bg, f.now).ok());
  // A changed purpose value breaks the signature.
  auto changed = f.Make("GET", "/fhir/Observation/abc", "", {{"X-Purpose-Of-Use", "treatment"}}, f.now);
  for (auto& [n, v] : changed.headers)
    if (n == "X-Purpose-Of-Use") v = "research";
  st = CheckRequestSignature(changed, f.now);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.status().message().find("does not verify"), std::string::npos);
  // Another path.
  auto moved = f.Make("GET", "/fhir/Observation/abc", "", {}, f.now);
  moved.target = "/fhir/Observation/xyz";
  EXPECT_FALSE(CheckRequestSignature(moved, f.now).ok());
  // Another query.
  auto q = f.Make("GET", "/fhir/AuditEvent?patient=a", "", {}, f.now);
  q.target = "/fhir/AuditEvent?patient=b";
  EXPECT_FALSE(CheckRequestSignature(q, f.now).ok());
  // A changed body no longer matches its digest.
  auto post = f.Make("POST", "/fhir/AuditEvent", "{\"a\":1}", {}, f.now);
  post.body = "{\"a\":2}";
  st = CheckRequestSignature(post, f.now);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.status().message().find("Content-Digest"), std::string::npos);
  // A keyid naming someone else.
  auto imp = f.Make("GET", "/fhir/Observation/abc", "", {}, f.now);
  auto other = crypto::KeyPair::Generate();
  for (auto& [n, v] : imp.headers)
    if (n == "Signature-Input") v.replace(v.find(f.key.id()), 64, other.id());
  EXPECT_FALSE(CheckRequestSignature(imp, f.now).ok());
  // The RFC's own example lacks nonce and alg: refused by policy.
  auto rfc = RfcTestRequest();
  rfc.headers.emplace_back("Signature-Input",
                           "sig-b26=(\"date\" \"@method\" \"@path\" \"@authority\" \"content-type\" "
                           "\"content-length\");created=1618884473;keyid=\"test-key-ed25519\"");
  rfc.headers.emplace_back(
      "Signature", "sig-b26=:wqcAqbmYJ2ji2glfAMaRy4gruYYnx2nEFN2HN6jrnDnQCK1u02Gb04v9EDgwUPiu4A0w6vuQv5lIp5WPpBKRCw==:");
  EXPECT_FALSE(CheckRequestSignature(rfc, 1618884473).ok());
  // Garbage headers.
  http::Request junk = plain;
  junk.headers = {{"Signature-Input", "sig1=(\"@method\""}, {"Signature", "sig1=:%%%:"}};
  EXPECT_FALSE(CheckRequestSignature(junk, f.now).ok());
}

// Every header a handler acts on must be signed: a proxy that adds or swaps
// one (the patient of a write, a precondition, the type of the body) is
// refused, while the same headers signed by the client pass.
TEST(HttpSignature, ActedOnHeadersMustBeCovered) {
  crypto::InitCrypto();
  Fixture f;
  for (const char* h : {"X-Medledger-Patient", "If-None-Exist", "If-Match", "Prefer", "Content-Type",
                        "X-Medledger-Node", "X-Medledger-Custodian"}) {
    auto added = f.Make("PUT", "/fhir/Patient/p1", "", {}, f.now);
    added.headers.emplace_back(h, "swapped");
    auto st = CheckRequestSignature(added, f.now);
    ASSERT_FALSE(st.ok()) << h;
    EXPECT_NE(st.status().message().find("must be covered"), std::string::npos) << h << ": " << st.status().message();
    auto signed_too = f.Make("PUT", "/fhir/Patient/p1", "{}", {{h, "original"}}, f.now);
    EXPECT_TRUE(CheckRequestSignature(signed_too, f.now).ok()) << h;
    for (auto& [n, v] : signed_too.headers)
      if (n == h) v = "swapped";
    EXPECT_FALSE(CheckRequestSignature(signed_too, f.now).ok()) << h;
  }
  // A body is always typed, and the type is signed.
  auto post = f.Make("POST", "/fhir/Observation", "{\"a\":1}", {}, f.now);
  EXPECT_NE(post.Header("signature-input")->find("\"content-type\""), std::string::npos);
}

// `created` may run at most 30 s ahead of the verifier's clock: a capture
// signed far in the future would otherwise stay usable for the whole window.
TEST(HttpSignature, FutureSkewIsThirtySeconds) {
  crypto::InitCrypto();
  Fixture f;
  EXPECT_TRUE(CheckRequestSignature(f.Make("GET", "/fhir/Observation/abc", "", {}, f.now + 30), f.now).ok());
  auto st = CheckRequestSignature(f.Make("GET", "/fhir/Observation/abc", "", {}, f.now + 31), f.now);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.status().message().find("future"), std::string::npos);
  EXPECT_FALSE(CheckRequestSignature(f.Make("GET", "/fhir/Observation/abc", "", {}, f.now + 295), f.now).ok());
}

}  // namespace
}  // namespace medledger::api
