// File: math/avx2_fp.h
// Internal to math/: modular arithmetic on 4 x double lanes for the AVX2
// kernels (math/ntt_avx2.cc, math/vec_ops_avx2.cc). Include only from files
// compiled with -mavx2 -mfma, and enter them only after CpuHasAvx2().
//
// Residues of a prime q < 2^50 are held as doubles (integers, exact below
// 2^53), usually in a signed, centred range. A product a b (< 2^104) is
// split exactly as hi + lo with hi = fl(a b), lo = fma(a, b, -hi); with the
// quotient estimate Q = round(hi * fl(1/q)),
//     r = fma(-Q, q, hi) + lo = a b - Q q
// exactly: hi - Q q and r are integers below 2^53 in magnitude, so neither
// the fma nor the add rounds. |a b / q - Q| <= 1/2 + |a b / q| 2^-51.4, so
// |r| <= q (1/2 + |a b| / q 2^-51.4): below q for the operand bounds the
// kernels keep (see docs/design/avx2-kernels.md for the bound per kernel).
// Words convert between uint64 (< 2^52) and double exactly with the 2^52
// exponent trick (OR the bits into 2^52's mantissa, subtract 2^52).
#ifndef BLINDFOLD_MATH_AVX2_FP_H_
#define BLINDFOLD_MATH_AVX2_FP_H_

#include <immintrin.h>

#include <cstdint>

namespace blindfold::math::internal {
namespace {

constexpr int64_t kTwo52Bits = 0x4330000000000000;  // bits of 2^52

// Constants of a prime q < 2^50 broadcast to 4 lanes.
struct FpMod {
  __m256d q, qinv;
  explicit FpMod(uint64_t qv)
      : q(_mm256_set1_pd(static_cast<double>(qv))),
        qinv(_mm256_set1_pd(1.0 / static_cast<double>(qv))) {}
};

// uint64 words below 2^52 to doubles, exactly.
inline __m256d U64ToF64(__m256i x) {
  const __m256i m = _mm256_set1_epi64x(kTwo52Bits);
  return _mm256_sub_pd(_mm256_castsi256_pd(_mm256_or_si256(x, m)),
                       _mm256_castsi256_pd(m));
}
// Integer-valued doubles in [0, 2^52) to uint64 words.
inline __m256i F64ToU64(__m256d x) {
  const __m256i m = _mm256_set1_epi64x(kTwo52Bits);
  return _mm256_xor_si256(
      _mm256_castpd_si256(_mm256_add_pd(x, _mm256_castsi256_pd(m))), m);
}
inline __m256d LoadU64(const uint64_t* p) {
  return U64ToF64(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
}
inline void StoreU64(uint64_t* p, __m256d v) {
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), F64ToU64(v));
}

inline __m256d RoundNearest(__m256d x) {
  return _mm256_round_pd(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
}

// x - round(x / q) q: |result| <= q/2 + 1. REQUIRES: |x| < 2^53.
inline __m256d ReduceCentred(__m256d x, const FpMod& c) {
  return _mm256_fnmadd_pd(RoundNearest(_mm256_mul_pd(x, c.qinv)), c.q, x);
}

// Centred value (|x| < q) to [0, q).
inline __m256d Canonical(__m256d x, const FpMod& c) {
  const __m256d neg = _mm256_cmp_pd(x, _mm256_setzero_pd(), _CMP_LT_OQ);
  return _mm256_add_pd(x, _mm256_and_pd(neg, c.q));
}

// Any integer |x| < 2^53 to [0, q) (the centred remainder is within
// q/2 + 1 + |x| 2^-51 of 0, below q for the sums the kernels reduce).
inline __m256d ReduceToCanonical(__m256d x, const FpMod& c) {
  return Canonical(ReduceCentred(x, c), c);
}

// a b - Q q for Q = round(a b / q) (see the header comment): a signed
// representative of a b mod q. REQUIRES: a, b integers, |a b| < 2^104 and
// the kernel's bound keeping |result| < 2^52.
inline __m256d MulModCentred(__m256d a, __m256d b, const FpMod& c) {
  const __m256d hi = _mm256_mul_pd(a, b);
  const __m256d lo = _mm256_fmsub_pd(a, b, hi);
  const __m256d quot = RoundNearest(_mm256_mul_pd(hi, c.qinv));
  return _mm256_add_pd(_mm256_fnmadd_pd(quot, c.q, hi), lo);
}

}  // namespace
}  // namespace blindfold::math::internal

#endif  // BLINDFOLD_MATH_AVX2_FP_H_
