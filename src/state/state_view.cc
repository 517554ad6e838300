#include "state/state_view.h"

namespace medledger::state {

std::optional<Bytes> MemState::Get(std::string_view key) const {
  auto it = kv_.find(key);
  if (it == kv_.end()) return std::nullopt;
  return it->second;
}

const Bytes* MemState::Find(std::string_view key) const {
  auto it = kv_.find(key);
  return it == kv_.end() ? nullptr : &it->second;
}

const std::set<std::string_view>& MemState::Order() const {
  std::lock_guard l(order_mu_);
  if (!order_) {
    order_ = std::make_unique<std::set<std::string_view>>();
    // Hash table nodes never move, so views of their keys stay valid until erased.
    for (const auto& kv : kv_) order_->insert(order_->end(), std::string_view(kv.first));
  }
  return *order_;
}

void MemState::Scan(std::string_view prefix,
                    const std::function<bool(std::string_view, const Bytes&)>& fn) const {
  const auto& order = Order();
  for (auto it = order.lower_bound(prefix); it != order.end(); ++it) {
    if (it->compare(0, prefix.size(), prefix) != 0) break;
    if (!fn(*it, kv_.find(*it)->second)) break;
  }
}

void MemState::Apply(const WriteSet& writes) {
  WriteSet copy = writes;
  Apply(std::move(copy));
}

void MemState::Apply(WriteSet&& writes) {
  for (auto& [k, v] : writes) {
    if (v) {
      // One lookup: try_emplace leaves k alone if the key exists.
      auto [it, inserted] = kv_.try_emplace(std::move(k));
      it->second = std::move(*v);
      if (inserted && order_) order_->insert(std::string_view(it->first));
    } else {
      auto it = kv_.find(std::string_view(k));
      if (it != kv_.end()) {
        if (order_) order_->erase(std::string_view(it->first));
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
  // Map nodes move across whole (no key copies, no allocation) unless the
  // parent already has the key.
  while (!writes_.empty()) {
    auto node = writes_.extract(writes_.begin());
    auto it = parent->writes_.lower_bound(node.key());
    if (it != parent->writes_.end() && it->first == node.key()) it->second = std::move(node.mapped());
    else parent->writes_.insert(it, std::move(node));
  }
}

WriteSet Overlay::TakeWrites() {
  WriteSet out;
  out.reserve(writes_.size());
  while (!writes_.empty()) {
    auto node = writes_.extract(writes_.begin());
    out.emplace_back(std::move(node.key()), std::move(node.mapped()));
  }
  return out;
}

}  // namespace medledger::state
