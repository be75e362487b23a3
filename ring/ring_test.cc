#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "base/random.h"
#include "math/primes.h"
#include "ring/automorphism.h"
#include "ring/basis.h"
#include "ring/poly.h"
#include "ring/ring_context.h"
#include "ring/sampler.h"

namespace blindfold::ring {
namespace {

using math::u128;

std::shared_ptr<const RingContext> MakeContext(int log_n, int q_bits, int nq,
                                               int p_bits, int np) {
  auto q = math::GenerateNttPrimes(q_bits, nq, uint64_t{2} << log_n);
  std::vector<uint64_t> p;
  if (np > 0) {
    auto pp = math::GenerateNttPrimes(p_bits, np, uint64_t{2} << log_n, *q);
    p = *pp;
  }
  auto ctx = RingContext::Create(log_n, *q, p);
  EXPECT_TRUE(ctx.ok()) << ctx.status();
  return *ctx;
}

TEST(RingContextTest, RejectsBadModuli) {
  EXPECT_FALSE(RingContext::Create(10, {}, {}).ok());
  EXPECT_FALSE(RingContext::Create(10, {1000000007}, {}).ok());  // not 1 mod 2N
  auto q = math::GenerateNttPrimes(40, 1, 2048);
  EXPECT_FALSE(RingContext::Create(10, {(*q)[0], (*q)[0]}, {}).ok());
  EXPECT_TRUE(RingContext::Create(10, *q, {}).ok());
}

TEST(BasisConverterTest, FastConversionIsXPlusSmallMultipleOfB) {
  // Three ~20-bit source primes so that x fits in 128 bits exactly.
  const int log_n = 4;
  auto ctx = MakeContext(log_n, 20, 3, 45, 2);
  const std::size_t n = ctx->n();
  BasisConverter conv(*ctx, {0, 1, 2});
  std::mt19937_64 rng(3);
  u128 B = 1;
  for (int i = 0; i < 3; ++i) B *= ctx->q(i).value;
  std::vector<u128> x(n);
  std::vector<std::vector<uint64_t>> src(3, std::vector<uint64_t>(n));
  for (std::size_t j = 0; j < n; ++j) {
    x[j] = ((static_cast<u128>(rng()) << 64) | rng()) % B;
    for (int i = 0; i < 3; ++i) src[i][j] = static_cast<uint64_t>(x[j] % ctx->q(i).value);
  }
  std::vector<uint64_t> d0(n), d1(n);
  const uint64_t* s[3] = {src[0].data(), src[1].data(), src[2].data()};
  uint64_t* d[2] = {d0.data(), d1.data()};
  const int targets[2] = {3, 4};
  conv.Convert(s, targets, d);
  for (std::size_t j = 0; j < n; ++j) {
    for (int t = 0; t < 2; ++t) {
      const uint64_t p = ctx->modulus(targets[t]).value;
      bool found = false;
      for (int u = 0; u < 3; ++u) {
        found |= static_cast<uint64_t>((x[j] + u * B) % p) == d[t][j];
      }
      EXPECT_TRUE(found) << "coefficient " << j << " target " << t;
    }
  }
}

TEST(HybridDecompositionTest, ModDownOfPTimesXIsX) {
  for (int np : {1, 2, 3}) {
    auto ctx = MakeContext(6, 40, 5, 45, np);
    HybridDecomposition dec(ctx);
    const std::size_t n = ctx->n();
    std::mt19937_64 rng(np);
    for (int level : {0, 2, 4}) {
      RnsPoly x(n, level + 1, 0, false);
      for (int i = 0; i <= level; ++i)
        for (std::size_t j = 0; j < n; ++j) x.limb(i)[j] = rng() % ctx->q(i).value;
      ToNtt(*ctx, &x);
      // y = P * x + e with |e| < P/2: round(y / P) = x (up to the fast
      // conversion's +-alpha slack).
      RnsPoly y(n, level + 1, np, false);
      std::vector<int64_t> e(n);
      for (auto& v : e) v = static_cast<int64_t>(rng() % 2001) - 1000;
      SetFromSigned(*ctx, e, &y);
      ToNtt(*ctx, &y);
      for (int i = 0; i <= level; ++i) {
        for (std::size_t j = 0; j < n; ++j) {
          y.limb(i)[j] = math::AddMod(
              y.limb(i)[j], math::MulMod(x.limb(i)[j], dec.p_mod_q(i), ctx->q(i)),
              ctx->q(i).value);
        }
      }
      RnsPoly out(n, level + 1, 0, true);
      dec.ModDown(&y, &out);
      RnsPoly diff(n, level + 1, 0, true);
      Sub(*ctx, out, x, &diff);
      FromNtt(*ctx, &diff);
      for (int i = 0; i <= level; ++i) {
        const uint64_t q = ctx->q(i).value;
        for (std::size_t j = 0; j < n; ++j) {
          const uint64_t v = diff.limb(i)[j];
          const int64_t centered = v > q / 2 ? -static_cast<int64_t>(q - v) : v;
          ASSERT_LE(std::abs(centered), np) << "np=" << np << " level=" << level;
        }
      }
    }
  }
}

// ModDown must round x / P to nearest (its header's promise), not floor it:
// x = P y + r with |r| <= (P - 1) / 2 built exactly through the CRT must come
// back as y exactly, with one special prime and with several (ModDown removes
// the fast conversion's overflow u P). The remainders include the extremes
// +-(P-1)/2 and negative values, which the old floor(x / P) turned into
// y - 1, and small ones, which the uncorrected overflow turned into y - u.
TEST(HybridDecompositionTest, ModDownRoundsToNearest) {
  using i128 = __int128;
  for (int np : {1, 2, 3}) {
    auto ctx = MakeContext(6, 40, 4, 42, np);  // P < 2^126: r fits in i128
    HybridDecomposition dec(ctx);
    const std::size_t n = ctx->n();
    const int num_q = ctx->num_q();
    u128 P = 1;
    for (int k = 0; k < np; ++k) P *= ctx->p(k).value;
    const i128 r_max = static_cast<i128>((P - 1) / 2);
    std::mt19937_64 rng(100 + np);
    std::vector<i128> r(n);
    for (std::size_t j = 0; j < n; ++j) {
      switch (j % 8) {
        case 0: r[j] = r_max; break;
        case 1: r[j] = -r_max; break;
        case 2: r[j] = 0; break;
        case 3: r[j] = -1; break;
        case 4: r[j] = 1; break;
        default: {
          const u128 v = ((static_cast<u128>(rng()) << 64) | rng()) % (2 * static_cast<u128>(r_max) + 1);
          r[j] = static_cast<i128>(v) - r_max;
        }
      }
    }
    auto mod = [](i128 v, uint64_t m) {
      i128 t = v % static_cast<i128>(m);
      return static_cast<uint64_t>(t < 0 ? t + m : t);
    };
    RnsPoly y(n, num_q, 0, false);
    RnsPoly x(n, num_q, np, false);
    for (int i = 0; i < num_q; ++i) {
      const math::Modulus& qi = ctx->q(i);
      for (std::size_t j = 0; j < n; ++j) {
        y.limb(i)[j] = rng() % qi.value;
        x.limb(i)[j] = math::AddMod(math::MulMod(y.limb(i)[j], dec.p_mod_q(i), qi),
                                    mod(r[j], qi.value), qi.value);
      }
    }
    for (int k = 0; k < np; ++k) {
      for (std::size_t j = 0; j < n; ++j) x.limb(num_q + k)[j] = mod(r[j], ctx->p(k).value);
    }
    ToNtt(*ctx, &x);
    RnsPoly out(n, num_q, 0, true);
    dec.ModDown(&x, &out);
    FromNtt(*ctx, &out);
    for (int i = 0; i < num_q; ++i) {
      const uint64_t q = ctx->q(i).value;
      for (std::size_t j = 0; j < n; ++j) {
        const uint64_t d = math::SubMod(out.limb(i)[j], y.limb(i)[j], q);
        const int64_t centred = d > q / 2 ? -static_cast<int64_t>(q - d) : static_cast<int64_t>(d);
        // With several special primes the overflow correction is computed in
        // doubles (error < 2^-18): only remainders within P * 2^-16 of +-P/2
        // (ties up to that error) may go the other way.
        const bool near_tie = np > 1 && static_cast<u128>(r_max - (r[j] < 0 ? -r[j] : r[j])) <
                                            (P >> 16);
        if (near_tie) {
          ASSERT_LE(std::abs(centred), 1) << "np=" << np << " coeff " << j;
        } else {
          ASSERT_EQ(centred, 0) << "np=" << np << " coeff " << j << " limb " << i
                                << " r sign " << (r[j] < 0 ? "-" : "+");
        }
      }
    }
  }
}

TEST(HybridDecompositionTest, ModUpKeepsDigitValue) {
  auto ctx = MakeContext(5, 40, 4, 45, 2);
  HybridDecomposition dec(ctx);
  ASSERT_EQ(dec.dnum(), 2);
  const std::size_t n = ctx->n();
  std::mt19937_64 rng(11);
  // Small non-negative coefficients: the digit's integer value is the
  // coefficient itself, so every extended limb holds c + u * D_j, u < alpha.
  std::vector<int64_t> c(n);
  for (auto& v : c) v = rng() % 1000000;
  RnsPoly a(n, 4, 0, false);
  SetFromSigned(*ctx, c, &a);
  RnsPoly a_ntt = a;
  ToNtt(*ctx, &a_ntt);
  for (int digit = 0; digit < 2; ++digit) {
    RnsPoly out(n, 4, 2, true);
    dec.ModUp(a, a_ntt, digit, &out);
    FromNtt(*ctx, &out);
    const u128 D = static_cast<u128>(ctx->q(2 * digit).value) * ctx->q(2 * digit + 1).value;
    for (int i = 0; i < out.num_limbs(); ++i) {
      const uint64_t m = ctx->modulus(out.modulus_index(i, *ctx)).value;
      for (std::size_t j = 0; j < n; ++j) {
        bool ok = false;
        for (int u = 0; u < 2; ++u) {
          ok |= static_cast<uint64_t>((static_cast<u128>(c[j]) + u * D) % m) == out.limb(i)[j];
        }
        ASSERT_TRUE(ok) << "digit " << digit << " limb " << i << " coeff " << j;
      }
    }
  }
}

// ModUpAll (all digits in two parallel loops, what key switching calls)
// must give exactly ModUp's limbs, digit by digit: one and several special
// primes, centred and uncentred digits, a short last digit, every level.
TEST(HybridDecompositionTest, ModUpAllMatchesModUpPerDigit) {
  struct Case { int q_bits, nq, p_bits, np; };
  for (const Case& cs : {Case{45, 3, 45, 1}, Case{40, 5, 45, 2}, Case{45, 5, 45, 2},
                         Case{40, 7, 50, 3}}) {
    auto ctx = MakeContext(6, cs.q_bits, cs.nq, cs.p_bits, cs.np);
    HybridDecomposition dec(ctx);
    const std::size_t n = ctx->n();
    std::mt19937_64 rng(cs.nq * 100 + cs.np);
    for (int level = 0; level < cs.nq; ++level) {
      RnsPoly a(n, level + 1, 0, false);
      for (int i = 0; i <= level; ++i) {
        for (std::size_t j = 0; j < n; ++j) a.limb(i)[j] = rng() % ctx->q(i).value;
      }
      RnsPoly a_ntt = a;
      ToNtt(*ctx, &a_ntt);
      std::vector<RnsPoly> all;
      dec.ModUpAll(a, a_ntt, &all);
      ASSERT_EQ(static_cast<int>(all.size()), dec.NumDigits(level));
      for (int digit = 0; digit < dec.NumDigits(level); ++digit) {
        RnsPoly one(n, level + 1, cs.np, true);
        dec.ModUp(a, a_ntt, digit, &one);
        EXPECT_TRUE(all[digit] == one) << "q " << cs.q_bits << "x" << cs.nq << " p "
                                       << cs.p_bits << "x" << cs.np << " level " << level
                                       << " digit " << digit;
      }
    }
  }
}

TEST(AutomorphismTest, NttAndCoefficientFormsAgree) {
  const int log_n = 7;
  auto ctx = MakeContext(log_n, 45, 2, 45, 1);
  const std::size_t n = ctx->n();
  std::mt19937_64 rng(4);
  RnsPoly a(n, 2, 1, false);
  for (int i = 0; i < 3; ++i)
    for (std::size_t j = 0; j < n; ++j) a.limb(i)[j] = rng() % ctx->modulus(i).value;
  for (uint64_t g : {GaloisElementForRotation(1, log_n),
                     GaloisElementForRotation(-5, log_n),
                     GaloisElementForRotation(63, log_n),
                     GaloisElementForConjugation(log_n)}) {
    RnsPoly coeff_out(n, 2, 1, false);
    ApplyAutomorphismCoeff(*ctx, a, g, &coeff_out);
    ToNtt(*ctx, &coeff_out);
    RnsPoly a_ntt = a;
    ToNtt(*ctx, &a_ntt);
    RnsPoly ntt_out(n, 2, 1, true);
    ApplyAutomorphismNtt(a_ntt, AutomorphismNttIndex(log_n, g), &ntt_out);
    EXPECT_EQ(coeff_out, ntt_out) << "g=" << g;
  }
  // Rotation group: 5^(N/2) = 1, so rotating by N/2 is the identity.
  EXPECT_EQ(GaloisElementForRotation(n / 2, log_n), 1u);
  EXPECT_EQ(GaloisElementForRotation(-1, log_n),
            GaloisElementForRotation(n / 2 - 1, log_n));
}

TEST(SamplerTest, UniformIsDeterministicPerSeedAndInRange) {
  auto ctx = MakeContext(10, 50, 3, 50, 1);
  Seed seed = Seed::FromOs();
  RnsPoly a(ctx->n(), 3, 1, true), b(ctx->n(), 3, 1, true), c(ctx->n(), 3, 1, true);
  SampleUniform(*ctx, seed, 1, &a);
  SampleUniform(*ctx, seed, 1, &b);
  SampleUniform(*ctx, seed, 2, &c);
  EXPECT_EQ(a, b);
  EXPECT_FALSE(a == c);
  for (int i = 0; i < 4; ++i) {
    const uint64_t q = ctx->modulus(a.modulus_index(i, *ctx)).value;
    double mean = 0;
    for (std::size_t j = 0; j < ctx->n(); ++j) {
      ASSERT_LT(a.limb(i)[j], q);
      mean += static_cast<double>(a.limb(i)[j]) / q;
    }
    mean /= ctx->n();
    EXPECT_NEAR(mean, 0.5, 0.05);
  }
}

TEST(SamplerTest, DistributionsHaveTheirMoments) {
  Prng prng(Seed::FromOs(), 0);
  const std::size_t n = 1 << 16;
  auto t = SampleTernary(prng, n);
  int counts[3] = {0, 0, 0};
  for (int64_t v : t) {
    ASSERT_GE(v, -1);
    ASSERT_LE(v, 1);
    counts[v + 1]++;
  }
  for (int c : counts) EXPECT_NEAR(c, n / 3.0, 0.02 * n);
  auto h = SampleTernaryFixedWeight(prng, n, 192);
  int nonzero = 0;
  for (int64_t v : h) nonzero += v != 0;
  EXPECT_EQ(nonzero, 192);
  for (auto dist : {ErrorDistribution::kDiscreteGaussian,
                    ErrorDistribution::kCenteredBinomial}) {
    auto e = SampleError(prng, n, dist, 3.2);
    double mean = 0, var = 0;
    int64_t maxabs = 0;
    for (int64_t v : e) {
      mean += v;
      var += static_cast<double>(v) * v;
      maxabs = std::max<int64_t>(maxabs, std::abs(v));
    }
    mean /= n;
    var /= n;
    EXPECT_NEAR(mean, 0, 0.1);
    EXPECT_NEAR(var, dist == ErrorDistribution::kDiscreteGaussian ? 10.24 : 10.5, 0.4);
    EXPECT_LE(maxabs, 21);
  }
}

// The fixed-weight sampler draws positions by multiply-high and signs as
// 1 - 2b (no division, no branch on the sign): still exactly h nonzero
// entries, every position and both signs equally likely, and a function of
// the seed alone.
TEST(SamplerTest, FixedWeightIsUniformOverPositionsAndSigns) {
  const std::size_t n = 1024, h = 64;
  const int rounds = 400;
  std::vector<int> hits(n, 0);
  int plus = 0;
  for (int r = 0; r < rounds; ++r) {
    Prng prng(Seed::FromOs(), 0);
    auto v = SampleTernaryFixedWeight(prng, n, h);
    std::size_t nonzero = 0;
    for (std::size_t i = 0; i < n; ++i) {
      ASSERT_GE(v[i], -1);
      ASSERT_LE(v[i], 1);
      nonzero += v[i] != 0;
      hits[i] += v[i] != 0;
      plus += v[i] == 1;
    }
    ASSERT_EQ(nonzero, h);
  }
  // Each position is hit with probability h/n = 1/16 per round: 25 expected.
  // Bounds at about 6 standard deviations: a fair sampler fails one run in
  // ~10^8 (the earlier 3.6-sigma check on three positions failed about one
  // run in 3,000), a biased one still fails.
  int first_half = 0;
  for (std::size_t i = 0; i < n / 2; ++i) first_half += hits[i];
  EXPECT_NEAR(first_half, rounds * h / 2.0, 6 * std::sqrt(rounds * h / 4.0));
  EXPECT_NEAR(plus, rounds * h / 2.0, 6 * std::sqrt(rounds * h / 4.0));
  // Every position: Pearson's statistic over the n positions has mean
  // ~n - 1 and standard deviation ~sqrt(2 (n - 1)) = 45 for a uniform
  // sampler; a sampler that favours or avoids some positions (say, 5 % of
  // them twice as often) lands far above the bound.
  const double expected = static_cast<double>(rounds) * h / n;
  double chi2 = 0;
  for (int c : hits) chi2 += (c - expected) * (c - expected) / expected;
  EXPECT_LT(chi2, (n - 1) + 6 * std::sqrt(2.0 * (n - 1))) << "positions are not uniform";
  const Seed seed = Seed::FromOs();
  Prng p1(seed, 7), p2(seed, 7);
  EXPECT_EQ(SampleTernaryFixedWeight(p1, n, h), SampleTernaryFixedWeight(p2, n, h));
}

}  // namespace
}  // namespace blindfold::ring
