// File: ckks/noise_flooding.h
// Noise flooding at decryption, against key recovery from shared decryption
// results (IND-CPA-D; Li and Micciancio, "On the security of homomorphic
// encryption on approximate numbers", EUROCRYPT 2021).
//
// Decryption returns m' = c0 + c1 s = Delta m + e exactly. Whoever knows the
// ciphertext and m' (for instance a server the client shows a result to)
// learns e, and with it linear equations in s: a handful of shared results
// recover the key. Flooding adds, at every decryption, a fresh polynomial
// f with independent rounded Gaussian coefficients of standard deviation
//
//     sigma_f = 2^(s/2) * sqrt(t) * B
//
// where B bounds the ciphertext noise per coefficient (|e_i| <= B), t is the
// number of decryptions of one ciphertext an adversary may see, and s is the
// statistical security parameter: per coefficient the Renyi / KL divergence
// between e_i + f_i and f_i is at most t e_i^2 / (2 sigma_f^2) <= 2^-(s+1),
// so the whole polynomial leaks at most N 2^-(s+1) (s - log2 N bits of
// statistical security for the polynomial). This is the standard flooding
// argument (see Li, Micciancio, Schultz and Sorrell, "Securing approximate
// homomorphic encryption using differential privacy", CRYPTO 2022, for the
// sharper analysis and the cost in precision).
//
// The cost: f adds to every decoded slot an error of standard deviation
// about sigma_f sqrt(N / 2) / scale (real and imaginary part each); see
// FloodingSlotStddev. With the defaults (s = 20, t = 1, B estimated from the
// parameters) that is about 2^-10 at N = 2^14, scale 2^40 (largest slot
// error ~2^-8); each further bit of s costs half a bit of precision. Output rounding (RoundToBits)
// then drops the digits the application does not need. docs/security.md
// gives the numbers and the reasoning.
//
// The flooding noise comes from ChaCha20 keyed by a fresh OS CSPRNG seed per
// decryption (base/random.h); it is sampled with floating point (Box-Muller)
// and is not constant-time.
#ifndef BLINDFOLD_CKKS_NOISE_FLOODING_H_
#define BLINDFOLD_CKKS_NOISE_FLOODING_H_

#include <complex>
#include <limits>
#include <span>

#include "absl/status/status.h"
#include "ckks/parameters.h"
#include "ckks/scale.h"
#include "ring/poly.h"

namespace blindfold::ckks {

struct DecryptionOptions {
  // On by default: a decryption may end up in front of someone else. Turn it
  // off only where results provably stay with the key owner (tests measuring
  // engine precision, a client that never shows results to anyone).
  bool flood_noise = true;
  // s: statistical security parameter per coefficient, in bits (see above).
  int security_bits = 20;
  // t: decryptions of one ciphertext an adversary may see (averaging t
  // flooded results shrinks the flooding by sqrt(t)).
  int max_decryptions_per_ciphertext = 1;
  // log2 of B, the bound on |e_i| (coefficient units) of the ciphertexts
  // decrypted. NaN: DefaultNoiseLog2Bound(params).
  double noise_log2_bound = std::numeric_limits<double>::quiet_NaN();

  // Exact decryption, for callers that keep the result to themselves.
  static DecryptionOptions Exact() {
    DecryptionOptions o;
    o.flood_noise = false;
    return o;
  }
};

// Errors (InvalidArgument): security_bits outside [0, 128], t outside
// [1, 2^20], a noise bound outside [0, 60] bits, or a flooding deviation
// sigma_f with 18 sigma_f >= q_0 (it would drown any message).
absl::Status ValidateDecryptionOptions(const Parameters& params,
                                       const DecryptionOptions& o);

// log2 of a bound on |e_i| for a fresh public-key encryption, times 4 of
// headroom for the noise of a few multiplications, rescalings and key
// switches (at scale 2^40 these stay near the fresh noise; measured in
// ckks/noise_flooding_test.cc): 4 * 6 sigma sqrt(1 + N w_u + N w_s) with
// w = 2/3 for uniform ternary u and s (h/N for a sparse secret of weight h).
double DefaultNoiseLog2Bound(const Parameters& params);

// log2 sigma_f for these options (noise_log2_bound NaN: the default bound).
double FloodingLog2Stddev(const Parameters& params, const DecryptionOptions& o);

// Standard deviation of the error flooding adds to each decoded slot value
// (real or imaginary part) at `scale`: sigma_f sqrt(N / 2) / scale.
double FloodingSlotStddev(const Parameters& params, const DecryptionOptions& o,
                          Scale scale);

// Adds the flooding polynomial to `m` (NTT form, any level) when
// o.flood_noise. REQUIRES: o validated; m over params' Q limbs.
void FloodNoise(const Parameters& params, const DecryptionOptions& o, ring::RnsPoly* m);

// Rounds every value to the nearest multiple of 2^-bits (bits may be
// negative); NaN and infinities are left as they are.
void RoundToBits(std::span<double> values, int bits);
void RoundToBits(std::span<std::complex<double>> values, int bits);

}  // namespace blindfold::ckks

#endif  // BLINDFOLD_CKKS_NOISE_FLOODING_H_
