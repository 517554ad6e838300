#include "crypto/derive.h"

#include <openssl/core_names.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

#include <memory>

#include "crypto/aead.h"

namespace medledger::crypto {

namespace {

constexpr std::string_view kSalt = "medledger-patient-key";
constexpr std::string_view kConsentGroupVersion = "medledger-consent-group-v1";

Status CheckNames(std::string_view chain_id, std::string_view org) {
  if (chain_id.empty() || chain_id.find('\n') != std::string_view::npos)
    return InvalidArgument("key derivation: the chain id must be non-empty, on one line");
  if (org.empty() || org.find_first_of("/\n") != std::string_view::npos)
    return InvalidArgument("key derivation: '" + std::string(org.substr(0, 64)) + "' is not an organisation id");
  return Status::Ok();
}

Result<Bytes> SeedHkdf(const KeyPair& seed, std::string_view info, size_t length) {
  auto s = seed.seed();
  Bytes ikm(s.begin(), s.end());
  auto out = HkdfSha256(ikm, kSalt, info, length);
  Wipe(ikm.data(), ikm.size());
  Wipe(s.data(), s.size());
  return out;
}

}  // namespace

Result<Bytes> HkdfSha256(const Bytes& ikm, std::string_view salt, std::string_view info, size_t length) {
  if (length == 0 || length > 255 * 32) return InvalidArgument("hkdf: output length must be 1 to 8160 bytes");
  std::unique_ptr<EVP_KDF, decltype(&EVP_KDF_free)> kdf(EVP_KDF_fetch(nullptr, "HKDF", nullptr), EVP_KDF_free);
  if (!kdf) return Internal("hkdf: OpenSSL has no HKDF");
  std::unique_ptr<EVP_KDF_CTX, decltype(&EVP_KDF_CTX_free)> ctx(EVP_KDF_CTX_new(kdf.get()), EVP_KDF_CTX_free);
  if (!ctx) return ResourceExhausted("hkdf: out of memory");
  char digest[] = "SHA256";
  // OSSL_PARAM takes non-const pointers; HKDF only reads them.
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest, 0),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, const_cast<uint8_t*>(ikm.data()), ikm.size()),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, const_cast<char*>(salt.data()), salt.size()),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, const_cast<char*>(info.data()), info.size()),
      OSSL_PARAM_construct_end()};
  Bytes out(length);
  if (EVP_KDF_derive(ctx.get(), out.data(), out.size(), params) != 1) return Internal("hkdf: derivation failed");
  return out;
}

Result<KeyPair> DeriveCustodianKey(const KeyPair& seed, std::string_view chain_id, std::string_view org) {
  ML_RETURN_IF_ERROR(CheckNames(chain_id, org));
  std::string info = std::string(kCustodianKeyVersion) + "\n" + std::string(chain_id) + "\n" + std::string(org);
  ML_ASSIGN_OR_RETURN(Bytes okm, SeedHkdf(seed, info, 32));
  std::array<uint8_t, 32> derived;
  std::copy(okm.begin(), okm.end(), derived.begin());
  Wipe(okm.data(), okm.size());
  KeyPair kp = KeyPair::FromSeed(derived);
  Wipe(derived.data(), derived.size());
  return kp;
}

Result<std::string> ConsentGroupMemberId(const KeyPair& seed, std::string_view chain_id, std::string_view group,
                                         std::string_view org) {
  ML_RETURN_IF_ERROR(CheckNames(chain_id, org));
  if (group.empty() || group.find('\n') != std::string_view::npos)
    return InvalidArgument("consent group id must be non-empty, on one line");
  std::string info = std::string(kConsentGroupVersion) + "\n" + std::string(chain_id) + "\n" + std::string(group) +
                     "\n" + std::string(org);
  ML_ASSIGN_OR_RETURN(Bytes okm, SeedHkdf(seed, info, 16));
  return ToHex(okm);
}

}  // namespace medledger::crypto
