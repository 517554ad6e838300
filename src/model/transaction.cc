#include "model/transaction.h"

#include "crypto/ed25519_batch.h"
#include "crypto/sha256.h"
#include "model/value.h"

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
    if (plen > kMaxPayloadBytes) return ResourceExhausted("payload exceeds " + std::to_string(kMaxPayloadBytes) + " bytes");
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
  if (n > kMaxTxBytes + kMaxChainIdBytes) return ResourceExhausted("transaction too large");
  ByteReader r(p, n);
  ML_ASSIGN_OR_RETURN(Transaction tx, ReadTransaction(r));
  if (!r.AtEnd()) return InvalidArgument("trailing bytes after transaction");
  return tx;
}

nlohmann::json TxToJson(const Transaction& tx) {
  nlohmann::json j;
  j["version"] = tx.version;
  j["chain_id"] = tx.chain_id;
  j["signer"] = ToHex(tx.signer);
  j["nonce"] = tx.nonce;
  j["expiry_height"] = tx.expiry_height;
  if (FindTxType(tx.type)) j["type"] = std::string(TxTypeName(tx.type));
  else j["type"] = tx.type;  // keeps unknown types lossless
  auto payload = DecodeValue(tx.payload);
  // A payload that does not decode (only possible for a rejected tx) is
  // shown as hex so that the JSON still round-trips.
  if (payload.ok()) j["payload"] = std::move(*payload);
  else j["payload_hex"] = ToHex(tx.payload);
  j["signature"] = ToHex(tx.signature);
  return j;
}

namespace {
Result<uint64_t> U64Field(const nlohmann::json& j, const char* name) {
  auto it = j.find(name);
  if (it == j.end()) return InvalidArgument(std::string("missing field ") + name);
  if (it->is_number_unsigned()) return it->get<uint64_t>();
  if (it->is_number_integer() && it->get<int64_t>() >= 0) return uint64_t(it->get<int64_t>());
  if (it->is_string()) {
    const std::string& s = it->get_ref<const std::string&>();
    if (s.empty() || s.size() > 20 || s.find_first_not_of("0123456789") != std::string::npos)
      return InvalidArgument(std::string("field ") + name + " is not an unsigned integer");
    try { return uint64_t(std::stoull(s)); } catch (...) {}
  }
  return InvalidArgument(std::string("field ") + name + " is not an unsigned integer");
}

Result<std::string> StrField(const nlohmann::json& j, const char* name) {
  auto it = j.find(name);
  if (it == j.end() || !it->is_string()) return InvalidArgument(std::string("missing string field ") + name);
  return it->get<std::string>();
}
}  // namespace

Result<Transaction> TxFromJson(const nlohmann::json& j) {
  if (!j.is_object()) return InvalidArgument("transaction must be a JSON object");
  Transaction tx;
  ML_ASSIGN_OR_RETURN(uint64_t version, U64Field(j, "version"));
  if (version != kTxFormatVersion) return InvalidArgument("unsupported transaction format version");
  tx.version = uint8_t(version);
  ML_ASSIGN_OR_RETURN(tx.chain_id, StrField(j, "chain_id"));
  if (tx.chain_id.size() > kMaxChainIdBytes) return InvalidArgument("chain_id too long");
  ML_ASSIGN_OR_RETURN(std::string signer, StrField(j, "signer"));
  auto pk = crypto::ParsePublicId(signer);
  if (!pk.ok()) return InvalidArgument("signer: " + pk.status().message());
  tx.signer = *pk;
  ML_ASSIGN_OR_RETURN(tx.nonce, U64Field(j, "nonce"));
  ML_ASSIGN_OR_RETURN(tx.expiry_height, U64Field(j, "expiry_height"));
  auto type_it = j.find("type");
  if (type_it == j.end()) return InvalidArgument("missing field type");
  if (type_it->is_string()) {
    auto code = TxTypeCode(type_it->get<std::string>());
    if (!code) return InvalidArgument("unknown transaction type " + type_it->get<std::string>());
    tx.type = *code;
  } else if (type_it->is_number_unsigned() && type_it->get<uint64_t>() <= 0xFFFF) {
    tx.type = uint16_t(type_it->get<uint64_t>());
  } else {
    return InvalidArgument("field type must be a type name");
  }
  if (j.contains("payload")) {
    ML_ASSIGN_OR_RETURN(tx.payload, EncodeValue(j["payload"]));
  } else if (j.contains("payload_hex") && j["payload_hex"].is_string()) {
    ML_ASSIGN_OR_RETURN(tx.payload, FromHex(j["payload_hex"].get<std::string>()));
  } else {
    return InvalidArgument("missing field payload");
  }
  if (tx.payload.size() > kMaxPayloadBytes) return ResourceExhausted("payload exceeds " + std::to_string(kMaxPayloadBytes) + " bytes");
  ML_ASSIGN_OR_RETURN(std::string sig, StrField(j, "signature"));
  auto s = FromHexFixed<64>(sig);
  if (!s.ok()) return InvalidArgument("signature must be 128 hex characters");
  tx.signature = *s;
  return tx;
}

Result<Transaction> MakeTransaction(const std::string& chain_id, const crypto::KeyPair& signer,
                                    uint16_t type, const nlohmann::json& payload,
                                    uint64_t nonce, uint64_t expiry_height) {
  Transaction tx;
  tx.chain_id = chain_id;
  tx.signer = signer.public_key();
  tx.nonce = nonce;
  tx.expiry_height = expiry_height;
  tx.type = type;
  ML_ASSIGN_OR_RETURN(tx.payload, EncodeValue(payload));
  if (tx.payload.size() > kMaxPayloadBytes) return ResourceExhausted("payload too large");
  tx.Sign(signer);
  return tx;
}

}  // namespace medledger::model
