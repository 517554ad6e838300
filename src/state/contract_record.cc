#include "state/contract_record.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "state/module.h"

namespace medledger::state {

bool ValidContractName(std::string_view name) {
  return !name.empty() && name.size() <= 64 && std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.';
  });
}

std::string ContractMetaKey(std::string_view name) { return "ctr/meta/" + std::string(name); }

std::string ContractSourceKey(std::string_view name, uint64_t version) {
  return "ctr/src/" + std::string(name) + "/" + Pad(version);
}

std::optional<ContractRecord> LoadContract(const StateReader& st, std::string_view name) {
  auto d = LoadDoc(st, ContractMetaKey(name));
  if (!d) return std::nullopt;
  ContractRecord r;
  r.name = d->value("name", "");
  r.version = uint64_t(d->value("version", int64_t(0)));
  r.source_sha256 = d->value("source_sha256", "");
  r.height = uint64_t(d->value("height", int64_t(0)));
  r.proposal_id = d->value("proposal_id", "");
  return r;
}

std::optional<std::string> LoadContractSource(const StateReader& st, std::string_view name, uint64_t version) {
  auto d = LoadDoc(st, ContractSourceKey(name, version));
  if (!d) return std::nullopt;
  return d->value("source", "");
}

void StoreContract(Overlay& st, const ContractRecord& rec, const std::string& source) {
  st.Put(ContractMetaKey(rec.name), EncodeState({{"name", rec.name},
                                                 {"version", int64_t(rec.version)},
                                                 {"source_sha256", rec.source_sha256},
                                                 {"height", int64_t(rec.height)},
                                                 {"proposal_id", rec.proposal_id}}));
  st.Put(ContractSourceKey(rec.name, rec.version), EncodeState({{"source", source}}));
}

}  // namespace medledger::state
