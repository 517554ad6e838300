#include "ledger/staging.h"

#include <algorithm>
#include <cstring>

namespace medledger::ledger {

const std::string kJournalPrefix("\x00" "j", 2);

namespace {
constexpr uint8_t kJournalVersion = 1;
constexpr size_t kMaxJournalKey = 1 << 16;
constexpr size_t kMaxJournalValue = 64 << 20;
}  // namespace

StagedWrites::StagedWrites(size_t expected) {
  if (expected == 0) return;
  // Busy chains stage about one state key (an anchor) per transaction, so
  // about half of the entries are ids; room for half again as many, so that
  // the block that crosses the threshold does not grow the table at the last
  // moment (that rehash held the store's lock for 50 ms).
  txs_.Reserve(expected / 2 + expected / 4);
  state_.Reserve(expected / 2, /*prefault=*/true);
}

void StagedWrites::AddTx(const Hash32& id, const TxLocation& loc) { *txs_.Insert(id).first = loc; }

const TxLocation* StagedWrites::FindTx(const Hash32& id) const { return txs_.Find(id); }

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
  txs_.Clear();
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
  out.reserve(txs_.size());
  txs_.ForEach([&](const Hash32& id, const TxLocation& loc) { out.emplace_back(id, loc); });
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
