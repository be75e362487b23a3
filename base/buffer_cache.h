// File: base/buffer_cache.h
// A process-wide cache of large, 64-byte aligned buffers: the backing store
// of every AlignedVector (base/aligned.h), hence of every RNS polynomial.
//
// Why: an evaluator op allocates its outputs and key-switching temporaries
// (megabytes at N >= 2^14) and frees them when it returns. glibc serves such
// sizes with mmap/munmap or trims them off the heap top, so every op paid
// page faults and the kernel's zeroing of fresh pages: measured at N = 2^14,
// multiply_plain took 414 us instead of 88 us and mul_relin 5.5 ms instead of
// 3.8 ms. Freed buffers of at least kMinCachedBytes are kept here, by exact
// size, up to a byte budget, and handed out again.
//
// Cached memory is not cleared (AlignedVector zeroes only when asked), so
// code holding secrets wipes them before freeing (SecretKey does). Thread
// safe; one short critical section per cached allocation or release.
#ifndef BLINDFOLD_BASE_BUFFER_CACHE_H_
#define BLINDFOLD_BASE_BUFFER_CACHE_H_

#include <cstddef>
#include <cstdint>

namespace blindfold {

inline constexpr std::size_t kBufferAlignment = 64;
inline constexpr std::size_t kMinCachedBytes = std::size_t{64} << 10;

// `bytes` bytes aligned to kBufferAlignment; throws std::bad_alloc like
// operator new when memory is exhausted.
void* AllocateBuffer(std::size_t bytes);
// Returns a buffer from AllocateBuffer(bytes) (same `bytes`).
void FreeBuffer(void* p, std::size_t bytes) noexcept;

// The most bytes the cache keeps (default 512 MiB, or BLINDFOLD_BUFFER_CACHE_MB
// from the environment at first use); 0 disables caching. Lowering it
// releases cached buffers down to the new budget.
void SetBufferCacheBudget(std::size_t bytes);
std::size_t BufferCacheBudget();

// Frees every cached buffer to the system.
void ReleaseCachedBuffers();

struct BufferCacheStats {
  std::size_t cached_bytes = 0;  // held for reuse now
  uint64_t hits = 0;             // allocations served from the cache
  uint64_t misses = 0;           // cacheable allocations that were not
};
BufferCacheStats GetBufferCacheStats();

}  // namespace blindfold

#endif  // BLINDFOLD_BASE_BUFFER_CACHE_H_
