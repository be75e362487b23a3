// File: math/ntt_ifma.cc
// AVX-512 IFMA negacyclic NTT kernels (declared in math/ntt.h):
// internal::ForwardLazyIfma / ForwardIfma and InverseLazyIfma / InverseIfma.
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
// Memory passes: stages with butterfly distance >= 16 are vectorised across
// j and fused two at a time (radix-4 blocks: one load and one store per word
// per two stages). The four stages of distance 8, 4, 2, 1 run in registers on
// 16-word blocks: each reads its two operand vectors through a perfect
// shuffle (interleave of two vectors' halves), which lays the lanes out so
// that every stage's twiddles are a plain or 128/256-bit-broadcast load
// (HEXL handles these stages with its T1/T2/T4 kernels). The inverse folds
// 1/N into its last stage, and the non-lazy entry points fold the final
// reduction into the last stage instead of a separate pass.
//
// This file is compiled with -mavx512ifma and must only be entered after
// CpuHasIfma() (base/cpu_features.h).
// GCC 12's AVX-512 headers trip -W(maybe-)uninitialized on their own
// _mm512_undefined_* idiom (GCC bug 105593); nothing here is uninitialized.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif
#include <immintrin.h>

#include <cstddef>
#include <cstdint>

#include "math/ifma_lanes.h"
#include "math/ntt.h"

namespace blindfold::math::internal {
namespace {

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

// Harvey forward (Cooley-Tukey) butterfly, as in NttTables::ForwardLazy:
// x, y in [0, 4q) -> x + w y, x - w y, both in [0, 4q).
inline void FwdButterfly(__m512i& x, __m512i& y, __m512i w, __m512i w52,
                         const Lanes& c) {
  const __m512i xr = CondSub(x, c.two_q);
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
  x = CondSub(s, c.two_q);
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

// x in [0, 4q) -> [0, q).
inline __m512i ReduceFrom4q(__m512i x, const Lanes& c) {
  return CondSub(CondSub(x, c.two_q), c.q);
}
// x in [0, 2q) -> [0, q).
inline __m512i ReduceFrom2q(__m512i x, const Lanes& c) {
  return CondSub(x, c.q);
}

// ---------------------------------------------------------------------------
// Forward passes. Stage (m, dist): for i < m, butterflies (a[2 i dist + j],
// a[2 i dist + dist + j]), j < dist, twiddle psi_rev[m + i].

// One stage. REQUIRES: dist % 8 == 0.
void FwdRadix2(uint64_t* a, std::size_t m, std::size_t dist,
               const uint64_t* w, const uint64_t* ws, const Lanes& c) {
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

// Stages (m, dist) and (2m, dist/2) in one pass over memory: each group of
// the first stage is a radix-4 block of four quarter-rows.
// REQUIRES: dist % 16 == 0.
void FwdRadix4(uint64_t* a, std::size_t m, std::size_t dist,
               const uint64_t* w, const uint64_t* ws, const Lanes& c) {
  const std::size_t h = dist / 2;
  for (std::size_t i = 0; i < m; ++i) {
    const __m512i wa = Broadcast(w + m + i), wsa = Broadcast(ws + m + i);
    const __m512i wb0 = Broadcast(w + 2 * m + 2 * i);
    const __m512i wsb0 = Broadcast(ws + 2 * m + 2 * i);
    const __m512i wb1 = Broadcast(w + 2 * m + 2 * i + 1);
    const __m512i wsb1 = Broadcast(ws + 2 * m + 2 * i + 1);
    uint64_t* p0 = a + 2 * i * dist;
    uint64_t* p1 = p0 + h;
    uint64_t* p2 = p0 + dist;
    uint64_t* p3 = p2 + h;
    for (std::size_t j = 0; j < h; j += 8) {
      __m512i x0 = Load(p0 + j), x1 = Load(p1 + j);
      __m512i x2 = Load(p2 + j), x3 = Load(p3 + j);
      FwdButterfly(x0, x2, wa, wsa, c);
      FwdButterfly(x1, x3, wa, wsa, c);
      FwdButterfly(x0, x1, wb0, wsb0, c);
      FwdButterfly(x2, x3, wb1, wsb1, c);
      Store(p0 + j, x0);
      Store(p1 + j, x1);
      Store(p2 + j, x2);
      Store(p3 + j, x3);
    }
  }
}

// The last four stages (distances 8, 4, 2, 1) in registers, one 16-word
// block e0..e15 at a time. Distance 8 pairs the block's two vectors. Then,
// with these lane layouts,
//   t = 4: x = e0 e8 e1 e9 e2 e10 e3 e11, y = e4 e12 ... e7 e15;
//          groups (2k, 2k + 1) alternate -> twiddles [w0 w1] broadcast.
//   t = 2: x = e0 e4 e8 e12 e1 e5 e9 e13, y = e2 e6 ... e11 e15;
//          groups 4k..4k+3 repeat -> twiddles [w0..w3] broadcast.
//   t = 1: x = e0 e2 ... e14, y = e1 e3 ... e15; groups 8k..8k+7 in order,
// each layout is the perfect shuffle of the previous stage's (x, y), and the
// perfect shuffle of the last (x, y) is e0..e7, e8..e15 again.
// kReduce: outputs in [0, q) instead of [0, 4q).
template <bool kReduce>
void FwdTail(uint64_t* a, std::size_t n, const uint64_t* w,
             const uint64_t* ws, const Lanes& c) {
  const std::size_t m8 = n / 16, m4 = n / 8, m2 = n / 4, m1 = n / 2;
  for (std::size_t k = 0; k < n / 16; ++k) {
    uint64_t* blk = a + 16 * k;
    __m512i x = Load(blk), y = Load(blk + 8);
    FwdButterfly(x, y, Broadcast(w + m8 + k), Broadcast(ws + m8 + k), c);
    Interleave(x, y, x, y);
    FwdButterfly(x, y, Broadcast2(w + m4 + 2 * k), Broadcast2(ws + m4 + 2 * k),
                 c);
    Interleave(x, y, x, y);
    FwdButterfly(x, y, Broadcast4(w + m2 + 4 * k), Broadcast4(ws + m2 + 4 * k),
                 c);
    Interleave(x, y, x, y);
    FwdButterfly(x, y, Load(w + m1 + 8 * k), Load(ws + m1 + 8 * k), c);
    if (kReduce) {
      x = ReduceFrom4q(x, c);
      y = ReduceFrom4q(y, c);
    }
    __m512i lo, hi;
    Interleave(x, y, lo, hi);
    Store(blk, lo);
    Store(blk + 8, hi);
  }
}

template <bool kReduce>
void ForwardImpl(const NttTables& t, uint64_t* a) {
  const std::size_t n = t.n();
  const Lanes c(t.modulus().value);
  const uint64_t* w = t.psi_rev().data();
  const uint64_t* ws = t.psi_rev_shoup52().data();
  // Stages of distance n/2 .. 16 (log_n - 4 of them) in radix-4 passes,
  // led by one radix-2 stage when their number is odd.
  std::size_t m = 1, dist = n / 2;
  if ((t.log_n() - 4) % 2 == 1) {
    FwdRadix2(a, m, dist, w, ws, c);
    m <<= 1;
    dist >>= 1;
  }
  for (; dist >= 32; m <<= 2, dist >>= 2) FwdRadix4(a, m, dist, w, ws, c);
  FwdTail<kReduce>(a, n, w, ws, c);
}

// ---------------------------------------------------------------------------
// Inverse passes. Stage (h, dist): for i < h, butterflies (a[2 i dist + j],
// a[2 i dist + dist + j]), j < dist, twiddle inv_psi_rev[h + i]. The last
// stage (h = 1) also multiplies by 1/N: see ScaledLast.

// Constants of the last inverse stage with 1/N folded in:
// x' = (x + y) / N and y' = (x - y) w / N, each one Shoup product of a value
// < 4q < 2^52, so both land in [0, 2q) like the unscaled butterfly's.
struct ScaledLast {
  __m512i n_inv, n_inv52, wn, wn52;
  explicit ScaledLast(const NttTables& t) {
    const uint64_t qv = t.modulus().value;
    const uint64_t wn_s = MulMod(t.inv_psi_rev()[1], t.n_inv(), t.modulus());
    n_inv = _mm512_set1_epi64(static_cast<int64_t>(t.n_inv()));
    n_inv52 = _mm512_set1_epi64(static_cast<int64_t>(t.n_inv_shoup52()));
    wn = _mm512_set1_epi64(static_cast<int64_t>(wn_s));
    wn52 = _mm512_set1_epi64(static_cast<int64_t>(
        static_cast<uint64_t>((static_cast<u128>(wn_s) << 52) / qv)));
  }
};

template <bool kReduce>
inline void InvButterflyScaled(__m512i& x, __m512i& y, const ScaledLast& s,
                               const Lanes& c) {
  const __m512i sum = _mm512_add_epi64(x, y);
  const __m512i d = _mm512_sub_epi64(_mm512_add_epi64(x, c.two_q), y);
  x = MulShoupLazy(sum, s.n_inv, s.n_inv52, c);
  y = MulShoupLazy(d, s.wn, s.wn52, c);
  if (kReduce) {
    x = ReduceFrom2q(x, c);
    y = ReduceFrom2q(y, c);
  }
}

// The last stage alone (h = 1, dist = n/2), scaled.
template <bool kReduce>
void InvLastRadix2(uint64_t* a, std::size_t dist, const ScaledLast& s,
                   const Lanes& c) {
  for (std::size_t j = 0; j < dist; j += 8) {
    __m512i x = Load(a + j), y = Load(a + dist + j);
    InvButterflyScaled<kReduce>(x, y, s, c);
    Store(a + j, x);
    Store(a + dist + j, y);
  }
}

// One unscaled stage. REQUIRES: h >= 2, dist % 8 == 0.
void InvRadix2(uint64_t* a, std::size_t h, std::size_t dist,
               const uint64_t* w, const uint64_t* ws, const Lanes& c) {
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

// Stages (h, dist) and (h/2, 2 dist) in one pass; when h == 2 the second is
// the last stage and is scaled by 1/N. REQUIRES: h >= 2, dist % 8 == 0.
template <bool kReduce>
void InvRadix4(uint64_t* a, std::size_t h, std::size_t dist,
               const uint64_t* w, const uint64_t* ws, const ScaledLast& s,
               const Lanes& c) {
  const std::size_t hb = h / 2;
  for (std::size_t i = 0; i < hb; ++i) {
    const __m512i wa0 = Broadcast(w + h + 2 * i);
    const __m512i wsa0 = Broadcast(ws + h + 2 * i);
    const __m512i wa1 = Broadcast(w + h + 2 * i + 1);
    const __m512i wsa1 = Broadcast(ws + h + 2 * i + 1);
    const __m512i wb = Broadcast(w + hb + i), wsb = Broadcast(ws + hb + i);
    uint64_t* p0 = a + 4 * i * dist;
    uint64_t* p1 = p0 + dist;
    uint64_t* p2 = p1 + dist;
    uint64_t* p3 = p2 + dist;
    for (std::size_t j = 0; j < dist; j += 8) {
      __m512i x0 = Load(p0 + j), x1 = Load(p1 + j);
      __m512i x2 = Load(p2 + j), x3 = Load(p3 + j);
      InvButterfly(x0, x1, wa0, wsa0, c);
      InvButterfly(x2, x3, wa1, wsa1, c);
      if (hb == 1) {
        InvButterflyScaled<kReduce>(x0, x2, s, c);
        InvButterflyScaled<kReduce>(x1, x3, s, c);
      } else {
        InvButterfly(x0, x2, wb, wsb, c);
        InvButterfly(x1, x3, wb, wsb, c);
      }
      Store(p0 + j, x0);
      Store(p1 + j, x1);
      Store(p2 + j, x2);
      Store(p3 + j, x3);
    }
  }
}

// The first four stages (distances 1, 2, 4, 8) in registers on 16-word
// blocks: the forward tail's layouts in reverse, each reached by the inverse
// perfect shuffle. Distance 8 is left out when n == 16 (it is then the
// scaled last stage).
void InvTail(uint64_t* a, std::size_t n, const uint64_t* w,
             const uint64_t* ws, const Lanes& c) {
  const std::size_t h1 = n / 2, h2 = n / 4, h4 = n / 8, h8 = n / 16;
  const bool with_t8 = h8 > 1;
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
    Deinterleave(x, y, x, y);
    if (with_t8) {
      InvButterfly(x, y, Broadcast(w + h8 + k), Broadcast(ws + h8 + k), c);
    }
    Store(blk, x);
    Store(blk + 8, y);
  }
}

template <bool kReduce>
void InverseImpl(const NttTables& t, uint64_t* a) {
  const std::size_t n = t.n();
  const Lanes c(t.modulus().value);
  const uint64_t* w = t.inv_psi_rev().data();
  const uint64_t* ws = t.inv_psi_rev_shoup52().data();
  const ScaledLast s(t);
  InvTail(a, n, w, ws, c);
  if (n == 16) {
    InvLastRadix2<kReduce>(a, 8, s, c);
    return;
  }
  // Stages of distance 16 .. n/2 (log_n - 4 of them) in radix-4 passes, the
  // last of which is scaled; one radix-2 stage first when their number is odd.
  std::size_t h = n / 32, dist = 16;
  if ((t.log_n() - 4) % 2 == 1) {
    if (h == 1) {
      InvLastRadix2<kReduce>(a, dist, s, c);
      return;
    }
    InvRadix2(a, h, dist, w, ws, c);
    h >>= 1;
    dist <<= 1;
  }
  for (; h >= 2; h >>= 2, dist <<= 2) {
    InvRadix4<kReduce>(a, h, dist, w, ws, s, c);
  }
}

}  // namespace

// REQUIRES: t.ifma_capable() (q < 2^50), t.n() >= 16, a[i] < 4q.
// Output in [0, 4q), congruent to the portable ForwardLazy's.
void ForwardLazyIfma(const NttTables& t, uint64_t* a) {
  ForwardImpl<false>(t, a);
}

// REQUIRES: as ForwardLazyIfma. Output in [0, q): NttTables::Forward.
void ForwardIfma(const NttTables& t, uint64_t* a) { ForwardImpl<true>(t, a); }

// REQUIRES: t.ifma_capable() (q < 2^50), t.n() >= 16, a[i] < 2q.
// Output in [0, 2q), congruent to the portable InverseLazy's (including the
// 1/N scaling, folded into the last stage).
void InverseLazyIfma(const NttTables& t, uint64_t* a) {
  InverseImpl<false>(t, a);
}

// REQUIRES: as InverseLazyIfma. Output in [0, q): NttTables::Inverse.
void InverseIfma(const NttTables& t, uint64_t* a) { InverseImpl<true>(t, a); }

}  // namespace blindfold::math::internal
