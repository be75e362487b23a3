// File: circuits/linear_transform.h
// Matrix-vector products on packed slot vectors by generalized diagonals
// with baby-step/giant-step rotations (Halevi-Shoup, CRYPTO 2014; BSGS as in
// Halevi-Shoup 2018, "Faster homomorphic linear transformations in HElib").
//
// Layout. A vector of length d is packed tiled: slot j holds v[j mod p] for a
// power-of-two period p >= d (entries d..p-1 are zero), across S slots, p | S.
// For an m x n matrix A applied to such a vector with input period p_in:
//  - expand (m' = pow2(m) >= p_in): y = sum_k diag_k ⊙ rot(x, k) with
//    diag_k[j] = A[j][(j + k) mod p_in], k < p_in; y has period m'.
//  - reduce (m' < p_in): z = sum_k diag_k ⊙ rot(x, k) with
//    diag_k[j] = A[j mod m'][(j + k) mod p_in], k < m', then
//    y = sum_t rot(z, t m') for t < p_in / m' (log2(p_in/m') rotations);
//    y has period m'.
// Only diagonals with a non-zero entry are kept. With baby step B, k = gB + b:
//   y = sum_g rot( sum_b rot(diag_k, -gB) ⊙ rot(x, b), gB )
// so the baby rotations of x are shared (hoisted) and each giant step costs
// one rotation. B minimises the predicted rotation cost.
//
// The evaluation is written once against a backend (see ApplyLinearTransform)
// so the float64 slot simulator, the metadata-only planner and the CKKS
// runtime run the same sequence of operations.
#ifndef BLINDFOLD_CIRCUITS_LINEAR_TRANSFORM_H_
#define BLINDFOLD_CIRCUITS_LINEAR_TRANSFORM_H_

#include <cstdint>
#include <map>
#include <optional>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace blindfold::circuits {

// Smallest power of two >= n (1 for n <= 1).
int64_t NextPowerOfTwo(int64_t n);

// Relative costs that choose the baby step: a hoisted baby rotation costs
// `hoisted_rotation` rotations, a giant rotation one (0.6: each further
// hoisted rotation measured at 57-72 % of a rotation, docs/benchmarks.md).
struct RotationCost {
  double hoisted_rotation = 0.6;
};

// A diagonal's non-zero values: (index within the period, value), sorted.
using SparseDiagonal = std::vector<std::pair<int32_t, double>>;

struct LinearTransformPlan {
  int64_t rows = 0, cols = 0;  // of A
  int64_t slots = 0;           // S
  int64_t in_period = 0;       // p_in
  int64_t out_period = 0;      // m'
  int64_t period = 0;          // max(p_in, m'): diagonals repeat with it
  int64_t baby_step = 1;       // B
  // giant step g -> (baby b -> the diagonal's non-zeros over `period`
  // slots, already rotated by -gB). Sparse: memory stays O(non-zeros of A).
  std::map<int64_t, std::map<int64_t, SparseDiagonal>> blocks;
  // Reduce case: rotate-and-add by out_period, 2 out_period, ... up to
  // in_period (sum_count = in_period / out_period; 1 means none).
  int64_t sum_count = 1;

  int64_t num_diagonals() const;
  // Baby rotations (b != 0), giant rotations, inner-sum rotations. The giant
  // sums are combined Horner-style, sum_g rot(inner_g, g B) = rot(... rot(
  // inner_gmax, (gmax - g') B) + inner_g' ...), so GiantSteps() is that
  // sequence of gaps: as many rotations as non-zero giant indices, but for
  // consecutive indices all by the same B -- one Galois key instead of one
  // per giant step.
  std::vector<int64_t> BabySteps() const;
  std::vector<int64_t> GiantSteps() const;
  std::vector<int64_t> SumSteps() const;
  // Every rotation amount the plan uses (for the key set), sorted, unique.
  std::vector<int64_t> Rotations() const;
  int num_rotations() const;  // babies + giants + inner-sum steps
};

// Plans y = A x for A given by rows of (column, value) entries (columns
// < cols, sorted or not). `baby_step` > 0 forces the baby step (a plan
// loaded from a file); 0 chooses it by `cost`. Errors (InvalidArgument): a
// period that is not a power of two dividing `slots`, cols > in_period,
// pow2(rows) > slots, a column out of range, a zero matrix, or a forced
// baby step outside [1, number of diagonal offsets].
absl::StatusOr<LinearTransformPlan> PlanLinearTransform(
    int64_t rows, int64_t cols,
    const std::vector<std::vector<std::pair<int32_t, double>>>& row_entries,
    int64_t in_period, int64_t slots, const RotationCost& cost = {},
    int64_t baby_step = 0);

// As above with explicit layouts: in_layout[s] is the input element slot s
// holds (-1: zero), its size the input period; out_layout[j] the row output
// slot j must hold (-1: zero), its size the output period. Elements may
// repeat in the input layout; the planner picks, for each matrix entry, a
// copy whose diagonal is already in use.
absl::StatusOr<LinearTransformPlan> PlanLinearTransform(
    int64_t rows, int64_t cols,
    const std::vector<std::vector<std::pair<int32_t, double>>>& row_entries,
    int64_t in_period, const std::vector<int32_t>* in_layout,
    const std::vector<int32_t>* out_layout, int64_t slots, const RotationCost& cost = {},
    int64_t baby_step = 0);

// `values` (length <= period) tiled across `slots` slots.
std::vector<double> Tile(const std::vector<double>& values, int64_t period,
                         int64_t slots);
// A sparse diagonal tiled across `slots` slots.
std::vector<double> Tile(const SparseDiagonal& values, int64_t period,
                         int64_t slots);

// Runs the plan on a backend B providing:
//   using Ct = ...;
//   std::vector<Ct> RotateHoisted(const Ct& x, const std::vector<int64_t>& steps);
//   Ct Rotate(const Ct& x, int64_t steps);
//   Ct MulPlain(const Ct& x, const SparseDiagonal& diagonal, int64_t period);
//                                        // no rescale
//   void AddInPlace(Ct& acc, const Ct& y);
//   Ct Finish(const Ct& x);              // rescale (HE) / identity (float)
// The result has period plan.out_period.
// With `rescale` false the products are summed but not rescaled (the
// program's output: it keeps the larger scale, so decryption noise and
// flooding stay far below its precision).
template <typename B>
typename B::Ct ApplyLinearTransform(B& backend, const LinearTransformPlan& plan,
                                    const typename B::Ct& x, bool rescale = true) {
  using Ct = typename B::Ct;
  const std::vector<int64_t> babies = [&] {
    std::vector<int64_t> b;
    for (int64_t s : plan.BabySteps()) b.push_back(s);
    return b;
  }();
  std::map<int64_t, Ct> rotated;
  {
    std::vector<Ct> r = backend.RotateHoisted(x, babies);
    for (size_t i = 0; i < babies.size(); ++i) rotated.emplace(babies[i], std::move(r[i]));
  }
  auto baby = [&](int64_t b) -> const Ct& {
    return b == 0 ? x : rotated.at(b);
  };
  // Horner over the giant indices, largest first (see GiantSteps()).
  std::optional<Ct> acc;
  int64_t previous = 0;
  for (auto it = plan.blocks.rbegin(); it != plan.blocks.rend(); ++it) {
    const auto& [g, diags] = *it;
    if (acc) *acc = backend.Rotate(*acc, (previous - g) * plan.baby_step);
    for (const auto& [b, d] : diags) {
      Ct p = backend.MulPlain(baby(b), d, plan.period);
      if (acc) {
        backend.AddInPlace(*acc, p);
      } else {
        acc = std::move(p);
      }
    }
    previous = g;
  }
  if (previous != 0) *acc = backend.Rotate(*acc, previous * plan.baby_step);
  Ct y = rescale ? backend.Finish(*acc) : std::move(*acc);
  for (int64_t s : plan.SumSteps()) {
    Ct r = backend.Rotate(y, s);
    backend.AddInPlace(y, r);
  }
  return y;
}

}  // namespace blindfold::circuits

#endif  // BLINDFOLD_CIRCUITS_LINEAR_TRANSFORM_H_
