// File: ring/automorphism.h
// Galois automorphisms sigma_g: X -> X^g of Z_q[X]/(X^N + 1), g odd mod 2N.
// In CKKS, g = 5^k rotates the slots left by k and g = 2N - 1 conjugates them.
#ifndef BLINDFOLD_RING_AUTOMORPHISM_H_
#define BLINDFOLD_RING_AUTOMORPHISM_H_

#include <cstdint>
#include <vector>

#include "ring/poly.h"

namespace blindfold::ring {

// Galois element that rotates slots left by `steps` (negative: right):
// 5^(steps mod N/2) mod 2N.
uint64_t GaloisElementForRotation(int64_t steps, int log_n);
// Galois element of complex conjugation: 2N - 1.
inline uint64_t GaloisElementForConjugation(int log_n) {
  return (uint64_t{2} << log_n) - 1;
}

// Permutation for NTT-form inputs (the ordering of math/ntt.h): output slot j
// takes input slot index[j]. REQUIRES: g odd.
std::vector<uint32_t> AutomorphismNttIndex(int log_n, uint64_t g);

// out = sigma_g(a), both NTT form, over out's limbs; `index` from
// AutomorphismNttIndex. out must not alias a.
void ApplyAutomorphismNtt(const RnsPoly& a, const std::vector<uint32_t>& index,
                          RnsPoly* out);

// One limb of the above: out[j] = in[index[j]] for j < n. out must not
// alias in.
void PermuteLimb(const uint64_t* in, const uint32_t* index, uint64_t* out,
                 std::size_t n);

// out = sigma_g(a), both coefficient form. out must not alias a.
void ApplyAutomorphismCoeff(const RingContext& ctx, const RnsPoly& a,
                            uint64_t g, RnsPoly* out);

}  // namespace blindfold::ring

#endif  // BLINDFOLD_RING_AUTOMORPHISM_H_
