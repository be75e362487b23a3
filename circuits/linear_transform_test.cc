// File: circuits/linear_transform_test.cc
// Diagonal plans run on the float64 slot backend against the direct
// matrix-vector product: dense and sparse, tall and wide, non-powers of two,
// every baby step, and the rotation bookkeeping the key set relies on.
#include "circuits/linear_transform.h"

#include <random>

#include "circuits/slot_backend.h"
#include "gtest/gtest.h"

namespace blindfold::circuits {
namespace {

using Rows = std::vector<std::vector<std::pair<int32_t, double>>>;

Rows RandomMatrix(int64_t rows, int64_t cols, double density, std::mt19937& rng) {
  std::uniform_real_distribution<double> u(-1, 1), p(0, 1);
  Rows m(rows);
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t c = 0; c < cols; ++c) {
      if (p(rng) < density) m[r].emplace_back(static_cast<int32_t>(c), u(rng));
    }
  }
  return m;
}

// Runs A x through the plan and checks every slot of the tiled result.
void Check(int64_t rows, int64_t cols, double density, int64_t slots,
           uint32_t seed) {
  std::mt19937 rng(seed);
  const Rows a = RandomMatrix(rows, cols, density, rng);
  std::uniform_real_distribution<double> u(-1, 1);
  std::vector<double> x(cols);
  for (double& v : x) v = u(rng);
  const int64_t in_period = NextPowerOfTwo(cols);
  auto plan = PlanLinearTransform(rows, cols, a, in_period, slots);
  ASSERT_TRUE(plan.ok()) << plan.status();
  SlotBackend backend(slots);
  const auto y = ApplyLinearTransform(backend, *plan, Tile(x, in_period, slots));
  ASSERT_EQ(static_cast<int64_t>(y.size()), slots);
  for (int64_t j = 0; j < slots; ++j) {
    const int64_t r = j % plan->out_period;
    double want = 0;
    if (r < rows) {
      for (const auto& [c, v] : a[r]) want += v * x[c];
    }
    ASSERT_NEAR(y[j], want, 1e-12) << rows << "x" << cols << " slot " << j;
  }
  // The backend performed exactly the rotations the plan lists.
  EXPECT_EQ(backend.hoisted_rotations, static_cast<int64_t>(plan->BabySteps().size()));
  EXPECT_EQ(backend.rotations, static_cast<int64_t>(plan->GiantSteps().size() +
                                                    plan->SumSteps().size()));
  EXPECT_EQ(backend.plain_products, plan->num_diagonals());
}

TEST(LinearTransformTest, SquareTallAndWideMatricesAllSlotsCorrect) {
  Check(16, 16, 1.0, 64, 1);
  Check(100, 37, 0.3, 256, 2);   // tall: expand
  Check(10, 128, 1.0, 256, 3);   // wide: reduce with inner sums
  Check(5, 300, 0.5, 1024, 4);   // wide, period 512, out period 8
  Check(845, 784, 0.03, 1024, 5);
  Check(1, 7, 1.0, 8, 6);        // a single row
  Check(128, 1, 1.0, 128, 7);    // a single column
}

TEST(LinearTransformTest, SparseBandUsesFewDiagonalsAndRotations) {
  // A tridiagonal 256x256 matrix has three diagonals: 0, 1 and -1 = 255.
  Rows a(256);
  for (int r = 0; r < 256; ++r) {
    for (int c = std::max(0, r - 1); c <= std::min(255, r + 1); ++c) {
      a[r].emplace_back(c, 1.0 + r + c);
    }
  }
  auto plan = PlanLinearTransform(256, 256, a, 256, 1024);
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(plan->num_diagonals(), 3);
  EXPECT_LE(plan->num_rotations(), 2);
}

TEST(LinearTransformTest, RejectsBadPeriodsAndShapes) {
  std::mt19937 rng(1);
  const Rows a = RandomMatrix(4, 4, 1.0, rng);
  EXPECT_FALSE(PlanLinearTransform(4, 4, a, 6, 64).ok());     // not a power of two
  EXPECT_FALSE(PlanLinearTransform(4, 4, a, 128, 64).ok());   // period > slots
  EXPECT_FALSE(PlanLinearTransform(4, 8, a, 4, 64).ok());     // cols > period
  EXPECT_FALSE(PlanLinearTransform(4, 4, Rows(4), 4, 64).ok());  // zero matrix
  const Rows tall = RandomMatrix(100, 4, 1.0, rng);
  EXPECT_FALSE(PlanLinearTransform(100, 4, tall, 4, 64).ok());  // rows > slots
}

}  // namespace
}  // namespace blindfold::circuits
