// File: ring/sampler.h
// Samplers for RLWE: uniform residues expanded from a seed (ChaCha20, so a
// 32-byte seed stands for a whole polynomial), uniform ternary and
// fixed-Hamming-weight ternary secrets, and errors from a discrete Gaussian
// (cumulative-table sampler, sigma = 3.2, tail cut at 6 sigma) or a centered
// binomial of about the same variance (eta = 21: variance 10.5).
#ifndef BLINDFOLD_RING_SAMPLER_H_
#define BLINDFOLD_RING_SAMPLER_H_

#include <cstdint>
#include <vector>

#include "base/random.h"
#include "ring/poly.h"

namespace blindfold::ring {

// Fills every limb of `out` uniformly in [0, q_i) from `seed`; limb i uses its
// own ChaCha20 stream (nonce = domain, modulus index), so the result does not
// depend on the thread count. Marks `out` as NTT form (uniform either way).
void SampleUniform(const RingContext& ctx, const Seed& seed, uint64_t domain,
                   RnsPoly* out);

// n coefficients uniform in {-1, 0, 1}.
std::vector<int64_t> SampleTernary(Prng& prng, std::size_t n);
// n coefficients in {-1, 0, 1} with exactly h nonzero. REQUIRES: h <= n.
std::vector<int64_t> SampleTernaryFixedWeight(Prng& prng, std::size_t n,
                                              std::size_t h);

enum class ErrorDistribution : uint8_t {
  kDiscreteGaussian = 0,
  kCenteredBinomial = 1,
};
// n error coefficients; sigma is used by the Gaussian (tail cut at 6 sigma).
std::vector<int64_t> SampleError(Prng& prng, std::size_t n,
                                 ErrorDistribution dist, double sigma);

}  // namespace blindfold::ring

#endif  // BLINDFOLD_RING_SAMPLER_H_
