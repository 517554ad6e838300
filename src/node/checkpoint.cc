#include "node/checkpoint.h"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "model/tx_types.h"
#include "state/identity_record.h"
#include "state/module.h"

namespace medledger::node {

namespace {

std::string Height20(uint64_t height) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%020llu", static_cast<unsigned long long>(height));
  return buf;
}

}  // namespace

Bytes RootReport::SigningBytes(const std::string& chain_id) const {
  std::string s = "medledger-root-report-v1\n" + chain_id + "\n" + node_id + "\n" + std::to_string(height) +
                  "\n" + ToHex(state_root) + "\n" + ToHex(block_hash) + "\n" + std::to_string(time_ms);
  return ToBytes(s);
}

std::string RootReport::ToJson() const {
  return nlohmann::json{{"node_id", node_id},
                        {"height", height},
                        {"state_root", ToHex(state_root)},
                        {"block_hash", ToHex(block_hash)},
                        {"time_ms", time_ms},
                        {"sig", ToHex(sig)}}
      .dump();
}

Result<RootReport> RootReport::FromJson(std::string_view text) {
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return InvalidArgument("root report is not a JSON object");
  RootReport r;
  try {
    r.node_id = j.at("node_id").get<std::string>();
    r.height = j.at("height").get<uint64_t>();
    r.time_ms = j.at("time_ms").get<uint64_t>();
    ML_ASSIGN_OR_RETURN(r.state_root, FromHexFixed<32>(j.at("state_root").get<std::string>()));
    ML_ASSIGN_OR_RETURN(r.block_hash, FromHexFixed<32>(j.at("block_hash").get<std::string>()));
    ML_ASSIGN_OR_RETURN(r.sig, FromHexFixed<64>(j.at("sig").get<std::string>()));
  } catch (const std::exception& e) {
    return InvalidArgument(std::string("root report: ") + e.what());
  }
  return r;
}

void RootReport::Sign(const std::string& chain_id, const crypto::KeyPair& key) {
  node_id = key.id();
  sig = key.Sign(SigningBytes(chain_id));
}

bool RootReport::SignatureValid(const std::string& chain_id) const {
  auto pk = crypto::ParsePublicId(node_id);
  return pk.ok() && crypto::Verify(*pk, SigningBytes(chain_id), sig);
}

std::string EtcdCheckpointPrefix(const std::string& chain_id) { return "/medledger/" + chain_id + "/checkpoints/"; }

std::string EtcdCheckpointHeightPrefix(const std::string& chain_id, uint64_t height) {
  return EtcdCheckpointPrefix(chain_id) + Height20(height) + "/";
}

std::string EtcdCheckpointKey(const std::string& chain_id, uint64_t height, const std::string& node_id) {
  return EtcdCheckpointHeightPrefix(chain_id, height) + node_id;
}

std::optional<std::pair<uint64_t, std::string>> ParseCheckpointKey(std::string_view key, std::string_view prefix) {
  if (key.size() < prefix.size() + 22 || key.substr(0, prefix.size()) != prefix) return std::nullopt;
  std::string_view rest = key.substr(prefix.size());
  if (rest[20] != '/') return std::nullopt;
  uint64_t h = 0;
  auto [p, ec] = std::from_chars(rest.data(), rest.data() + 20, h);
  if (ec != std::errc() || p != rest.data() + 20) return std::nullopt;
  return std::make_pair(h, std::string(rest.substr(21)));
}

std::vector<std::string> ActiveNodeIds(const state::StateReader& st) {
  std::vector<std::string> out;
  std::map<std::string, bool> org_active;
  st.Scan("id/", [&](std::string_view, const Bytes& value) {
    auto j = state::DecodeState(value);
    if (!j) return true;
    auto rec = state::IdentityRecord::FromJson(*j);
    if (!rec || !rec->active() || !rec->Has(model::kRoleNode)) return true;
    auto it = org_active.find(rec->org);
    if (it == org_active.end()) {
      auto o = state::LoadOrg(st, rec->org);
      it = org_active.emplace(rec->org, o && o->active).first;
    }
    if (it->second) out.push_back(crypto::PublicId(rec->key));
    return true;
  });
  std::sort(out.begin(), out.end());
  return out;
}

Result<Checkpoint> VerifyCheckpoint(const std::string& chain_id, uint64_t height,
                                    const std::vector<RootReport>& reports,
                                    const std::vector<std::string>& electorate,
                                    std::vector<std::string>* ignored) {
  auto note = [&](const RootReport& r, const std::string& why) {
    if (ignored) ignored->push_back("report by " + r.node_id.substr(0, 16) + ": " + why);
  };
  if (electorate.empty())
    return FailedPrecondition("no active node keys in this node's state: no checkpoint can be verified");
  std::set<std::string> members(electorate.begin(), electorate.end());
  std::set<std::string> counted;
  // (block_hash, state_root) -> signers
  std::map<std::pair<Hash32, Hash32>, std::vector<std::string>> votes;
  for (const auto& r : reports) {
    if (r.height != height) {
      note(r, "it is for height " + std::to_string(r.height));
      continue;
    }
    if (!r.SignatureValid(chain_id)) {
      note(r, "its signature does not verify");
      continue;
    }
    if (!members.count(r.node_id)) {
      note(r, "not an active node key of an active member organisation");
      continue;
    }
    if (!counted.insert(r.node_id).second) {
      note(r, "a second report by the same key (counted once)");
      continue;
    }
    votes[{r.block_hash, r.state_root}].push_back(r.node_id);
  }
  const size_t need = members.size() / 2 + 1;
  size_t best = 0;
  for (auto& [pair, signers] : votes) {
    if (signers.size() >= need) {
      Checkpoint c;
      c.height = height;
      c.block_hash = pair.first;
      c.state_root = pair.second;
      c.signers = signers;
      std::sort(c.signers.begin(), c.signers.end());
      c.electorate = members.size();
      return c;
    }
    best = std::max(best, signers.size());
  }
  std::string msg = "no majority checkpoint at height " + std::to_string(height) + ": at most " +
                    std::to_string(best) + " of " + std::to_string(members.size()) +
                    " active node keys signed the same block; a checkpoint needs " + std::to_string(need);
  if (votes.size() > 1) msg += " (signers disagree on the block: " + std::to_string(votes.size()) + " versions)";
  return FailedPrecondition(msg);
}

}  // namespace medledger::node
