// File: base/aligned.h
// 64-byte aligned vectors (one cache line, one AVX-512 register), used for
// every polynomial buffer so SIMD kernels may use aligned loads.
#ifndef BLINDFOLD_BASE_ALIGNED_H_
#define BLINDFOLD_BASE_ALIGNED_H_

#include <cstddef>
#include <cstdint>
#include <new>
#include <utility>
#include <vector>

namespace blindfold {

inline constexpr std::size_t kCacheLine = 64;

template <typename T>
struct AlignedAllocator {
  using value_type = T;
  AlignedAllocator() = default;
  template <typename U>
  AlignedAllocator(const AlignedAllocator<U>&) {}  // NOLINT
  T* allocate(std::size_t n) {
    return static_cast<T*>(
        ::operator new(n * sizeof(T), std::align_val_t(kCacheLine)));
  }
  void deallocate(T* p, std::size_t) noexcept {
    ::operator delete(p, std::align_val_t(kCacheLine));
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
