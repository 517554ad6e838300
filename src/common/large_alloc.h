// Memory for large tables that are probed at random (the audit's replay
// state and replay window hold millions of entries). On this kind of host a
// 4 KiB page per probe means a TLB miss and, the first time, a page fault;
// 2 MiB-aligned blocks marked for transparent huge pages avoid most of both.
#pragma once

#include <cstddef>
#include <new>

namespace medledger {

// At least `bytes`, zero-filled if `zero`; free with FreeLarge. Below 1 MiB
// it is plain malloc; from 1 MiB on, fresh zeroed pages mapped on first touch.
// Throws std::bad_alloc like operator new.
void* AllocLarge(size_t bytes, bool zero);
void FreeLarge(void* p);
// Faults in the pages of [p, p + bytes) now, for a table that will be
// written under a lock: a first touch there costs a page fault, and with
// huge pages possibly a compaction, while every reader waits.
void PrefaultLarge(void* p, size_t bytes);

// A std::allocator stand-in backed by AllocLarge, for std::vector tables.
template <class T>
struct LargeAllocator {
  using value_type = T;
  LargeAllocator() = default;
  template <class U>
  LargeAllocator(const LargeAllocator<U>&) {}
  T* allocate(size_t n) { return static_cast<T*>(AllocLarge(n * sizeof(T), false)); }
  void deallocate(T* p, size_t) { FreeLarge(p); }
  friend bool operator==(const LargeAllocator&, const LargeAllocator&) { return true; }
};

}  // namespace medledger
