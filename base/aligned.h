// File: base/aligned.h
// 64-byte aligned vectors (one cache line, one AVX-512 register), used for
// every polynomial buffer so SIMD kernels may use aligned loads. Storage comes
// from the buffer cache (base/buffer_cache.h), which recycles large buffers.
#ifndef BLINDFOLD_BASE_ALIGNED_H_
#define BLINDFOLD_BASE_ALIGNED_H_

#include <cstddef>
#include <cstdint>
#include <new>
#include <utility>
#include <vector>

#include "base/buffer_cache.h"

namespace blindfold {

inline constexpr std::size_t kCacheLine = kBufferAlignment;

template <typename T>
struct AlignedAllocator {
  using value_type = T;
  AlignedAllocator() = default;
  template <typename U>
  AlignedAllocator(const AlignedAllocator<U>&) {}  // NOLINT
  T* allocate(std::size_t n) {
    if (n > SIZE_MAX / sizeof(T)) throw std::bad_array_new_length();
    return static_cast<T*>(AllocateBuffer(n * sizeof(T)));
  }
  void deallocate(T* p, std::size_t n) noexcept {
    FreeBuffer(p, n * sizeof(T));
  }
  // Default-initialization: vector(n) and resize(n) leave words unset (no
  // memset of buffers a kernel overwrites next); vector(n, 0) still zeroes.
  template <typename U>
  void construct(U* p) noexcept {
    ::new (static_cast<void*>(p)) U;
  }
  template <typename U, typename... Args>
  void construct(U* p, Args&&... args) {
    ::new (static_cast<void*>(p)) U(std::forward<Args>(args)...);
  }
  template <typename U>
  bool operator==(const AlignedAllocator<U>&) const {
    return true;
  }
};

template <typename T>
using AlignedVector = std::vector<T, AlignedAllocator<T>>;

}  // namespace blindfold

#endif  // BLINDFOLD_BASE_ALIGNED_H_
