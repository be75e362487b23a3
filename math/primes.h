// File: math/primes.h
// Primality (deterministic Miller-Rabin for 64-bit integers), NTT-friendly
// prime generation (q = 1 mod 2N) and primitive 2N-th roots of unity.
#ifndef BLINDFOLD_MATH_PRIMES_H_
#define BLINDFOLD_MATH_PRIMES_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "math/modarith.h"

namespace blindfold::math {

bool IsPrime(uint64_t n);

// The `count` largest primes q < 2^bits with q = 1 (mod two_n), skipping any
// in `exclude`, in decreasing order. Errors: InvalidArgument when bits is
// outside [log2(two_n)+2, kMaxModulusBits] or too few such primes exist.
absl::StatusOr<std::vector<uint64_t>> GenerateNttPrimes(
    int bits, int count, uint64_t two_n,
    const std::vector<uint64_t>& exclude = {});

// The smallest primitive two_n-th root of unity mod q (two_n a power of two).
// Errors: InvalidArgument if q is not prime or q != 1 (mod two_n).
absl::StatusOr<uint64_t> MinimalPrimitiveRoot(uint64_t two_n,
                                              const Modulus& q);

}  // namespace blindfold::math

#endif  // BLINDFOLD_MATH_PRIMES_H_
