#include "math/vec_ops.h"

#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "base/cpu_features.h"

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
      for (KernelPath path : {KernelPath::kPortable, KernelPath::kIfma}) {
        if (!SetKernelPath(path)) continue;
        std::vector<uint64_t> out(n);
        DotProductModVec(ap.data(), bp.data(), k, out.data(), n, q);
        ASSERT_EQ(out, expect) << KernelPathName(path) << " k=" << k << " bits=" << bits;
        MulModVec(as[0].data(), bs[0].data(), out.data(), n, q);
        for (std::size_t j = 0; j < n; ++j) ASSERT_EQ(out[j], MulMod(as[0][j], bs[0][j], q));
        MulScalarModVec(as[0].data(), bs[0][7], out.data(), n, q);
        for (std::size_t j = 0; j < n; ++j) ASSERT_EQ(out[j], MulMod(as[0][j], bs[0][7], q));
      }
    }
  }
  SetKernelPath(CpuHasIfma() ? KernelPath::kIfma : KernelPath::kPortable);
}

}  // namespace
}  // namespace blindfold::math
