// File: math/modarith.h
// Scalar modular arithmetic over word-sized primes q < 2^61: Barrett
// reduction of 128-bit products, Shoup multiplication by a precomputed
// constant, and the lazy variants the NTT uses (results in [0, 2q)).
// Every function here is a hot kernel: preconditions are REQUIRES comments.
#ifndef BLINDFOLD_MATH_MODARITH_H_
#define BLINDFOLD_MATH_MODARITH_H_

#include <cstdint>

namespace blindfold::math {

using u128 = unsigned __int128;

inline constexpr int kMaxModulusBits = 61;
// The IFMA kernels work on 52-bit lanes; lazy butterflies need 4q < 2^52.
inline constexpr int kMaxIfmaModulusBits = 50;
// The AVX2 kernels hold residues as doubles (math/avx2_fp.h): q < 2^50.
inline constexpr int kMaxAvx2ModulusBits = 50;
// The NEON kernels use the same double/FMA arithmetic on 2 x double lanes
// (math/neon_fp.h) and share the AVX2 path's double twiddle tables.
inline constexpr int kMaxNeonModulusBits = kMaxAvx2ModulusBits;

// A prime modulus with its Barrett constant floor(2^128 / q).
struct Modulus {
  uint64_t value = 0;
  uint64_t barrett_hi = 0;  // floor(2^128 / q) >> 64
  uint64_t barrett_lo = 0;  // floor(2^128 / q) mod 2^64
  int bits = 0;

  Modulus() = default;
  // REQUIRES: 2 <= q < 2^61.
  explicit Modulus(uint64_t q);
};

// All ones if a >= b, else zero, by arithmetic alone: for a, b < 2^63 the
// top bit of a - b is set exactly when a < b. The helpers below that handle
// secret-dependent values (key generation, encryption, decryption) select
// with such masks instead of ?: or loops, so that no branch depends on the
// value (checked in the generated code: docs/security.md).
// REQUIRES: a, b < 2^63 (every residue and modulus here is below 2^62).
inline uint64_t CtMaskGe(uint64_t a, uint64_t b) {
  return ((a - b) >> 63) - 1;
}

inline uint64_t MulHi(uint64_t a, uint64_t b) {
  return static_cast<uint64_t>((static_cast<u128>(a) * b) >> 64);
}

// x - q floor(x / q) estimated from the three high partial products of
// x * floor(2^128/q) / 2^128: in [0, 3q) (the quotient is low by at most 2).
inline uint64_t BarrettEstimate128(u128 x, const Modulus& m) {
  const uint64_t xl = static_cast<uint64_t>(x);
  const uint64_t xh = static_cast<uint64_t>(x >> 64);
  const u128 t1 = static_cast<u128>(xl) * m.barrett_hi;
  const u128 t2 = static_cast<u128>(xh) * m.barrett_lo;
  const u128 lo_hi = static_cast<u128>(MulHi(xl, m.barrett_lo));
  const u128 mid = lo_hi + static_cast<uint64_t>(t1) + static_cast<uint64_t>(t2);
  const uint64_t quot = static_cast<uint64_t>(mid >> 64) +
                        static_cast<uint64_t>(t1 >> 64) +
                        static_cast<uint64_t>(t2 >> 64) + xh * m.barrett_hi;
  return xl - quot * m.value;
}

// x mod q for any 128-bit x.  Result in [0, q). Constant-time: two fixed
// conditional subtractions as masks, not a loop whose trip count depends on
// x (x is secret-dependent in key generation, encryption and decryption;
// docs/security.md, constant-time paths).
inline uint64_t BarrettReduce128(u128 x, const Modulus& m) {
  uint64_t r = BarrettEstimate128(x, m);
  r -= m.value & CtMaskGe(r, m.value);
  r -= m.value & CtMaskGe(r, m.value);
  return r;
}

// x mod q for a 64-bit x. Constant-time as above.
inline uint64_t BarrettReduce64(uint64_t x, const Modulus& m) {
  const uint64_t quot = MulHi(x, m.barrett_hi);  // low by at most 2
  uint64_t r = x - quot * m.value;
  r -= m.value & CtMaskGe(r, m.value);
  r -= m.value & CtMaskGe(r, m.value);
  return r;
}

// Variable-time variants (a correction loop, usually not entered: about a
// third faster in the portable kernels) for public data only: key switching
// and basis conversion of ciphertexts (math/vec_ops.cc's dot products and
// ReduceVec). Never on values derived from a secret.
inline uint64_t BarrettReduce128Public(u128 x, const Modulus& m) {
  uint64_t r = BarrettEstimate128(x, m);
  while (r >= m.value) r -= m.value;
  return r;
}
inline uint64_t BarrettReduce64Public(uint64_t x, const Modulus& m) {
  uint64_t r = x - MulHi(x, m.barrett_hi) * m.value;
  while (r >= m.value) r -= m.value;
  return r;
}

// REQUIRES: a, b < q.
inline uint64_t MulMod(uint64_t a, uint64_t b, const Modulus& m) {
  return BarrettReduce128(static_cast<u128>(a) * b, m);
}

// REQUIRES: a, b < q.
// Branch-free (masks; see CtMaskGe).
inline uint64_t AddMod(uint64_t a, uint64_t b, uint64_t q) {
  const uint64_t s = a + b;
  return s - (q & CtMaskGe(s, q));
}
inline uint64_t SubMod(uint64_t a, uint64_t b, uint64_t q) {
  return a - b + (q & ~CtMaskGe(a, b));
}
inline uint64_t NegMod(uint64_t a, uint64_t q) {
  return (q - a) & ~CtMaskGe(0, a);  // a == 0 -> 0
}

// floor(w * 2^64 / q): the Shoup companion of a constant w < q.
inline uint64_t ShoupPrecompute(uint64_t w, uint64_t q) {
  return static_cast<uint64_t>((static_cast<u128>(w) << 64) / q);
}

// a * w mod q in [0, 2q). REQUIRES: w < q, any 64-bit a.
inline uint64_t MulModShoupLazy(uint64_t a, uint64_t w, uint64_t w_shoup,
                                uint64_t q) {
  return a * w - MulHi(a, w_shoup) * q;
}

// a * w mod q in [0, q). REQUIRES: w < q, any 64-bit a.
inline uint64_t MulModShoup(uint64_t a, uint64_t w, uint64_t w_shoup,
                            uint64_t q) {
  const uint64_t r = MulModShoupLazy(a, w, w_shoup, q);
  return r >= q ? r - q : r;
}

uint64_t PowMod(uint64_t base, uint64_t exp, const Modulus& m);
// Inverse of a modulo prime q. REQUIRES: a mod q != 0.
uint64_t InvMod(uint64_t a, const Modulus& m);

// Signed value with |v| < q to its residue in [0, q), branch-free: adds q
// under the sign mask. This is how secrets and errors (|v| <= a few hundred)
// enter the RNS representation (ring::SetFromSigned).
inline uint64_t FromSignedSmall(int64_t v, uint64_t q) {
  const uint64_t sign = static_cast<uint64_t>(v >> 63);  // all ones iff v < 0
  return static_cast<uint64_t>(v) + (q & sign);
}

// Any signed 64-bit value to its residue in [0, q). Values with |v| < q take
// the branch-free FromSignedSmall; larger ones (encoded messages, public
// magnitudes) a branch and a division, whose time depends on v.
inline uint64_t FromSigned(int64_t v, uint64_t q) {
  const int64_t sq = static_cast<int64_t>(q);
  if (v > -sq && v < sq) return FromSignedSmall(v, q);
  if (v >= 0) return static_cast<uint64_t>(v) % q;
  const uint64_t r = static_cast<uint64_t>(-(v + 1)) % q;  // avoid INT64_MIN
  return q - 1 - r;
}

}  // namespace blindfold::math

#endif  // BLINDFOLD_MATH_MODARITH_H_
