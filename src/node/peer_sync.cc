#include "node/peer_sync.h"

#include "node/chain.h"

namespace medledger::node {

namespace {

// Why `b`, served for `height`, is not the block whose hash is `expect`;
// nullopt when it is. `prev` is the hash block height-1 must have, known
// only for the lowest block (the node's own head).
std::optional<std::string> CheckOne(const model::Block& b, uint64_t height, const Hash32& expect) {
  if (b.header.height != height)
    return "it is a block of height " + std::to_string(b.header.height) + " (reordered or misplaced)";
  if (b.header.Hash() != expect)
    return "its hash " + ToHex(b.header.Hash()).substr(0, 16) + " is not " + ToHex(expect).substr(0, 16) +
           ", the hash the checkpointed chain has at this height (altered or substituted block)";
  // The header is the right one; its body must be the one it commits to.
  if (auto err = CheckBlockStateless(b, b.header.prev_hash, height)) return "its body does not match its header: " + *err;
  return std::nullopt;
}

}  // namespace

Status CheckSegment(const SegmentTarget& t, const std::vector<model::Block>& blocks) {
  if (t.height <= t.head_height) return InvalidArgument("checkpoint is not above the head");
  uint64_t want = t.height - t.head_height;
  Hash32 expect = t.block_hash;
  // From the top down, as FetchSegment does: each accepted block fixes the
  // hash of the one below. The k-th block from the end must be height C-k.
  for (uint64_t k = 0; k < want; ++k) {
    uint64_t h = t.height - k;
    if (k >= blocks.size()) return DataLoss("block " + std::to_string(h) + " is missing from the segment");
    const model::Block& b = blocks[blocks.size() - 1 - k];
    if (auto err = CheckOne(b, h, expect)) return DataLoss("block " + std::to_string(h) + ": " + *err);
    expect = b.header.prev_hash;
  }
  if (blocks.size() != want)
    return DataLoss("the segment has " + std::to_string(blocks.size()) + " blocks, expected " + std::to_string(want));
  if (expect != t.head_hash)
    return DataLoss("block " + std::to_string(t.head_height + 1) +
                    " does not link to this node's head: a block is missing or the histories diverge");
  return Status::Ok();
}

Result<std::vector<model::Block>> FetchSegment(PeerBlockSource& source, const SegmentTarget& t,
                                               std::vector<std::string>* errors) {
  if (t.height <= t.head_height) return InvalidArgument("checkpoint is not above the head");
  ML_ASSIGN_OR_RETURN(std::vector<PeerRef> peers, source.Peers());
  if (peers.empty()) return Unavailable("no peer in the directory to fetch blocks from");
  uint64_t want = t.height - t.head_height;
  std::vector<model::Block> out(want);
  std::string all;
  auto fail = [&](const PeerRef& p, uint64_t h, const std::string& why) {
    std::string line = "peer " + p.node_id.substr(0, 16) + " (" + p.url + "): block " + std::to_string(h) + ": " + why;
    if (errors) errors->push_back(line);
    if (!all.empty()) all += "; ";
    all += line;
  };
  Hash32 expect = t.block_hash;
  uint64_t h = t.height;
  size_t peer = 0;
  // Each peer is asked until it fails once; then the next one continues
  // from the same height. A peer that failed is not asked again.
  while (h > t.head_height) {
    if (peer >= peers.size())
      return Unavailable("catch-up from peers stopped at block " + std::to_string(h) + ": " + all);
    const PeerRef& p = peers[peer];
    auto bytes = source.FetchBlock(p, h);
    if (!bytes.ok()) {
      fail(p, h, bytes.status().code() == StatusCode::kNotFound ? "withheld (the peer says it has no such block)"
                                                                : bytes.status().message());
      peer++;
      continue;
    }
    auto b = model::DecodeBlock(*bytes);
    if (!b.ok()) {
      fail(p, h, "undecodable: " + b.status().message());
      peer++;
      continue;
    }
    if (auto err = CheckOne(*b, h, expect)) {
      fail(p, h, *err);
      peer++;
      continue;
    }
    if (h == t.head_height + 1 && b->header.prev_hash != t.head_hash) {
      // The checkpointed chain does not pass through this node's head: no
      // peer can fix that.
      return DataLoss("block " + std::to_string(h) + " of the checkpointed chain does not link to this node's head " +
                      std::to_string(t.head_height) + ": the histories diverge");
    }
    expect = b->header.prev_hash;
    out[size_t(h - t.head_height - 1)] = std::move(*b);
    h--;
  }
  return out;
}

}  // namespace medledger::node
