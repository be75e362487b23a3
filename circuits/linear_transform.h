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

#include <algorithm>
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
// hoisted rotation measured at 57-72 % of a rotation, docs/benchmarks.md;
// double hoisted, where the CKKS backend uses it, a baby costs 0.2-0.5, which
// the planner does not assume yet).
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

// How a transform is executed (a plan-wide choice, runtime/plan.h). The
// defaults are Blindfold's; the conventional pipeline (docs/design/
// baseline.md) turns each of them around.
struct TransformOptions {
  // Baby rotations of x share one decomposition (hoisting). Off: each is a
  // rotation of its own; with a single giant step (the plain diagonal
  // method) each is made, used and dropped before the next.
  bool hoist = true;
  // Every plaintext product is rescaled on its own, as TenSEAL's
  // auto-rescale and SEAL's examples do, instead of one rescale of the sum.
  bool eager_rescale = false;
  // Every rotation is composed of power-of-two rotations (the non-adjacent
  // form of its amount, as SEAL does with its default Galois keys), so the
  // key set is PowerOfTwoRotations() whatever the plan rotates by.
  bool power_of_two_rotations = false;

  bool operator==(const TransformOptions&) const = default;
};

// The power-of-two rotations a rotation by `steps` within `slots` (a power
// of two) is composed of: the non-adjacent form of the representative of
// steps mod slots in (-slots/2, slots/2], lowest power first; empty for a
// multiple of slots. Each is +-2^i with 2^i <= slots/2, and there are at
// most log2(slots)/2 + 1 of them.
std::vector<int64_t> PowerOfTwoHops(int64_t steps, int64_t slots);

// The power-of-two key set of a ring with `max_slots` slots (N/2, a power
// of two): +2^i and -2^i for 2^i < max_slots, without -max_slots/2 (the
// same rotation as +max_slots/2): 2 log2(max_slots) - 1 rotations, sorted.
std::vector<int64_t> PowerOfTwoRotations(int64_t max_slots);

// sum_g rot(inner(diagonals of g), gB) over the plan's giant steps,
// Horner-style (see GiantSteps()): `inner` makes one giant step's sum of
// baby products.
template <typename Ct, typename Rotate, typename Inner>
Ct SumGiantSteps(const LinearTransformPlan& plan, Rotate rotate, Inner inner,
                 auto add) {
  std::optional<Ct> acc;
  int64_t previous = 0;
  for (auto it = plan.blocks.rbegin(); it != plan.blocks.rend(); ++it) {
    const auto& [g, diags] = *it;
    if (acc) *acc = rotate(*acc, (previous - g) * plan.baby_step);
    Ct p = inner(diags);
    if (acc) {
      add(*acc, p);
    } else {
      acc = std::move(p);
    }
    previous = g;
  }
  if (previous != 0) *acc = rotate(*acc, previous * plan.baby_step);
  return std::move(*acc);
}

// Runs the plan on a backend B providing:
//   using Ct = ...;
//   std::vector<Ct> RotateHoisted(const Ct& x, const std::vector<int64_t>& steps);
//   Ct Rotate(const Ct& x, int64_t steps);
//   Ct MulPlain(const Ct& x, const SparseDiagonal& diagonal, int64_t period);
//                                        // no rescale
//   void AddInPlace(Ct& acc, const Ct& y);
//   Ct Finish(const Ct& x);              // rescale (HE) / identity (float)
// and optionally double hoisting (the CKKS backend), used when the options
// hoist without power-of-two rotations or eager rescaling and the backend
// expects it to pay off for this plan:
//   using Hoisted = ...;                 // x's rotations before ModDown
//   bool UseDoubleHoisting(const Ct& x, const LinearTransformPlan& plan);
//   Hoisted HoistExtended(const Ct& x, const std::vector<int64_t>& steps);
//   Ct MulPlainSum(const Hoisted& h, const std::map<int64_t, SparseDiagonal>& diags,
//                  int64_t period);      // sum_b diags[b] * rot(x, b), no rescale
// The result has period plan.out_period.
// With `rescale` false the products are summed but not rescaled (the
// program's output: it keeps the larger scale, so decryption noise and
// flooding stay far below its precision).
template <typename B>
typename B::Ct ApplyLinearTransform(B& backend, const LinearTransformPlan& plan,
                                    const typename B::Ct& x, bool rescale = true,
                                    const TransformOptions& options = {}) {
  using Ct = typename B::Ct;
  auto rotate = [&](const Ct& v, int64_t steps) -> Ct {
    if (!options.power_of_two_rotations) return backend.Rotate(v, steps);
    const std::vector<int64_t> hops = PowerOfTwoHops(steps, plan.slots);
    if (hops.empty()) return v;
    Ct r = backend.Rotate(v, hops[0]);
    for (size_t i = 1; i < hops.size(); ++i) r = backend.Rotate(r, hops[i]);
    return r;
  };
  auto add = [&](Ct& acc, const Ct& y) { backend.AddInPlace(acc, y); };
  const bool eager = rescale && options.eager_rescale;
  auto product = [&](const Ct& v, const SparseDiagonal& d) -> Ct {
    Ct p = backend.MulPlain(v, d, plan.period);
    return eager ? backend.Finish(p) : p;
  };
  const std::vector<int64_t> babies = plan.BabySteps();
  auto finish = [&](Ct acc) {
    Ct y = rescale && !eager ? backend.Finish(acc) : std::move(acc);
    for (int64_t s : plan.SumSteps()) {
      Ct r = rotate(y, s);
      backend.AddInPlace(y, r);
    }
    return y;
  };
  if constexpr (requires { typename B::Hoisted; }) {
    if (options.hoist && !options.power_of_two_rotations && !eager &&
        backend.UseDoubleHoisting(x, plan)) {
      std::vector<int64_t> steps = babies;
      for (const auto& [g, diags] : plan.blocks) {
        if (diags.count(0)) {
          steps.insert(steps.begin(), 0);
          break;
        }
      }
      const typename B::Hoisted h = backend.HoistExtended(x, steps);
      return finish(SumGiantSteps<Ct>(
          plan, rotate,
          [&](const std::map<int64_t, SparseDiagonal>& diags) {
            return backend.MulPlainSum(h, diags, plan.period);
          },
          add));
    }
  }
  // One giant step without hoisting (the plain diagonal method): each baby
  // rotation is made when its diagonal is used, so at most one is alive.
  const bool stream = !options.hoist && plan.blocks.size() == 1;
  std::map<int64_t, Ct> rotated;
  if (!stream && !babies.empty()) {
    if (!options.hoist) {
      for (int64_t b : babies) rotated.emplace(b, rotate(x, b));
    } else if (!options.power_of_two_rotations) {
      std::vector<Ct> r = backend.RotateHoisted(x, babies);
      for (size_t i = 0; i < babies.size(); ++i) rotated.emplace(babies[i], std::move(r[i]));
    } else {
      // The first hop of every baby rotation shares the decomposition of x;
      // the remaining hops follow one by one.
      std::vector<int64_t> first;
      for (int64_t b : babies) {
        const int64_t h = PowerOfTwoHops(b, plan.slots).front();
        if (std::find(first.begin(), first.end(), h) == first.end()) first.push_back(h);
      }
      std::vector<Ct> r = backend.RotateHoisted(x, first);
      for (int64_t b : babies) {
        const std::vector<int64_t> hops = PowerOfTwoHops(b, plan.slots);
        Ct v = r[std::find(first.begin(), first.end(), hops[0]) - first.begin()];
        for (size_t i = 1; i < hops.size(); ++i) v = backend.Rotate(v, hops[i]);
        rotated.emplace(b, std::move(v));
      }
    }
  }
  return finish(SumGiantSteps<Ct>(
      plan, rotate,
      [&](const std::map<int64_t, SparseDiagonal>& diags) {
        std::optional<Ct> sum;
        for (const auto& [b, d] : diags) {
          Ct p = b == 0 ? product(x, d)
                        : stream ? product(rotate(x, b), d) : product(rotated.at(b), d);
          if (sum) {
            add(*sum, p);
          } else {
            sum = std::move(p);
          }
        }
        return std::move(*sum);
      },
      add));
}

// Rotations a transform performs under `options`: `rotations` full ones and
// `hoisted` ones that share a decomposition (each one key switch).
struct RotationTally {
  int64_t rotations = 0, hoisted = 0;
};
RotationTally CountRotations(const LinearTransformPlan& plan,
                             const TransformOptions& options = {});

// AddLinearCombinations (runtime/plan.h's streamed throughput terms) for a
// backend whose sums cost nothing to take one at a time: each empty sum
// starts as LinearCombination, each other one gets AddLinearCombination.
template <typename B, typename Ct>
void AddLinearCombinationsOneByOne(B& backend, const std::vector<std::optional<Ct>*>& sums,
                                   const std::vector<std::vector<const Ct*>>& xs,
                                   const std::vector<std::vector<double>>& ws) {
  for (size_t s = 0; s < sums.size(); ++s) {
    if (*sums[s]) {
      backend.AddLinearCombination(**sums[s], xs[s], ws[s]);
    } else {
      *sums[s] = backend.LinearCombination(xs[s], ws[s]);
    }
  }
}

}  // namespace blindfold::circuits

#endif  // BLINDFOLD_CIRCUITS_LINEAR_TRANSFORM_H_
