#include "ledger/staging.h"

#include <algorithm>
#include <cstring>

#include "common/large_alloc.h"

namespace medledger::ledger {

const std::string kJournalPrefix("\x00" "j", 2);

namespace {
constexpr uint8_t kJournalVersion = 1;
constexpr size_t kMaxJournalKey = 1 << 16;
constexpr size_t kMaxJournalValue = 64 << 20;
}  // namespace

namespace {
size_t IdHash(const Hash32& id) {
  size_t v;
  std::memcpy(&v, id.data(), sizeof v);
  return v;
}
}  // namespace

StagedWrites::StagedWrites(size_t expected) {
  if (expected == 0) return;
  // Busy chains stage about one state key (an anchor) per transaction, so
  // about half of the entries are ids; room for half again as many, so that
  // the block that crosses the threshold does not grow the table at the last
  // moment (that rehash held the store's lock for 50 ms).
  const size_t ids = expected / 2 + expected / 4;
  size_t cap = size_t(1) << 12;
  while (cap < 2 * ids) cap <<= 1;  // at most half full
  txs_ = static_cast<TxSlot*>(AllocLarge(cap * sizeof(TxSlot), /*zero=*/true));
  PrefaultLarge(txs_, cap * sizeof(TxSlot));
  tx_mask_ = cap - 1;
  state_.Reserve(expected / 2, /*prefault=*/true);
}

StagedWrites::~StagedWrites() { FreeLarge(txs_); }

StagedWrites::TxSlot* StagedWrites::FindTxSlot(const Hash32& id) const {
  for (size_t i = IdHash(id) & tx_mask_;; i = (i + 1) & tx_mask_) {
    if (!txs_[i].used || txs_[i].id == id) return &txs_[i];
  }
}

void StagedWrites::GrowTxs() {
  size_t cap = txs_ ? (tx_mask_ + 1) * 2 : size_t(1) << 12;
  auto* fresh = static_cast<TxSlot*>(AllocLarge(cap * sizeof(TxSlot), /*zero=*/true));
  for (size_t i = 0; txs_ && i <= tx_mask_; ++i) {
    if (!txs_[i].used) continue;
    size_t j = IdHash(txs_[i].id) & (cap - 1);
    while (fresh[j].used) j = (j + 1) & (cap - 1);
    fresh[j] = txs_[i];
  }
  FreeLarge(txs_);
  txs_ = fresh;
  tx_mask_ = cap - 1;
}

void StagedWrites::AddTx(const Hash32& id, const TxLocation& loc) {
  if (!txs_ || (tx_count_ + 1) * 2 > tx_mask_ + 1) GrowTxs();
  TxSlot* s = FindTxSlot(id);
  if (!s->used) tx_count_++;
  *s = TxSlot{id, loc, true};
}

const TxLocation* StagedWrites::FindTx(const Hash32& id) const {
  if (!txs_) return nullptr;
  const TxSlot* s = FindTxSlot(id);
  return s->used ? &s->loc : nullptr;
}

void StagedWrites::AddState(std::string_view key, const std::optional<Bytes>& value) {
  thread_local std::string v;
  v.assign(1, value ? '\1' : '\0');
  if (value) v.append(reinterpret_cast<const char*>(value->data()), value->size());
  state_.Put(key, v);
}

bool StagedWrites::FindState(std::string_view key, std::optional<std::string_view>* value) const {
  auto v = state_.Find(key);
  if (!v) return false;
  if ((*v)[0] == '\1') *value = v->substr(1);
  else value->reset();
  return true;
}

void StagedWrites::Clear() {
  if (txs_) std::memset(static_cast<void*>(txs_), 0, (tx_mask_ + 1) * sizeof(TxSlot));
  tx_count_ = 0;
  state_.Reset();
  covers_any_ = false;
  first_height_ = last_height_ = 0;
}

void StagedWrites::CoverHeight(uint64_t height) {
  if (!covers_any_) first_height_ = height;
  covers_any_ = true;
  last_height_ = height;
}

std::vector<std::pair<Hash32, TxLocation>> StagedWrites::SortedTxs() const {
  std::vector<std::pair<Hash32, TxLocation>> out;
  out.reserve(tx_count_);
  for (size_t i = 0; txs_ && i <= tx_mask_; ++i)
    if (txs_[i].used) out.emplace_back(txs_[i].id, txs_[i].loc);
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  return out;
}

std::vector<std::pair<std::string_view, std::optional<std::string_view>>> StagedWrites::SortedState(
    std::string_view prefix) const {
  std::vector<std::pair<std::string_view, std::optional<std::string_view>>> out;
  state_.ForEach([&](std::string_view k, std::string_view v) {
    if (k.substr(0, prefix.size()) != prefix) return;
    out.emplace_back(k, v[0] == '\1' ? std::optional<std::string_view>(v.substr(1)) : std::nullopt);
  });
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  return out;
}

std::string JournalKey(uint64_t height) {
  std::string k = kJournalPrefix;
  for (int i = 7; i >= 0; --i) k.push_back(char(uint8_t(height >> (8 * i))));
  return k;
}

Bytes EncodeJournal(const std::vector<std::pair<Hash32, TxLocation>>& txs,
                    const std::vector<const std::pair<std::string, std::optional<Bytes>>*>& state) {
  size_t size = 1 + 4 + txs.size() * 36 + 4;
  for (const auto* w : state) size += 4 + w->first.size() + 1 + (w->second ? 4 + w->second->size() : 0);
  Bytes out;
  out.reserve(size);
  ByteWriter w(&out);
  w.U8(kJournalVersion);
  w.U32(uint32_t(txs.size()));
  for (const auto& [id, loc] : txs) {
    w.Raw(id);
    w.U32(loc.index);
  }
  w.U32(uint32_t(state.size()));
  for (const auto* e : state) {
    w.Var(e->first);
    w.U8(e->second ? 1 : 0);
    if (e->second) w.Var(*e->second);
  }
  return out;
}

Status ApplyJournal(uint64_t height, std::string_view record, StagedWrites* into) {
  auto bad = [&] {
    return DataLoss("ledger: journal record of block " + std::to_string(height) + " is malformed");
  };
  ByteReader r(record);
  if (r.U8() != kJournalVersion) return bad();
  uint32_t n = r.U32();
  if (!r.ok() || n > r.remaining() / 36) return bad();
  for (uint32_t i = 0; i < n; ++i) {
    Hash32 id = r.Fixed<32>();
    into->AddTx(id, TxLocation{height, r.U32()});
  }
  uint32_t m = r.U32();
  for (uint32_t i = 0; r.ok() && i < m; ++i) {
    Bytes key = r.Var(kMaxJournalKey);
    uint8_t present = r.U8();
    if (!r.ok() || present > 1) return bad();
    std::optional<Bytes> value;
    if (present) value = r.Var(kMaxJournalValue);
    if (!r.ok()) return bad();
    into->AddState(std::string_view(reinterpret_cast<const char*>(key.data()), key.size()), value);
  }
  if (!r.ok() || !r.AtEnd()) return bad();
  into->CoverHeight(height);
  return Status::Ok();
}

}  // namespace medledger::ledger
