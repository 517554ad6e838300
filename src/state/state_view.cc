#include "state/state_view.h"

namespace medledger::state {

std::optional<Bytes> MemState::Get(std::string_view key) const {
  auto it = index_.find(key);
  if (it == index_.end()) return std::nullopt;
  return *it->second;
}

void MemState::Scan(std::string_view prefix,
                    const std::function<bool(std::string_view, const Bytes&)>& fn) const {
  for (auto it = kv_.lower_bound(prefix); it != kv_.end(); ++it) {
    if (it->first.compare(0, prefix.size(), prefix) != 0) break;
    if (!fn(it->first, it->second)) break;
  }
}

void MemState::Apply(const WriteSet& writes) {
  for (const auto& [k, v] : writes) {
    if (v) {
      auto [it, inserted] = kv_.insert_or_assign(k, *v);
      // std::map nodes are stable: the view and pointer stay valid until erased.
      index_[std::string_view(it->first)] = &it->second;
    } else {
      auto it = kv_.find(k);
      if (it != kv_.end()) {
        index_.erase(std::string_view(it->first));
        kv_.erase(it);
      }
    }
  }
}

std::optional<Bytes> Overlay::Get(std::string_view key) const {
  auto it = writes_.find(key);
  if (it != writes_.end()) return it->second;
  return base_->Get(key);
}

void Overlay::Scan(std::string_view prefix,
                   const std::function<bool(std::string_view, const Bytes&)>& fn) const {
  // Merge the base's ordered scan with this layer's ordered writes.
  auto it = writes_.lower_bound(prefix);
  auto in_prefix = [&](const std::string& k) { return k.compare(0, prefix.size(), prefix) == 0; };
  bool stop = false;
  base_->Scan(prefix, [&](std::string_view bk, const Bytes& bv) {
    while (it != writes_.end() && in_prefix(it->first) && std::string_view(it->first) < bk) {
      if (it->second && !fn(it->first, *it->second)) { stop = true; return false; }
      ++it;
    }
    if (it != writes_.end() && in_prefix(it->first) && std::string_view(it->first) == bk) {
      bool cont = true;
      if (it->second) cont = fn(it->first, *it->second);
      ++it;
      if (!cont) stop = true;
      return cont;
    }
    if (!fn(bk, bv)) { stop = true; return false; }
    return true;
  });
  if (stop) return;
  for (; it != writes_.end() && in_prefix(it->first); ++it) {
    if (it->second && !fn(it->first, *it->second)) return;
  }
}

void Overlay::MergeInto(Overlay* parent) {
  for (auto& [k, v] : writes_) parent->writes_[k] = std::move(v);
  writes_.clear();
}

WriteSet Overlay::TakeWrites() {
  WriteSet out;
  out.reserve(writes_.size());
  for (auto& [k, v] : writes_) out.emplace_back(k, std::move(v));
  writes_.clear();
  return out;
}

}  // namespace medledger::state
