// File: math/vec_ops.h
// Element-wise modular kernels over one residue limb of n words. These are
// the inner loops of every RNS polynomial operation. Inputs and outputs are
// in [0, q) unless stated; `out` may alias any input. The Barrett/Shoup
// multiplies dispatch to AVX-512 IFMA kernels (math/vec_ops_ifma.cc) when the
// active path is IFMA and q < 2^50, and every kernel to AVX2 + FMA kernels
// (math/vec_ops_avx2.cc) when it is AVX2 (multiplies for q < 2^50; the
// integer add/sub/neg kernels on the IFMA path too). aarch64 builds have
// NEON kernels (math/vec_ops_neon.cc) instead, with the AVX2 ones' limits;
// results are bit-identical on all paths.
#ifndef BLINDFOLD_MATH_VEC_OPS_H_
#define BLINDFOLD_MATH_VEC_OPS_H_

#include <cstddef>
#include <cstdint>

#include "math/modarith.h"

namespace blindfold::math {

void AddModVec(const uint64_t* a, const uint64_t* b, uint64_t* out,
               std::size_t n, uint64_t q);
void SubModVec(const uint64_t* a, const uint64_t* b, uint64_t* out,
               std::size_t n, uint64_t q);
void NegModVec(const uint64_t* a, uint64_t* out, std::size_t n, uint64_t q);

// out = a * b mod q (Barrett).
void MulModVec(const uint64_t* a, const uint64_t* b, uint64_t* out,
               std::size_t n, const Modulus& q);
// out = out + a * b mod q.
void MulAddModVec(const uint64_t* a, const uint64_t* b, uint64_t* out,
                  std::size_t n, const Modulus& q);
// out = a * w mod q with w's Shoup companion. REQUIRES: w < q.
void MulScalarModVec(const uint64_t* a, uint64_t w, uint64_t* out,
                     std::size_t n, const Modulus& q);
// out = (x - t) * w + add mod q (add may be null: nothing added), in one
// pass: ModDown's last step per limb, fused with key switching's addition.
// REQUIRES: w < q; x, t, add in [0, q).
void SubMulScalarAddModVec(const uint64_t* x, const uint64_t* t, uint64_t w,
                           const uint64_t* add, uint64_t* out, std::size_t n,
                           const Modulus& q);
// out = (a + c) mod q for a scalar c < q.
void AddScalarModVec(const uint64_t* a, uint64_t c, uint64_t* out,
                     std::size_t n, uint64_t q);

// out = sum_{i < k} a[i] * b[i] mod q, accumulated lazily and reduced once.
// REQUIRES: 1 <= k <= 64; every a[i], b[i] has n words in [0, q).
// `out` must not alias any a[i] or b[i].
void DotProductModVec(const uint64_t* const* a, const uint64_t* const* b,
                      int k, uint64_t* out, std::size_t n, const Modulus& q);

// Two dot products sharing a: out0 = a . b0, out1 = a . b1 (key switching's
// inner product with both halves of a key, reading each digit once).
// REQUIRES: as DotProductModVec; out0 and out1 distinct.
void DotProductModVec2(const uint64_t* const* a, const uint64_t* const* b0,
                       const uint64_t* const* b1, int k, uint64_t* out0,
                       uint64_t* out1, std::size_t n, const Modulus& q);

// out = sum_{i < k} a[i] * w[i] mod q for scalar weights w[i] < q: the
// inner loop of RNS basis conversion. REQUIRES: 1 <= k <= 64; every a[i] has
// n words below 2^input_bits (input_bits <= 50 lets the IFMA path run).
void DotScalarModVec(const uint64_t* const* a, const uint64_t* w, int k,
                     uint64_t* out, std::size_t n, const Modulus& q,
                     int input_bits = 64);

// out = a mod q: reduces residues of another prime. REQUIRES: every a[i] <
// 2^input_bits. With input_bits <= 52 (residues of primes below 2^52) the
// IFMA path reduces as a Shoup product by 1, whose quotient estimate is off
// by at most one for such inputs.
void ReduceVec(const uint64_t* a, uint64_t* out, std::size_t n,
               const Modulus& q, int input_bits = 64);

namespace internal {
// Portable kernels (always available; tests compare paths against them).
void MulModVecPortable(const uint64_t* a, const uint64_t* b, uint64_t* out,
                       std::size_t n, const Modulus& q);
void MulScalarModVecPortable(const uint64_t* a, uint64_t w, uint64_t* out,
                             std::size_t n, const Modulus& q);
void SubMulScalarAddModVecPortable(const uint64_t* x, const uint64_t* t, uint64_t w,
                                   const uint64_t* add, uint64_t* out, std::size_t n,
                                   const Modulus& q);
void DotProductModVecPortable(const uint64_t* const* a,
                              const uint64_t* const* b, int k, uint64_t* out,
                              std::size_t n, const Modulus& q);
void DotScalarModVecPortable(const uint64_t* const* a, const uint64_t* w,
                             int k, uint64_t* out, std::size_t n,
                             const Modulus& q);
// AVX-512 IFMA kernels. REQUIRES: CpuHasIfma(), q.bits <= 50, n % 8 == 0.
void MulModVecIfma(const uint64_t* a, const uint64_t* b, uint64_t* out,
                   std::size_t n, const Modulus& q);
void MulScalarModVecIfma(const uint64_t* a, uint64_t w, uint64_t* out,
                         std::size_t n, const Modulus& q);
void SubMulScalarAddModVecIfma(const uint64_t* x, const uint64_t* t, uint64_t w,
                               const uint64_t* add, uint64_t* out, std::size_t n,
                               const Modulus& q);
void DotProductModVecIfma(const uint64_t* const* a, const uint64_t* const* b,
                          int k, uint64_t* out, std::size_t n,
                          const Modulus& q);
void DotProductModVec2Ifma(const uint64_t* const* a, const uint64_t* const* b0,
                           const uint64_t* const* b1, int k, uint64_t* out0,
                           uint64_t* out1, std::size_t n, const Modulus& q);
// REQUIRES also: a[i] words < 2^50.
void DotScalarModVecIfma(const uint64_t* const* a, const uint64_t* w, int k,
                         uint64_t* out, std::size_t n, const Modulus& q);
// AVX2 + FMA kernels (math/vec_ops_avx2.cc). REQUIRES: CpuHasAvx2(),
// n % 4 == 0. The add/sub/neg kernels serve any q < 2^61; the others
// REQUIRE q.bits <= kMaxAvx2ModulusBits (50), and MulScalar/Reduce inputs
// below 2^52, DotScalar inputs below 2^50.
void AddModVecAvx2(const uint64_t* a, const uint64_t* b, uint64_t* out,
                   std::size_t n, uint64_t q);
void SubModVecAvx2(const uint64_t* a, const uint64_t* b, uint64_t* out,
                   std::size_t n, uint64_t q);
void NegModVecAvx2(const uint64_t* a, uint64_t* out, std::size_t n, uint64_t q);
void AddScalarModVecAvx2(const uint64_t* a, uint64_t c, uint64_t* out,
                         std::size_t n, uint64_t q);
void MulModVecAvx2(const uint64_t* a, const uint64_t* b, uint64_t* out,
                   std::size_t n, const Modulus& q);
void MulAddModVecAvx2(const uint64_t* a, const uint64_t* b, uint64_t* out,
                      std::size_t n, const Modulus& q);
void MulScalarModVecAvx2(const uint64_t* a, uint64_t w, uint64_t* out,
                         std::size_t n, const Modulus& q);
void SubMulScalarAddModVecAvx2(const uint64_t* x, const uint64_t* t, uint64_t w,
                               const uint64_t* add, uint64_t* out, std::size_t n,
                               const Modulus& q);
void ReduceVecAvx2(const uint64_t* a, uint64_t* out, std::size_t n,
                   const Modulus& q);
void DotProductModVecAvx2(const uint64_t* const* a, const uint64_t* const* b,
                          int k, uint64_t* out, std::size_t n,
                          const Modulus& q);
void DotProductModVec2Avx2(const uint64_t* const* a, const uint64_t* const* b0,
                           const uint64_t* const* b1, int k, uint64_t* out0,
                           uint64_t* out1, std::size_t n, const Modulus& q);
void DotScalarModVecAvx2(const uint64_t* const* a, const uint64_t* w, int k,
                         uint64_t* out, std::size_t n, const Modulus& q);
// NEON kernels (math/vec_ops_neon.cc; defined only in aarch64 builds).
// Any n (odd tails in scalar code). Limits as the AVX2 kernels: add/sub/
// neg/add-scalar any q < 2^61; the others REQUIRE q.bits <=
// kMaxNeonModulusBits (50), MulScalar/Reduce inputs below 2^52, DotScalar
// inputs below 2^50.
void AddModVecNeon(const uint64_t* a, const uint64_t* b, uint64_t* out,
                   std::size_t n, uint64_t q);
void SubModVecNeon(const uint64_t* a, const uint64_t* b, uint64_t* out,
                   std::size_t n, uint64_t q);
void NegModVecNeon(const uint64_t* a, uint64_t* out, std::size_t n, uint64_t q);
void AddScalarModVecNeon(const uint64_t* a, uint64_t c, uint64_t* out,
                         std::size_t n, uint64_t q);
void MulModVecNeon(const uint64_t* a, const uint64_t* b, uint64_t* out,
                   std::size_t n, const Modulus& q);
void MulAddModVecNeon(const uint64_t* a, const uint64_t* b, uint64_t* out,
                      std::size_t n, const Modulus& q);
void MulScalarModVecNeon(const uint64_t* a, uint64_t w, uint64_t* out,
                         std::size_t n, const Modulus& q);
void SubMulScalarAddModVecNeon(const uint64_t* x, const uint64_t* t, uint64_t w,
                               const uint64_t* add, uint64_t* out, std::size_t n,
                               const Modulus& q);
void ReduceVecNeon(const uint64_t* a, uint64_t* out, std::size_t n,
                   const Modulus& q);
void DotProductModVecNeon(const uint64_t* const* a, const uint64_t* const* b,
                          int k, uint64_t* out, std::size_t n,
                          const Modulus& q);
void DotProductModVec2Neon(const uint64_t* const* a, const uint64_t* const* b0,
                           const uint64_t* const* b1, int k, uint64_t* out0,
                           uint64_t* out1, std::size_t n, const Modulus& q);
void DotScalarModVecNeon(const uint64_t* const* a, const uint64_t* w, int k,
                         uint64_t* out, std::size_t n, const Modulus& q);
}  // namespace internal

}  // namespace blindfold::math

#endif  // BLINDFOLD_MATH_VEC_OPS_H_
