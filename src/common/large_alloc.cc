#include "common/large_alloc.h"

#include <sys/mman.h>

#include <cstdint>
#include <cstdlib>
#include <mutex>
#include <unordered_map>

namespace medledger {

namespace {
constexpr size_t kHugePage = size_t(2) << 20;

// Sizes of the blocks mapped below, for munmap. Large blocks are few (tables
// and arena chunks), so one locked map costs nothing measurable.
struct Mapped {
  std::mutex mu;
  std::unordered_map<void*, size_t> sizes;
};
Mapped& Registry() {
  static Mapped* m = new Mapped;  // never destroyed: frees may run at exit
  return *m;
}
}  // namespace

void* AllocLarge(size_t bytes, bool zero) {
  if (bytes < kHugePage / 2) {  // not worth a huge page (tests, small states)
    void* p = zero ? std::calloc(1, bytes ? bytes : 1) : std::malloc(bytes ? bytes : 1);
    if (!p) throw std::bad_alloc();
    return p;
  }
  // Mapped directly rather than through malloc: the kernel hands out zeroed
  // pages, so `zero` costs nothing and an untouched part of a table costs no
  // memory at all (a memset would fault in and clear every page up front,
  // which showed as clear_page in profiles of a loaded node).
  bytes = (bytes + kHugePage - 1) / kHugePage * kHugePage;
  const size_t span = bytes + kHugePage;  // room to align to a huge page
  void* raw = mmap(nullptr, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (raw == MAP_FAILED) throw std::bad_alloc();
  const uintptr_t start = reinterpret_cast<uintptr_t>(raw);
  const uintptr_t aligned = (start + kHugePage - 1) & ~(uintptr_t(kHugePage) - 1);
  if (aligned > start) munmap(raw, aligned - start);
  const uintptr_t tail = start + span - (aligned + bytes);
  if (tail) munmap(reinterpret_cast<void*>(aligned + bytes), tail);
  void* p = reinterpret_cast<void*>(aligned);
#ifdef MADV_HUGEPAGE
  madvise(p, bytes, MADV_HUGEPAGE);  // advice only: fine if the kernel declines
#endif
  (void)zero;
  Mapped& m = Registry();
  std::lock_guard l(m.mu);
  m.sizes.emplace(p, bytes);
  return p;
}

void FreeLarge(void* p) {
  if (!p) return;
  Mapped& m = Registry();
  size_t bytes = 0;
  {
    std::lock_guard l(m.mu);
    auto it = m.sizes.find(p);
    if (it != m.sizes.end()) {
      bytes = it->second;
      m.sizes.erase(it);
    }
  }
  if (bytes) munmap(p, bytes);
  else std::free(p);
}

void PrefaultLarge(void* p, size_t bytes) {
  if (!p || bytes == 0) return;
#ifdef MADV_POPULATE_WRITE
  const uintptr_t page = 4096;
  const uintptr_t start = reinterpret_cast<uintptr_t>(p) & ~(page - 1);
  const uintptr_t end = reinterpret_cast<uintptr_t>(p) + bytes;
  if (madvise(reinterpret_cast<void*>(start), end - start, MADV_POPULATE_WRITE) == 0) return;
#endif
  // Older kernels: write each page (the memory is zero, and stays so).
  auto* c = static_cast<volatile char*>(p);
  for (size_t i = 0; i < bytes; i += 4096) c[i] = c[i];
}

}  // namespace medledger
