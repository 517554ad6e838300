// Catch-up from peer nodes (docs/ARCHITECTURE.md, "Catch-up"): fetching the
// blocks a node lacks from other nodes once etcd no longer holds them,
// without trusting any single peer.
//
// The anchor is a majority checkpoint C (checkpoint.h): a block hash at
// height C that most member nodes signed. FetchSegment fetches blocks C,
// C-1, ..., head+1, from the top down, and accepts block h only if its
// header hash is the hash the accepted block h+1 names as its previous (for
// C itself: the checkpoint's hash), its body matches its header (Merkle and
// results roots, proposer signature: CheckBlockStateless), and block head+1
// names the node's own head as its previous. A peer therefore cannot drop,
// reorder, insert or alter a block without being caught at the exact height;
// the error names the peer and the height, and the next peer is asked from
// that height on (blocks already accepted stay accepted, whoever served
// them). The caller still applies the segment with Chain::ApplyBlock, which
// re-executes everything.
//
// The segment is held in memory until applied: its size is bounded by the
// distance from the head to C, which the caller keeps small by choosing the
// lowest checkpoint that reaches etcd's oldest remaining block.
#pragma once

#include <string>
#include <vector>

#include "common/bytes.h"
#include "common/status.h"
#include "model/block.h"

namespace medledger::node {

struct PeerRef {
  std::string node_id;  // public id of the peer's node key
  std::string url;      // "http://host:port"
};

// The network seam: where peers are listed and blocks fetched. The
// implementation over HTTP lives in api/peer_blocks.h; tests use fakes.
// Called from the orderer's apply thread only.
class PeerBlockSource {
 public:
  virtual ~PeerBlockSource() = default;
  // Peers to ask, other than this node, best first. kUnavailable when the
  // directory cannot be read.
  virtual Result<std::vector<PeerRef>> Peers() = 0;
  // The encoded block at `height` as `peer` serves it. kNotFound when the
  // peer says it has none; kUnavailable when it cannot be reached.
  virtual Result<Bytes> FetchBlock(const PeerRef& peer, uint64_t height) = 0;
};

struct SegmentTarget {
  uint64_t head_height = 0;  // the node's own head
  Hash32 head_hash{};
  uint64_t height = 0;       // the checkpoint's height, > head_height
  Hash32 block_hash{};       // the checkpoint's block hash
};

// Checks that `blocks` are exactly head+1..target.height, each linked to the
// one before by hash, the first to the head and the last equal to the
// target's hash, and each body consistent with its header. kDataLoss naming
// the first height that does not check out (a missing, extra, reordered or
// altered block).
Status CheckSegment(const SegmentTarget& target, const std::vector<model::Block>& blocks);

// Fetches head+1..target.height from `source`'s peers as described above.
// kUnavailable when no peer served a block that checks out for some height
// (every peer's failure is in the message, and in *errors when given, one
// line per failure: "peer <id> (<url>): block <h>: <why>").
Result<std::vector<model::Block>> FetchSegment(PeerBlockSource& source, const SegmentTarget& target,
                                               std::vector<std::string>* errors = nullptr);

}  // namespace medledger::node
