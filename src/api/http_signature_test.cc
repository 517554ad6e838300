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
  NonceCache nonces;
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
  auto pk = VerifyRequestSignatureAt(r, std::chrono::seconds(300), f.nonces, f.now);
  ASSERT_TRUE(pk.ok()) << pk.status().ToString();
  EXPECT_EQ(*pk, f.key.public_key());
  EXPECT_NE(r.Header("signature-input")->find("\"x-purpose-of-use\""), std::string::npos);
  EXPECT_NE(r.Header("signature-input")->find("alg=\"ed25519\""), std::string::npos);
}

TEST(HttpSignature, ReplayedNonceRejected) {
  crypto::InitCrypto();
  Fixture f;
  auto r = f.Make("GET", "/fhir/Observation/abc", "", {}, f.now);
  ASSERT_TRUE(VerifyRequestSignatureAt(r, std::chrono::seconds(300), f.nonces, f.now).ok());
  auto again = VerifyRequestSignatureAt(r, std::chrono::seconds(300), f.nonces, f.now + 1);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().code(), StatusCode::kUnauthenticated);
  EXPECT_NE(again.status().message().find("replayed"), std::string::npos);
  // Another key may use the same nonce.
  Fixture g;
  auto other = g.Make("GET", "/fhir/Observation/abc", "", {}, f.now, "0123456789abcdef");
  auto mine = f.Make("GET", "/fhir/Observation/abc", "", {}, f.now, "0123456789abcdef");
  EXPECT_TRUE(VerifyRequestSignatureAt(other, std::chrono::seconds(300), f.nonces, f.now).ok());
  EXPECT_TRUE(VerifyRequestSignatureAt(mine, std::chrono::seconds(300), f.nonces, f.now).ok());
}

TEST(HttpSignature, StaleAndFutureRejected) {
  crypto::InitCrypto();
  Fixture f;
  auto stale = f.Make("GET", "/fhir/Observation/abc", "", {}, f.now - 301);
  auto st = VerifyRequestSignatureAt(stale, std::chrono::seconds(300), f.nonces, f.now);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.status().message().find("stale"), std::string::npos);
  auto future = f.Make("GET", "/fhir/Observation/abc", "", {}, f.now + 301);
  EXPECT_FALSE(VerifyRequestSignatureAt(future, std::chrono::seconds(300), f.nonces, f.now).ok());
  EXPECT_EQ(f.nonces.size(), 0u);  // rejected requests spend no nonce
}

TEST(HttpSignature, CoverageAndTamperingRejected) {
  crypto::InitCrypto();
  Fixture f;
  const auto age = std::chrono::seconds(300);
  // Unsigned.
  http::Request plain;
  plain.method = "GET";
  plain.target = "/fhir/Observation/abc";
  EXPECT_EQ(VerifyRequestSignatureAt(plain, age, f.nonces, f.now).status().code(), StatusCode::kUnauthenticated);
  // A purpose header added after signing is not covered.
  auto r = f.Make("GET", "/fhir/Observation/abc", "", {}, f.now);
  r.headers.emplace_back("X-Purpose-Of-Use", "ETREAT");
  auto st = VerifyRequestSignatureAt(r, age, f.nonces, f.now);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.status().message().find("x-purpose-of-use must be covered"), std::string::npos);
  // Same for a break-glass reason.
  auto bg = f.Make("GET", "/fhir/Observation/abc", "", {{"X-Purpose-Of-Use", "ETREAT"}}, f.now);
  bg.headers.emplace_back("X-Break-Glass-Reason", "unconscious");
  EXPECT_FALSE(VerifyRequestSignatureAt(bg, age, f.nonces, f.now).ok());
  // A changed purpose value breaks the signature.
  auto changed = f.Make("GET", "/fhir/Observation/abc", "", {{"X-Purpose-Of-Use", "treatment"}}, f.now);
  for (auto& [n, v] : changed.headers)
    if (n == "X-Purpose-Of-Use") v = "research";
  st = VerifyRequestSignatureAt(changed, age, f.nonces, f.now);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.status().message().find("does not verify"), std::string::npos);
  // Another path.
  auto moved = f.Make("GET", "/fhir/Observation/abc", "", {}, f.now);
  moved.target = "/fhir/Observation/xyz";
  EXPECT_FALSE(VerifyRequestSignatureAt(moved, age, f.nonces, f.now).ok());
  // Another query.
  auto q = f.Make("GET", "/fhir/AuditEvent?patient=a", "", {}, f.now);
  q.target = "/fhir/AuditEvent?patient=b";
  EXPECT_FALSE(VerifyRequestSignatureAt(q, age, f.nonces, f.now).ok());
  // A changed body no longer matches its digest.
  auto post = f.Make("POST", "/fhir/AuditEvent", "{\"a\":1}", {}, f.now);
  post.body = "{\"a\":2}";
  st = VerifyRequestSignatureAt(post, age, f.nonces, f.now);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.status().message().find("Content-Digest"), std::string::npos);
  // A keyid naming someone else.
  auto imp = f.Make("GET", "/fhir/Observation/abc", "", {}, f.now);
  auto other = crypto::KeyPair::Generate();
  for (auto& [n, v] : imp.headers)
    if (n == "Signature-Input") v.replace(v.find(f.key.id()), 64, other.id());
  EXPECT_FALSE(VerifyRequestSignatureAt(imp, age, f.nonces, f.now).ok());
  // The RFC's own example lacks nonce and alg: refused by policy.
  auto rfc = RfcTestRequest();
  rfc.headers.emplace_back("Signature-Input",
                           "sig-b26=(\"date\" \"@method\" \"@path\" \"@authority\" \"content-type\" "
                           "\"content-length\");created=1618884473;keyid=\"test-key-ed25519\"");
  rfc.headers.emplace_back(
      "Signature", "sig-b26=:wqcAqbmYJ2ji2glfAMaRy4gruYYnx2nEFN2HN6jrnDnQCK1u02Gb04v9EDgwUPiu4A0w6vuQv5lIp5WPpBKRCw==:");
  EXPECT_FALSE(VerifyRequestSignatureAt(rfc, age, f.nonces, 1618884473).ok());
  // Garbage headers.
  http::Request junk = plain;
  junk.headers = {{"Signature-Input", "sig1=(\"@method\""}, {"Signature", "sig1=:%%%:"}};
  EXPECT_FALSE(VerifyRequestSignatureAt(junk, age, f.nonces, f.now).ok());
  EXPECT_EQ(f.nonces.size(), 0u);
}

TEST(HttpSignature, NonceCacheExpiresAndBounds) {
  NonceCache c(2);
  EXPECT_TRUE(c.Insert("k", "n1", 100, 50).ok());
  EXPECT_TRUE(c.Insert("k", "n2", 200, 50).ok());
  EXPECT_EQ(c.Insert("k", "n3", 200, 60).code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(c.Insert("k", "n1", 200, 60).code(), StatusCode::kAlreadyExists);
  EXPECT_TRUE(c.Insert("k", "n3", 300, 101).ok());  // n1 expired
  EXPECT_TRUE(c.Insert("k", "n1", 300, 201).ok());  // n2 expired, n1 forgotten
}

}  // namespace
}  // namespace medledger::api
