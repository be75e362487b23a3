#include "math/vec_ops.h"

#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "base/cpu_features.h"
#include "base/target.h"

namespace blindfold::math {
namespace {

std::vector<uint64_t> Rand(std::size_t n, uint64_t q, std::mt19937_64& rng) {
  std::vector<uint64_t> v(n);
  for (auto& x : v) x = rng() % q;
  return v;
}

TEST(VecOpsTest, ElementwiseMatchesScalar) {
  std::mt19937_64 rng(5);
  for (uint64_t qv : {(uint64_t{1} << 40) - 87, (uint64_t{1} << 60) - 93}) {
    Modulus q(qv);
    const std::size_t n = 1000;
    auto a = Rand(n, qv, rng), b = Rand(n, qv, rng);
    std::vector<uint64_t> out(n);
    AddModVec(a.data(), b.data(), out.data(), n, qv);
    for (std::size_t i = 0; i < n; ++i) ASSERT_EQ(out[i], (a[i] + b[i]) % qv);
    SubModVec(a.data(), b.data(), out.data(), n, qv);
    for (std::size_t i = 0; i < n; ++i) ASSERT_EQ(out[i], (a[i] + qv - b[i]) % qv);
    NegModVec(a.data(), out.data(), n, qv);
    for (std::size_t i = 0; i < n; ++i) ASSERT_EQ((out[i] + a[i]) % qv, 0u);
    MulModVec(a.data(), b.data(), out.data(), n, q);
    for (std::size_t i = 0; i < n; ++i) ASSERT_EQ(out[i], MulMod(a[i], b[i], q));
    MulScalarModVec(a.data(), b[0], out.data(), n, q);
    for (std::size_t i = 0; i < n; ++i) ASSERT_EQ(out[i], MulMod(a[i], b[0], q));
    auto acc = b;
    MulAddModVec(a.data(), b.data(), acc.data(), n, q);
    for (std::size_t i = 0; i < n; ++i)
      ASSERT_EQ(acc[i], AddMod(b[i], MulMod(a[i], b[i], q), qv));
  }
}

TEST(VecOpsTest, DotProductAndPathsAgree) {
  const KernelPathGuard guard;
  std::mt19937_64 rng(6);
  for (int bits : {36, 50, 60}) {
    const uint64_t qv = (uint64_t{1} << bits) - ((bits == 60) ? 93 : 27);
    Modulus q(qv);
    const std::size_t n = 1 << 10;
    for (int k : {1, 3, 9, 64}) {
      std::vector<std::vector<uint64_t>> as, bs;
      std::vector<const uint64_t*> ap, bp;
      for (int i = 0; i < k; ++i) {
        as.push_back(Rand(n, qv, rng));
        bs.push_back(Rand(n, qv, rng));
      }
      for (int i = 0; i < k; ++i) {
        ap.push_back(as[i].data());
        bp.push_back(bs[i].data());
      }
      std::vector<uint64_t> expect(n, 0);
      for (int i = 0; i < k; ++i)
        for (std::size_t j = 0; j < n; ++j)
          expect[j] = AddMod(expect[j], MulMod(as[i][j], bs[i][j], q), qv);
      for (KernelPath path : kAllKernelPaths) {
        if (!SetKernelPath(path)) {
          std::printf("[ SKIPPED  ] path %s: not on this CPU\n",
                      std::string(KernelPathName(path)).c_str());
          continue;
        }
        std::vector<uint64_t> out(n);
        DotProductModVec(ap.data(), bp.data(), k, out.data(), n, q);
        ASSERT_EQ(out, expect) << KernelPathName(path) << " k=" << k << " bits=" << bits;
        std::vector<uint64_t> out2(n);
        DotProductModVec2(ap.data(), bp.data(), ap.data(), k, out2.data(), out.data(), n, q);
        ASSERT_EQ(out2, expect) << "DotProductModVec2 " << KernelPathName(path);
        for (std::size_t j = 0; j < n; ++j) {
          uint64_t sq = 0;
          for (int i = 0; i < k; ++i) sq = AddMod(sq, MulMod(as[i][j], as[i][j], q), qv);
          ASSERT_EQ(out[j], sq) << "DotProductModVec2 " << KernelPathName(path);
        }
        MulModVec(as[0].data(), bs[0].data(), out.data(), n, q);
        for (std::size_t j = 0; j < n; ++j) ASSERT_EQ(out[j], MulMod(as[0][j], bs[0][j], q));
        MulScalarModVec(as[0].data(), bs[0][7], out.data(), n, q);
        for (std::size_t j = 0; j < n; ++j) ASSERT_EQ(out[j], MulMod(as[0][j], bs[0][7], q));
        // Scalar weights b[i][0] over inputs of a larger (50-bit) prime.
        std::vector<uint64_t> w(k);
        std::vector<std::vector<uint64_t>> wide(k);
        std::vector<const uint64_t*> wp;
        for (int i = 0; i < k; ++i) {
          w[i] = bs[i][0];
          wide[i] = Rand(n, (uint64_t{1} << 50) - 27, rng);
          wp.push_back(wide[i].data());
        }
        std::vector<uint64_t> want(n, 0);
        for (int i = 0; i < k; ++i)
          for (std::size_t j = 0; j < n; ++j)
            want[j] = AddMod(want[j], MulMod(wide[i][j] % qv, w[i], q), qv);
        DotScalarModVec(wp.data(), w.data(), k, out.data(), n, q, 50);
        ASSERT_EQ(out, want) << "DotScalar " << KernelPathName(path) << " k=" << k
                             << " bits=" << bits;
      }
    }
  }
}


// One SIMD path's multiplying kernels (same contracts as the portable ones).
struct MulKernels {
  decltype(&internal::MulModVecPortable) mul;
  decltype(&internal::MulScalarModVecPortable) mul_scalar;
  decltype(&internal::DotProductModVecPortable) dot;
  decltype(&internal::DotProductModVec2Ifma) dot2;
  decltype(&internal::DotScalarModVecPortable) dot_scalar;
};

// A path's kernels against the portable ones for one modulus and length:
// operands at 0 and q - 1, the largest dot products (k up to 64, all q - 1)
// and scalar weights q - 1 over 50-bit inputs near the top.
void CheckMulKernelsAtEdges(const MulKernels& kern, uint64_t qv, std::size_t n,
                            std::mt19937_64& rng) {
  const Modulus q(qv);
  std::vector<uint64_t> a(n), b(n);
  for (std::size_t i = 0; i < n; ++i) {
    const uint64_t r = rng();
    a[i] = (r % 3 == 0) ? qv - 1 : (r % 3 == 1) ? 0 : rng() % qv;
    b[i] = (i % 2) ? qv - 1 : (i % 5 == 0) ? 0 : rng() % qv;
  }
  std::vector<uint64_t> expect(n), got(n), want2(n), got2(n);
  internal::MulModVecPortable(a.data(), b.data(), expect.data(), n, q);
  kern.mul(a.data(), b.data(), got.data(), n, q);
  ASSERT_EQ(got, expect) << "MulModVec q=" << qv << " n=" << n;
  for (uint64_t w : {uint64_t{0}, uint64_t{1}, qv - 1, rng() % qv}) {
    internal::MulScalarModVecPortable(a.data(), w, expect.data(), n, q);
    kern.mul_scalar(a.data(), w, got.data(), n, q);
    ASSERT_EQ(got, expect) << "MulScalarModVec q=" << qv << " w=" << w;
  }
  for (int k : {1, 2, 3, 4, 5, 8, 63, 64}) {
    std::vector<std::vector<uint64_t>> as(k), bs(k);
    std::vector<const uint64_t*> ap, bp;
    for (int i = 0; i < k; ++i) {
      // Mostly q - 1, the worst case for lazy accumulators.
      as[i].assign(n, qv - 1);
      bs[i].assign(n, qv - 1);
      for (std::size_t j = 0; j < n; j += 3) as[i][j] = rng() % qv;
      for (std::size_t j = 1; j < n; j += 7) bs[i][j] = 0;
      ap.push_back(as[i].data());
      bp.push_back(bs[i].data());
    }
    internal::DotProductModVecPortable(ap.data(), bp.data(), k, expect.data(),
                                       n, q);
    kern.dot(ap.data(), bp.data(), k, got.data(), n, q);
    ASSERT_EQ(got, expect) << "DotProduct q=" << qv << " k=" << k;
    std::vector<const uint64_t*> rev(bp.rbegin(), bp.rend());
    internal::DotProductModVecPortable(ap.data(), rev.data(), k, want2.data(),
                                       n, q);
    kern.dot2(ap.data(), bp.data(), rev.data(), k, got.data(), got2.data(), n,
              q);
    ASSERT_EQ(got, expect) << "DotProduct2 q=" << qv << " k=" << k;
    ASSERT_EQ(got2, want2) << "DotProduct2 q=" << qv << " k=" << k;
    std::vector<uint64_t> w(k, qv - 1);
    std::vector<std::vector<uint64_t>> top(k, std::vector<uint64_t>(n));
    std::vector<const uint64_t*> tp;
    for (int i = 0; i < k; ++i) {
      for (std::size_t j = 0; j < n; ++j) {
        top[i][j] = (uint64_t{1} << 50) - 1 - (j % 5 ? rng() % 1024 : 0);
      }
      tp.push_back(top[i].data());
    }
    internal::DotScalarModVecPortable(tp.data(), w.data(), k, expect.data(), n,
                                      q);
    kern.dot_scalar(tp.data(), w.data(), k, got.data(), n, q);
    ASSERT_EQ(got, expect) << "DotScalar q=" << qv << " k=" << k;
  }
}

// Moduli of every size from 10 to max_bits bits (both ends of each size)
// and a few tiny ones.
std::vector<uint64_t> EdgeModuli(int max_bits, std::mt19937_64& rng) {
  std::vector<uint64_t> moduli = {2, 3, 5, 7, 11, 17, 97, 257};
  for (int bits = 10; bits <= max_bits; ++bits) {
    moduli.push_back((uint64_t{1} << bits) - 1 - 2 * (rng() % 16));
    moduli.push_back((uint64_t{1} << (bits - 1)) + 1 + 2 * (rng() % 16));
  }
  return moduli;
}

// Residues of a larger prime (up to 2^52 - 1), as basis conversion and
// rescaling reduce them.
std::vector<uint64_t> Wide52(std::size_t n, std::mt19937_64& rng) {
  std::vector<uint64_t> wide(n);
  for (std::size_t i = 0; i < n; ++i) {
    wide[i] = (i % 4 == 0) ? (uint64_t{1} << 52) - 1 - i : rng() >> 12;
  }
  return wide;
}

// The fused (x - t) w + add of ModDown's last step, on every path, against
// the three separate exact operations: every modulus size up to 50 bits,
// operands at 0 and q - 1, with and without the addend, short and long
// vectors (SIMD tails).
TEST(VecOpsTest, SubMulScalarAddMatchesSeparateOpsOnEveryPath) {
  const KernelPathGuard guard;
  std::mt19937_64 rng(17);
  for (uint64_t qv : EdgeModuli(50, rng)) {
    const Modulus q(qv);
    for (std::size_t n : {8, 24, 1032}) {
      std::vector<uint64_t> x(n), t(n), add(n);
      for (std::size_t i = 0; i < n; ++i) {
        x[i] = i % 5 == 0 ? qv - 1 : i % 7 == 0 ? 0 : rng() % qv;
        t[i] = i % 3 == 0 ? qv - 1 : i % 11 == 0 ? 0 : rng() % qv;
        add[i] = i % 2 == 0 ? qv - 1 : rng() % qv;
      }
      for (uint64_t w : {uint64_t{0}, uint64_t{1}, qv - 1, rng() % qv}) {
        std::vector<uint64_t> want(n), want_add(n);
        for (std::size_t i = 0; i < n; ++i) {
          want[i] = MulMod(SubMod(x[i], t[i], qv), w, q);
          want_add[i] = AddMod(want[i], add[i], qv);
        }
        for (KernelPath path : kAllKernelPaths) {
          if (!SetKernelPath(path)) continue;  // not on this CPU
          std::vector<uint64_t> got(n);
          SubMulScalarAddModVec(x.data(), t.data(), w, nullptr, got.data(), n, q);
          ASSERT_EQ(got, want) << KernelPathName(path) << " q=" << qv << " w=" << w;
          SubMulScalarAddModVec(x.data(), t.data(), w, add.data(), got.data(), n, q);
          ASSERT_EQ(got, want_add) << KernelPathName(path) << " q=" << qv << " w=" << w;
          got = x;  // out aliasing x
          SubMulScalarAddModVec(got.data(), t.data(), w, add.data(), got.data(), n, q);
          ASSERT_EQ(got, want_add) << KernelPathName(path) << " aliased, q=" << qv;
        }
      }
    }
  }
}

#if BLINDFOLD_TARGET_X86_64
TEST(VecOpsTest, IfmaMatchesPortableAtEdges) {
  if (!CpuHasIfma()) GTEST_SKIP() << "CPU has no AVX-512 IFMA";
  const KernelPathGuard guard;
  std::mt19937_64 rng(7);
  const MulKernels ifma{internal::MulModVecIfma, internal::MulScalarModVecIfma,
                        internal::DotProductModVecIfma,
                        internal::DotProductModVec2Ifma,
                        internal::DotScalarModVecIfma};
  for (uint64_t qv : EdgeModuli(kMaxIfmaModulusBits, rng)) {
    for (std::size_t n : {8, 24, 40, 1032}) {
      CheckMulKernelsAtEdges(ifma, qv, n, rng);
      const auto wide = Wide52(n, rng);
      std::vector<uint64_t> got(n);
      for (KernelPath path : {KernelPath::kPortable, KernelPath::kIfma}) {
        ASSERT_TRUE(SetKernelPath(path));
        ReduceVec(wide.data(), got.data(), n, Modulus(qv), 52);
        for (std::size_t i = 0; i < n; ++i) {
          ASSERT_EQ(got[i], wide[i] % qv) << "ReduceVec q=" << qv << " "
                                          << KernelPathName(path);
        }
      }
    }
  }
}

// AVX2 kernels against the portable ones: the multiplying kernels for every
// modulus size up to 50 bits, add/sub/neg up to 61 bits, and Reduce /
// MulScalar over 52-bit inputs.
TEST(VecOpsTest, Avx2MatchesPortableAtEdges) {
  if (!CpuHasAvx2()) GTEST_SKIP() << "CPU has no AVX2+FMA";
  std::mt19937_64 rng(8);
  const MulKernels avx2{internal::MulModVecAvx2, internal::MulScalarModVecAvx2,
                        internal::DotProductModVecAvx2,
                        internal::DotProductModVec2Avx2,
                        internal::DotScalarModVecAvx2};
  for (uint64_t qv : EdgeModuli(61, rng)) {
    const Modulus q(qv);
    for (std::size_t n : {4, 12, 1032}) {
      std::vector<uint64_t> a(n), b(n), got(n);
      for (std::size_t i = 0; i < n; ++i) {
        a[i] = (i % 3 == 0) ? qv - 1 : (i % 3 == 1) ? 0 : rng() % qv;
        b[i] = (i % 2) ? qv - 1 : rng() % qv;
      }
      internal::AddModVecAvx2(a.data(), b.data(), got.data(), n, qv);
      for (std::size_t i = 0; i < n; ++i) ASSERT_EQ(got[i], AddMod(a[i], b[i], qv));
      internal::SubModVecAvx2(a.data(), b.data(), got.data(), n, qv);
      for (std::size_t i = 0; i < n; ++i) ASSERT_EQ(got[i], SubMod(a[i], b[i], qv));
      internal::NegModVecAvx2(a.data(), got.data(), n, qv);
      for (std::size_t i = 0; i < n; ++i) ASSERT_EQ(got[i], NegMod(a[i], qv));
      internal::AddScalarModVecAvx2(a.data(), qv - 1, got.data(), n, qv);
      for (std::size_t i = 0; i < n; ++i) ASSERT_EQ(got[i], AddMod(a[i], qv - 1, qv));
      if (q.bits > kMaxAvx2ModulusBits) continue;
      CheckMulKernelsAtEdges(avx2, qv, n, rng);
      auto acc = b, acc2 = b;
      for (std::size_t i = 0; i < n; ++i) acc[i] = AddMod(acc[i], MulMod(a[i], b[i], q), qv);
      internal::MulAddModVecAvx2(a.data(), b.data(), acc2.data(), n, q);
      ASSERT_EQ(acc2, acc) << "MulAddModVec q=" << qv;
      const auto wide = Wide52(n, rng);
      internal::ReduceVecAvx2(wide.data(), got.data(), n, q);
      for (std::size_t i = 0; i < n; ++i) ASSERT_EQ(got[i], wide[i] % qv) << "ReduceVec";
      internal::MulScalarModVecAvx2(wide.data(), qv - 1, got.data(), n, q);
      for (std::size_t i = 0; i < n; ++i) {
        ASSERT_EQ(got[i], MulMod(wide[i] % qv, qv - 1, q)) << "MulScalar 52-bit";
      }
    }
  }
}
#endif  // BLINDFOLD_TARGET_X86_64

#if BLINDFOLD_TARGET_AARCH64
// NEON kernels (called directly, so a dispatch that fell back could not hide
// them) against the portable ones and exact references: the multiplying
// kernels for every modulus size up to 50 bits, add/sub/neg up to 61 bits,
// Reduce / MulScalar over 52-bit inputs, the fused SubMulScalarAdd, and
// lengths that are not a multiple of the 2-word vector (scalar tails).
TEST(VecOpsTest, NeonMatchesPortableAtEdges) {
  if (!CpuHasNeon()) GTEST_SKIP() << "CPU has no NEON";
  std::mt19937_64 rng(9);
  const MulKernels neon{internal::MulModVecNeon, internal::MulScalarModVecNeon,
                        internal::DotProductModVecNeon,
                        internal::DotProductModVec2Neon,
                        internal::DotScalarModVecNeon};
  for (uint64_t qv : EdgeModuli(61, rng)) {
    const Modulus q(qv);
    for (std::size_t n : {1, 2, 5, 12, 1031}) {
      std::vector<uint64_t> a(n), b(n), got(n);
      for (std::size_t i = 0; i < n; ++i) {
        a[i] = (i % 3 == 0) ? qv - 1 : (i % 3 == 1) ? 0 : rng() % qv;
        b[i] = (i % 2) ? qv - 1 : rng() % qv;
      }
      a[n - 1] = qv - 1;  // the scalar tail at the top too
      internal::AddModVecNeon(a.data(), b.data(), got.data(), n, qv);
      for (std::size_t i = 0; i < n; ++i) ASSERT_EQ(got[i], AddMod(a[i], b[i], qv));
      internal::SubModVecNeon(a.data(), b.data(), got.data(), n, qv);
      for (std::size_t i = 0; i < n; ++i) ASSERT_EQ(got[i], SubMod(a[i], b[i], qv));
      internal::NegModVecNeon(a.data(), got.data(), n, qv);
      for (std::size_t i = 0; i < n; ++i) ASSERT_EQ(got[i], NegMod(a[i], qv));
      internal::AddScalarModVecNeon(a.data(), qv - 1, got.data(), n, qv);
      for (std::size_t i = 0; i < n; ++i) ASSERT_EQ(got[i], AddMod(a[i], qv - 1, qv));
      if (q.bits > kMaxNeonModulusBits) continue;
      CheckMulKernelsAtEdges(neon, qv, n, rng);
      auto acc = b, acc2 = b;
      for (std::size_t i = 0; i < n; ++i) acc[i] = AddMod(acc[i], MulMod(a[i], b[i], q), qv);
      internal::MulAddModVecNeon(a.data(), b.data(), acc2.data(), n, q);
      ASSERT_EQ(acc2, acc) << "MulAddModVec q=" << qv << " n=" << n;
      const auto wide = Wide52(n, rng);
      internal::ReduceVecNeon(wide.data(), got.data(), n, q);
      for (std::size_t i = 0; i < n; ++i) ASSERT_EQ(got[i], wide[i] % qv) << "ReduceVec";
      internal::MulScalarModVecNeon(wide.data(), qv - 1, got.data(), n, q);
      for (std::size_t i = 0; i < n; ++i) {
        ASSERT_EQ(got[i], MulMod(wide[i] % qv, qv - 1, q)) << "MulScalar 52-bit";
      }
      for (uint64_t w : {uint64_t{0}, uint64_t{1}, qv - 1, rng() % qv}) {
        std::vector<uint64_t> want(n);
        internal::SubMulScalarAddModVecPortable(a.data(), b.data(), w, acc.data(),
                                                want.data(), n, q);
        internal::SubMulScalarAddModVecNeon(a.data(), b.data(), w, acc.data(),
                                            got.data(), n, q);
        ASSERT_EQ(got, want) << "SubMulScalarAdd q=" << qv << " w=" << w;
        internal::SubMulScalarAddModVecPortable(a.data(), b.data(), w, nullptr,
                                                want.data(), n, q);
        internal::SubMulScalarAddModVecNeon(a.data(), b.data(), w, nullptr,
                                            got.data(), n, q);
        ASSERT_EQ(got, want) << "SubMulScalar q=" << qv << " w=" << w;
      }
    }
  }
}

// Through the public entry points: with the NEON path active the results
// equal the portable path's, for every kernel the dispatch sends to NEON and
// for moduli above its limit (which must fall back, not break).
TEST(VecOpsTest, NeonPathDispatchMatchesPortable) {
  if (!CpuHasNeon()) GTEST_SKIP() << "CPU has no NEON";
  const KernelPathGuard guard;
  std::mt19937_64 rng(10);
  for (uint64_t qv : {(uint64_t{1} << 50) - 27, (uint64_t{1} << 49) + 69,
                      (uint64_t{1} << 51) - 129, (uint64_t{1} << 61) - 1}) {
    const Modulus q(qv);
    const std::size_t n = 1027;
    const int k = 9;
    std::vector<std::vector<uint64_t>> as(k), bs(k), cs(k);
    std::vector<const uint64_t*> ap, bp, cp;
    for (int i = 0; i < k; ++i) {
      as[i] = Rand(n, qv, rng);
      bs[i] = Rand(n, qv, rng);
      cs[i] = Wide52(n, rng);
      for (auto& x : cs[i]) x >>= 2;  // below 2^50
      ap.push_back(as[i].data());
      bp.push_back(bs[i].data());
      cp.push_back(cs[i].data());
    }
    std::vector<uint64_t> w(bs[1].begin(), bs[1].begin() + k);
    const auto wide = Wide52(n, rng);
    auto run = [&](KernelPath path) {
      EXPECT_TRUE(SetKernelPath(path));
      std::vector<std::vector<uint64_t>> r(13, std::vector<uint64_t>(n));
      AddModVec(ap[0], bp[0], r[0].data(), n, qv);
      SubModVec(ap[0], bp[0], r[1].data(), n, qv);
      NegModVec(ap[0], r[2].data(), n, qv);
      AddScalarModVec(ap[0], w[0], r[3].data(), n, qv);
      MulModVec(ap[0], bp[0], r[4].data(), n, q);
      r[5] = bs[2];
      MulAddModVec(ap[0], bp[0], r[5].data(), n, q);
      MulScalarModVec(ap[0], w[1], r[6].data(), n, q);
      SubMulScalarAddModVec(ap[0], bp[0], w[2], ap[1], r[7].data(), n, q);
      ReduceVec(wide.data(), r[8].data(), n, q, 52);
      DotProductModVec(ap.data(), bp.data(), k, r[9].data(), n, q);
      DotProductModVec2(ap.data(), bp.data(), cp.data(), k, r[10].data(),
                        r[11].data(), n, q);
      DotScalarModVec(cp.data(), w.data(), k, r[12].data(), n, q, 50);
      return r;
    };
    const auto want = run(KernelPath::kPortable);
    const auto got = run(KernelPath::kNeon);
    for (std::size_t i = 0; i < want.size(); ++i) {
      ASSERT_EQ(got[i], want[i]) << "kernel " << i << " q=" << qv;
    }
  }
}
#endif  // BLINDFOLD_TARGET_AARCH64

}  // namespace
}  // namespace blindfold::math
