// File: math/ifma_lanes.h
// Internal to math/: the 52-bit lane helpers shared by the AVX-512 IFMA
// kernels (math/ntt_ifma.cc, math/vec_ops_ifma.cc), following the approach
// of Intel HEXL (Boemer et al., WAHC 2021). Include only from files compiled
// with -mavx512ifma, and enter them only after CpuHasIfma().
#ifndef BLINDFOLD_MATH_IFMA_LANES_H_
#define BLINDFOLD_MATH_IFMA_LANES_H_

#include <immintrin.h>

#include <cstdint>

namespace blindfold::math::internal {
namespace {

constexpr uint64_t kMask52 = (uint64_t{1} << 52) - 1;

// Constants of a modulus q < 2^50 broadcast to 8 lanes.
struct Lanes {
  __m512i q, two_q;
  __m512i neg_q;   // 2^52 - q: adding Q * neg_q subtracts Q * q mod 2^52
  __m512i mask52;  // 2^52 - 1
  explicit Lanes(uint64_t qv)
      : q(_mm512_set1_epi64(static_cast<int64_t>(qv))),
        two_q(_mm512_set1_epi64(static_cast<int64_t>(2 * qv))),
        neg_q(_mm512_set1_epi64(static_cast<int64_t>((uint64_t{1} << 52) - qv))),
        mask52(_mm512_set1_epi64(static_cast<int64_t>(kMask52))) {}
};

// v - q if v >= q else v (unsigned min: when v < q, v - q wraps above v).
inline __m512i CondSub(__m512i v, __m512i q) {
  return _mm512_min_epu64(v, _mm512_sub_epi64(v, q));
}

// (lo - est * q) mod 2^52. The caller guarantees the true difference is in
// [0, 2^52), so this is that difference exactly.
inline __m512i SubQuotient(__m512i lo, __m512i est, const Lanes& c) {
  return _mm512_and_si512(_mm512_madd52lo_epu64(lo, est, c.neg_q), c.mask52);
}

// x * w mod q in [0, 2q): Shoup multiplication with the 52-bit companion
// w52 = floor(w 2^52 / q). The quotient estimate floor(x w52 / 2^52) is low
// by at most 1, so the remainder is in [0, 2q) and equals its value mod
// 2^52. REQUIRES: x < 2^52, w < q < 2^50.
inline __m512i MulShoupLazy(__m512i x, __m512i w, __m512i w52,
                            const Lanes& c) {
  const __m512i zero = _mm512_setzero_si512();
  const __m512i quot = _mm512_madd52hi_epu64(zero, x, w52);
  return SubQuotient(_mm512_madd52lo_epu64(zero, x, w), quot, c);
}

}  // namespace
}  // namespace blindfold::math::internal

#endif  // BLINDFOLD_MATH_IFMA_LANES_H_
