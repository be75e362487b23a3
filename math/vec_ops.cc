#include "math/vec_ops.h"

#include <algorithm>
#include <bit>

#include "base/check.h"
#include "base/cpu_features.h"
#include "base/target.h"

// The x86 kernels (IFMA, AVX2) exist only in x86-64 builds and the NEON
// kernels only in aarch64 builds (math/CMakeLists.txt); each dispatch below
// names only the kernels its build has.

namespace blindfold::math {
namespace {
#if BLINDFOLD_TARGET_X86_64
inline bool UseIfma(const Modulus& q, std::size_t n) {
  return q.bits <= kMaxIfmaModulusBits && n % 8 == 0 &&
         ActiveKernelPath() == KernelPath::kIfma;
}
// The 64-bit integer kernels (add, sub, neg) also serve the IFMA path: an
// IFMA CPU has AVX2, and these have no IFMA counterpart.
inline bool UseAvx2Int(std::size_t n) {
  if (n % 4 != 0) return false;
  const KernelPath path = ActiveKernelPath();
  return path == KernelPath::kAvx2 || (path == KernelPath::kIfma && CpuHasAvx2());
}
inline bool UseAvx2(const Modulus& q, std::size_t n) {
  return q.bits <= kMaxAvx2ModulusBits && UseAvx2Int(n);
}
#endif
#if BLINDFOLD_TARGET_AARCH64
// The NEON kernels take any length (odd tails in scalar code); the integer
// ones serve every q, the multiplying ones q < 2^50.
inline bool UseNeonInt() { return ActiveKernelPath() == KernelPath::kNeon; }
inline bool UseNeon(const Modulus& q) {
  return q.bits <= kMaxNeonModulusBits && UseNeonInt();
}
#endif
}  // namespace

void AddModVec(const uint64_t* a, const uint64_t* b, uint64_t* out,
               std::size_t n, uint64_t q) {
#if BLINDFOLD_TARGET_X86_64
  if (UseAvx2Int(n)) return internal::AddModVecAvx2(a, b, out, n, q);
#endif
#if BLINDFOLD_TARGET_AARCH64
  if (UseNeonInt()) return internal::AddModVecNeon(a, b, out, n, q);
#endif
  for (std::size_t i = 0; i < n; ++i) {
    const uint64_t s = a[i] + b[i];
    out[i] = s >= q ? s - q : s;
  }
}

void SubModVec(const uint64_t* a, const uint64_t* b, uint64_t* out,
               std::size_t n, uint64_t q) {
#if BLINDFOLD_TARGET_X86_64
  if (UseAvx2Int(n)) return internal::SubModVecAvx2(a, b, out, n, q);
#endif
#if BLINDFOLD_TARGET_AARCH64
  if (UseNeonInt()) return internal::SubModVecNeon(a, b, out, n, q);
#endif
  for (std::size_t i = 0; i < n; ++i) {
    const uint64_t d = a[i] - b[i];
    out[i] = a[i] >= b[i] ? d : d + q;
  }
}

void NegModVec(const uint64_t* a, uint64_t* out, std::size_t n, uint64_t q) {
#if BLINDFOLD_TARGET_X86_64
  if (UseAvx2Int(n)) return internal::NegModVecAvx2(a, out, n, q);
#endif
#if BLINDFOLD_TARGET_AARCH64
  if (UseNeonInt()) return internal::NegModVecNeon(a, out, n, q);
#endif
  for (std::size_t i = 0; i < n; ++i) out[i] = a[i] == 0 ? 0 : q - a[i];
}

void AddScalarModVec(const uint64_t* a, uint64_t c, uint64_t* out,
                     std::size_t n, uint64_t q) {
#if BLINDFOLD_TARGET_X86_64
  if (UseAvx2Int(n)) return internal::AddScalarModVecAvx2(a, c, out, n, q);
#endif
#if BLINDFOLD_TARGET_AARCH64
  if (UseNeonInt()) return internal::AddScalarModVecNeon(a, c, out, n, q);
#endif
  for (std::size_t i = 0; i < n; ++i) {
    const uint64_t s = a[i] + c;
    out[i] = s >= q ? s - q : s;
  }
}

void ReduceVec(const uint64_t* a, uint64_t* out, std::size_t n,
               const Modulus& q, int input_bits) {
  // IFMA first: UseAvx2 is also true on the IFMA path (its integer kernels
  // serve both), and the IFMA Shoup product by 1 is ~2.6x faster than the
  // AVX2 double-precision reduction (1.3 vs 3.6 us per 2^14 words).
#if BLINDFOLD_TARGET_X86_64
  if (input_bits <= 52 && UseIfma(q, n)) {
    internal::MulScalarModVecIfma(a, 1, out, n, q);
    return;
  }
  if (input_bits <= 52 && UseAvx2(q, n)) {
    return internal::ReduceVecAvx2(a, out, n, q);
  }
#endif
#if BLINDFOLD_TARGET_AARCH64
  if (input_bits <= 52 && UseNeon(q)) return internal::ReduceVecNeon(a, out, n, q);
#endif
  // Public data (basis conversion of ciphertexts): the variable-time reduction.
  for (std::size_t i = 0; i < n; ++i) out[i] = BarrettReduce64Public(a[i], q);
}

void internal::MulModVecPortable(const uint64_t* a, const uint64_t* b,
                                 uint64_t* out, std::size_t n,
                                 const Modulus& q) {
  for (std::size_t i = 0; i < n; ++i) {
    out[i] = BarrettReduce128(static_cast<u128>(a[i]) * b[i], q);
  }
}

void internal::SubMulScalarAddModVecPortable(const uint64_t* x, const uint64_t* t,
                                             uint64_t w, const uint64_t* add,
                                             uint64_t* out, std::size_t n,
                                             const Modulus& q) {
  const uint64_t ws = ShoupPrecompute(w, q.value);
  for (std::size_t i = 0; i < n; ++i) {
    const uint64_t r = MulModShoup(SubMod(x[i], t[i], q.value), w, ws, q.value);
    out[i] = add != nullptr ? AddMod(r, add[i], q.value) : r;
  }
}

void internal::MulScalarModVecPortable(const uint64_t* a, uint64_t w,
                                       uint64_t* out, std::size_t n,
                                       const Modulus& q) {
  const uint64_t ws = ShoupPrecompute(w, q.value);
  for (std::size_t i = 0; i < n; ++i) {
    out[i] = MulModShoup(a[i], w, ws, q.value);
  }
}

namespace {

// Key switching and basis conversion: public data, so the variable-time
// Barrett reduction (math/modarith.h).
// sum_i a[i][j] * weight(i, j) mod q in blocks of 64 words with 128-bit
// accumulators, reduced once per block when `lazy` (every term below
// 2^122, so 64 of them fit) and after every term otherwise.
template <typename Weight>
void DotPortable(const uint64_t* const* a, Weight weight, int k, uint64_t* out,
                 std::size_t n, const Modulus& q, bool lazy) {
  constexpr std::size_t kBlock = 64;
  u128 acc[kBlock];
  for (std::size_t base = 0; base < n; base += kBlock) {
    const std::size_t len = std::min(kBlock, n - base);
    for (std::size_t j = 0; j < len; ++j) acc[j] = 0;
    for (int i = 0; i < k; ++i) {
      const uint64_t* ai = a[i] + base;
      for (std::size_t j = 0; j < len; ++j) {
        acc[j] += static_cast<u128>(ai[j]) * weight(i, base + j);
        if (!lazy) acc[j] = BarrettReduce128Public(acc[j], q);
      }
    }
    for (std::size_t j = 0; j < len; ++j) out[base + j] = BarrettReduce128Public(acc[j], q);
  }
}

}  // namespace

void internal::DotProductModVecPortable(const uint64_t* const* a,
                                        const uint64_t* const* b, int k,
                                        uint64_t* out, std::size_t n,
                                        const Modulus& q) {
  // Inputs below q < 2^61: products < 2^122.
  DotPortable(a, [b](int i, std::size_t j) { return b[i][j]; }, k, out, n, q,
              /*lazy=*/true);
}

void internal::DotScalarModVecPortable(const uint64_t* const* a,
                                       const uint64_t* w, int k, uint64_t* out,
                                       std::size_t n, const Modulus& q) {
  // Fixed weights: one Shoup product per term (any a < 2^64, result in
  // [0, 2q)), summed in 64 bits while 2 k q < 2^64, then one reduction;
  // several times cheaper than a 128-bit Barrett reduction per word.
  if (k <= 64 && q.bits + std::bit_width(static_cast<unsigned>(2 * k)) <= 63) {
    uint64_t ws[64];
    for (int i = 0; i < k; ++i) ws[i] = ShoupPrecompute(w[i], q.value);
    for (std::size_t j = 0; j < n; ++j) {
      uint64_t s = 0;
      for (int i = 0; i < k; ++i) s += MulModShoupLazy(a[i][j], w[i], ws[i], q.value);
      out[j] = BarrettReduce64Public(s, q);
    }
    return;
  }
  // a[i] < 2^64 and w[i] < q: products < 2^122 while q < 2^58.
  DotPortable(a, [w](int i, std::size_t) { return w[i]; }, k, out, n, q,
              /*lazy=*/q.bits <= 58);
}



void DotProductModVec2(const uint64_t* const* a, const uint64_t* const* b0,
                       const uint64_t* const* b1, int k, uint64_t* out0,
                       uint64_t* out1, std::size_t n, const Modulus& q) {
  BF_DCHECK(k >= 1 && k <= 64 && out0 != out1);
#if BLINDFOLD_TARGET_X86_64
  if (UseIfma(q, n)) {
    return internal::DotProductModVec2Ifma(a, b0, b1, k, out0, out1, n, q);
  }
  if (UseAvx2(q, n)) {
    return internal::DotProductModVec2Avx2(a, b0, b1, k, out0, out1, n, q);
  }
#endif
#if BLINDFOLD_TARGET_AARCH64
  if (UseNeon(q)) {
    return internal::DotProductModVec2Neon(a, b0, b1, k, out0, out1, n, q);
  }
#endif
  internal::DotProductModVecPortable(a, b0, k, out0, n, q);
  internal::DotProductModVecPortable(a, b1, k, out1, n, q);
}

void DotScalarModVec(const uint64_t* const* a, const uint64_t* w, int k,
                     uint64_t* out, std::size_t n, const Modulus& q,
                     int input_bits) {
  BF_DCHECK(k >= 1 && k <= 64);
#if BLINDFOLD_TARGET_X86_64
  if (input_bits <= 50 && UseIfma(q, n)) {
    return internal::DotScalarModVecIfma(a, w, k, out, n, q);
  }
  if (input_bits <= 50 && UseAvx2(q, n)) {
    return internal::DotScalarModVecAvx2(a, w, k, out, n, q);
  }
#endif
#if BLINDFOLD_TARGET_AARCH64
  if (input_bits <= 50 && UseNeon(q)) {
    return internal::DotScalarModVecNeon(a, w, k, out, n, q);
  }
#endif
  internal::DotScalarModVecPortable(a, w, k, out, n, q);
}

void MulModVec(const uint64_t* a, const uint64_t* b, uint64_t* out,
               std::size_t n, const Modulus& q) {
#if BLINDFOLD_TARGET_X86_64
  if (UseIfma(q, n)) return internal::MulModVecIfma(a, b, out, n, q);
  if (UseAvx2(q, n)) return internal::MulModVecAvx2(a, b, out, n, q);
#endif
#if BLINDFOLD_TARGET_AARCH64
  if (UseNeon(q)) return internal::MulModVecNeon(a, b, out, n, q);
#endif
  internal::MulModVecPortable(a, b, out, n, q);
}

void MulAddModVec(const uint64_t* a, const uint64_t* b, uint64_t* out,
                  std::size_t n, const Modulus& q) {
#if BLINDFOLD_TARGET_X86_64
  if (UseAvx2(q, n)) return internal::MulAddModVecAvx2(a, b, out, n, q);
#endif
#if BLINDFOLD_TARGET_AARCH64
  if (UseNeon(q)) return internal::MulAddModVecNeon(a, b, out, n, q);
#endif
  for (std::size_t i = 0; i < n; ++i) {
    out[i] = BarrettReduce128(static_cast<u128>(a[i]) * b[i] + out[i], q);
  }
}

void MulScalarModVec(const uint64_t* a, uint64_t w, uint64_t* out,
                     std::size_t n, const Modulus& q) {
  BF_DCHECK(w < q.value);
#if BLINDFOLD_TARGET_X86_64
  if (UseIfma(q, n)) return internal::MulScalarModVecIfma(a, w, out, n, q);
  if (UseAvx2(q, n)) return internal::MulScalarModVecAvx2(a, w, out, n, q);
#endif
#if BLINDFOLD_TARGET_AARCH64
  if (UseNeon(q)) return internal::MulScalarModVecNeon(a, w, out, n, q);
#endif
  internal::MulScalarModVecPortable(a, w, out, n, q);
}

void SubMulScalarAddModVec(const uint64_t* x, const uint64_t* t, uint64_t w,
                           const uint64_t* add, uint64_t* out, std::size_t n,
                           const Modulus& q) {
  BF_DCHECK(w < q.value);
#if BLINDFOLD_TARGET_X86_64
  if (UseIfma(q, n)) return internal::SubMulScalarAddModVecIfma(x, t, w, add, out, n, q);
  if (UseAvx2(q, n)) return internal::SubMulScalarAddModVecAvx2(x, t, w, add, out, n, q);
#endif
#if BLINDFOLD_TARGET_AARCH64
  if (UseNeon(q)) return internal::SubMulScalarAddModVecNeon(x, t, w, add, out, n, q);
#endif
  internal::SubMulScalarAddModVecPortable(x, t, w, add, out, n, q);
}

void DotProductModVec(const uint64_t* const* a, const uint64_t* const* b,
                      int k, uint64_t* out, std::size_t n, const Modulus& q) {
  BF_DCHECK(k >= 1 && k <= 64);
#if BLINDFOLD_TARGET_X86_64
  if (UseIfma(q, n)) return internal::DotProductModVecIfma(a, b, k, out, n, q);
  if (UseAvx2(q, n)) return internal::DotProductModVecAvx2(a, b, k, out, n, q);
#endif
#if BLINDFOLD_TARGET_AARCH64
  if (UseNeon(q)) return internal::DotProductModVecNeon(a, b, k, out, n, q);
#endif
  internal::DotProductModVecPortable(a, b, k, out, n, q);
}

}  // namespace blindfold::math
