// File: math/vec_ops_avx2.cc
// AVX2 + FMA element-wise modular kernels (declared in math/vec_ops.h).
//
// Multiplies run on 4 x double lanes (math/avx2_fp.h): words below 2^52
// convert to doubles exactly, a b mod q is the exact hi/lo FMA product minus
// a rounded quotient times q (a signed representative, |r| < 0.9 q for
// a, b < q < 2^50), and one compare-and-add makes it canonical. Dot
// products add up to four such centred terms (< 2^53 in magnitude, exact)
// between reductions. Additions, subtractions and negations are 64-bit
// integer lanes and serve every q < 2^61. Every output is fully reduced, so
// results are bit-identical to the portable kernels.
//
// Compiled with -mavx2 -mfma; enter only after CpuHasAvx2().
#include <cstddef>
#include <cstdint>

#include "math/avx2_fp.h"
#include "math/vec_ops.h"

namespace blindfold::math::internal {
namespace {

inline __m256i LdI(const uint64_t* p) {
  return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
}
inline void StI(uint64_t* p, __m256i v) {
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), v);
}

// s - q where s >= q, for s < 2^62 (signed compares are exact there).
inline __m256i CondSubQ(__m256i s, __m256i q) {
  const __m256i lt = _mm256_cmpgt_epi64(q, s);
  return _mm256_sub_epi64(s, _mm256_andnot_si256(lt, q));
}

// sum_i term(i, j) mod q over k terms, for one vector of 4 words at j;
// term returns a centred representative below q in magnitude.
template <typename Term>
inline __m256d DotLanes(int k, Term term, const FpMod& c) {
  __m256d acc = _mm256_setzero_pd();
  int i = 0;
  for (; i + 4 <= k; i += 4) {
    acc = _mm256_add_pd(acc, term(i));
    acc = _mm256_add_pd(acc, term(i + 1));
    acc = _mm256_add_pd(acc, term(i + 2));
    acc = _mm256_add_pd(acc, term(i + 3));
    acc = ReduceCentred(acc, c);  // |acc| < 4.1 q before, q/2 + 1 after
  }
  for (; i < k; ++i) acc = _mm256_add_pd(acc, term(i));
  return ReduceToCanonical(acc, c);
}

}  // namespace

void AddModVecAvx2(const uint64_t* a, const uint64_t* b, uint64_t* out,
                   std::size_t n, uint64_t q) {
  const __m256i qv = _mm256_set1_epi64x(static_cast<int64_t>(q));
  for (std::size_t j = 0; j < n; j += 4) {
    StI(out + j, CondSubQ(_mm256_add_epi64(LdI(a + j), LdI(b + j)), qv));
  }
}

void SubModVecAvx2(const uint64_t* a, const uint64_t* b, uint64_t* out,
                   std::size_t n, uint64_t q) {
  const __m256i qv = _mm256_set1_epi64x(static_cast<int64_t>(q));
  for (std::size_t j = 0; j < n; j += 4) {
    const __m256i x = LdI(a + j), y = LdI(b + j);
    const __m256i borrow = _mm256_cmpgt_epi64(y, x);
    StI(out + j, _mm256_add_epi64(_mm256_sub_epi64(x, y),
                                  _mm256_and_si256(borrow, qv)));
  }
}

void NegModVecAvx2(const uint64_t* a, uint64_t* out, std::size_t n,
                   uint64_t q) {
  const __m256i qv = _mm256_set1_epi64x(static_cast<int64_t>(q));
  const __m256i zero = _mm256_setzero_si256();
  for (std::size_t j = 0; j < n; j += 4) {
    const __m256i x = LdI(a + j);
    const __m256i is_zero = _mm256_cmpeq_epi64(x, zero);
    StI(out + j, _mm256_andnot_si256(is_zero, _mm256_sub_epi64(qv, x)));
  }
}

void AddScalarModVecAvx2(const uint64_t* a, uint64_t s, uint64_t* out,
                         std::size_t n, uint64_t q) {
  const __m256i qv = _mm256_set1_epi64x(static_cast<int64_t>(q));
  const __m256i sv = _mm256_set1_epi64x(static_cast<int64_t>(s));
  for (std::size_t j = 0; j < n; j += 4) {
    StI(out + j, CondSubQ(_mm256_add_epi64(LdI(a + j), sv), qv));
  }
}

void MulModVecAvx2(const uint64_t* a, const uint64_t* b, uint64_t* out,
                   std::size_t n, const Modulus& q) {
  const FpMod c(q.value);
  for (std::size_t j = 0; j < n; j += 4) {
    const __m256d r = MulModCentred(LoadU64(a + j), LoadU64(b + j), c);
    StoreU64(out + j, Canonical(r, c));
  }
}

void MulAddModVecAvx2(const uint64_t* a, const uint64_t* b, uint64_t* out,
                      std::size_t n, const Modulus& q) {
  const FpMod c(q.value);
  for (std::size_t j = 0; j < n; j += 4) {
    const __m256d r = MulModCentred(LoadU64(a + j), LoadU64(b + j), c);
    StoreU64(out + j, ReduceToCanonical(_mm256_add_pd(r, LoadU64(out + j)), c));
  }
}

// a < 2^52: |a w / q| < 2^52, so |r| < 2 q and one centred reduction ends.
void MulScalarModVecAvx2(const uint64_t* a, uint64_t w, uint64_t* out,
                         std::size_t n, const Modulus& q) {
  const FpMod c(q.value);
  const __m256d wv = _mm256_set1_pd(static_cast<double>(w));
  for (std::size_t j = 0; j < n; j += 4) {
    const __m256d r = MulModCentred(LoadU64(a + j), wv, c);
    StoreU64(out + j, ReduceToCanonical(r, c));
  }
}

// x - t is exact in doubles (|x - t| < q < 2^50); its centred product with w
// and the optional addend stay far below 2^52 before the canonical reduction.
void SubMulScalarAddModVecAvx2(const uint64_t* x, const uint64_t* t, uint64_t w,
                               const uint64_t* add, uint64_t* out, std::size_t n,
                               const Modulus& q) {
  const FpMod c(q.value);
  const __m256d wv = _mm256_set1_pd(static_cast<double>(w));
  for (std::size_t j = 0; j < n; j += 4) {
    const __m256d d = _mm256_sub_pd(LoadU64(x + j), LoadU64(t + j));
    __m256d r = MulModCentred(d, wv, c);
    if (add != nullptr) r = _mm256_add_pd(r, LoadU64(add + j));
    StoreU64(out + j, ReduceToCanonical(r, c));
  }
}

void ReduceVecAvx2(const uint64_t* a, uint64_t* out, std::size_t n,
                   const Modulus& q) {
  const FpMod c(q.value);
  for (std::size_t j = 0; j < n; j += 4) {
    StoreU64(out + j, ReduceToCanonical(LoadU64(a + j), c));
  }
}

// Up to four terms: one pass. More (double hoisting's sums of plaintext
// products, up to 64 terms): blocked over kBlock words, four terms at a
// time into an L1-resident partial sum, so at most 8 streams are read at
// once (2k streams at once defeat the hardware prefetchers, see
// Dot2Groups). Measured (mlp's latency plan, avx2, one thread): 64-stream
// passes made double hoisting 30 % slower than single hoisting.
void DotProductModVecAvx2(const uint64_t* const* a, const uint64_t* const* b,
                          int k, uint64_t* out, std::size_t n,
                          const Modulus& q) {
  const FpMod c(q.value);
  if (k <= 4) {
    for (std::size_t j = 0; j < n; j += 4) {
      auto term = [&](int i) {
        return MulModCentred(LoadU64(a[i] + j), LoadU64(b[i] + j), c);
      };
      StoreU64(out + j, DotLanes(k, term, c));
    }
    return;
  }
  constexpr std::size_t kBlock = 512;
  alignas(32) double acc[kBlock];
  for (std::size_t base = 0; base < n; base += kBlock) {
    const std::size_t len = n - base < kBlock ? n - base : kBlock;
    for (int g = 0; g < k; g += 4) {
      const int end = g + 4 < k ? g + 4 : k;
      const bool first = g == 0, last = end == k;
      for (std::size_t j = 0; j < len; j += 4) {
        const std::size_t at = base + j;
        // |acc| <= q/2 + 1 and four terms below 0.9 q: below 4.1 q < 2^53.
        __m256d s = first ? _mm256_setzero_pd() : _mm256_load_pd(acc + j);
        for (int i = g; i < end; ++i) {
          s = _mm256_add_pd(s, MulModCentred(LoadU64(a[i] + at), LoadU64(b[i] + at), c));
        }
        if (last) {
          StoreU64(out + at, ReduceToCanonical(s, c));
        } else {
          _mm256_store_pd(acc + j, ReduceCentred(s, c));
        }
      }
    }
  }
}

// Digits in groups: within a group the partial sums stay in registers and
// 3 x kGroup streams are read at once (with k = 8 digits a plain loop reads
// 24 streams, more than the hardware prefetchers follow, and key switching
// reads the key from DRAM). With more than one group the loop is blocked
// over kBlock words, the partial sums kept in two L1-resident arrays
// between groups. Measured (avx2, one thread, hoisted rotations at
// N = 2^14): 24 streams -> blocked one digit at a time cut dnum 8 by 35 %;
// groups of four then cut dnum 4 by 20 % and N = 2^13 by 10 %.
// With kPf, while one burst (a group's kBlock words) is computed the next
// one (the next group's, or the next block's first) is prefetched line by
// line, so that no burst starts with a DRAM miss; with groups of two (6
// streams, 24 KiB a burst: groups of four would prefetch the whole L1).
// Measured standalone (N = 2^14, k = 8, 9 limbs, 4 keys in turn): groups of
// four 1.48-1.51 ms, groups of two with prefetch 1.00-1.01 ms, groups of
// four with prefetch 1.95 ms. Cache-resident it costs ~10 % more (more
// reductions), so k <= 4 (N = 2^13, dnum 4) keeps one pass of four.
template <int kGroup, bool kPf>
void Dot2Groups(const uint64_t* const* a, const uint64_t* const* b0,
                           const uint64_t* const* b1, int k, uint64_t* out0,
                           uint64_t* out1, std::size_t n, const Modulus& q) {
  const FpMod c(q.value);
  constexpr std::size_t kBlock = 512;
  const std::size_t block = k <= kGroup ? n : kBlock;
  alignas(32) double acc0[kBlock], acc1[kBlock];
  for (std::size_t base = 0; base < n; base += block) {
    const std::size_t len = n - base < block ? n - base : block;
    for (int g = 0; g < k; g += kGroup) {
      const int end = g + kGroup < k ? g + kGroup : k;
      const bool first = g == 0, last = end == k;
      const int ng = last ? 0 : end;
      const int nend = ng + kGroup < k ? ng + kGroup : k;
      const std::size_t nbase = last ? base + block : base;
      for (std::size_t j = 0; j < len; j += 4) {
        const std::size_t at = base + j;
        if (kPf && (j & 7) == 0 && nbase + j < n) {
          for (int i = ng; i < nend; ++i) {
            _mm_prefetch(reinterpret_cast<const char*>(a[i] + nbase + j), _MM_HINT_T0);
            _mm_prefetch(reinterpret_cast<const char*>(b0[i] + nbase + j), _MM_HINT_T0);
            _mm_prefetch(reinterpret_cast<const char*>(b1[i] + nbase + j), _MM_HINT_T0);
          }
        }
        __m256d s0 = first ? _mm256_setzero_pd() : _mm256_load_pd(acc0 + j);
        __m256d s1 = first ? _mm256_setzero_pd() : _mm256_load_pd(acc1 + j);
        for (int i = g; i < end; ++i) {
          const __m256d x = LoadU64(a[i] + at);
          s0 = _mm256_add_pd(s0, MulModCentred(x, LoadU64(b0[i] + at), c));
          s1 = _mm256_add_pd(s1, MulModCentred(x, LoadU64(b1[i] + at), c));
        }
        if (last) {
          StoreU64(out0 + at, ReduceToCanonical(s0, c));
          StoreU64(out1 + at, ReduceToCanonical(s1, c));
        } else {
          _mm256_store_pd(acc0 + j, ReduceCentred(s0, c));
          _mm256_store_pd(acc1 + j, ReduceCentred(s1, c));
        }
      }
    }
  }
}
void DotProductModVec2Avx2(const uint64_t* const* a, const uint64_t* const* b0,
                           const uint64_t* const* b1, int k, uint64_t* out0,
                           uint64_t* out1, std::size_t n, const Modulus& q) {
  if (k <= 4) return Dot2Groups<4, false>(a, b0, b1, k, out0, out1, n, q);
  return Dot2Groups<2, true>(a, b0, b1, k, out0, out1, n, q);
}

void DotScalarModVecAvx2(const uint64_t* const* a, const uint64_t* w, int k,
                         uint64_t* out, std::size_t n, const Modulus& q) {
  const FpMod c(q.value);
  __m256d wv[64];
  for (int i = 0; i < k; ++i) wv[i] = _mm256_set1_pd(static_cast<double>(w[i]));
  for (std::size_t j = 0; j < n; j += 4) {
    auto term = [&](int i) { return MulModCentred(LoadU64(a[i] + j), wv[i], c); };
    StoreU64(out + j, DotLanes(k, term, c));
  }
}

}  // namespace blindfold::math::internal
