// File: circuits/linear_transform_test.cc
// Diagonal plans run on the float64 slot backend against the direct
// matrix-vector product: dense and sparse, tall and wide, non-powers of two,
// every baby step, and the rotation bookkeeping the key set relies on.
#include "circuits/linear_transform.h"

#include <algorithm>
#include <random>
#include <tuple>

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

// Arbitrary layouts: inputs permuted and repeated, outputs permuted.
TEST(LinearTransformTest, LayoutsPermuteAndRepeatElements) {
  std::mt19937 rng(11);
  for (auto [rows, cols, in_p, out_p] : {std::tuple{20, 30, 64, 32}, std::tuple{50, 9, 16, 64},
                                         std::tuple{7, 40, 128, 8}}) {
    const Rows a = RandomMatrix(rows, cols, 0.4, rng);
    std::vector<int32_t> in(in_p, -1), out(out_p, -1);
    for (int c = 0; c < cols; ++c) in[c] = c;
    for (int s = cols; s < in_p; ++s) in[s] = static_cast<int32_t>(rng() % cols);  // repeats
    std::shuffle(in.begin(), in.end(), rng);
    for (int r = 0; r < rows; ++r) out[r] = r;
    std::shuffle(out.begin(), out.end(), rng);
    std::uniform_real_distribution<double> u(-1, 1);
    std::vector<double> x(cols);
    for (double& v : x) v = u(rng);
    const int64_t slots = 256;
    auto plan = PlanLinearTransform(rows, cols, a, 0, &in, &out, slots);
    ASSERT_TRUE(plan.ok()) << plan.status();
    std::vector<double> laid(in_p);
    for (int s = 0; s < in_p; ++s) laid[s] = in[s] >= 0 ? x[in[s]] : 0.0;
    SlotBackend backend(slots);
    const auto y = ApplyLinearTransform(backend, *plan, Tile(laid, in_p, slots));
    for (int64_t j = 0; j < slots; ++j) {
      const int r = out[j % out_p];
      double want = 0;
      if (r >= 0) {
        for (const auto& [c, v] : a[r]) want += v * x[c];
      }
      ASSERT_NEAR(y[j], want, 1e-12) << rows << "x" << cols << " slot " << j;
    }
  }
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

// ----------------------------------------------- execution options --

TEST(PowerOfTwoHopsTest, ComposeEveryRotationFromKeysOfThePowerOfTwoSet) {
  for (int64_t slots : {int64_t{8}, int64_t{64}, int64_t{1024}, int64_t{16384}}) {
    const std::vector<int64_t> keys = PowerOfTwoRotations(slots);
    int log = 0;
    while ((int64_t{1} << log) < slots) ++log;
    EXPECT_EQ(static_cast<int>(keys.size()), 2 * log - 1) << slots;
    const int64_t stride = slots > 1024 ? 7 : 1;
    for (int64_t steps = -slots; steps <= 2 * slots; steps += stride) {
      const std::vector<int64_t> hops = PowerOfTwoHops(steps, slots);
      int64_t sum = 0;
      int64_t last_bit = 0;
      for (int64_t h : hops) {
        const int64_t m = std::abs(h);
        ASSERT_TRUE(m > 0 && (m & (m - 1)) == 0) << steps << " hop " << h;
        ASSERT_LE(m, slots / 2);
        // Non-adjacent form: no two neighbouring powers.
        ASSERT_TRUE(last_bit == 0 || m > 2 * last_bit) << steps;
        last_bit = m;
        ASSERT_TRUE(std::binary_search(keys.begin(), keys.end(), h)) << steps << " " << h;
        sum += h;
      }
      ASSERT_EQ(((sum - steps) % slots + slots) % slots, 0) << steps;
      ASSERT_LE(static_cast<int>(hops.size()), log / 2 + 1) << steps;
      if (steps % slots == 0) ASSERT_TRUE(hops.empty());
    }
  }
}

// The slot backend, recording what it is asked to do.
class RecordingBackend : public SlotBackend {
 public:
  using SlotBackend::SlotBackend;
  Ct Rotate(const Ct& x, int64_t steps) {
    amounts.push_back(steps);
    return SlotBackend::Rotate(x, steps);
  }
  std::vector<Ct> RotateHoisted(const Ct& x, const std::vector<int64_t>& steps) {
    for (int64_t s : steps) amounts.push_back(s);
    return SlotBackend::RotateHoisted(x, steps);
  }
  Ct Finish(const Ct& x) {
    ++finishes;
    return x;
  }
  std::vector<int64_t> amounts;
  int finishes = 0;
};

TEST(TransformOptionsTest, EveryOptionComputesTheSameProductAndCountsWhatItDoes) {
  std::mt19937 rng(11);
  const int64_t slots = 256;
  for (auto [rows, cols] : {std::pair<int64_t, int64_t>{40, 60}, {100, 30}, {64, 64}}) {
    const Rows a = RandomMatrix(rows, cols, 0.3, rng);
    std::vector<double> x(cols);
    std::uniform_real_distribution<double> u(-1, 1);
    for (double& v : x) v = u(rng);
    const int64_t in_period = NextPowerOfTwo(cols);
    const int64_t offsets = std::min(in_period, NextPowerOfTwo(rows));
    for (int64_t baby : {int64_t{1}, int64_t{4}, offsets}) {
      auto plan = PlanLinearTransform(rows, cols, a, in_period, slots, {}, baby);
      ASSERT_TRUE(plan.ok()) << plan.status();
      RecordingBackend ref(slots);
      const auto want = ApplyLinearTransform(ref, *plan, Tile(x, in_period, slots));
      for (int bits = 0; bits < 8; ++bits) {
        TransformOptions o;
        o.hoist = bits & 1;
        o.eager_rescale = bits & 2;
        o.power_of_two_rotations = bits & 4;
        RecordingBackend b(slots);
        const auto y = ApplyLinearTransform(b, *plan, Tile(x, in_period, slots), true, o);
        for (int64_t j = 0; j < slots; ++j) {
          ASSERT_NEAR(y[j], want[j], 1e-12) << rows << "x" << cols << " B " << baby
                                            << " options " << bits;
        }
        const RotationTally t = CountRotations(*plan, o);
        EXPECT_EQ(b.rotations, t.rotations);
        EXPECT_EQ(b.hoisted_rotations, t.hoisted);
        if (!o.hoist) {
          EXPECT_EQ(b.hoisted_rotations, 0);
        }
        // Eager: a rescale per plaintext product; else one per transform.
        EXPECT_EQ(b.finishes, o.eager_rescale ? plan->num_diagonals() : 1);
        if (o.power_of_two_rotations) {
          for (int64_t s : b.amounts) {
            ASSERT_TRUE(std::abs(s) > 0 && (std::abs(s) & (std::abs(s) - 1)) == 0) << s;
          }
        }
        // Without hoisting or power-of-two hops, one rotation per baby step,
        // giant step and inner-sum step: the plain diagonal method when the
        // baby step covers every offset.
        if (!o.hoist && !o.power_of_two_rotations) {
          EXPECT_EQ(b.rotations, plan->num_rotations());
        }
      }
    }
  }
}

}  // namespace
}  // namespace blindfold::circuits
