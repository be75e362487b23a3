// File: math/neon_fp.h
// Internal to math/: modular arithmetic on 2 x double lanes for the NEON
// kernels (math/ntt_neon.cc, math/vec_ops_neon.cc); aarch64 builds only.
//
// The AVX2 path's technique (math/avx2_fp.h, docs/design/avx2-kernels.md)
// on 128-bit NEON registers: residues of a prime q < 2^50 are held as
// doubles (integers, exact below 2^53), usually centred. A product a b
// (< 2^104) is split exactly as hi - nlo with hi = fl(a b) and
// nlo = hi - a b by one fused multiply-subtract (FMLS; exact, since
// hi - a b is a double);
// with Q = round(hi * fl(1/q)) (FRINTN, ties to even),
//     r = (hi - Q q) - nlo = a b - Q q
// exactly: hi - Q q and r are integers below 2^53 in magnitude, so neither
// the fused multiply-subtract nor the subtraction rounds, and r is the
// same double the AVX2 kernels compute. |a b / q - Q| <= 1/2 + |a b / q|
// 2^-51.4, so |r| <= q (1/2 + |a b| / q 2^-51.4).
// Unlike AVX2, AArch64 converts between uint64 and double in one
// instruction (UCVTF, FCVTZU), exact for integers below 2^53.
#ifndef BLINDFOLD_MATH_NEON_FP_H_
#define BLINDFOLD_MATH_NEON_FP_H_

#include <arm_neon.h>

#include <cstdint>

namespace blindfold::math::internal {
namespace {

// Constants of a prime q < 2^50 broadcast to 2 lanes.
struct FpMod {
  float64x2_t q, qinv;
  explicit FpMod(uint64_t qv)
      : q(vdupq_n_f64(static_cast<double>(qv))),
        qinv(vdupq_n_f64(1.0 / static_cast<double>(qv))) {}
};

// uint64 words below 2^53 to doubles, exactly.
inline float64x2_t LoadU64(const uint64_t* p) {
  return vcvtq_f64_u64(vld1q_u64(p));
}
// Integer-valued doubles in [0, 2^53) to uint64 words.
inline void StoreU64(uint64_t* p, float64x2_t v) {
  vst1q_u64(p, vcvtq_u64_f64(v));
}

// x - round(x / q) q: |result| <= q/2 + 1. REQUIRES: |x| < 2^53.
inline float64x2_t ReduceCentred(float64x2_t x, const FpMod& c) {
  return vfmsq_f64(x, vrndnq_f64(vmulq_f64(x, c.qinv)), c.q);
}

// Centred value (|x| < q) to [0, q).
inline float64x2_t Canonical(float64x2_t x, const FpMod& c) {
  const uint64x2_t neg = vcltzq_f64(x);
  return vaddq_f64(
      x, vreinterpretq_f64_u64(vandq_u64(neg, vreinterpretq_u64_f64(c.q))));
}

// Any integer |x| < 2^53 to [0, q), for the sums the kernels reduce (as
// math/avx2_fp.h's ReduceToCanonical).
inline float64x2_t ReduceToCanonical(float64x2_t x, const FpMod& c) {
  return Canonical(ReduceCentred(x, c), c);
}

// a b - Q q for Q = round(a b / q): a signed representative of a b mod q.
// REQUIRES: a, b integers, |a b| < 2^104 and the kernel's bound keeping
// |result| < 2^52.
inline float64x2_t MulModCentred(float64x2_t a, float64x2_t b,
                                 const FpMod& c) {
  const float64x2_t hi = vmulq_f64(a, b);
  const float64x2_t nlo = vfmsq_f64(hi, a, b);  // hi - a b = -lo, exact
  const float64x2_t quot = vrndnq_f64(vmulq_f64(hi, c.qinv));
  return vsubq_f64(vfmsq_f64(hi, quot, c.q), nlo);
}

}  // namespace
}  // namespace blindfold::math::internal

#endif  // BLINDFOLD_MATH_NEON_FP_H_
