// File: math/ntt_avx2.cc
// AVX2 + FMA negacyclic NTT kernels (declared in math/ntt.h):
// internal::ForwardAvx2 and InverseAvx2, for primes q < 2^50.
//
// The transform runs on 4 x double lanes in place: the first pass turns the
// words into centred doubles (|x| <= q/2 + 1), every butterfly works on
// signed representatives, and the last pass writes canonical words in
// [0, q). Twiddle products are the exact hi/lo FMA products of
// math/avx2_fp.h with a rounded quotient (no 64-bit integer multiply: AVX2
// has none, and composing one from 32 x 32 -> 64 vpmuludq costs ten
// multiplies per product where this costs five floating-point operations).
//
// Forward (Cooley-Tukey): x' = x_c + t, y' = x_c - t with x_c = x reduced
// to |x_c| <= q/2 + 1 and t = w y mod q centred. If every input is below
// B q in magnitude, |t| <= q (1/2 + 0.38 B) and outputs stay below
// q (1 + 0.38 B). The radix-4 passes reduce x only on their first stage
// (and the last stage never: the final reduction follows); a stage without
// it maps B to 1.38 B + 1/2. Alternating, B stays below 2.5 after a reducing
// stage and below 3.95 after the other (every value < 2^52, products
// < 2^102). Inverse (Gentleman-Sande): x' = (x + y)
// centred, y' = w (x - y) mod q centred: |y'| <= q (1/2 + 0.76 B), B stays
// below 2.1 (|x - y| < 2^52.1). 1/N is folded into the last stage.
//
// Stages with butterfly distance >= 4 vectorise across j; distance 2 pairs
// 128-bit halves of two vectors (vperm2f128) and distance 1 pairs even and
// odd lanes (vunpck{lo,hi}pd), with twiddles loaded and permuted to match.
// Outputs are fully reduced, so they are bit-identical to the portable
// kernels' reduced outputs (and in range for the lazy contracts).
//
// Compiled with -mavx2 -mfma; enter only after CpuHasAvx2().
#include <cstddef>
#include <cstdint>

#include "math/avx2_fp.h"
#include "math/ntt.h"

namespace blindfold::math::internal {
namespace {

// The words are reinterpreted in place as doubles; the vector load/store
// intrinsics access memory through may_alias types.
inline __m256d Ld(const uint64_t* p) {
  return _mm256_loadu_pd(reinterpret_cast<const double*>(p));
}
inline void St(uint64_t* p, __m256d v) {
  _mm256_storeu_pd(reinterpret_cast<double*>(p), v);
}

// kReduceX: reduce x to |x| <= q/2 + 1 first (three operations); the
// passes skip it on every other stage (see the bounds at the top).
template <bool kReduceX = true>
inline void FwdButterfly(__m256d& x, __m256d& y, __m256d w, const FpMod& c) {
  const __m256d xc = kReduceX ? ReduceCentred(x, c) : x;
  const __m256d t = MulModCentred(y, w, c);
  x = _mm256_add_pd(xc, t);
  y = _mm256_sub_pd(xc, t);
}

inline void InvButterfly(__m256d& x, __m256d& y, __m256d w, const FpMod& c) {
  const __m256d s = _mm256_add_pd(x, y);
  const __m256d d = _mm256_sub_pd(x, y);
  x = ReduceCentred(s, c);
  y = MulModCentred(d, w, c);
}

// [p0, p0, p1, p1] and [p0, p2, p1, p3].
inline __m256d Twiddle2(const double* p) {
  return _mm256_permute4x64_pd(_mm256_castpd128_pd256(_mm_loadu_pd(p)), 0x50);
}
inline __m256d Twiddle1(const double* p) {
  return _mm256_permute4x64_pd(_mm256_loadu_pd(p), 0xD8);
}

// One radix-2 stage with distance dist >= 4: groups i < m, twiddle w[m + i].
template <bool kFwd>
void Stage(uint64_t* a, std::size_t m, std::size_t dist, const double* w,
           const FpMod& c) {
  for (std::size_t i = 0; i < m; ++i) {
    const __m256d wv = _mm256_broadcast_sd(w + m + i);
    uint64_t* x = a + 2 * i * dist;
    uint64_t* y = x + dist;
    for (std::size_t j = 0; j < dist; j += 4) {
      __m256d xv = Ld(x + j), yv = Ld(y + j);
      if constexpr (kFwd) {
        FwdButterfly(xv, yv, wv, c);
      } else {
        InvButterfly(xv, yv, wv, c);
      }
      St(x + j, xv);
      St(y + j, yv);
    }
  }
}

// Two stages (m, dist) and (2m, dist/2) per pass (radix-4 blocks).
// kEntry: the words are still uint64 in [0, 4q); convert and centre them on
// load (the first pass). REQUIRES: dist >= 8.
template <bool kEntry>
void FwdStage4(uint64_t* a, std::size_t m, std::size_t dist, const double* w,
               const FpMod& c) {
  const std::size_t h = dist / 2;
  for (std::size_t i = 0; i < m; ++i) {
    const __m256d wa = _mm256_broadcast_sd(w + m + i);
    const __m256d wb0 = _mm256_broadcast_sd(w + 2 * m + 2 * i);
    const __m256d wb1 = _mm256_broadcast_sd(w + 2 * m + 2 * i + 1);
    uint64_t* p0 = a + 2 * i * dist;
    uint64_t* p1 = p0 + h;
    uint64_t* p2 = p0 + dist;
    uint64_t* p3 = p2 + h;
    for (std::size_t j = 0; j < h; j += 4) {
      __m256d x0, x1, x2, x3;
      if constexpr (kEntry) {
        x0 = LoadU64(p0 + j);  // reduced by the first butterflies
        x1 = LoadU64(p1 + j);
        x2 = ReduceCentred(LoadU64(p2 + j), c);
        x3 = ReduceCentred(LoadU64(p3 + j), c);
      } else {
        x0 = Ld(p0 + j), x1 = Ld(p1 + j), x2 = Ld(p2 + j), x3 = Ld(p3 + j);
      }
      FwdButterfly<true>(x0, x2, wa, c);
      FwdButterfly<true>(x1, x3, wa, c);
      FwdButterfly<false>(x0, x1, wb0, c);
      FwdButterfly<false>(x2, x3, wb1, c);
      St(p0 + j, x0);
      St(p1 + j, x1);
      St(p2 + j, x2);
      St(p3 + j, x3);
    }
  }
}

void InvStage4(uint64_t* a, std::size_t h, std::size_t dist, const double* w,
               const FpMod& c) {
  // Stages (2h groups, dist) then (h groups, 2 dist) fused.
  for (std::size_t i = 0; i < h; ++i) {
    const __m256d wa0 = _mm256_broadcast_sd(w + 2 * h + 2 * i);
    const __m256d wa1 = _mm256_broadcast_sd(w + 2 * h + 2 * i + 1);
    const __m256d wb = _mm256_broadcast_sd(w + h + i);
    uint64_t* p0 = a + 4 * i * dist;
    uint64_t* p1 = p0 + dist;
    uint64_t* p2 = p1 + dist;
    uint64_t* p3 = p2 + dist;
    for (std::size_t j = 0; j < dist; j += 4) {
      __m256d x0 = Ld(p0 + j), x1 = Ld(p1 + j), x2 = Ld(p2 + j),
              x3 = Ld(p3 + j);
      InvButterfly(x0, x1, wa0, c);
      InvButterfly(x2, x3, wa1, c);
      InvButterfly(x0, x2, wb, c);
      InvButterfly(x1, x3, wb, c);
      St(p0 + j, x0);
      St(p1 + j, x1);
      St(p2 + j, x2);
      St(p3 + j, x3);
    }
  }
}

}  // namespace

void ForwardAvx2(const NttTables& t, uint64_t* a) {
  const FpMod c(t.modulus().value);
  const std::size_t n = t.n();
  const double* w = t.psi_rev_f64().data();
  // Distances n/2 .. 4: radix-4 passes while two stages of distance >= 4
  // remain, then one radix-2 stage if needed. The first pass converts the
  // words (< 4q < 2^52) to centred doubles as it loads them.
  std::size_t m = 1, dist = n / 2;
  if (dist >= 8) {
    FwdStage4<true>(a, m, dist, w, c);
    m <<= 2;
    dist >>= 2;
  } else {
    for (std::size_t j = 0; j < n; j += 4) St(a + j, ReduceCentred(LoadU64(a + j), c));
  }
  for (; dist >= 8; m <<= 2, dist >>= 2) FwdStage4<false>(a, m, dist, w, c);
  if (dist == 4) {
    Stage<true>(a, m, dist, w, c);
    m <<= 1;
    dist >>= 1;
  }
  // Distances 2 and 1 on 8-word blocks, with the final reduction.
  const std::size_t m2 = n / 4, m1 = n / 2;
  for (std::size_t k = 0; k < n / 8; ++k) {
    uint64_t* blk = a + 8 * k;
    __m256d p = Ld(blk), q = Ld(blk + 4);
    __m256d x = _mm256_permute2f128_pd(p, q, 0x20);
    __m256d y = _mm256_permute2f128_pd(p, q, 0x31);
    FwdButterfly(x, y, Twiddle2(w + m2 + 2 * k), c);
    p = _mm256_permute2f128_pd(x, y, 0x20);
    q = _mm256_permute2f128_pd(x, y, 0x31);
    x = _mm256_unpacklo_pd(p, q);
    y = _mm256_unpackhi_pd(p, q);
    FwdButterfly<false>(x, y, Twiddle1(w + m1 + 4 * k), c);
    x = ReduceToCanonical(x, c);
    y = ReduceToCanonical(y, c);
    StoreU64(blk, _mm256_unpacklo_pd(x, y));
    StoreU64(blk + 4, _mm256_unpackhi_pd(x, y));
  }
}

void InverseAvx2(const NttTables& t, uint64_t* a) {
  const FpMod c(t.modulus().value);
  const std::size_t n = t.n();
  const double* w = t.inv_psi_rev_f64().data();
  const __m256d qd = c.q;
  // Distances 1 and 2 on 8-word blocks; words in [0, 2q) enter as x - q.
  const std::size_t h1 = n / 2, h2 = n / 4;
  for (std::size_t k = 0; k < n / 8; ++k) {
    uint64_t* blk = a + 8 * k;
    const __m256d p = _mm256_sub_pd(LoadU64(blk), qd);
    const __m256d q = _mm256_sub_pd(LoadU64(blk + 4), qd);
    __m256d x = _mm256_unpacklo_pd(p, q);
    __m256d y = _mm256_unpackhi_pd(p, q);
    InvButterfly(x, y, Twiddle1(w + h1 + 4 * k), c);
    const __m256d r = _mm256_unpacklo_pd(x, y);
    const __m256d s = _mm256_unpackhi_pd(x, y);
    x = _mm256_permute2f128_pd(r, s, 0x20);
    y = _mm256_permute2f128_pd(r, s, 0x31);
    InvButterfly(x, y, Twiddle2(w + h2 + 2 * k), c);
    St(blk, _mm256_permute2f128_pd(x, y, 0x20));
    St(blk + 4, _mm256_permute2f128_pd(x, y, 0x31));
  }
  // Distances 4 .. n/4 (groups h = n/8 .. 2), radix-4 while two stages
  // remain before the last one.
  std::size_t h = n / 8, dist = 4;
  for (; h >= 4; h >>= 2, dist <<= 2) InvStage4(a, h / 2, dist, w, c);
  for (; h >= 2; h >>= 1, dist <<= 1) Stage<false>(a, h, dist, w, c);
  // Last stage (one group, distance n/2) with 1/N folded in:
  // x' = (x + y) / N, y' = (x - y) w / N.
  const uint64_t ninv = t.n_inv();
  const uint64_t wn = MulMod(t.inv_psi_rev()[1], ninv, t.modulus());
  const __m256d ninv_v = _mm256_set1_pd(static_cast<double>(ninv));
  const __m256d wn_v = _mm256_set1_pd(static_cast<double>(wn));
  uint64_t* x = a;
  uint64_t* y = a + n / 2;
  for (std::size_t j = 0; j < n / 2; j += 4) {
    const __m256d xv = Ld(x + j), yv = Ld(y + j);
    const __m256d s = MulModCentred(_mm256_add_pd(xv, yv), ninv_v, c);
    const __m256d d = MulModCentred(_mm256_sub_pd(xv, yv), wn_v, c);
    StoreU64(x + j, ReduceToCanonical(s, c));
    StoreU64(y + j, ReduceToCanonical(d, c));
  }
}

}  // namespace blindfold::math::internal
