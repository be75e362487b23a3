#include "math/modarith.h"

#include <gtest/gtest.h>

#include <vector>

#include <random>

namespace blindfold::math {
namespace {

TEST(ModArithTest, BarrettMatchesDivisionAcrossSizes) {
  std::mt19937_64 rng(1);
  for (uint64_t q : {uint64_t{3}, uint64_t{65537}, uint64_t{0xFFFFFFFB},
                     (uint64_t{1} << 50) - 27, (uint64_t{1} << 61) - 1}) {
    Modulus m(q);
    for (int i = 0; i < 20000; ++i) {
      const u128 x = (static_cast<u128>(rng()) << 64) | rng();
      ASSERT_EQ(BarrettReduce128(x, m), static_cast<uint64_t>(x % q)) << q;
      const uint64_t y = rng();
      ASSERT_EQ(BarrettReduce64(y, m), y % q) << q;
    }
    // Edge values.
    ASSERT_EQ(BarrettReduce128(~static_cast<u128>(0), m),
              static_cast<uint64_t>(~static_cast<u128>(0) % q));
    ASSERT_EQ(BarrettReduce64(~uint64_t{0}, m), ~uint64_t{0} % q);
  }
}

TEST(ModArithTest, ShoupMatchesBarrett) {
  std::mt19937_64 rng(2);
  const uint64_t q = (uint64_t{1} << 59) - 55;
  Modulus m(q);
  for (int i = 0; i < 20000; ++i) {
    const uint64_t w = rng() % q, a = rng();
    const uint64_t ws = ShoupPrecompute(w, q);
    const uint64_t lazy = MulModShoupLazy(a, w, ws, q);
    ASSERT_LT(lazy, 2 * q);
    ASSERT_EQ(MulModShoup(a, w, ws, q), MulMod(a % q, w, m));
  }
}

TEST(ModArithTest, InverseAndPow) {
  Modulus m(1000000007);
  for (uint64_t a : {1ull, 2ull, 12345ull, 1000000006ull}) {
    EXPECT_EQ(MulMod(a, InvMod(a, m), m), 1u);
  }
  EXPECT_EQ(PowMod(3, 1000000006, m), 1u);  // Fermat
  EXPECT_EQ(FromSigned(-1, 7), 6u);
  const __int128 m7 = static_cast<__int128>(INT64_MIN) % 7;
  EXPECT_EQ(FromSigned(INT64_MIN, 7), static_cast<uint64_t>(m7 < 0 ? m7 + 7 : m7));
}

// The branch-free helpers (masks instead of ?: or loops, issue 7 finding 7)
// against 128-bit reference arithmetic on every edge value: 0, 1, q/2,
// q - 1, q, the largest inputs each function admits, for small and large q.
TEST(ModArithTest, BranchFreeHelpersMatchReferenceOnEdgeValues) {
  using i128 = __int128;
  for (uint64_t q : {3ull, 7ull, 65537ull, (1ull << 40) - 87, (1ull << 50) - 27,
                     (1ull << 61) - 1}) {
    const Modulus m(q);
    const std::vector<uint64_t> res = {0, 1, 2, q / 2, q / 2 + 1, q - 2, q - 1};
    for (uint64_t a : res) {
      if (a >= q) continue;
      EXPECT_EQ(NegMod(a, q), static_cast<uint64_t>((q - a) % q)) << q << " " << a;
      for (uint64_t b : res) {
        if (b >= q) continue;
        EXPECT_EQ(AddMod(a, b, q), static_cast<uint64_t>((static_cast<u128>(a) + b) % q));
        EXPECT_EQ(SubMod(a, b, q), static_cast<uint64_t>((static_cast<u128>(a) + q - b) % q));
        EXPECT_EQ(MulMod(a, b, m), static_cast<uint64_t>(static_cast<u128>(a) * b % q));
      }
    }
    for (i128 v : {i128{0}, i128{1}, i128{-1}, i128(q / 2), -i128(q / 2), i128(q - 1),
                   -i128(q - 1)}) {
      const i128 r = ((v % i128(q)) + q) % q;
      EXPECT_EQ(FromSignedSmall(static_cast<int64_t>(v), q), static_cast<uint64_t>(r)) << q;
      EXPECT_EQ(FromSigned(static_cast<int64_t>(v), q), static_cast<uint64_t>(r)) << q;
    }
    for (i128 v : {i128(q), -i128(q), i128(q) + 1, -i128(q) - 1, i128{INT64_MAX},
                   i128{INT64_MIN}, i128{INT64_MIN} + 1}) {
      const i128 r = ((v % i128(q)) + q) % q;
      EXPECT_EQ(FromSigned(static_cast<int64_t>(v), q), static_cast<uint64_t>(r)) << q;
    }
    const u128 qq = static_cast<u128>(q) * q;
    for (u128 x : {u128{0}, u128{1}, u128(q - 1), u128(q), u128(2 * q - 1), u128(2 * q),
                   qq - 1, qq, ~u128{0}, ~u128{0} - q, u128{UINT64_MAX},
                   static_cast<u128>(UINT64_MAX) << 64}) {
      EXPECT_EQ(BarrettReduce128(x, m), static_cast<uint64_t>(x % q)) << q;
      EXPECT_EQ(BarrettReduce128Public(x, m), static_cast<uint64_t>(x % q)) << q;
    }
    for (uint64_t x : {uint64_t{0}, q - 1, q, 2 * q, 3 * q - 1, UINT64_MAX, UINT64_MAX - q}) {
      EXPECT_EQ(BarrettReduce64(x, m), x % q) << q;
      EXPECT_EQ(BarrettReduce64Public(x, m), x % q) << q;
    }
  }
  const std::vector<uint64_t> edges = {0, 1, 2, (1ull << 62) - 1, 1ull << 62,
                                       (1ull << 63) - 2, (1ull << 63) - 1};
  for (uint64_t a : edges) {
    for (uint64_t b : edges) {
      EXPECT_EQ(CtMaskGe(a, b), a >= b ? ~uint64_t{0} : 0) << a << " " << b;
    }
  }
}

}  // namespace
}  // namespace blindfold::math
