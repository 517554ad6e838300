#include "state/state_root.h"

#include "crypto/sha256.h"

namespace medledger::state {

Hash32 NextStateRoot(const Hash32& prev, uint64_t height, const WriteSet& writes) {
  crypto::Sha256Builder b;
  b.Add(std::string_view("mlsr")).Add(prev);
  Bytes buf;
  ByteWriter w(&buf);
  w.U64(height);
  b.Add(buf);
  for (const auto& [k, v] : writes) {
    buf.clear();
    w.Var(k);
    w.U8(v ? 1 : 0);
    if (v) w.Var(*v);
    b.Add(buf);
  }
  return b.Finish();
}

}  // namespace medledger::state
