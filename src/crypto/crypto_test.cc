#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>

#include "crypto/aead.h"
#include "crypto/ed25519.h"
#include "crypto/keyfile.h"
#include "crypto/sha256.h"

namespace medledger::crypto {
namespace {

TEST(Sha256, KnownVectors) {
  EXPECT_EQ(ToHex(Sha256("")), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(ToHex(Sha256("abc")), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  Sha256Builder b;
  b.Add("a").Add("bc");
  EXPECT_EQ(b.Finish(), Sha256("abc"));
}

TEST(Ed25519, Rfc8032Vector1) {
  // RFC 8032 section 7.1, TEST 1 (empty message).
  auto seed = FromHexFixed<32>("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60");
  ASSERT_TRUE(seed.ok());
  KeyPair kp = KeyPair::FromSeed(*seed);
  EXPECT_EQ(kp.id(), "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");
  Signature sig = kp.Sign(nullptr, 0);
  EXPECT_EQ(ToHex(sig),
            "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b");
  EXPECT_TRUE(Verify(kp.public_key(), nullptr, 0, sig));
}

TEST(Ed25519, RejectsTamperedMessageAndSignature) {
  KeyPair kp = KeyPair::Generate();
  Bytes msg = ToBytes("hello");
  Signature sig = kp.Sign(msg);
  EXPECT_TRUE(Verify(kp.public_key(), msg, sig));
  msg[0] ^= 1;
  EXPECT_FALSE(Verify(kp.public_key(), msg, sig));
  msg[0] ^= 1;
  sig[10] ^= 1;
  EXPECT_FALSE(Verify(kp.public_key(), msg, sig));
  EXPECT_FALSE(Verify(KeyPair::Generate().public_key(), msg, kp.Sign(msg)));
}

TEST(Ed25519, PublicIdRoundTrip) {
  KeyPair kp = KeyPair::Generate();
  auto pk = ParsePublicId(kp.id());
  ASSERT_TRUE(pk.ok());
  EXPECT_EQ(*pk, kp.public_key());
  EXPECT_FALSE(ParsePublicId("zz").ok());
  EXPECT_FALSE(ParsePublicId(std::string(64, 'g')).ok());
}

TEST(Aead, SealOpenAndTamper) {
  AeadKey k = RandomKey();
  Bytes plain = ToBytes("{\"resourceType\":\"Patient\"}");
  Bytes sealed = Seal(k, plain, "rec1/1");
  EXPECT_EQ(sealed.size(), plain.size() + kAeadOverhead);
  auto opened = Open(k, sealed, "rec1/1");
  ASSERT_TRUE(opened.ok());
  EXPECT_EQ(*opened, plain);
  EXPECT_EQ(Open(k, sealed, "rec1/2").status().code(), StatusCode::kDataLoss);  // wrong ad
  sealed[30] ^= 0x80;
  EXPECT_EQ(Open(k, sealed, "rec1/1").status().code(), StatusCode::kDataLoss);
  EXPECT_FALSE(Open(k, Bytes(5), "x").ok());
  EXPECT_FALSE(Open(RandomKey(), Seal(k, plain, ""), "").ok());
}

TEST(KeyFile, WrittenWithMode0600AndReadBack) {
  auto dir = std::filesystem::temp_directory_path() / ("mlkey" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::string path = (dir / "a.key").string();
  KeyPair kp = KeyPair::Generate();
  ASSERT_TRUE(WriteKeyFile(path, kp).ok());
  struct stat st;
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto back = ReadKeyFile(path);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->id(), kp.id());
  ::chmod(path.c_str(), 0644);
  EXPECT_EQ(ReadKeyFile(path).status().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(ReadKeyFile((dir / "none").string()).status().code(), StatusCode::kNotFound);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace medledger::crypto
