#include "model/block.h"

#include "crypto/sha256.h"

namespace medledger::model {

namespace {
constexpr uint8_t kMagic[4] = {'m', 'l', 'b', 'k'};
constexpr uint32_t kMaxTxsPerBlock = 1u << 20;

void WriteHeader(const BlockHeader& h, ByteWriter& w) {
  w.Raw(kMagic, 4);
  w.U8(h.version);
  w.U64(h.height);
  w.Raw(h.prev_hash);
  w.Raw(h.tx_root);
  w.Raw(h.results_root);
  w.Raw(h.state_root);
  w.U64(h.timestamp_ms);
  w.Raw(h.proposer);
  w.U32(h.tx_count);
}

Status ReadHeader(ByteReader& r, BlockHeader* h) {
  uint8_t magic[4];
  r.Raw(magic, 4);
  if (!r.ok() || std::memcmp(magic, kMagic, 4) != 0) return DataLoss("not a medledger block");
  h->version = r.U8();
  if (r.ok() && h->version != kBlockFormatVersion)
    return DataLoss("unsupported block format version " + std::to_string(h->version));
  h->height = r.U64();
  h->prev_hash = r.Fixed<32>();
  h->tx_root = r.Fixed<32>();
  h->results_root = r.Fixed<32>();
  h->state_root = r.Fixed<32>();
  h->timestamp_ms = r.U64();
  h->proposer = r.Fixed<32>();
  h->tx_count = r.U32();
  h->proposer_sig = r.Fixed<64>();
  if (!r.ok()) return DataLoss("truncated block header");
  if (h->tx_count > kMaxTxsPerBlock) return DataLoss("block claims too many transactions");
  return Status::Ok();
}
}  // namespace

Bytes BlockHeader::SigningBytes() const {
  Bytes out;
  out.reserve(256);
  ByteWriter w(&out);
  WriteHeader(*this, w);
  return out;
}

Hash32 BlockHeader::Hash() const { return crypto::Sha256(SigningBytes()); }

Hash32 ResultsRoot(const std::vector<Verdict>& results) {
  crypto::Sha256Builder b;
  b.Add(std::string_view("mlres"));
  Bytes buf;
  for (const auto& v : results) {
    buf.clear();
    ByteWriter w(&buf);
    w.U8(uint8_t(v.reason));
    w.Var(std::string_view(v.detail).substr(0, kMaxVerdictDetail));
    b.Add(buf);
  }
  return b.Finish();
}

std::vector<Hash32> Block::TxIds() const {
  std::vector<Hash32> ids;
  ids.reserve(txs.size());
  for (const auto& t : txs) ids.push_back(t.Id());
  return ids;
}

void Block::Seal(const std::vector<Hash32>* ids) {
  for (auto& v : results)
    if (v.detail.size() > kMaxVerdictDetail) v.detail.resize(kMaxVerdictDetail);
  header.tx_count = uint32_t(txs.size());
  header.tx_root = ids && ids->size() == txs.size() ? MerkleRoot(*ids) : MerkleRoot(TxIds());
  header.results_root = ResultsRoot(results);
}

void Block::Sign(const crypto::KeyPair& proposer) {
  header.proposer = proposer.public_key();
  header.proposer_sig = proposer.Sign(header.SigningBytes());
}

Bytes Block::Encode() const {
  Bytes out;
  ByteWriter w(&out);
  WriteHeader(header, w);
  w.Raw(header.proposer_sig);
  Bytes tmp;
  for (const auto& t : txs) {
    tmp.clear();
    t.EncodeTo(&tmp);
    w.Var(tmp);
  }
  for (size_t i = 0; i < txs.size(); ++i) {
    const Verdict& v = i < results.size() ? results[i] : Verdict{};
    w.U8(uint8_t(v.reason));
    w.Var(std::string_view(v.detail).substr(0, kMaxVerdictDetail));
  }
  return out;
}

Result<BlockHeader> DecodeHeader(const Bytes& b) {
  ByteReader r(b);
  BlockHeader h;
  ML_RETURN_IF_ERROR(ReadHeader(r, &h));
  return h;
}

Result<Block> DecodeBlock(const Bytes& b) { return DecodeBlock(b, nullptr); }

Result<Block> DecodeBlock(const Bytes& b, std::vector<TxSpan>* spans) {
  Block blk;
  ML_RETURN_IF_ERROR(DecodeBlockInto(b.data(), b.size(), &blk, spans));
  return blk;
}

Status DecodeBlockInto(const uint8_t* data, size_t size, Block* out, std::vector<TxSpan>* spans) {
  ByteReader r(data, size);
  ML_RETURN_IF_ERROR(ReadHeader(r, &out->header));
  const uint32_t count = out->header.tx_count;
  // Each transaction takes at least 136 bytes (a u32 length, a 127-byte
  // minimal transaction, a 5-byte verdict), so a hostile count cannot make
  // us allocate far more than the block's own size before failing.
  constexpr size_t kMinBytesPerTx = 4 + 127 + 5;
  if (count > r.remaining() / kMinBytesPerTx) return DataLoss("block truncated");
  out->txs.resize(count);
  if (spans) {
    spans->clear();
    spans->reserve(count);
  }
  for (uint32_t i = 0; i < count; ++i) {
    // Each transaction is decoded where it lies in the block, not from a copy.
    uint32_t n = r.U32();
    if (!r.ok() || n > kMaxTxBytes + kMaxChainIdBytes || n > r.remaining())
      return DataLoss("block truncated in transaction " + std::to_string(i));
    const uint8_t* p = r.pos();
    ByteReader tr(p, n);
    Status st = ReadTransactionInto(tr, &out->txs[i]);
    if (st.ok() && !tr.AtEnd()) st = InvalidArgument("trailing bytes after transaction");
    if (!st.ok()) return DataLoss("transaction " + std::to_string(i) + " undecodable: " + st.message());
    r = ByteReader(p + n, r.remaining() - n);
    // A decoded transaction is exactly its signing bytes and a 64-byte signature.
    if (spans) spans->push_back(TxSpan{uint32_t(p - data), n - 64});
  }
  out->results.resize(count);
  for (uint32_t i = 0; i < count; ++i) {
    Verdict& v = out->results[i];
    v.reason = Reject(r.U8());
    v.detail.assign(r.VarView(kMaxVerdictDetail));
    if (!r.ok()) return DataLoss("block truncated in results");
  }
  if (!r.AtEnd()) return DataLoss("trailing bytes after block");
  return Status::Ok();
}

}  // namespace medledger::model
