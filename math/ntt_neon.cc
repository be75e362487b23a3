// File: math/ntt_neon.cc
// NEON negacyclic NTT kernels (declared in math/ntt.h):
// internal::ForwardNeon and InverseNeon, for primes q < 2^50; compiled only
// in aarch64 builds (math/CMakeLists.txt).
//
// The AVX2 kernels' algorithm (math/ntt_avx2.cc, whose header comment has
// the bounds) on 2 x double lanes with the arithmetic of math/neon_fp.h:
// the words are reinterpreted in place as doubles, butterflies work on
// centred representatives, the last pass writes canonical words.
//
// Forward (Cooley-Tukey): x' = x_c + t, y' = x_c - t, t = w y mod q
// centred. Radix-4 passes (two stages per load/store) while the second
// stage's distance is >= 2; x is reduced on the first stage of each pass
// only. Then, if needed, one radix-2 stage at distance 2 (reducing), and
// the distance-1 stage on 4-word blocks (TRN1/TRN2 pair even and odd
// words), which reduces x when the stage before it did not, and ends with
// the canonical reduction. So no two stages in a row skip the reduction
// and values stay below 3.95 q < 2^52 (the AVX2 bounds).
// Inverse (Gentleman-Sande): x' = (x + y) centred, y' = w (x - y) centred,
// every stage reducing; distance 1 first on 4-word blocks (words in
// [0, 2q) enter as x - q), then radix-4 passes, radix-2 stages, and the last
// stage with 1/N folded in.
#include <cstddef>
#include <cstdint>

#include "math/neon_fp.h"
#include "math/ntt.h"

namespace blindfold::math::internal {
namespace {

// The limb's words hold doubles between passes. Every access goes through
// uint64 loads and stores (the reinterpretation is a register no-op), so
// the memory is only ever accessed as uint64 and type-based alias analysis
// cannot reorder the passes' loads and stores.
inline float64x2_t Ld(const uint64_t* p) {
  return vreinterpretq_f64_u64(vld1q_u64(p));
}
inline void St(uint64_t* p, float64x2_t v) {
  vst1q_u64(p, vreinterpretq_u64_f64(v));
}

template <bool kReduceX = true>
inline void FwdButterfly(float64x2_t& x, float64x2_t& y, float64x2_t w,
                         const FpMod& c) {
  const float64x2_t xc = kReduceX ? ReduceCentred(x, c) : x;
  const float64x2_t t = MulModCentred(y, w, c);
  x = vaddq_f64(xc, t);
  y = vsubq_f64(xc, t);
}

inline void InvButterfly(float64x2_t& x, float64x2_t& y, float64x2_t w,
                         const FpMod& c) {
  const float64x2_t s = vaddq_f64(x, y);
  const float64x2_t d = vsubq_f64(x, y);
  x = ReduceCentred(s, c);
  y = MulModCentred(d, w, c);
}

// One radix-2 stage with distance dist >= 2: groups i < m, twiddle w[m + i].
template <bool kFwd>
void Stage(uint64_t* a, std::size_t m, std::size_t dist, const double* w,
           const FpMod& c) {
  for (std::size_t i = 0; i < m; ++i) {
    const float64x2_t wv = vld1q_dup_f64(w + m + i);
    uint64_t* x = a + 2 * i * dist;
    uint64_t* y = x + dist;
    for (std::size_t j = 0; j < dist; j += 2) {
      float64x2_t xv = Ld(x + j), yv = Ld(y + j);
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

// Stages (m, dist) and (2m, dist/2) in one pass. kEntry: the words are
// still uint64 in [0, 4q); convert them on load (the first pass).
// REQUIRES: dist >= 4.
template <bool kEntry>
void FwdStage4(uint64_t* a, std::size_t m, std::size_t dist, const double* w,
               const FpMod& c) {
  const std::size_t h = dist / 2;
  for (std::size_t i = 0; i < m; ++i) {
    const float64x2_t wa = vld1q_dup_f64(w + m + i);
    const float64x2_t wb0 = vld1q_dup_f64(w + 2 * m + 2 * i);
    const float64x2_t wb1 = vld1q_dup_f64(w + 2 * m + 2 * i + 1);
    uint64_t* p0 = a + 2 * i * dist;
    uint64_t* p1 = p0 + h;
    uint64_t* p2 = p0 + dist;
    uint64_t* p3 = p2 + h;
    for (std::size_t j = 0; j < h; j += 2) {
      float64x2_t x0, x1, x2, x3;
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

// Stages (2h groups, dist) then (h groups, 2 dist). REQUIRES: dist >= 2.
void InvStage4(uint64_t* a, std::size_t h, std::size_t dist, const double* w,
               const FpMod& c) {
  for (std::size_t i = 0; i < h; ++i) {
    const float64x2_t wa0 = vld1q_dup_f64(w + 2 * h + 2 * i);
    const float64x2_t wa1 = vld1q_dup_f64(w + 2 * h + 2 * i + 1);
    const float64x2_t wb = vld1q_dup_f64(w + h + i);
    uint64_t* p0 = a + 4 * i * dist;
    uint64_t* p1 = p0 + dist;
    uint64_t* p2 = p1 + dist;
    uint64_t* p3 = p2 + dist;
    for (std::size_t j = 0; j < dist; j += 2) {
      float64x2_t x0 = Ld(p0 + j), x1 = Ld(p1 + j), x2 = Ld(p2 + j),
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

// The forward distance-1 stage (m1 = n/2 groups) on 4-word blocks with the
// final reduction: block k holds the pairs of groups 2k and 2k + 1.
template <bool kReduceX>
void FwdLastStage(uint64_t* a, std::size_t n, const double* w, const FpMod& c) {
  const std::size_t m1 = n / 2;
  for (std::size_t k = 0; k < n / 4; ++k) {
    uint64_t* blk = a + 4 * k;
    const float64x2_t p = Ld(blk), r = Ld(blk + 2);
    float64x2_t x = vtrn1q_f64(p, r);  // words 0, 2
    float64x2_t y = vtrn2q_f64(p, r);  // words 1, 3
    FwdButterfly<kReduceX>(x, y, vld1q_f64(w + m1 + 2 * k), c);
    x = ReduceToCanonical(x, c);
    y = ReduceToCanonical(y, c);
    StoreU64(blk, vtrn1q_f64(x, y));
    StoreU64(blk + 2, vtrn2q_f64(x, y));
  }
}

}  // namespace

void ForwardNeon(const NttTables& t, uint64_t* a) {
  const FpMod c(t.modulus().value);
  const std::size_t n = t.n();
  const double* w = t.psi_rev_f64().data();
  std::size_t m = 1, dist = n / 2;
  if (dist >= 4) {
    FwdStage4<true>(a, m, dist, w, c);
    m <<= 2;
    dist >>= 2;
  } else {
    for (std::size_t j = 0; j < n; j += 2) St(a + j, ReduceCentred(LoadU64(a + j), c));
  }
  for (; dist >= 4; m <<= 2, dist >>= 2) FwdStage4<false>(a, m, dist, w, c);
  if (dist == 2) {
    // The radix-4 pass before (if any) ended on a stage without reduction.
    Stage<true>(a, m, dist, w, c);
    FwdLastStage<false>(a, n, w, c);
  } else {
    FwdLastStage<true>(a, n, w, c);
  }
}

void InverseNeon(const NttTables& t, uint64_t* a) {
  const FpMod c(t.modulus().value);
  const std::size_t n = t.n();
  const double* w = t.inv_psi_rev_f64().data();
  // Distance 1 (n/2 groups) on 4-word blocks; words in [0, 2q) enter as
  // x - q.
  const std::size_t h1 = n / 2;
  for (std::size_t k = 0; k < n / 4; ++k) {
    uint64_t* blk = a + 4 * k;
    const float64x2_t p = vsubq_f64(LoadU64(blk), c.q);
    const float64x2_t r = vsubq_f64(LoadU64(blk + 2), c.q);
    float64x2_t x = vtrn1q_f64(p, r);
    float64x2_t y = vtrn2q_f64(p, r);
    InvButterfly(x, y, vld1q_f64(w + h1 + 2 * k), c);
    St(blk, vtrn1q_f64(x, y));
    St(blk + 2, vtrn2q_f64(x, y));
  }
  // Distances 2 .. n/4 (groups h = n/4 .. 2), radix-4 while two stages
  // remain before the last one.
  std::size_t h = n / 4, dist = 2;
  for (; h >= 4; h >>= 2, dist <<= 2) InvStage4(a, h / 2, dist, w, c);
  for (; h >= 2; h >>= 1, dist <<= 1) Stage<false>(a, h, dist, w, c);
  // Last stage (one group, distance n/2) with 1/N folded in:
  // x' = (x + y) / N, y' = (x - y) w / N.
  const uint64_t ninv = t.n_inv();
  const uint64_t wn = MulMod(t.inv_psi_rev()[1], ninv, t.modulus());
  const float64x2_t ninv_v = vdupq_n_f64(static_cast<double>(ninv));
  const float64x2_t wn_v = vdupq_n_f64(static_cast<double>(wn));
  uint64_t* x = a;
  uint64_t* y = a + n / 2;
  for (std::size_t j = 0; j < n / 2; j += 2) {
    const float64x2_t xv = Ld(x + j), yv = Ld(y + j);
    const float64x2_t s = MulModCentred(vaddq_f64(xv, yv), ninv_v, c);
    const float64x2_t d = MulModCentred(vsubq_f64(xv, yv), wn_v, c);
    StoreU64(x + j, ReduceToCanonical(s, c));
    StoreU64(y + j, ReduceToCanonical(d, c));
  }
}

}  // namespace blindfold::math::internal
