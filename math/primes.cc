#include "math/primes.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace blindfold::math {
namespace {

uint64_t MulModU128(uint64_t a, uint64_t b, uint64_t n) {
  return static_cast<uint64_t>(static_cast<u128>(a) * b % n);
}

uint64_t PowModU128(uint64_t b, uint64_t e, uint64_t n) {
  uint64_t r = 1 % n;
  b %= n;
  while (e) {
    if (e & 1) r = MulModU128(r, b, n);
    b = MulModU128(b, b, n);
    e >>= 1;
  }
  return r;
}

}  // namespace

bool IsPrime(uint64_t n) {
  if (n < 2) return false;
  for (uint64_t p : {2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37}) {
    if (n % p == 0) return n == p;
  }
  uint64_t d = n - 1;
  int s = 0;
  while ((d & 1) == 0) {
    d >>= 1;
    ++s;
  }
  // These bases are a deterministic witness set for all n < 2^64.
  for (uint64_t a : {2, 325, 9375, 28178, 450775, 9780504, 1795265022}) {
    uint64_t x = PowModU128(a % n, d, n);
    if (a % n == 0 || x == 1 || x == n - 1) continue;
    bool composite = true;
    for (int r = 1; r < s; ++r) {
      x = MulModU128(x, x, n);
      if (x == n - 1) {
        composite = false;
        break;
      }
    }
    if (composite) return false;
  }
  return true;
}

absl::StatusOr<std::vector<uint64_t>> GenerateNttPrimes(
    int bits, int count, uint64_t two_n, const std::vector<uint64_t>& exclude) {
  const int log_two_n = 63 - __builtin_clzll(two_n);
  if (two_n < 2 || (two_n & (two_n - 1)) != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("GenerateNttPrimes: 2N = ", two_n, " is not a power of two"));
  }
  if (bits < log_two_n + 2 || bits > kMaxModulusBits) {
    return absl::InvalidArgumentError(absl::StrCat(
        "GenerateNttPrimes: ", bits, "-bit primes requested, need between ",
        log_two_n + 2, " and ", kMaxModulusBits, " bits for 2N = ", two_n));
  }
  std::vector<uint64_t> out;
  const uint64_t upper = uint64_t{1} << bits;
  const uint64_t lower = uint64_t{1} << (bits - 1);
  // Largest candidate = 1 (mod 2N) below 2^bits.
  for (uint64_t q = upper - two_n + 1; q > lower && static_cast<int>(out.size()) < count;
       q -= two_n) {
    if (std::find(exclude.begin(), exclude.end(), q) != exclude.end()) continue;
    if (IsPrime(q)) out.push_back(q);
  }
  if (static_cast<int>(out.size()) < count) {
    return absl::InvalidArgumentError(absl::StrCat(
        "GenerateNttPrimes: only ", out.size(), " ", bits,
        "-bit primes = 1 mod ", two_n, " exist, ", count, " requested"));
  }
  return out;
}

absl::StatusOr<uint64_t> MinimalPrimitiveRoot(uint64_t two_n, const Modulus& q) {
  if (!IsPrime(q.value) || (q.value - 1) % two_n != 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "MinimalPrimitiveRoot: ", q.value, " is not a prime = 1 mod ", two_n));
  }
  // g^((q-1)/2N) for a generator-ish g is a 2N-th root; it is primitive iff
  // its (N)-th power is -1. Take the smallest over all candidates.
  const uint64_t cofactor = (q.value - 1) / two_n;
  uint64_t root = 0;
  for (uint64_t g = 2; g < q.value; ++g) {
    const uint64_t r = PowMod(g, cofactor, q);
    if (PowMod(r, two_n / 2, q) == q.value - 1) {
      root = r;
      break;
    }
  }
  if (root == 0) return absl::InternalError("MinimalPrimitiveRoot: none found");
  // All primitive roots are root^k for odd k; pick the smallest.
  const uint64_t root_sq = MulMod(root, root, q);
  uint64_t best = root, cur = root;
  for (uint64_t k = 1; k < two_n; k += 2) {
    if (cur < best) best = cur;
    cur = MulMod(cur, root_sq, q);
  }
  return best;
}

}  // namespace blindfold::math
