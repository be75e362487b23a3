#include "ring/sampler.h"

#include <cmath>
#include <mutex>
#include <map>

#include "base/check.h"
#include "base/thread_pool.h"

namespace blindfold::ring {

using math::u128;

void SampleUniform(const RingContext& ctx, const Seed& seed, uint64_t domain,
                   RnsPoly* out) {
  const std::size_t n = out->n();
  ParallelFor(out->num_limbs(), [&](std::size_t i) {
    const int g = out->modulus_index(i, ctx);
    const uint64_t q = ctx.modulus(g).value;
    const uint64_t mask = (uint64_t{1} << ctx.modulus(g).bits) - 1;
    Prng prng(seed, (domain << 16) ^ static_cast<uint64_t>(g));
    uint64_t* dst = out->limb(i);
    for (std::size_t j = 0; j < n;) {
      const uint64_t v = prng.NextU64() & mask;  // rejection: exactly uniform
      if (v < q) dst[j++] = v;
    }
  });
  out->set_ntt(true);
}

std::vector<int64_t> SampleTernary(Prng& prng, std::size_t n) {
  std::vector<int64_t> out(n);
  for (std::size_t j = 0; j < n;) {
    uint8_t b;
    prng.Fill(&b, 1);
    if (b >= 255) continue;  // 255 = 3 * 85: reject to stay unbiased
    out[j++] = static_cast<int64_t>(b % 3) - 1;
  }
  return out;
}

std::vector<int64_t> SampleTernaryFixedWeight(Prng& prng, std::size_t n,
                                              std::size_t h) {
  BF_CHECK(h <= n);
  std::vector<int64_t> out(n, 0);
  // Partial Fisher-Yates over positions; each chosen position gets +-1.
  std::vector<uint32_t> pos(n);
  for (std::size_t i = 0; i < n; ++i) pos[i] = static_cast<uint32_t>(i);
  // The index is drawn by multiply-high (Lemire) rather than r % range: a
  // 64-bit division's latency can depend on its operands. The rejection
  // threshold depends only on the public range, and a rejected draw only on
  // itself. The sign is 1 - 2 b, not a branch. The swaps still touch memory
  // at secret positions (cache timing): this sampler is for the sparse
  // secrets of insecure test parameters only (docs/security.md).
  for (std::size_t i = 0; i < h; ++i) {
    const uint64_t range = n - i;
    const uint64_t threshold = (0 - range) % range;  // 2^64 mod range
    u128 m;
    do {
      m = static_cast<u128>(prng.NextU64()) * range;
    } while (static_cast<uint64_t>(m) < threshold);
    const std::size_t j = i + static_cast<std::size_t>(m >> 64);
    std::swap(pos[i], pos[j]);
    out[pos[i]] = 1 - 2 * static_cast<int64_t>(prng.NextU32() & 1);
  }
  return out;
}

namespace {

// Bit count by shifts, masks and a multiply. __builtin_popcountll is a call
// into libgcc when the baseline ISA has no POPCNT (x86-64 v1), and some
// libgcc builds count with a 256-entry table indexed by the secret bytes.
inline uint64_t Popcount(uint64_t x) {
  x = x - ((x >> 1) & 0x5555555555555555ULL);
  x = (x & 0x3333333333333333ULL) + ((x >> 2) & 0x3333333333333333ULL);
  x = (x + (x >> 4)) & 0x0F0F0F0F0F0F0F0FULL;
  return (x * 0x0101010101010101ULL) >> 56;
}

// Cumulative table for the discrete Gaussian on [-B, B], B = ceil(6 sigma):
// cdt[k] = round(2^63 * P(X <= k - B)), strictly increasing.
const std::vector<uint64_t>& GaussianCdt(double sigma) {
  static std::mutex mu;
  static std::map<double, std::vector<uint64_t>> cache;
  std::lock_guard<std::mutex> lock(mu);
  auto it = cache.find(sigma);
  if (it != cache.end()) return it->second;
  const int bound = static_cast<int>(std::ceil(6 * sigma));
  long double total = 0;
  std::vector<long double> rho(2 * bound + 1);
  for (int k = -bound; k <= bound; ++k) {
    rho[k + bound] = std::exp(-static_cast<long double>(k) * k / (2.0L * sigma * sigma));
    total += rho[k + bound];
  }
  std::vector<uint64_t> cdt(2 * bound + 1);
  long double acc = 0;
  for (int i = 0; i <= 2 * bound; ++i) {
    acc += rho[i] / total;
    cdt[i] = static_cast<uint64_t>(std::min(acc, 1.0L) * 9223372036854775808.0L);
  }
  cdt.back() = uint64_t{1} << 63;
  return cache.emplace(sigma, std::move(cdt)).first->second;
}

}  // namespace

std::vector<int64_t> SampleError(Prng& prng, std::size_t n,
                                 ErrorDistribution dist, double sigma) {
  std::vector<int64_t> out(n);
  if (dist == ErrorDistribution::kCenteredBinomial) {
    for (std::size_t j = 0; j < n; ++j) {
      const uint64_t r = prng.NextU64();
      out[j] = static_cast<int64_t>(Popcount(r & 0x1FFFFF)) -
               static_cast<int64_t>(Popcount((r >> 21) & 0x1FFFFF));
    }
    return out;
  }
  const std::vector<uint64_t>& cdt = GaussianCdt(sigma);
  const int bound = static_cast<int>(cdt.size() / 2);
  for (std::size_t j = 0; j < n; ++j) {
    const uint64_t r = prng.NextU64() >> 1;  // 63 uniform bits
    // Constant-time scan: count entries <= r.
    int64_t idx = 0;
    for (uint64_t c : cdt) idx += (r >= c);
    out[j] = idx - bound;
  }
  return out;
}

}  // namespace blindfold::ring
