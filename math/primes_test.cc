#include "math/primes.h"

#include <gtest/gtest.h>

namespace blindfold::math {
namespace {

TEST(PrimesTest, MillerRabinKnownValues) {
  EXPECT_TRUE(IsPrime(2));
  EXPECT_TRUE(IsPrime((uint64_t{1} << 61) - 1));
  EXPECT_FALSE(IsPrime(1));
  EXPECT_FALSE(IsPrime(3215031751));           // strong pseudoprime to 2,3,5,7
  EXPECT_FALSE(IsPrime(3825123056546413051ull));  // psp to bases <= 23
  EXPECT_TRUE(IsPrime(18446744073709551557ull));  // largest 64-bit prime
}

TEST(PrimesTest, NttPrimesAreDistinctPrimesOfRightShape) {
  const uint64_t two_n = 1 << 15;
  auto primes = GenerateNttPrimes(40, 10, two_n);
  ASSERT_TRUE(primes.ok()) << primes.status();
  for (std::size_t i = 0; i < primes->size(); ++i) {
    const uint64_t q = (*primes)[i];
    EXPECT_TRUE(IsPrime(q));
    EXPECT_EQ(q % two_n, 1u);
    EXPECT_EQ(64 - __builtin_clzll(q), 40);
    if (i > 0) {
      EXPECT_LT(q, (*primes)[i - 1]);
    }
  }
  auto more = GenerateNttPrimes(40, 2, two_n, *primes);
  ASSERT_TRUE(more.ok());
  EXPECT_LT((*more)[0], primes->back());
}

TEST(PrimesTest, RejectsImpossibleRequests) {
  EXPECT_FALSE(GenerateNttPrimes(62, 1, 1 << 14).ok());
  EXPECT_FALSE(GenerateNttPrimes(10, 1, 1 << 14).ok());
  EXPECT_FALSE(GenerateNttPrimes(20, 1000, 1 << 14).ok());
}

TEST(PrimesTest, PrimitiveRootHasExactOrder) {
  const uint64_t two_n = 1 << 12;
  auto primes = GenerateNttPrimes(50, 1, two_n);
  ASSERT_TRUE(primes.ok());
  Modulus q((*primes)[0]);
  auto root = MinimalPrimitiveRoot(two_n, q);
  ASSERT_TRUE(root.ok());
  EXPECT_EQ(PowMod(*root, two_n, q), 1u);
  EXPECT_EQ(PowMod(*root, two_n / 2, q), q.value - 1);
  EXPECT_FALSE(MinimalPrimitiveRoot(two_n, Modulus(1000000007)).ok());
}

}  // namespace
}  // namespace blindfold::math
