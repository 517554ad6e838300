#include "common/large_alloc.h"

#include <sys/mman.h>

#include <cstdlib>
#include <cstring>

namespace medledger {

namespace {
constexpr size_t kHugePage = size_t(2) << 20;
}

void* AllocLarge(size_t bytes, bool zero) {
  if (bytes < kHugePage / 2) {  // not worth a huge page (tests, small states)
    void* p = zero ? std::calloc(1, bytes ? bytes : 1) : std::malloc(bytes ? bytes : 1);
    if (!p) throw std::bad_alloc();
    return p;
  }
  bytes = (bytes + kHugePage - 1) / kHugePage * kHugePage;
  void* p = std::aligned_alloc(kHugePage, bytes);
  if (!p) throw std::bad_alloc();
#ifdef MADV_HUGEPAGE
  madvise(p, bytes, MADV_HUGEPAGE);  // advice only: fine if the kernel declines
#endif
  if (zero) std::memset(p, 0, bytes);
  return p;
}

void FreeLarge(void* p) { std::free(p); }

}  // namespace medledger
