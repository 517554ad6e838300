// The state root: a hash commitment to the world state after a block.
//
//   root(h) = SHA-256("mlsr" | root(h-1) | u64 h | for each write, in key order:
//                     var key | u8 present | var value)
//
// It chains the state differences, so it commits to the whole state (the state
// after block h is a function of genesis and every diff) while costing only
// the size of the block's own writes: no full-state tree to rehash. It gives
// no per-key proofs; reads of state are served by member nodes, whose roots
// are cross-checked (the etcd orderer's agreement checks, node/etcd_orderer.h),
// not by light clients.
#pragma once

#include "common/bytes.h"
#include "state/state_view.h"

namespace medledger::state {

Hash32 NextStateRoot(const Hash32& prev, uint64_t height, const WriteSet& writes);

}  // namespace medledger::state
