// Internal to src/contracts: the per-call context every host function
// reaches through the allocator's user data, and the gas charges.
//
// Lua raises errors with longjmp (Debian builds it as C), so a C function
// called from Lua must hold no live C++ object with a destructor when it
// calls anything that can raise (luaL_check*, lua_push* of strings, lua_call,
// Charge): state it needs lives in the Context instead.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <lua.hpp>

#include "contracts/sandbox.h"

namespace medledger::contracts::internal {

// Instructions between two count-hook calls; gas from instructions is
// counted in these steps, so a call's instruction gas is a multiple of it.
inline constexpr int kGasQuantum = 100;
// Library work done in C is charged one gas per this many bytes.
inline constexpr size_t kBytesPerGas = 16;
// A state read or write (a RocksDB lookup or write in the node).
inline constexpr uint64_t kStateReadGas = 500;
inline constexpr uint64_t kStateWriteGas = 1000;
inline constexpr size_t kMaxStateKeyBytes = 256;
// A new string of at least this many bytes is charged by size when
// allocated: only long strings (over 40 bytes) reach it, and Lua allocates
// those afresh every time, so the charge does not depend on the collector.
inline constexpr size_t kChargedStringAlloc = 128;

// The interpreter's memory for one call: bump allocation from chunks that
// are all freed when the call ends. A call's interpreter is fresh and its
// collector stopped, so nearly nothing is freed before the end anyway;
// malloc and free per Lua object were a sixth of a claim's cost in the
// node. Only the physical layout changes: what a call may allocate is
// still counted by Alloc (Context::memory_used) against its cap, so results
// and memory failures are the same. Freed blocks are reused only when last.
class Arena {
 public:
  Arena() = default;
  Arena(const Arena&) = delete;
  Arena& operator=(const Arena&) = delete;
  ~Arena();
  void* Allocate(size_t n);
  // Grows or shrinks `p` (of `old` bytes): in place when it is the last
  // block and fits, else a copy. nullptr when memory cannot be had.
  void* Resize(void* p, size_t old, size_t n);
  void Free(void* p);

 private:
  static size_t Round(size_t n) { return (n + 15) & ~size_t(15); }
  bool Grow(size_t n);
  std::vector<char*> chunks_;
  char* cur_ = nullptr;
  char* end_ = nullptr;
  char* last_ = nullptr;  // the most recent block, which can grow in place
  size_t next_chunk_ = 64u << 10;
};

struct Context {
  Arena arena;  // declared first: outlives the interpreter it feeds
  lua_State* L = nullptr;
  Limits limits;
  StateAccess* state = nullptr;
  const CallEnv* env = nullptr;

  bool metering = false;  // off while the libraries are set up
  uint64_t gas_used = 0;
  size_t memory_used = 0;

  // A final failure: once set, the hook raises on every instruction and
  // the call fails whatever the contract returns.
  std::optional<Failure> fatal;
  // An operational failure of StateAccess: the call is abandoned.
  std::optional<Status> host_error;
  std::string scratch;  // a host function's C++ result, kept off its frame
};

inline Context* GetContext(lua_State* L) {
  void* ud = nullptr;
  lua_getallocf(L, &ud);
  return static_cast<Context*>(ud);
}

// Marks the call as failed for good and makes the hook fire on the next
// instruction. Safe to call from the allocator (lua_sethook is).
void SetFatal(Context* c, FailureKind kind, std::string_view message,
              std::string_view detail = {});

// Adds `gas`; raises a Lua error if the limit is passed (or already was).
void Charge(lua_State* L, uint64_t gas);
inline uint64_t BytesGas(size_t bytes) { return bytes / kBytesPerGas + 1; }

// Raises the error for a forbidden operation: final, whatever pcall does.
[[noreturn]] void Forbid(lua_State* L, const char* what);

}  // namespace medledger::contracts::internal
