// The seam between the transaction engine and the domain modules (identity,
// records and consent, governance, later supply chain and contracts).
//
// A module is deterministic: it reads and writes state only through the
// TxContext, and uses no clock, randomness or I/O beyond what the block
// carries (height, timestamp). The executor gives each transaction its own
// overlay and drops it if the verdict is a rejection, so a module may write
// and then reject without leaving half a transaction behind.
//
// Only nlohmann::json's forward declaration is included: a module's .cc
// includes <nlohmann/json.hpp> to read ctx.payload.
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>

#include "model/transaction.h"
#include "model/verdict.h"
#include "state/identity_record.h"
#include "state/params.h"
#include "state/state_view.h"

namespace medledger::state {

struct TxContext {
  uint64_t height;
  uint64_t timestamp_ms;
  const model::Transaction& tx;
  Hash32 tx_id;
  const IdentityRecord& signer;
  const ChainParams& params;
  const nlohmann::json& payload;
  Overlay& state;

  std::optional<Bytes> Get(std::string_view key) const { return state.Get(key); }
  void Put(std::string key, Bytes value) { state.Put(std::move(key), std::move(value)); }
  void Delete(std::string key) { state.Delete(std::move(key)); }
};

class Module {
 public:
  virtual ~Module() = default;
  virtual const char* name() const = 0;
  virtual bool Handles(uint16_t type) const = 0;
  // Role and signer checks are done before this is called (see executor.h).
  virtual model::Verdict Apply(TxContext& ctx) = 0;
  // An optional fast path for the hottest transaction types, tried first on
  // the payload's canonical bytes (ctx.tx.payload; ctx.payload is empty):
  // decoding every payload into a json tree costs more than the rest of a
  // simple module. It returns nullopt, before touching state, for any
  // payload it does not take; the executor then decodes the payload and
  // calls Apply, which must give the same verdict the fast path would.
  virtual std::optional<model::Verdict> ApplyCanonical(TxContext&) { return std::nullopt; }
  // Admission's check (Executor::Check), for a module whose Apply does much
  // more than decide acceptance: admission then asks this instead of running
  // Apply on a scratch overlay. It must reject everything Apply rejects for
  // the payload, the signer or the parties it names, as of the state it
  // reads; it may leave out work that never rejects (a capture's rules only
  // record outcomes). nullopt: run Apply, as for every other module. State
  // can change before the block, so the block's Apply still decides.
  virtual std::optional<model::Verdict> Admit(TxContext&) { return std::nullopt; }
  // Key prefixes of state that this module reads only by exact key, never
  // with Scan. The store may keep such keys out of its memtable (written in
  // sorted batches instead, ledger/staging.h), which is cheaper for the
  // random hash-named keys a module writes once per transaction. A scan
  // that reaches them still works, slowly.
  virtual std::vector<std::string> PointKeyPrefixes() const { return {}; }
};

// Payload field helpers that turn a bad field into a kInvalidPayload verdict.
struct PayloadError {
  model::Verdict verdict;
};
std::string RequireString(const nlohmann::json& p, const char* name, size_t max_len = 256);
std::optional<std::string> OptionalString(const nlohmann::json& p, const char* name, size_t max_len = 256);
crypto::PublicKey RequireKey(const nlohmann::json& p, const char* name);
Hash32 RequireHash(const nlohmann::json& p, const char* name);
int64_t RequireInt(const nlohmann::json& p, const char* name);

// The field helpers every domain's payloads share (records, supply, ...).
// Lower-case hex, 16 to 64 characters: ids chosen off chain.
bool IsHexId(std::string_view s);
// A short code ([A-Za-z0-9._:-], 1..64): reasons, notes, vocabulary words.
bool IsCode(std::string_view s);
// Throws PayloadError (kInvalidPayload) with `msg`.
[[noreturn]] void BadPayload(std::string msg);
std::string RequireHexId(const nlohmann::json& p, const char* name);
std::optional<std::string> OptionalHexId(const nlohmann::json& p, const char* name);
std::string RequireCode(const nlohmann::json& p, const char* name);
std::optional<std::string> OptionalCode(const nlohmann::json& p, const char* name);
// Zero-padded decimal so that keys sort numerically.
std::string Pad(uint64_t v, int width = 20);
// The state document at `key`, decoded; nullopt when absent.
std::optional<nlohmann::json> LoadDoc(const StateReader& st, std::string_view key);

// Encodes a JSON document as a canonical value (model/value.h) for storage.
Bytes EncodeState(const nlohmann::json& j);
std::optional<nlohmann::json> DecodeState(const std::optional<Bytes>& b);

}  // namespace medledger::state
