// File: math/vec_ops_neon.cc
// NEON element-wise modular kernels (declared in math/vec_ops.h); compiled
// only in aarch64 builds (math/CMakeLists.txt).
//
// The AVX2 kernels' arithmetic on 2 x double lanes (math/neon_fp.h):
// multiplies are exact hi/lo FMA products minus a rounded quotient times q
// (a centred representative, |r| < 0.9 q for a, b < q < 2^50), made
// canonical by one compare-and-add; dot products add up to four centred
// terms (< 4.1 q < 2^53, exact) between reductions. Additions,
// subtractions and negations are 64-bit integer lanes and serve every
// q < 2^61. An odd last word is done in scalar code with the exact
// reductions of math/modarith.h. Every output is fully reduced, so results
// are bit-identical to the portable kernels.
#include <cstddef>
#include <cstdint>

#include "math/neon_fp.h"
#include "math/vec_ops.h"

namespace blindfold::math::internal {
namespace {

// Exact a b mod q for one word (the scalar tails): canonical, so equal to
// what any path computes.
inline uint64_t MulModWord(uint64_t a, uint64_t b, const Modulus& q) {
  return BarrettReduce128(static_cast<u128>(a) * b, q);
}

// s - q where s >= q, for s < 2^64 with no wrap (a, b < q < 2^61).
inline uint64x2_t CondSubQ(uint64x2_t s, uint64x2_t q) {
  return vsubq_u64(s, vandq_u64(vcgeq_u64(s, q), q));
}

// sum_i term(i) mod q over k terms for one vector of 2 words; term returns
// a centred representative below q in magnitude.
template <typename Term>
inline float64x2_t DotLanes(int k, Term term, const FpMod& c) {
  float64x2_t acc = vdupq_n_f64(0.0);
  int i = 0;
  for (; i + 4 <= k; i += 4) {
    acc = vaddq_f64(acc, term(i));
    acc = vaddq_f64(acc, term(i + 1));
    acc = vaddq_f64(acc, term(i + 2));
    acc = vaddq_f64(acc, term(i + 3));
    acc = ReduceCentred(acc, c);  // |acc| < 4.1 q before, q/2 + 1 after
  }
  for (; i < k; ++i) acc = vaddq_f64(acc, term(i));
  return ReduceToCanonical(acc, c);
}

}  // namespace

void AddModVecNeon(const uint64_t* a, const uint64_t* b, uint64_t* out,
                   std::size_t n, uint64_t q) {
  const uint64x2_t qv = vdupq_n_u64(q);
  std::size_t j = 0;
  for (; j + 2 <= n; j += 2) {
    vst1q_u64(out + j, CondSubQ(vaddq_u64(vld1q_u64(a + j), vld1q_u64(b + j)), qv));
  }
  if (j < n) out[j] = AddMod(a[j], b[j], q);
}

void SubModVecNeon(const uint64_t* a, const uint64_t* b, uint64_t* out,
                   std::size_t n, uint64_t q) {
  const uint64x2_t qv = vdupq_n_u64(q);
  std::size_t j = 0;
  for (; j + 2 <= n; j += 2) {
    const uint64x2_t x = vld1q_u64(a + j), y = vld1q_u64(b + j);
    const uint64x2_t borrow = vcgtq_u64(y, x);
    vst1q_u64(out + j, vaddq_u64(vsubq_u64(x, y), vandq_u64(borrow, qv)));
  }
  if (j < n) out[j] = SubMod(a[j], b[j], q);
}

void NegModVecNeon(const uint64_t* a, uint64_t* out, std::size_t n,
                   uint64_t q) {
  const uint64x2_t qv = vdupq_n_u64(q);
  std::size_t j = 0;
  for (; j + 2 <= n; j += 2) {
    const uint64x2_t x = vld1q_u64(a + j);
    vst1q_u64(out + j, vbicq_u64(vsubq_u64(qv, x), vceqzq_u64(x)));
  }
  if (j < n) out[j] = NegMod(a[j], q);
}

void AddScalarModVecNeon(const uint64_t* a, uint64_t s, uint64_t* out,
                         std::size_t n, uint64_t q) {
  const uint64x2_t qv = vdupq_n_u64(q);
  const uint64x2_t sv = vdupq_n_u64(s);
  std::size_t j = 0;
  for (; j + 2 <= n; j += 2) {
    vst1q_u64(out + j, CondSubQ(vaddq_u64(vld1q_u64(a + j), sv), qv));
  }
  if (j < n) out[j] = AddMod(a[j], s, q);
}

void MulModVecNeon(const uint64_t* a, const uint64_t* b, uint64_t* out,
                   std::size_t n, const Modulus& q) {
  const FpMod c(q.value);
  std::size_t j = 0;
  for (; j + 2 <= n; j += 2) {
    const float64x2_t r = MulModCentred(LoadU64(a + j), LoadU64(b + j), c);
    StoreU64(out + j, Canonical(r, c));
  }
  if (j < n) out[j] = MulModWord(a[j], b[j], q);
}

void MulAddModVecNeon(const uint64_t* a, const uint64_t* b, uint64_t* out,
                      std::size_t n, const Modulus& q) {
  const FpMod c(q.value);
  std::size_t j = 0;
  for (; j + 2 <= n; j += 2) {
    const float64x2_t r = MulModCentred(LoadU64(a + j), LoadU64(b + j), c);
    StoreU64(out + j, ReduceToCanonical(vaddq_f64(r, LoadU64(out + j)), c));
  }
  if (j < n) out[j] = AddMod(out[j], MulModWord(a[j], b[j], q), q.value);
}

// a < 2^52: |a w / q| < 2^52, so |r| < 2 q and one centred reduction ends.
void MulScalarModVecNeon(const uint64_t* a, uint64_t w, uint64_t* out,
                         std::size_t n, const Modulus& q) {
  const FpMod c(q.value);
  const float64x2_t wv = vdupq_n_f64(static_cast<double>(w));
  std::size_t j = 0;
  for (; j + 2 <= n; j += 2) {
    StoreU64(out + j, ReduceToCanonical(MulModCentred(LoadU64(a + j), wv, c), c));
  }
  if (j < n) out[j] = MulModWord(a[j], w, q);
}

// x - t is exact in doubles (|x - t| < q < 2^50); its centred product with w
// and the optional addend stay far below 2^52 before the canonical reduction.
void SubMulScalarAddModVecNeon(const uint64_t* x, const uint64_t* t, uint64_t w,
                               const uint64_t* add, uint64_t* out, std::size_t n,
                               const Modulus& q) {
  const FpMod c(q.value);
  const float64x2_t wv = vdupq_n_f64(static_cast<double>(w));
  std::size_t j = 0;
  for (; j + 2 <= n; j += 2) {
    const float64x2_t d = vsubq_f64(LoadU64(x + j), LoadU64(t + j));
    float64x2_t r = MulModCentred(d, wv, c);
    if (add != nullptr) r = vaddq_f64(r, LoadU64(add + j));
    StoreU64(out + j, ReduceToCanonical(r, c));
  }
  if (j < n) {
    const uint64_t r = MulModWord(SubMod(x[j], t[j], q.value), w, q);
    out[j] = add != nullptr ? AddMod(r, add[j], q.value) : r;
  }
}

// a < 2^52: the centred remainder is within q/2 + 1 + 2^52 2^-51 of 0.
void ReduceVecNeon(const uint64_t* a, uint64_t* out, std::size_t n,
                   const Modulus& q) {
  const FpMod c(q.value);
  std::size_t j = 0;
  for (; j + 2 <= n; j += 2) StoreU64(out + j, ReduceToCanonical(LoadU64(a + j), c));
  if (j < n) out[j] = BarrettReduce64(a[j], q);
}

void DotProductModVecNeon(const uint64_t* const* a, const uint64_t* const* b,
                          int k, uint64_t* out, std::size_t n,
                          const Modulus& q) {
  const FpMod c(q.value);
  std::size_t j = 0;
  for (; j + 2 <= n; j += 2) {
    auto term = [&](int i) {
      return MulModCentred(LoadU64(a[i] + j), LoadU64(b[i] + j), c);
    };
    StoreU64(out + j, DotLanes(k, term, c));
  }
  if (j < n) {
    uint64_t s = 0;
    for (int i = 0; i < k; ++i) s = AddMod(s, MulModWord(a[i][j], b[i][j], q), q.value);
    out[j] = s;
  }
}

// Key switching's inner product with both halves of a key, reading each
// digit limb once. Digits in groups of four: within a group the two partial
// sums stay in registers (12 streams read at once); with more than one group
// the loop is blocked over kBlock words and the partial sums wait, centred,
// in two L1-resident arrays between groups (the AVX2 kernel's first
// blocking, without its prefetching, which was tuned on x86 and is not
// measured on any ARM core).
void DotProductModVec2Neon(const uint64_t* const* a, const uint64_t* const* b0,
                           const uint64_t* const* b1, int k, uint64_t* out0,
                           uint64_t* out1, std::size_t n, const Modulus& q) {
  constexpr int kGroup = 4;
  constexpr std::size_t kBlock = 512;
  const FpMod c(q.value);
  const std::size_t even = n & ~std::size_t{1};
  const std::size_t block = k <= kGroup ? even : kBlock;
  alignas(16) double acc0[kBlock], acc1[kBlock];
  for (std::size_t base = 0; base < even; base += block) {
    const std::size_t len = even - base < block ? even - base : block;
    for (int g = 0; g < k; g += kGroup) {
      const int end = g + kGroup < k ? g + kGroup : k;
      const bool first = g == 0, last = end == k;
      for (std::size_t j = 0; j < len; j += 2) {
        const std::size_t at = base + j;
        float64x2_t s0 = first ? vdupq_n_f64(0.0) : vld1q_f64(acc0 + j);
        float64x2_t s1 = first ? vdupq_n_f64(0.0) : vld1q_f64(acc1 + j);
        for (int i = g; i < end; ++i) {
          const float64x2_t x = LoadU64(a[i] + at);
          s0 = vaddq_f64(s0, MulModCentred(x, LoadU64(b0[i] + at), c));
          s1 = vaddq_f64(s1, MulModCentred(x, LoadU64(b1[i] + at), c));
        }
        if (last) {
          StoreU64(out0 + at, ReduceToCanonical(s0, c));
          StoreU64(out1 + at, ReduceToCanonical(s1, c));
        } else {
          vst1q_f64(acc0 + j, ReduceCentred(s0, c));
          vst1q_f64(acc1 + j, ReduceCentred(s1, c));
        }
      }
    }
  }
  if (even < n) {
    const std::size_t j = even;
    uint64_t s0 = 0, s1 = 0;
    for (int i = 0; i < k; ++i) {
      s0 = AddMod(s0, MulModWord(a[i][j], b0[i][j], q), q.value);
      s1 = AddMod(s1, MulModWord(a[i][j], b1[i][j], q), q.value);
    }
    out0[j] = s0;
    out1[j] = s1;
  }
}

// Inputs below 2^50, weights below q: centred terms below 0.9 q.
void DotScalarModVecNeon(const uint64_t* const* a, const uint64_t* w, int k,
                         uint64_t* out, std::size_t n, const Modulus& q) {
  const FpMod c(q.value);
  float64x2_t wv[64];
  for (int i = 0; i < k; ++i) wv[i] = vdupq_n_f64(static_cast<double>(w[i]));
  std::size_t j = 0;
  for (; j + 2 <= n; j += 2) {
    auto term = [&](int i) { return MulModCentred(LoadU64(a[i] + j), wv[i], c); };
    StoreU64(out + j, DotLanes(k, term, c));
  }
  if (j < n) {
    uint64_t s = 0;
    for (int i = 0; i < k; ++i) s = AddMod(s, MulModWord(a[i][j], w[i], q), q.value);
    out[j] = s;
  }
}

}  // namespace blindfold::math::internal
