// File: math/ntt_ifma.cc
// AVX-512 IFMA negacyclic NTT kernels (declared in math/ntt.h):
// internal::ForwardLazyIfma and internal::InverseLazyIfma.
//
// Same algorithms and lazy ranges as the portable kernels in math/ntt.cc
// (Harvey's lazy butterflies, D. Harvey, "Faster arithmetic for
// number-theoretic transforms", J. Symb. Comp. 2014), on 8 x 52-bit lanes
// with vpmadd52{lo,hi}uq as in Intel HEXL (Boemer et al., "Intel HEXL:
// Accelerating Homomorphic Encryption with Intel AVX512-IFMA52", WAHC 2021).
// Twiddle products are Shoup multiplications with the 52-bit companions
// w52 = floor(w 2^52 / q) of NttTables; a lazy value may differ by q from the
// portable kernel's, but every reduced output is identical.
//
// Stages with butterfly distance t >= 8 vectorise across j. The last three
// stages (t = 4, 2, 1) run in registers on blocks of 16 words: each stage
// reads its two operand vectors through one perfect shuffle (interleave of
// the low / high halves of two vectors), which lays the lanes out so that
// every stage's twiddles are a plain or 128/256-bit-broadcast load.
//
// This file is compiled with -mavx512ifma and must only be entered after
// CpuHasIfma() (base/cpu_features.h).
// GCC 12's AVX-512 headers trip -Wmaybe-uninitialized on their own
// _mm512_undefined_* idiom (GCC bug 105593); nothing here is uninitialized.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <immintrin.h>

#include <cstddef>
#include <cstdint>

#include "math/ntt.h"

namespace blindfold::math::internal {
namespace {

constexpr uint64_t kMask52 = (uint64_t{1} << 52) - 1;

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

inline __m512i Load(const uint64_t* p) { return _mm512_loadu_si512(p); }
inline void Store(uint64_t* p, __m512i v) { _mm512_storeu_si512(p, v); }
inline __m512i Broadcast(const uint64_t* p) {
  return _mm512_set1_epi64(static_cast<int64_t>(*p));
}
// [p0, p1, p0, p1, ...] and [p0, p1, p2, p3, p0, p1, p2, p3].
inline __m512i Broadcast2(const uint64_t* p) {
  return _mm512_broadcast_i64x2(
      _mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
}
inline __m512i Broadcast4(const uint64_t* p) {
  return _mm512_broadcast_i64x4(
      _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
}

// x * w mod q in [0, 2q): Shoup multiplication with w52 = floor(w 2^52 / q).
// The quotient estimate floor(x w52 / 2^52) is low by at most 1, so the
// remainder is in [0, 2q) and equals its value mod 2^52.
// REQUIRES: x < 2^52, w < q < 2^50.
inline __m512i MulShoupLazy(__m512i x, __m512i w, __m512i w52,
                            const Lanes& c) {
  const __m512i zero = _mm512_setzero_si512();
  const __m512i quot = _mm512_madd52hi_epu64(zero, x, w52);
  const __m512i prod = _mm512_madd52lo_epu64(zero, x, w);
  return _mm512_and_si512(_mm512_madd52lo_epu64(prod, quot, c.neg_q),
                          c.mask52);
}

// Harvey forward (Cooley-Tukey) butterfly, as in NttTables::ForwardLazy:
// x, y in [0, 4q) -> x + w y, x - w y, both in [0, 4q).
inline void FwdButterfly(__m512i& x, __m512i& y, __m512i w, __m512i w52,
                         const Lanes& c) {
  const __m512i xr = _mm512_min_epu64(x, _mm512_sub_epi64(x, c.two_q));
  const __m512i t = MulShoupLazy(y, w, w52, c);
  x = _mm512_add_epi64(xr, t);
  y = _mm512_sub_epi64(_mm512_add_epi64(xr, c.two_q), t);
}

// Harvey inverse (Gentleman-Sande) butterfly, as in InverseLazy:
// x, y in [0, 2q) -> x + y, w (x - y), both in [0, 2q).
inline void InvButterfly(__m512i& x, __m512i& y, __m512i w, __m512i w52,
                         const Lanes& c) {
  const __m512i s = _mm512_add_epi64(x, y);
  const __m512i d = _mm512_sub_epi64(_mm512_add_epi64(x, c.two_q), y);
  x = _mm512_min_epu64(s, _mm512_sub_epi64(s, c.two_q));
  y = MulShoupLazy(d, w, w52, c);
}

// Perfect shuffle of the 16 lanes (a, b): lo = a0 b0 a1 b1 a2 b2 a3 b3,
// hi = a4 b4 ... a7 b7; and its inverse (even / odd lanes of a ++ b).
inline void Interleave(__m512i a, __m512i b, __m512i& lo, __m512i& hi) {
  const __m512i idx_lo = _mm512_set_epi64(11, 3, 10, 2, 9, 1, 8, 0);
  const __m512i idx_hi = _mm512_set_epi64(15, 7, 14, 6, 13, 5, 12, 4);
  lo = _mm512_permutex2var_epi64(a, idx_lo, b);
  hi = _mm512_permutex2var_epi64(a, idx_hi, b);
}
inline void Deinterleave(__m512i a, __m512i b, __m512i& even, __m512i& odd) {
  const __m512i idx_even = _mm512_set_epi64(14, 12, 10, 8, 6, 4, 2, 0);
  const __m512i idx_odd = _mm512_set_epi64(15, 13, 11, 9, 7, 5, 3, 1);
  even = _mm512_permutex2var_epi64(a, idx_even, b);
  odd = _mm512_permutex2var_epi64(a, idx_odd, b);
}

}  // namespace

// REQUIRES: t.ifma_capable() (q < 2^50), t.n() >= 16, a[i] < 4q.
// Output in [0, 4q), congruent to the portable ForwardLazy's.
void ForwardLazyIfma(const NttTables& t, uint64_t* a) {
  const std::size_t n = t.n();
  const Lanes c(t.modulus().value);
  const uint64_t* w = t.psi_rev().data();
  const uint64_t* ws = t.psi_rev_shoup52().data();

  // Stages with distance >= 8: vectors across j.
  std::size_t m = 1;
  for (std::size_t dist = n / 2; dist >= 8; m <<= 1, dist >>= 1) {
    for (std::size_t i = 0; i < m; ++i) {
      const __m512i wv = Broadcast(w + m + i);
      const __m512i wsv = Broadcast(ws + m + i);
      uint64_t* x = a + 2 * i * dist;
      uint64_t* y = x + dist;
      for (std::size_t j = 0; j < dist; j += 8) {
        __m512i xv = Load(x + j), yv = Load(y + j);
        FwdButterfly(xv, yv, wv, wsv, c);
        Store(x + j, xv);
        Store(y + j, yv);
      }
    }
  }

  // Distances 4, 2, 1 on blocks of 16 words e0..e15. Lane layouts:
  //   t = 4: x = e0 e8 e1 e9 e2 e10 e3 e11, y = e4 e12 ... e7 e15;
  //          groups (2k, 2k + 1) alternate -> twiddles [w0 w1] broadcast.
  //   t = 2: x = e0 e4 e8 e12 e1 e5 e9 e13, y = e2 e6 ... e11 e15;
  //          groups 4k..4k+3 repeat -> twiddles [w0..w3] broadcast.
  //   t = 1: x = e0 e2 ... e14, y = e1 e3 ... e15; groups 8k..8k+7 in order.
  // Each layout is the perfect shuffle of the previous stage's (x, y), and
  // the perfect shuffle of the last (x, y) is e0..e7, e8..e15.
  const std::size_t m4 = n / 8, m2 = n / 4, m1 = n / 2;
  for (std::size_t k = 0; k < n / 16; ++k) {
    uint64_t* blk = a + 16 * k;
    __m512i x, y;
    Interleave(Load(blk), Load(blk + 8), x, y);
    FwdButterfly(x, y, Broadcast2(w + m4 + 2 * k), Broadcast2(ws + m4 + 2 * k),
                 c);
    Interleave(x, y, x, y);
    FwdButterfly(x, y, Broadcast4(w + m2 + 4 * k), Broadcast4(ws + m2 + 4 * k),
                 c);
    Interleave(x, y, x, y);
    FwdButterfly(x, y, Load(w + m1 + 8 * k), Load(ws + m1 + 8 * k), c);
    __m512i lo, hi;
    Interleave(x, y, lo, hi);
    Store(blk, lo);
    Store(blk + 8, hi);
  }
}

// REQUIRES: t.ifma_capable() (q < 2^50), t.n() >= 16, a[i] < 2q.
// Output in [0, 2q), congruent to the portable InverseLazy's (including the
// 1/N scaling, folded into the last stage).
void InverseLazyIfma(const NttTables& t, uint64_t* a) {
  const std::size_t n = t.n();
  const uint64_t qv = t.modulus().value;
  const Lanes c(qv);
  const uint64_t* w = t.inv_psi_rev().data();
  const uint64_t* ws = t.inv_psi_rev_shoup52().data();

  // Distances 1, 2, 4 on blocks of 16 words: the forward layouts in reverse,
  // each reached by the inverse perfect shuffle.
  const std::size_t h1 = n / 2, h2 = n / 4, h4 = n / 8;
  for (std::size_t k = 0; k < n / 16; ++k) {
    uint64_t* blk = a + 16 * k;
    __m512i x, y;
    Deinterleave(Load(blk), Load(blk + 8), x, y);
    InvButterfly(x, y, Load(w + h1 + 8 * k), Load(ws + h1 + 8 * k), c);
    Deinterleave(x, y, x, y);
    InvButterfly(x, y, Broadcast4(w + h2 + 4 * k), Broadcast4(ws + h2 + 4 * k),
                 c);
    Deinterleave(x, y, x, y);
    InvButterfly(x, y, Broadcast2(w + h4 + 2 * k), Broadcast2(ws + h4 + 2 * k),
                 c);
    __m512i lo, hi;
    Deinterleave(x, y, lo, hi);
    Store(blk, lo);
    Store(blk + 8, hi);
  }

  // Distances 8 .. n/4: vectors across j.
  std::size_t h = n / 16;
  for (std::size_t dist = 8; h > 1; h >>= 1, dist <<= 1) {
    for (std::size_t i = 0; i < h; ++i) {
      const __m512i wv = Broadcast(w + h + i);
      const __m512i wsv = Broadcast(ws + h + i);
      uint64_t* x = a + 2 * i * dist;
      uint64_t* y = x + dist;
      for (std::size_t j = 0; j < dist; j += 8) {
        __m512i xv = Load(x + j), yv = Load(y + j);
        InvButterfly(xv, yv, wv, wsv, c);
        Store(x + j, xv);
        Store(y + j, yv);
      }
    }
  }

  // Last stage (distance n/2, twiddle inv_psi_rev[1]) with 1/N folded in:
  // x' = (x + y) / N and y' = (x - y) w / N, each one Shoup product of a
  // value < 4q < 2^52, so both land in [0, 2q).
  const uint64_t n_inv = t.n_inv();
  const uint64_t wn = MulMod(w[1], n_inv, t.modulus());
  const __m512i ninv = _mm512_set1_epi64(static_cast<int64_t>(n_inv));
  const __m512i ninv52 =
      _mm512_set1_epi64(static_cast<int64_t>(t.n_inv_shoup52()));
  const __m512i wnv = _mm512_set1_epi64(static_cast<int64_t>(wn));
  const __m512i wn52 = _mm512_set1_epi64(static_cast<int64_t>(
      static_cast<uint64_t>((static_cast<u128>(wn) << 52) / qv)));
  uint64_t* x = a;
  uint64_t* y = a + n / 2;
  for (std::size_t j = 0; j < n / 2; j += 8) {
    const __m512i xv = Load(x + j), yv = Load(y + j);
    const __m512i s = _mm512_add_epi64(xv, yv);
    const __m512i d = _mm512_sub_epi64(_mm512_add_epi64(xv, c.two_q), yv);
    Store(x + j, MulShoupLazy(s, ninv, ninv52, c));
    Store(y + j, MulShoupLazy(d, wnv, wn52, c));
  }
}

}  // namespace blindfold::math::internal
