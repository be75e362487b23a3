#include "math/ntt.h"

#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "base/cpu_features.h"
#include "base/target.h"
#include "math/primes.h"

namespace blindfold::math {
namespace {

std::vector<uint64_t> RandomPoly(std::size_t n, uint64_t bound,
                                 std::mt19937_64& rng) {
  std::vector<uint64_t> v(n);
  for (auto& x : v) x = rng() % bound;
  return v;
}

// c = a * b in Z_q[X]/(X^n + 1), schoolbook.
std::vector<uint64_t> NegacyclicSchoolbook(const std::vector<uint64_t>& a,
                                           const std::vector<uint64_t>& b,
                                           const Modulus& q) {
  const std::size_t n = a.size();
  std::vector<uint64_t> c(n, 0);
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t j = 0; j < n; ++j) {
      const uint64_t p = MulMod(a[i], b[j], q);
      const std::size_t k = i + j;
      if (k < n) {
        c[k] = AddMod(c[k], p, q.value);
      } else {
        c[k - n] = SubMod(c[k - n], p, q.value);
      }
    }
  }
  return c;
}

struct Case {
  int log_n;
  int bits;
};

class NttTest : public ::testing::TestWithParam<Case> {};

TEST_P(NttTest, MatchesSchoolbookNegacyclicConvolution) {
  const Case c = GetParam();
  const std::size_t n = std::size_t{1} << c.log_n;
  auto primes = GenerateNttPrimes(c.bits, 1, 2 * n);
  ASSERT_TRUE(primes.ok());
  Modulus q((*primes)[0]);
  auto tables = NttTables::Create(c.log_n, q);
  ASSERT_TRUE(tables.ok()) << tables.status();
  std::mt19937_64 rng(c.log_n * 100 + c.bits);
  const KernelPathGuard guard;
  for (KernelPath path : kAllKernelPaths) {
    if (!SetKernelPath(path)) {
      std::printf("[ SKIPPED  ] path %s: not on this CPU\n",
                  std::string(KernelPathName(path)).c_str());
      continue;
    }
    auto a = RandomPoly(n, q.value, rng), b = RandomPoly(n, q.value, rng);
    const auto expect = NegacyclicSchoolbook(a, b, q);
    auto fa = a, fb = b;
    tables->Forward(fa.data());
    tables->Forward(fb.data());
    std::vector<uint64_t> fc(n);
    for (std::size_t i = 0; i < n; ++i) fc[i] = MulMod(fa[i], fb[i], q);
    tables->Inverse(fc.data());
    EXPECT_EQ(fc, expect) << "path " << KernelPathName(path);
    // Round trip, and the evaluation-point contract of the header.
    auto r = a;
    tables->Forward(r.data());
    for (std::size_t j = 0; j < n; j += n / 4 + 1) {
      const uint64_t x =
          PowMod(tables->psi(), 2 * BitReverse(j, c.log_n) + 1, q);
      uint64_t eval = 0;
      for (std::size_t i = n; i-- > 0;) eval = AddMod(MulMod(eval, x, q), a[i], q.value);
      EXPECT_EQ(r[j], eval) << j;
    }
    tables->Inverse(r.data());
    EXPECT_EQ(r, a);
  }
}

INSTANTIATE_TEST_SUITE_P(Sizes, NttTest,
                         ::testing::Values(Case{1, 30}, Case{4, 40},
                                           Case{6, 50}, Case{8, 36},
                                           Case{10, 50}, Case{10, 61}));

void CheckBitIdenticalToPortable(KernelPath path) {
  const KernelPathGuard guard;
  std::mt19937_64 rng(99);
  for (int log_n : {3, 4, 5, 10, 13, 14, 16}) {
    if (path == KernelPath::kIfma && log_n < 4) continue;
    const std::size_t n = std::size_t{1} << log_n;
    for (int bits : {30, 41, 50}) {
      auto primes = GenerateNttPrimes(bits, 1, 2 * n);
      ASSERT_TRUE(primes.ok());
      auto t = NttTables::Create(log_n, Modulus((*primes)[0]));
      ASSERT_TRUE(t.ok());
      const uint64_t q = (*primes)[0];
      // Forward accepts [0, 4q); inverse [0, 2q).
      auto in_f = RandomPoly(n, 4 * q, rng), in_i = RandomPoly(n, 2 * q, rng);
      auto a = in_f, b = in_f, c = in_i, d = in_i;
      ASSERT_TRUE(SetKernelPath(KernelPath::kPortable));
      t->Forward(a.data());
      t->Inverse(c.data());
      ASSERT_TRUE(SetKernelPath(path));
      t->Forward(b.data());
      t->Inverse(d.data());
      EXPECT_EQ(a, b) << "forward log_n=" << log_n << " bits=" << bits;
      EXPECT_EQ(c, d) << "inverse log_n=" << log_n << " bits=" << bits;
      // Lazy outputs stay inside their documented ranges.
      auto e = in_f;
      t->ForwardLazy(e.data());
      for (uint64_t v : e) ASSERT_LT(v, 4 * q);
      auto f = in_i;
      t->InverseLazy(f.data());
      for (uint64_t v : f) ASSERT_LT(v, 2 * q);
    }
  }
}

TEST(NttPathsTest, IfmaBitIdenticalToPortable) {
  if (!CpuHasIfma()) GTEST_SKIP() << "CPU has no AVX-512 IFMA";
  CheckBitIdenticalToPortable(KernelPath::kIfma);
}

TEST(NttPathsTest, Avx2BitIdenticalToPortable) {
  if (!CpuHasAvx2()) GTEST_SKIP() << "CPU has no AVX2+FMA";
  CheckBitIdenticalToPortable(KernelPath::kAvx2);
}

TEST(NttPathsTest, NeonBitIdenticalToPortable) {
  if (!CpuHasNeon()) GTEST_SKIP() << "CPU has no NEON (not an aarch64 build)";
  CheckBitIdenticalToPortable(KernelPath::kNeon);
}


// The smallest prime q = 1 (mod two_n) above `lower` (a multiple of two_n).
// With GenerateNttPrimes' largest ones, both ends of a bit size are tested.
uint64_t SmallestNttPrimeAbove(uint64_t lower, uint64_t two_n) {
  for (uint64_t q = lower + 1;; q += two_n) {
    if (IsPrime(q)) return q;
  }
}

// Inputs at the edges of the lazy ranges: all words at the top (4q - 1 for
// forward, 2q - 1 for inverse), alternating 0 / top, a mix of the boundary
// values, and uniform random.
std::vector<std::vector<uint64_t>> EdgeInputs(std::size_t n, uint64_t bound,
                                              uint64_t q,
                                              std::mt19937_64& rng) {
  std::vector<std::vector<uint64_t>> out;
  out.emplace_back(n, bound - 1);
  std::vector<uint64_t> alt(n);
  for (std::size_t i = 0; i < n; ++i) alt[i] = (i % 2) ? bound - 1 : 0;
  out.push_back(alt);
  const uint64_t edges[] = {0, 1, q - 1, q, q + 1, 2 * q - 1, 2 * q,
                            3 * q, bound - 2, bound - 1};
  std::vector<uint64_t> mix(n);
  for (auto& x : mix) {
    do {
      x = edges[rng() % (sizeof(edges) / sizeof(edges[0]))];
    } while (x >= bound);
  }
  out.push_back(mix);
  out.push_back(RandomPoly(n, bound, rng));
  return out;
}

void CheckEdgeInputsAllSizes(KernelPath path) {
  const KernelPathGuard guard;
  std::mt19937_64 rng(2024);
  for (int log_n = path == KernelPath::kIfma ? 4 : 3; log_n <= 17; ++log_n) {
    const std::size_t n = std::size_t{1} << log_n;
    const uint64_t two_n = 2 * n;
    std::vector<uint64_t> moduli;
    for (int bits : {31, 50}) {
      auto primes = GenerateNttPrimes(bits, 1, two_n);
      ASSERT_TRUE(primes.ok()) << primes.status();
      moduli.push_back((*primes)[0]);
    }
    moduli.push_back(SmallestNttPrimeAbove(two_n, two_n));
    moduli.push_back(SmallestNttPrimeAbove(uint64_t{1} << 49, two_n));
    for (uint64_t qv : moduli) {
      auto t = NttTables::Create(log_n, Modulus(qv));
      ASSERT_TRUE(t.ok()) << t.status();
      ASSERT_TRUE(t->ifma_capable() && t->avx2_capable());
      for (int dir = 0; dir < 2; ++dir) {
        const uint64_t bound = dir == 0 ? 4 * qv : 2 * qv;
        for (const auto& in : EdgeInputs(n, bound, qv, rng)) {
          auto p = in, f = in, pl = in, fl = in;
          ASSERT_TRUE(SetKernelPath(KernelPath::kPortable));
          if (dir == 0) {
            t->Forward(p.data());
            t->ForwardLazy(pl.data());
          } else {
            t->Inverse(p.data());
            t->InverseLazy(pl.data());
          }
          ASSERT_TRUE(SetKernelPath(path));
          if (dir == 0) {
            t->Forward(f.data());
            t->ForwardLazy(fl.data());
          } else {
            t->Inverse(f.data());
            t->InverseLazy(fl.data());
          }
          ASSERT_EQ(p, f) << (dir ? "inverse" : "forward") << " log_n=" << log_n
                          << " q=" << qv;
          for (std::size_t i = 0; i < n; ++i) {
            ASSERT_LT(fl[i], bound) << i;  // lazy range = input range
            ASSERT_EQ(fl[i] % qv, pl[i] % qv) << i;
          }
        }
      }
    }
  }
}

TEST(NttPathsTest, IfmaMatchesPortableOnEdgeInputsAllSizes) {
  if (!CpuHasIfma()) GTEST_SKIP() << "CPU has no AVX-512 IFMA";
  CheckEdgeInputsAllSizes(KernelPath::kIfma);
}

TEST(NttPathsTest, Avx2MatchesPortableOnEdgeInputsAllSizes) {
  if (!CpuHasAvx2()) GTEST_SKIP() << "CPU has no AVX2+FMA";
  CheckEdgeInputsAllSizes(KernelPath::kAvx2);
}

TEST(NttPathsTest, NeonMatchesPortableOnEdgeInputsAllSizes) {
  if (!CpuHasNeon()) GTEST_SKIP() << "CPU has no NEON (not an aarch64 build)";
  CheckEdgeInputsAllSizes(KernelPath::kNeon);
}

}  // namespace
}  // namespace blindfold::math
