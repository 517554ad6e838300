// Signed statements about a chain's head, and checkpoints made of them: what
// catch-up from peers (peer_sync.h) and the pruning of etcd rest on.
//
// A RootReport is one node's signed statement "my block `height` has hash
// `block_hash` and state root `state_root`". Nodes publish their latest one
// under roots/<node id> (agreement, etcd_orderer.h) and one for every
// checkpoint height they pass under
//   /medledger/<chain_id>/checkpoints/<height, 20 digits>/<node public id>
// A checkpoint for height h is the set of reports for h whose (block_hash,
// state_root) is signed by a strict majority of the active node keys of
// active member organisations. It is what lets a node trust blocks from a
// single peer once etcd no longer holds them: the peer's blocks must link by
// hash back from the checkpoint's block to the node's own head (peer_sync.h).
//
// Nothing read from etcd is trusted: every signature, the signer's standing
// and the majority are checked by the reader, against the reader's own
// committed state (see VerifyCheckpoint for what that means for a node far
// behind).
//
// Thread safety: pure functions; StateReader as thread-safe as the reader.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/bytes.h"
#include "common/status.h"
#include "crypto/ed25519.h"
#include "state/state_view.h"

namespace medledger::node {

struct RootReport {
  std::string node_id;  // public id of the node key that signed it
  uint64_t height = 0;
  Hash32 state_root{};
  Hash32 block_hash{};
  uint64_t time_ms = 0;
  crypto::Signature sig{};

  // "medledger-root-report-v1\n" chain_id "\n" node_id "\n" height "\n"
  // hex(state_root) "\n" hex(block_hash) "\n" time_ms
  Bytes SigningBytes(const std::string& chain_id) const;
  std::string ToJson() const;
  static Result<RootReport> FromJson(std::string_view text);
  // Fills node_id and sig.
  void Sign(const std::string& chain_id, const crypto::KeyPair& key);
  // The signature verifies with the key named by node_id.
  bool SignatureValid(const std::string& chain_id) const;
};

// "/medledger/<chain_id>/checkpoints/"
std::string EtcdCheckpointPrefix(const std::string& chain_id);
// prefix + 20-digit height + "/" (every report for that height).
std::string EtcdCheckpointHeightPrefix(const std::string& chain_id, uint64_t height);
// prefix + 20-digit height + "/" + node id.
std::string EtcdCheckpointKey(const std::string& chain_id, uint64_t height, const std::string& node_id);
// (height, node id) of a key under EtcdCheckpointPrefix; nullopt otherwise.
std::optional<std::pair<uint64_t, std::string>> ParseCheckpointKey(std::string_view key, std::string_view prefix);

// Public ids of the keys that may sign a checkpoint in `st`: active
// identities with role node whose organisation is an active member. Scans
// the identity records (one pass over "id/").
std::vector<std::string> ActiveNodeIds(const state::StateReader& st);

struct Checkpoint {
  uint64_t height = 0;
  Hash32 block_hash{};
  Hash32 state_root{};
  std::vector<std::string> signers;  // node ids of the majority, sorted
  size_t electorate = 0;             // active node keys counted
};

// Builds the checkpoint for `height` from the reports found for it, every
// one checked here: a report counts only if it is for `height`, its
// signature verifies, its key is in `electorate` (ActiveNodeIds) and its
// signer was not counted already (a duplicate counts once). The
// (block_hash, state_root) signed by more than electorate/2 counted signers
// wins. kFailedPrecondition naming the count ("2 of 5 active node keys
// signed block ... at height h; a checkpoint needs 3") when no pair has a
// majority, or when the electorate is empty. `ignored` (optional) receives
// one line per report that did not count, with the reason.
//
// The electorate is the caller's: a node verifies against its own committed
// state, which for a node catching up is its head, older than `height`.
// Membership changes between the two are then judged by the older list;
// that is the price of not trusting anything the node has not applied, and
// a node too far behind a membership change needs a checkpoint it can
// verify (or a copy of a data directory).
Result<Checkpoint> VerifyCheckpoint(const std::string& chain_id, uint64_t height,
                                    const std::vector<RootReport>& reports,
                                    const std::vector<std::string>& electorate,
                                    std::vector<std::string>* ignored = nullptr);

}  // namespace medledger::node
