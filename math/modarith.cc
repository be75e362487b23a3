#include "math/modarith.h"

#include "base/check.h"

namespace blindfold::math {

Modulus::Modulus(uint64_t q) : value(q) {
  BF_CHECK(q >= 2 && q < (uint64_t{1} << kMaxModulusBits));
  // floor(2^128 / q) = floor((2^128 - 1) / q) because q is not a power of two
  // (q odd prime) -- for q = 2 it is exact as well since 2^128-1 is odd.
  const u128 all = ~static_cast<u128>(0);
  u128 quot = all / q;
  if (all % q == q - 1) ++quot;  // (2^128 - 1) + 1 divisible by q
  barrett_hi = static_cast<uint64_t>(quot >> 64);
  barrett_lo = static_cast<uint64_t>(quot);
  bits = 64 - __builtin_clzll(q);
}

uint64_t PowMod(uint64_t base, uint64_t exp, const Modulus& m) {
  uint64_t result = 1 % m.value;
  base %= m.value;
  while (exp > 0) {
    if (exp & 1) result = MulMod(result, base, m);
    base = MulMod(base, base, m);
    exp >>= 1;
  }
  return result;
}

uint64_t InvMod(uint64_t a, const Modulus& m) {
  a %= m.value;
  BF_CHECK(a != 0);
  return PowMod(a, m.value - 2, m);
}

}  // namespace blindfold::math
