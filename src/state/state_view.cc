#include "state/state_view.h"

namespace medledger::state {

MemState::MemState() = default;
MemState::~MemState() = default;

MemState::MemState(const MemState& o) : map_(o.map_) {}

MemState& MemState::operator=(const MemState& o) {
  if (this == &o) return *this;
  map_ = o.map_;
  std::lock_guard l(order_mu_);
  order_.reset();
  return *this;
}

void MemState::Reserve(size_t n) { map_.Reserve(n); }

std::optional<Bytes> MemState::Get(std::string_view key) const {
  auto v = map_.Find(key);
  if (!v) return std::nullopt;
  return Bytes(v->begin(), v->end());
}

std::optional<std::string_view> MemState::Find(std::string_view key) const { return map_.Find(key); }

const std::set<std::string_view>& MemState::Order() const {
  std::lock_guard l(order_mu_);
  if (!order_) {
    order_ = std::make_unique<std::set<std::string_view>>();
    map_.ForEach([&](std::string_view k, std::string_view) { order_->insert(k); });
  }
  return *order_;
}

void MemState::Scan(std::string_view prefix,
                    const std::function<bool(std::string_view, const Bytes&)>& fn) const {
  const auto& order = Order();
  Bytes tmp;
  for (auto it = order.lower_bound(prefix); it != order.end(); ++it) {
    if (it->compare(0, prefix.size(), prefix) != 0) break;
    std::string_view v = *map_.Find(*it);
    tmp.assign(v.begin(), v.end());
    if (!fn(*it, tmp)) break;
  }
}

void MemState::Apply(const WriteSet& writes) {
  for (const auto& [k, v] : writes) {
    if (v) {
      std::string_view stored = map_.Put(k, AsStringView(*v));
      if (order_) order_->insert(stored);
    } else if (map_.Erase(k) && order_) {
      order_->erase(std::string_view(k));
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
