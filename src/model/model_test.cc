#include <gtest/gtest.h>

#include "crypto/sha256.h"
#include "model/block.h"
#include "model/merkle.h"
#include "model/transaction.h"
#include "model/tx_json.h"
#include "model/value.h"

namespace medledger::model {
namespace {

using nlohmann::json;

crypto::KeyPair FixedKey(uint8_t fill) {
  std::array<uint8_t, 32> seed;
  seed.fill(fill);
  return crypto::KeyPair::FromSeed(seed);
}

Hash32 H(int i) { return crypto::Sha256("leaf" + std::to_string(i)); }

// ---- canonical payload values ----

TEST(Value, KeyOrderAndWhitespaceDoNotChangeBytes) {
  auto a = EncodeValue(json::parse(R"({"b":1,"a":[true,null,"x"]})"));
  auto b = EncodeValue(json::parse("{ \"a\" : [ true , null , \"x\" ] ,\n \"b\" : 1 }"));
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(*a, *b);
  EXPECT_EQ(ToHex(*a), "0600000002000000016105000000030200040000000178000000016203" "0000000000000001");
}

TEST(Value, RoundTripsLosslessly) {
  json v = json::parse(R"({"n":-5,"big":9223372036854775807,"s":"Zoë","o":{"z":[],"a":{}}})");
  auto enc = EncodeValue(v);
  ASSERT_TRUE(enc.ok());
  auto dec = DecodeValue(*enc);
  ASSERT_TRUE(dec.ok());
  EXPECT_EQ(*dec, v);
  EXPECT_EQ(*EncodeValue(*dec), *enc);
}

TEST(Value, RejectsFloatsHugeIntsAndDeepNesting) {
  EXPECT_FALSE(EncodeValue(json::parse("1.5")).ok());
  EXPECT_FALSE(EncodeValue(json::parse("18446744073709551615")).ok());
  json deep = 1;
  for (int i = 0; i < 40; ++i) deep = json::array({deep});
  EXPECT_FALSE(EncodeValue(deep).ok());
}

TEST(Value, DecoderRejectsNonCanonicalAndHostileInput) {
  // Object with keys out of order: {"b":null,"a":null}
  Bytes unsorted = {6, 0, 0, 0, 2, 0, 0, 0, 1, 'b', 0, 0, 0, 0, 1, 'a', 0};
  EXPECT_FALSE(DecodeValue(unsorted).ok());
  Bytes dup = {6, 0, 0, 0, 2, 0, 0, 0, 1, 'a', 0, 0, 0, 0, 1, 'a', 0};
  EXPECT_FALSE(DecodeValue(dup).ok());
  Bytes trailing = {0, 0};
  EXPECT_FALSE(DecodeValue(trailing).ok());
  Bytes huge_array = {5, 0xff, 0xff, 0xff, 0xff};
  EXPECT_FALSE(DecodeValue(huge_array).ok());
  Bytes bad_utf8 = {4, 0, 0, 0, 2, 0xc3, 0x28};
  EXPECT_FALSE(DecodeValue(bad_utf8).ok());
  Bytes bad_tag = {9};
  EXPECT_FALSE(DecodeValue(bad_tag).ok());
  EXPECT_FALSE(DecodeValue(Bytes{}).ok());
}

// ---- transactions: fixed vectors ----

Transaction VectorTx() {
  auto tx = MakeTransaction("medledger-test", FixedKey(7), tx::kAnchorPut,
                            json{{"hash", std::string(64, 'a')}, {"tag", "vector"}}, 42, 1000);
  EXPECT_TRUE(tx.ok());
  return *tx;
}

TEST(Value, ObjectWriterMatchesEncodeValue) {
  const uint8_t raw[3] = {0x00, 0xab, 0xff};
  Bytes fast;
  ObjectWriter(&fast, 4).Int("height", -7).Hex("signer", raw, 3).String("tag", "b\xc3\xa9nch").Int("z", 1LL << 40);
  auto slow = EncodeValue(json{{"height", -7}, {"signer", "00abff"}, {"tag", "b\xc3\xa9nch"}, {"z", 1LL << 40}});
  ASSERT_TRUE(slow.ok());
  EXPECT_EQ(fast, *slow);
  auto back = DecodeValue(fast);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ((*back)["signer"], "00abff");
}

TEST(Value, ReadStringObjectTakesOnlyFlatCanonicalStringObjects) {
  std::vector<std::pair<std::string_view, std::string_view>> f;
  Bytes ok = *EncodeValue(json{{"a", "x"}, {"b", ""}});
  ASSERT_TRUE(ReadStringObject(ok, 2, &f));
  ASSERT_EQ(f.size(), 2u);
  EXPECT_EQ(f[0].first, "a");
  EXPECT_EQ(f[0].second, "x");
  EXPECT_EQ(f[1].second, "");
  EXPECT_FALSE(ReadStringObject(ok, 1, &f));                                 // more fields than allowed
  EXPECT_FALSE(ReadStringObject(*EncodeValue(json{{"a", 1}}), 2, &f));       // not a string
  EXPECT_FALSE(ReadStringObject(*EncodeValue(json{{"a", json::object()}}), 2, &f));
  EXPECT_FALSE(ReadStringObject(*EncodeValue(json::array({"a"})), 2, &f));
  EXPECT_FALSE(ReadStringObject(*EncodeValue(json("a")), 2, &f));
  Bytes trailing = ok;
  trailing.push_back(0);
  EXPECT_FALSE(ReadStringObject(trailing, 2, &f));
  Bytes truncated(ok.begin(), ok.end() - 1);
  EXPECT_FALSE(ReadStringObject(truncated, 2, &f));
  // Keys out of order and invalid UTF-8, written by hand.
  Bytes swapped;
  ObjectWriter(&swapped, 2).String("b", "x").String("a", "y");
  EXPECT_FALSE(ReadStringObject(swapped, 2, &f));
  Bytes dup;
  ObjectWriter(&dup, 2).String("a", "x").String("a", "y");
  EXPECT_FALSE(ReadStringObject(dup, 2, &f));
  Bytes bad_utf8;
  ObjectWriter(&bad_utf8, 1).String("a", "\xff");
  EXPECT_FALSE(ReadStringObject(bad_utf8, 2, &f));
  // Whatever it takes, the full decoder takes too.
  for (const Bytes* b : {&ok}) EXPECT_TRUE(DecodeValue(*b).ok());
}

TEST(Transaction, FixedEncodingVector) {
  Transaction tx = VectorTx();
  // These bytes are consensus: a change here forks every chain in existence.
  EXPECT_EQ(ToHex(tx.SigningBytes()),
            "6d6c747801"                                  // "mltx", version 1
            "0000000e6d65646c65646765722d74657374"        // chain id
            "ea4a6c63e29c520abef5507b132ec5f9954776aebebe7b92421eea691446d22c"  // signer
            "000000000000002a"                            // nonce 42
            "00000000000003e8"                            // expiry 1000
            "000a"                                        // type anchor.put
            "00000064"                                    // payload length 100
            "06" "00000002"                               // object, 2 keys (sorted)
            "00000004" "68617368" "04" "00000040"  // "hash": 64 x "a"
                "61616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161616161"
            "00000003" "746167" "04" "00000006" "766563746f72");
}

TEST(Transaction, IdIsSha256OfSigningBytesAndStable) {
  Transaction tx = VectorTx();
  EXPECT_EQ(tx.Id(), crypto::Sha256(tx.SigningBytes()));
  EXPECT_EQ(ToHex(tx.Id()), "cbebe9387d4326e7da3d0fa38f04098f82c7c9b46baf6a1385c5a940bfc544be");
  EXPECT_EQ(ToHex(tx.signature), "7e20f965ef85ab6572663b58b9b21a08ae35b5f4d4c6d348052a6c422d21f3e9e98dd87e1b2e33e9a30317475ade1a0405be7dd55f2c8126d37c53398d347903");
}

TEST(Transaction, BinaryAndJsonRoundTrip) {
  Transaction tx = VectorTx();
  auto back = DecodeTransaction(tx.Encode());
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->Encode(), tx.Encode());
  EXPECT_TRUE(back->VerifySignature());

  json j = TxToJson(tx);
  // Reorder and re-serialise the JSON: same transaction, same id.
  auto parsed = TxFromJson(json::parse(j.dump(4)));
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->Encode(), tx.Encode());
  EXPECT_EQ(parsed->Id(), tx.Id());
}

TEST(Transaction, UnknownTypeStaysLosslessInJson) {
  Transaction tx = VectorTx();
  tx.type = 999;
  tx.Sign(FixedKey(7));
  json j = TxToJson(tx);
  EXPECT_EQ(j["type"], 999);
  auto back = TxFromJson(j);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->Encode(), tx.Encode());
}

TEST(Transaction, TamperingBreaksSignature) {
  Transaction tx = VectorTx();
  tx.nonce++;
  EXPECT_FALSE(tx.VerifySignature());
}

TEST(Transaction, VerifyTxSignaturesMatchesOneByOne) {
  // Sizes below, at and above the batch's threshold of three, each with
  // one tampered transaction among valid ones.
  for (size_t n : {1, 2, 3, 70}) {
    std::vector<Transaction> txs;
    for (size_t i = 0; i < n; ++i) {
      Transaction t = VectorTx();
      t.nonce = 100 + i;
      t.Sign(FixedKey(uint8_t(1 + i % 3)));
      txs.push_back(t);
    }
    txs[n / 2].nonce++;  // no longer what was signed
    std::vector<Bytes> signing;
    std::vector<uint8_t> ok(n, 7);
    VerifyTxSignatures(txs, &signing, ok.data());
    ASSERT_EQ(signing.size(), n);
    for (size_t i = 0; i < n; ++i) {
      EXPECT_EQ(signing[i], txs[i].SigningBytes()) << n << " " << i;
      EXPECT_EQ(ok[i], txs[i].VerifySignature() ? 1 : 0) << n << " " << i;
      EXPECT_EQ(ok[i], i == n / 2 ? 0 : 1) << n << " " << i;
    }
  }
}

TEST(Transaction, DecoderRejectsHostileInput) {
  Bytes enc = VectorTx().Encode();
  for (size_t cut = 0; cut < enc.size(); cut += 7) {
    Bytes part(enc.begin(), enc.begin() + cut);
    EXPECT_FALSE(DecodeTransaction(part).ok()) << cut;
  }
  Bytes extra = enc;
  extra.push_back(0);
  EXPECT_FALSE(DecodeTransaction(extra).ok());
  Bytes badver = enc;
  badver[4] = 9;
  EXPECT_FALSE(DecodeTransaction(badver).ok());
  // Payload length field claiming 4 GiB.
  Transaction t = VectorTx();
  Bytes big = t.Encode();
  size_t plen_off = 4 + 1 + 4 + t.chain_id.size() + 32 + 8 + 8 + 2;
  big[plen_off] = 0xff;
  EXPECT_EQ(DecodeTransaction(big).status().code(), StatusCode::kTooLarge);
}

TEST(Transaction, JsonRejectsBadFields) {
  json j = TxToJson(VectorTx());
  for (const char* f : {"chain_id", "signer", "nonce", "signature", "payload", "type"}) {
    json k = j;
    k.erase(f);
    EXPECT_FALSE(TxFromJson(k).ok()) << f;
  }
  json k = j;
  k["signer"] = "xyz";
  EXPECT_FALSE(TxFromJson(k).ok());
  k = j;
  k["nonce"] = -1;
  EXPECT_FALSE(TxFromJson(k).ok());
  k = j;
  k["payload"] = {{"x", 1.5}};
  EXPECT_FALSE(TxFromJson(k).ok());
  k = j;
  k["nonce"] = "42";  // decimal strings are accepted
  EXPECT_TRUE(TxFromJson(k).ok());
}

// ---- Merkle ----

Hash32 RecursiveRoot(const std::vector<Hash32>& leaves, size_t lo, size_t hi) {
  if (hi - lo == 1) return MerkleLeafHash(leaves[lo]);
  size_t k = 1;
  while (k * 2 < hi - lo) k *= 2;
  crypto::Sha256Builder b;
  b.AddU8(1).Add(RecursiveRoot(leaves, lo, lo + k)).Add(RecursiveRoot(leaves, lo + k, hi));
  return b.Finish();
}

TEST(Merkle, MatchesRfc6962DefinitionForOddAndEvenCounts) {
  EXPECT_EQ(MerkleRoot({}), crypto::Sha256(""));
  for (int n = 1; n <= 33; ++n) {
    std::vector<Hash32> leaves;
    for (int i = 0; i < n; ++i) leaves.push_back(H(i));
    Hash32 root = MerkleRoot(leaves);
    EXPECT_EQ(root, RecursiveRoot(leaves, 0, leaves.size())) << n;
    for (int i = 0; i < n; ++i) {
      auto proof = MakeInclusionProof(leaves, i);
      ASSERT_TRUE(proof.ok());
      EXPECT_TRUE(VerifyInclusionProof(leaves[i], *proof, root)) << n << " " << i;
      EXPECT_FALSE(VerifyInclusionProof(H(1000), *proof, root));
    }
  }
}

TEST(Merkle, TamperedProofFails) {
  std::vector<Hash32> leaves;
  for (int i = 0; i < 7; ++i) leaves.push_back(H(i));
  Hash32 root = MerkleRoot(leaves);
  auto proof = *MakeInclusionProof(leaves, 3);
  auto bad = proof;
  bad.path[1][0] ^= 1;
  EXPECT_FALSE(VerifyInclusionProof(leaves[3], bad, root));
  bad = proof;
  bad.leaf_index = 2;
  EXPECT_FALSE(VerifyInclusionProof(leaves[3], bad, root));
  bad = proof;
  // (A proof is for one tree size; verifiers take tree_size from the block
  // header's tx_count, never from the proof alone.)
  bad.tree_size = 4;
  EXPECT_FALSE(VerifyInclusionProof(leaves[3], bad, root));
  bad = proof;
  bad.path.pop_back();
  EXPECT_FALSE(VerifyInclusionProof(leaves[3], bad, root));
  bad = proof;
  bad.path.push_back(H(9));
  EXPECT_FALSE(VerifyInclusionProof(leaves[3], bad, root));
  EXPECT_FALSE(MakeInclusionProof(leaves, 7).ok());
}

TEST(Merkle, DuplicatedLastLeafDoesNotCollide) {
  // CVE-2012-2459: Bitcoin's tree gives [a,b,c] and [a,b,c,c] the same root.
  std::vector<Hash32> three = {H(0), H(1), H(2)};
  std::vector<Hash32> four = {H(0), H(1), H(2), H(2)};
  EXPECT_NE(MerkleRoot(three), MerkleRoot(four));
  std::vector<Hash32> five = {H(0), H(1), H(2), H(3), H(4)};
  std::vector<Hash32> six = {H(0), H(1), H(2), H(3), H(4), H(4)};
  EXPECT_NE(MerkleRoot(five), MerkleRoot(six));
  // A leaf cannot pose as an inner node: a one-leaf tree over an inner node's
  // children concatenation is a different hash.
  EXPECT_NE(MerkleRoot({H(0)}), H(0));
}

// ---- blocks ----

TEST(Block, EncodeDecodeAndSignature) {
  Block b;
  b.header.height = 5;
  b.header.prev_hash = H(100);
  b.header.timestamp_ms = 1700000000000;
  b.txs = {VectorTx(), VectorTx()};
  b.txs[1].nonce = 43;
  b.txs[1].Sign(FixedKey(7));
  b.results = {Verdict::Accept(), Verdict::No(Reject::kReplayed, "tx already committed")};
  b.Seal();
  b.Sign(FixedKey(1));
  Bytes enc = b.Encode();
  auto back = DecodeBlock(enc);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->Encode(), enc);
  EXPECT_EQ(back->header.Hash(), b.header.Hash());
  EXPECT_EQ(back->results[1].reason, Reject::kReplayed);
  EXPECT_TRUE(crypto::Verify(back->header.proposer, back->header.SigningBytes(), back->header.proposer_sig));
  EXPECT_EQ(back->header.tx_root, MerkleRoot(back->TxIds()));
  EXPECT_EQ(back->header.results_root, ResultsRoot(back->results));

  for (size_t cut : {size_t(0), size_t(10), enc.size() / 2, enc.size() - 1}) {
    Bytes part(enc.begin(), enc.begin() + cut);
    EXPECT_FALSE(DecodeBlock(part).ok());
  }
}

TEST(Block, SpansAreTheSigningBytesInPlace) {
  Block b;
  b.header.height = 2;
  b.txs = {VectorTx(), VectorTx(), VectorTx()};
  b.txs[1].payload.push_back(0);  // spans of different lengths
  b.txs[1].Sign(FixedKey(7));
  b.txs[2].chain_id = "another-chain";
  b.txs[2].Sign(FixedKey(8));
  b.results.resize(3);
  b.Seal();
  b.Sign(FixedKey(1));
  Bytes enc = b.Encode();
  std::vector<TxSpan> spans;
  auto back = DecodeBlock(enc, &spans);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  ASSERT_EQ(spans.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    Bytes in_place(enc.begin() + spans[i].offset, enc.begin() + spans[i].offset + spans[i].signing_len);
    EXPECT_EQ(in_place, b.txs[i].SigningBytes()) << i;
    EXPECT_EQ(crypto::Sha256(in_place), b.txs[i].Id()) << i;
  }
  // A failed decode says so; spans are then not to be used.
  Bytes cut(enc.begin(), enc.end() - 1);
  EXPECT_FALSE(DecodeBlock(cut, &spans).ok());
}

TEST(Block, DecodesIntoARecycledBlockAndBoundsTheCount) {
  // The smallest entries a block can hold (empty chain id and payload, no
  // verdict detail), which the count check must still allow.
  Transaction t = VectorTx();
  t.chain_id.clear();
  t.payload.clear();
  t.Sign(FixedKey(7));
  Block small;
  small.header.height = 3;
  small.txs = {t, t};
  small.txs[1].nonce = 9;
  small.txs[1].Sign(FixedKey(7));
  small.results.resize(2);
  small.Seal();
  small.Sign(FixedKey(1));
  const Bytes enc_small = small.Encode();
  Block big;
  big.header.height = 9;
  big.txs = {VectorTx(), VectorTx(), VectorTx()};
  big.results = {Verdict::No(Reject::kReplayed, "tx already committed"), Verdict::Accept(), Verdict::Accept()};
  big.Seal();
  big.Sign(FixedKey(1));
  const Bytes enc_big = big.Encode();

  // Decoded into a block that held a bigger one, it is exactly the small one.
  Block reused;
  std::vector<TxSpan> spans;
  ASSERT_TRUE(DecodeBlockInto(enc_big.data(), enc_big.size(), &reused, &spans).ok());
  ASSERT_TRUE(DecodeBlockInto(enc_small.data(), enc_small.size(), &reused, &spans).ok());
  EXPECT_EQ(reused.Encode(), enc_small);
  EXPECT_EQ(spans.size(), 2u);
  EXPECT_TRUE(reused.results[0].detail.empty());

  // A count the bytes cannot hold is refused before anything is sized to it.
  // tx_count is the header's last field: "mlbk", version, height, four
  // roots, timestamp, proposer come first.
  const size_t count_at = 4 + 1 + 8 + 4 * 32 + 8 + 32;
  ASSERT_EQ(Bytes(enc_small.begin() + count_at, enc_small.begin() + count_at + 4), (Bytes{0, 0, 0, 2}));
  Bytes hostile = enc_small;
  // 100 transactions in the ~270 bytes after the header: fewer than the
  // bytes (the old bound), far more than they can hold. Refused as a whole,
  // not after sizing the block to 100 and failing at transaction 2.
  hostile[count_at + 3] = 100;
  Status st = DecodeBlockInto(hostile.data(), hostile.size(), &reused, &spans);
  EXPECT_FALSE(st.ok());
  EXPECT_EQ(st.message(), "block truncated");
}

}  // namespace
}  // namespace medledger::model
