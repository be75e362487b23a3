#include "math/modarith.h"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace blindfold::math
