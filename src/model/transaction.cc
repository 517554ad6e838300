#include "model/transaction.h"

#include "crypto/ed25519_batch.h"
#include "crypto/sha256.h"

namespace medledger::model {

namespace {
constexpr uint8_t kMagic[4] = {'m', 'l', 't', 'x'};

void WriteSigning(const Transaction& tx, ByteWriter& w) {
  w.Raw(kMagic, 4);
  w.U8(tx.version);
  w.Var(tx.chain_id);
  w.Raw(tx.signer);
  w.U64(tx.nonce);
  w.U64(tx.expiry_height);
  w.U16(tx.type);
  w.Var(tx.payload);
}
}  // namespace

Bytes Transaction::SigningBytes() const {
  Bytes out;
  out.reserve(64 + chain_id.size() + payload.size());
  ByteWriter w(&out);
  WriteSigning(*this, w);
  return out;
}

void Transaction::EncodeTo(Bytes* out) const {
  ByteWriter w(out);
  WriteSigning(*this, w);
  w.Raw(signature);
}

Bytes Transaction::Encode() const {
  Bytes out;
  out.reserve(128 + chain_id.size() + payload.size());
  EncodeTo(&out);
  return out;
}

Hash32 Transaction::Id() const { return crypto::Sha256(SigningBytes()); }

void Transaction::Sign(const crypto::KeyPair& kp) {
  signer = kp.public_key();
  signature = kp.Sign(SigningBytes());
}

bool Transaction::VerifySignature() const {
  Bytes sb = SigningBytes();
  return crypto::Verify(signer, sb, signature);
}

void VerifyTxSignatures(std::span<const Transaction> txs, std::vector<Bytes>* signing, uint8_t* ok) {
  signing->resize(txs.size());
  std::vector<crypto::SigItem> items(txs.size());
  for (size_t i = 0; i < txs.size(); ++i) {
    (*signing)[i] = txs[i].SigningBytes();
    items[i] = {txs[i].signer.data(), (*signing)[i].data(), (*signing)[i].size(), txs[i].signature.data()};
  }
  crypto::VerifyMany(items, ok);
}

Status ReadTransactionInto(ByteReader& r, Transaction* tx) {
  uint8_t magic[4];
  r.Raw(magic, 4);
  if (!r.ok() || std::memcmp(magic, kMagic, 4) != 0) return InvalidArgument("not a medledger transaction");
  tx->version = r.U8();
  if (r.ok() && tx->version != kTxFormatVersion)
    return InvalidArgument("unsupported transaction format version " + std::to_string(tx->version));
  tx->chain_id.assign(r.VarView(kMaxChainIdBytes));
  tx->signer = r.Fixed<32>();
  tx->nonce = r.U64();
  tx->expiry_height = r.U64();
  tx->type = r.U16();
  uint32_t plen = 0;
  {
    // Peek the payload length to give "oversized" its own message.
    if (r.remaining() >= 4) {
      const uint8_t* p = r.pos();
      plen = uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | p[3];
    }
    if (plen > kMaxPayloadBytes) return TooLarge("payload exceeds " + std::to_string(kMaxPayloadBytes) + " bytes");
  }
  std::string_view payload = r.VarView(kMaxPayloadBytes);
  tx->payload.assign(payload.begin(), payload.end());
  tx->signature = r.Fixed<64>();
  if (!r.ok()) return InvalidArgument("truncated or malformed transaction");
  return Status::Ok();
}

Result<Transaction> ReadTransaction(ByteReader& r) {
  Transaction tx;
  ML_RETURN_IF_ERROR(ReadTransactionInto(r, &tx));
  return tx;
}

Result<Transaction> DecodeTransaction(const uint8_t* p, size_t n) {
  if (n > kMaxTxBytes + kMaxChainIdBytes) return TooLarge("transaction too large");
  ByteReader r(p, n);
  ML_ASSIGN_OR_RETURN(Transaction tx, ReadTransaction(r));
  if (!r.AtEnd()) return InvalidArgument("trailing bytes after transaction");
  return tx;
}

}  // namespace medledger::model
