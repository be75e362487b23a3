// File: math/vec_ops_ifma.cc
// AVX-512 IFMA element-wise modular multiplies (declared in math/vec_ops.h):
// MulModVecIfma (Barrett), MulScalarModVecIfma (Shoup) and
// DotProductModVecIfma (lazy 104-bit accumulation, one reduction).
//
// All arithmetic is on 52-bit lanes with vpmadd52{lo,hi}uq, following the
// approach of Intel HEXL (Boemer et al., "Intel HEXL: Accelerating
// Homomorphic Encryption with Intel AVX512-IFMA52", WAHC 2021). Every output
// is fully reduced to [0, q), so results are bit-identical to the portable
// kernels in math/vec_ops.cc. This file is compiled with -mavx512ifma and
// must only be entered after CpuHasIfma() (base/cpu_features.h).
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
#include "math/modarith.h"
#include "math/vec_ops.h"

namespace blindfold::math::internal {
namespace {

// x mod q for x < 2^54: Barrett with mu54 = floor(2^54 / q). The quotient
// estimate floor((x >> 2) * mu54 / 2^52) is at most 2 below the true one
// when q >= 8, so the remainder is < 3q < 2^52. REQUIRES: 8 <= q < 2^50.
inline __m512i Reduce54(__m512i x, __m512i mu54, const Lanes& c) {
  const __m512i est = _mm512_madd52hi_epu64(_mm512_setzero_si512(),
                                            _mm512_srli_epi64(x, 2), mu54);
  __m512i r = SubQuotient(_mm512_and_si512(x, c.mask52), est, c);
  r = CondSub(r, c.q);
  return CondSub(r, c.q);
}

}  // namespace

// Barrett on the 104-bit product p = hi 2^52 + lo < q^2 with L = bits(q):
// c1 = floor(p / 2^s) with s = max(0, 2L - 52) fits 52 bits, and
// mu = floor(2^(s+52) / q) < 2^52 because s <= L - 2. The estimate
// floor(c1 mu / 2^52) is below floor(p / q) by at most 2, so two conditional
// subtractions finish the reduction.
// REQUIRES: q.bits <= 50, n % 8 == 0, a[i], b[i] < q.
void MulModVecIfma(const uint64_t* a, const uint64_t* b, uint64_t* out,
                   std::size_t n, const Modulus& q) {
  if (q.value < 8) {  // outside the error analysis; never an NTT prime
    MulModVecPortable(a, b, out, n, q);
    return;
  }
  const Lanes c(q.value);
  const int s = 2 * q.bits > 52 ? 2 * q.bits - 52 : 0;
  const __m512i mu = _mm512_set1_epi64(static_cast<int64_t>(
      static_cast<uint64_t>((static_cast<u128>(1) << (s + 52)) / q.value)));
  const __m128i shr = _mm_cvtsi32_si128(s);
  const __m128i shl = _mm_cvtsi32_si128(52 - s);
  const __m512i zero = _mm512_setzero_si512();
  for (std::size_t i = 0; i < n; i += 8) {
    const __m512i x = _mm512_loadu_si512(a + i);
    const __m512i y = _mm512_loadu_si512(b + i);
    const __m512i lo = _mm512_madd52lo_epu64(zero, x, y);
    const __m512i hi = _mm512_madd52hi_epu64(zero, x, y);
    // Bits of p at and above s; madd52hi reads only the low 52 of them, all
    // of which are significant because p < 2^(s + 52).
    const __m512i c1 =
        _mm512_or_si512(_mm512_srl_epi64(lo, shr), _mm512_sll_epi64(hi, shl));
    const __m512i est = _mm512_madd52hi_epu64(zero, c1, mu);
    __m512i r = SubQuotient(lo, est, c);
    r = CondSub(r, c.q);
    _mm512_storeu_si512(out + i, CondSub(r, c.q));
  }
}

// REQUIRES: q.bits <= 50, n % 8 == 0, w < q, a[i] < 2^52.
void MulScalarModVecIfma(const uint64_t* a, uint64_t w, uint64_t* out,
                         std::size_t n, const Modulus& q) {
  const Lanes c(q.value);
  const __m512i wv = _mm512_set1_epi64(static_cast<int64_t>(w));
  const __m512i w52 = _mm512_set1_epi64(static_cast<int64_t>(
      static_cast<uint64_t>((static_cast<u128>(w) << 52) / q.value)));
  std::size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m512i r0 = MulShoupLazy(_mm512_loadu_si512(a + i), wv, w52, c);
    const __m512i r1 = MulShoupLazy(_mm512_loadu_si512(a + i + 8), wv, w52, c);
    _mm512_storeu_si512(out + i, CondSub(r0, c.q));
    _mm512_storeu_si512(out + i + 8, CondSub(r1, c.q));
  }
  for (; i < n; i += 8) {
    const __m512i r = MulShoupLazy(_mm512_loadu_si512(a + i), wv, w52, c);
    _mm512_storeu_si512(out + i, CondSub(r, c.q));
  }
}

// REQUIRES: q.bits <= 50, n % 8 == 0, w < q, x, t, add < q. x - t + q is
// in [1, 2q), below 2^52 as MulShoupLazy needs; its Shoup product is in
// [0, 2q) and one conditional subtraction makes it canonical.
void SubMulScalarAddModVecIfma(const uint64_t* x, const uint64_t* t, uint64_t w,
                               const uint64_t* add, uint64_t* out, std::size_t n,
                               const Modulus& q) {
  const Lanes c(q.value);
  const __m512i wv = _mm512_set1_epi64(static_cast<int64_t>(w));
  const __m512i w52 = _mm512_set1_epi64(static_cast<int64_t>(
      static_cast<uint64_t>((static_cast<u128>(w) << 52) / q.value)));
  for (std::size_t i = 0; i < n; i += 8) {
    const __m512i d = _mm512_add_epi64(
        _mm512_sub_epi64(_mm512_loadu_si512(x + i), _mm512_loadu_si512(t + i)), c.q);
    __m512i r = CondSub(MulShoupLazy(d, wv, w52, c), c.q);
    if (add != nullptr) r = CondSub(_mm512_add_epi64(r, _mm512_loadu_si512(add + i)), c.q);
    _mm512_storeu_si512(out + i, r);
  }
}

namespace {

// The reduction constants of DotBlock, per modulus.
struct DotConstants {
  explicit DotConstants(uint64_t qv)
      : c(qv),
        mu54(_mm512_set1_epi64(static_cast<int64_t>((uint64_t{1} << 54) / qv))) {
    const uint64_t r = (uint64_t{1} << 52) % qv;
    r52 = _mm512_set1_epi64(static_cast<int64_t>(r));
    r52_shoup = _mm512_set1_epi64(static_cast<int64_t>(
        static_cast<uint64_t>((static_cast<u128>(r) << 52) / qv)));
  }
  Lanes c;
  __m512i mu54, r52, r52_shoup;
};

// The second operands of kOuts dot products sharing their first operands a:
// per-word vectors b[o][i], or (kScalar) one weight per term, broadcast.
template <int kOuts, bool kScalar>
struct SecondOperands {
  const uint64_t* const* b[kOuts];
  const __m512i* wb;  // kScalar: wb[i]
  __m512i Load(int o, int i, std::size_t at) const {
    if constexpr (kScalar) {
      return wb[i];
    } else {
      return _mm512_loadu_si512(b[o][i] + at);
    }
  }
};

// kOuts dot products over kVecs * 8 consecutive words starting at `base`,
// each loaded word of a used by every output. The k products a_i b_i < q^2
// are accumulated without reduction as sum(lo52) + 2^52 sum(hi52), with
// 64-bit lane accumulators: sum(lo52) < 64 * 2^52 and sum(hi52) < 64 * 2^48
// cannot overflow. With p = H 2^52 + Lo (Lo < 2^52, H < 64 q^2 / 2^52 <
// 16 q < 2^54):
//   h = H mod q, t = h (2^52 mod q) mod q in [0, 2q) (Shoup),
//   p mod q = (t + Lo) mod q with t + Lo < 2^54.
// Scalar weights < q over a[i] < 2^50 keep the same bounds (H < 64 * 2^48).
template <int kVecs, int kOuts, bool kScalar>
inline void DotBlock(const uint64_t* const* a,
                     const SecondOperands<kOuts, kScalar>& b, int k,
                     std::size_t base, uint64_t* const* out,
                     const DotConstants& d) {
  __m512i lo[kOuts][kVecs], hi[kOuts][kVecs];
  for (int o = 0; o < kOuts; ++o) {
    for (int v = 0; v < kVecs; ++v) {
      lo[o][v] = _mm512_setzero_si512();
      hi[o][v] = _mm512_setzero_si512();
    }
  }
  for (int i = 0; i < k; ++i) {
    const uint64_t* ai = a[i] + base;
    for (int v = 0; v < kVecs; ++v) {
      const __m512i x = _mm512_loadu_si512(ai + 8 * v);
      for (int o = 0; o < kOuts; ++o) {
        const __m512i y = b.Load(o, i, base + 8 * v);
        lo[o][v] = _mm512_madd52lo_epu64(lo[o][v], x, y);
        hi[o][v] = _mm512_madd52hi_epu64(hi[o][v], x, y);
      }
    }
  }
  const Lanes& c = d.c;
  for (int o = 0; o < kOuts; ++o) {
    for (int v = 0; v < kVecs; ++v) {
      const __m512i h_full =
          _mm512_add_epi64(hi[o][v], _mm512_srli_epi64(lo[o][v], 52));
      const __m512i low = _mm512_and_si512(lo[o][v], c.mask52);
      const __m512i h = Reduce54(h_full, d.mu54, c);
      const __m512i t = MulShoupLazy(h, d.r52, d.r52_shoup, c);
      _mm512_storeu_si512(out[o] + base + 8 * v,
                          Reduce54(_mm512_add_epi64(t, low), d.mu54, c));
    }
  }
}

template <int kOuts, bool kScalar>
void DotAll(const uint64_t* const* a, const SecondOperands<kOuts, kScalar>& b,
            int k, uint64_t* const* out, std::size_t n, uint64_t q) {
  const DotConstants d(q);
  // 32 words per block (16 for two outputs): the accumulators plus the
  // streamed operands stay in registers.
  constexpr int kBlockVecs = kOuts == 1 ? 4 : 2;
  std::size_t base = 0;
  for (; base + 8 * kBlockVecs <= n; base += 8 * kBlockVecs) {
    DotBlock<kBlockVecs>(a, b, k, base, out, d);
  }
  for (; base < n; base += 8) DotBlock<1>(a, b, k, base, out, d);
}

// The two-output dot product of key switching, for the key in DRAM: a
// plain pass (DotAll) reads 3k streams at once -- 24 at k = 8 digits --
// more than the hardware prefetchers follow (a bare read of that pattern
// runs at about half the rate of a few streams). Here the words go in
// blocks of kChunk, one digit at a time (3 streams: a_i, b0_i, b1_i), the
// lazy sums kept in an L1-resident array between digits; while one burst
// (kChunk words of 3 streams) is computed, the next one (the next digit's,
// or the next block's first) is prefetched line by line, so that no burst
// starts with a DRAM miss. Same sums and reduction as DotBlock, so the
// same results. Measured at N = 2^14, k = 8, 9 limbs, 4 keys in turn
// (one rotation's inner product): 1.25-1.55 -> 0.88-1.04 ms. kOuts = 1
// serves the P limbs of key switching (one key half per task).
template <int kOuts>
void DotProductChunked(const uint64_t* const* a, const uint64_t* const* const* b,
                       int k, uint64_t* const* out, std::size_t n, uint64_t q) {
  constexpr std::size_t kChunk = 512;  // words: 4 KiB per stream per burst
  const DotConstants d(q);
  const Lanes& c = d.c;
  // [v][2o], [v][2o + 1] = lo, hi of output o, words 8v..8v+7 of the block
  // (16 KiB with two outputs).
  alignas(64) __m512i acc[kChunk / 8][2 * kOuts];
  const __m512i zero = _mm512_setzero_si512();
  for (std::size_t base = 0; base < n; base += kChunk) {
    const std::size_t vecs = (n - base < kChunk ? n - base : kChunk) / 8;
    for (int i = 0; i < k; ++i) {
      // The next burst: digit i + 1 of this block, or digit 0 of the next.
      const int ni = i + 1 < k ? i + 1 : 0;
      const std::size_t nbase = i + 1 < k ? base : base + kChunk;
      const bool first = i == 0, last = i + 1 == k;
      for (std::size_t v = 0; v < vecs; ++v) {
        const std::size_t at = base + 8 * v;
        if (nbase + 8 * v < n) {
          _mm_prefetch(reinterpret_cast<const char*>(a[ni] + nbase + 8 * v), _MM_HINT_T0);
          for (int o = 0; o < kOuts; ++o) {
            _mm_prefetch(reinterpret_cast<const char*>(b[o][ni] + nbase + 8 * v),
                         _MM_HINT_T0);
          }
        }
        const __m512i x = _mm512_loadu_si512(a[i] + at);
        __m512i lo[kOuts], hi[kOuts];
        for (int o = 0; o < kOuts; ++o) {
          const __m512i y = _mm512_loadu_si512(b[o][i] + at);
          lo[o] = _mm512_madd52lo_epu64(first ? zero : acc[v][2 * o], x, y);
          hi[o] = _mm512_madd52hi_epu64(first ? zero : acc[v][2 * o + 1], x, y);
        }
        if (!last) {
          for (int o = 0; o < kOuts; ++o) {
            acc[v][2 * o] = lo[o];
            acc[v][2 * o + 1] = hi[o];
          }
          continue;
        }
        for (int o = 0; o < kOuts; ++o) {
          const __m512i h_full = _mm512_add_epi64(hi[o], _mm512_srli_epi64(lo[o], 52));
          const __m512i low = _mm512_and_si512(lo[o], c.mask52);
          const __m512i h = Reduce54(h_full, d.mu54, c);
          const __m512i t = MulShoupLazy(h, d.r52, d.r52_shoup, c);
          _mm512_storeu_si512(out[o] + at, Reduce54(_mm512_add_epi64(t, low), d.mu54, c));
        }
      }
    }
  }
}

// Long dot products of several terms take the chunked kernel (DRAM-resident
// keys); short ones (Multiply's k = 2, small rings) the plain pass.
inline bool UseChunked(int k, std::size_t n) { return k >= 4 && n >= 1024; }

}  // namespace

// REQUIRES: q.bits <= 50, n % 8 == 0, 1 <= k <= 64, inputs in [0, q), out
// not aliasing any input.
void DotProductModVecIfma(const uint64_t* const* a, const uint64_t* const* b,
                          int k, uint64_t* out, std::size_t n,
                          const Modulus& q) {
  if (q.value < 8) {  // outside Reduce54's error analysis
    DotProductModVecPortable(a, b, k, out, n, q);
    return;
  }
  if (UseChunked(k, n)) {
    const uint64_t* const* bs[1] = {b};
    return DotProductChunked<1>(a, bs, k, &out, n, q.value);
  }
  SecondOperands<1, false> second{{b}, nullptr};
  DotAll(a, second, k, &out, n, q.value);
}

// As DotProductModVecIfma for two second operands: out0 = a.b0, out1 = a.b1.
void DotProductModVec2Ifma(const uint64_t* const* a, const uint64_t* const* b0,
                           const uint64_t* const* b1, int k, uint64_t* out0,
                           uint64_t* out1, std::size_t n, const Modulus& q) {
  if (q.value < 8) {
    DotProductModVecPortable(a, b0, k, out0, n, q);
    DotProductModVecPortable(a, b1, k, out1, n, q);
    return;
  }
  if (UseChunked(k, n)) {
    const uint64_t* const* b[2] = {b0, b1};
    uint64_t* const out[2] = {out0, out1};
    return DotProductChunked<2>(a, b, k, out, n, q.value);
  }
  SecondOperands<2, false> second{{b0, b1}, nullptr};
  uint64_t* out[2] = {out0, out1};
  DotAll(a, second, k, out, n, q.value);
}

// REQUIRES: q.bits <= 50, n % 8 == 0, 1 <= k <= 64, a[i] words < 2^50,
// w[i] < q, out not aliasing any input.
void DotScalarModVecIfma(const uint64_t* const* a, const uint64_t* w, int k,
                         uint64_t* out, std::size_t n, const Modulus& q) {
  if (q.value < 8) {
    DotScalarModVecPortable(a, w, k, out, n, q);
    return;
  }
  __m512i wb[64];
  for (int i = 0; i < k; ++i) wb[i] = _mm512_set1_epi64(static_cast<int64_t>(w[i]));
  SecondOperands<1, true> second{{nullptr}, wb};
  DotAll(a, second, k, &out, n, q.value);
}

}  // namespace blindfold::math::internal
