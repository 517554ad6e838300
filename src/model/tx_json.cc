#include "model/tx_json.h"

#include <utility>

#include "model/tx_types.h"
#include "model/value.h"
#include "model/verdict.h"

namespace medledger::model {

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
  if (tx.payload.size() > kMaxPayloadBytes) return TooLarge("payload exceeds " + std::to_string(kMaxPayloadBytes) + " bytes");
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
  if (tx.payload.size() > kMaxPayloadBytes) return TooLarge("payload too large");
  tx.Sign(signer);
  return tx;
}

nlohmann::json HeaderToJson(const BlockHeader& h) {
  return {{"version", h.version},
          {"height", h.height},
          {"hash", ToHex(h.Hash())},
          {"prev_hash", ToHex(h.prev_hash)},
          {"tx_root", ToHex(h.tx_root)},
          {"results_root", ToHex(h.results_root)},
          {"state_root", ToHex(h.state_root)},
          {"timestamp_ms", h.timestamp_ms},
          {"proposer", ToHex(h.proposer)},
          {"tx_count", h.tx_count},
          {"proposer_sig", ToHex(h.proposer_sig)}};
}

nlohmann::json BlockToJson(const Block& b, bool with_txs) {
  nlohmann::json j = {{"header", HeaderToJson(b.header)}};
  nlohmann::json txs = nlohmann::json::array();
  for (size_t i = 0; i < b.txs.size(); ++i) {
    nlohmann::json t = {{"id", ToHex(b.txs[i].Id())}};
    const Verdict& v = b.results[i];
    t["valid"] = v.ok();
    if (!v.ok()) {
      t["reason"] = RejectName(v.reason);
      t["detail"] = v.detail;
    }
    if (with_txs) t["tx"] = TxToJson(b.txs[i]);
    txs.push_back(std::move(t));
  }
  j["txs"] = std::move(txs);
  return j;
}

nlohmann::json ProofToJson(const InclusionProof& p) {
  nlohmann::json path = nlohmann::json::array();
  for (const auto& h : p.path) path.push_back(ToHex(h));
  return {{"leaf_index", p.leaf_index}, {"tree_size", p.tree_size}, {"path", path}};
}

Result<InclusionProof> ProofFromJson(const nlohmann::json& j) {
  InclusionProof p;
  if (!j.is_object() || !j.contains("leaf_index") || !j.contains("tree_size") || !j.contains("path") ||
      !j["path"].is_array() || !j["leaf_index"].is_number_unsigned() || !j["tree_size"].is_number_unsigned())
    return InvalidArgument("malformed inclusion proof");
  p.leaf_index = j["leaf_index"].get<uint64_t>();
  p.tree_size = j["tree_size"].get<uint64_t>();
  for (const auto& h : j["path"]) {
    if (!h.is_string()) return InvalidArgument("malformed inclusion proof path");
    ML_ASSIGN_OR_RETURN(Hash32 x, FromHexFixed<32>(h.get<std::string>()));
    p.path.push_back(x);
  }
  return p;
}

}  // namespace medledger::model
