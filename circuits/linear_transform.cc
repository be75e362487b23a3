// File: circuits/linear_transform.cc
#include "circuits/linear_transform.h"

#include <algorithm>
#include <cmath>
#include <set>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace blindfold::circuits {
namespace {

bool IsPowerOfTwo(int64_t n) { return n > 0 && (n & (n - 1)) == 0; }

int64_t Mod(int64_t a, int64_t m) {
  const int64_t r = a % m;
  return r < 0 ? r + m : r;
}

}  // namespace

int64_t NextPowerOfTwo(int64_t n) {
  int64_t p = 1;
  while (p < n) p <<= 1;
  return p;
}

int64_t LinearTransformPlan::num_diagonals() const {
  int64_t n = 0;
  for (const auto& [g, d] : blocks) n += static_cast<int64_t>(d.size());
  return n;
}

std::vector<int64_t> LinearTransformPlan::BabySteps() const {
  std::set<int64_t> b;
  for (const auto& [g, d] : blocks) {
    for (const auto& [s, v] : d) {
      if (s != 0) b.insert(s);
    }
  }
  return {b.begin(), b.end()};
}

std::vector<int64_t> LinearTransformPlan::GiantSteps() const {
  // Horner order (linear_transform.h): from the largest giant index down,
  // each step rotates by the gap to the next index, the last by the
  // smallest index itself when it is not 0.
  std::vector<int64_t> steps;
  int64_t previous = -1;
  for (auto it = blocks.rbegin(); it != blocks.rend(); ++it) {
    if (previous >= 0) steps.push_back((previous - it->first) * baby_step);
    previous = it->first;
  }
  if (previous > 0) steps.push_back(previous * baby_step);
  return steps;
}

std::vector<int64_t> LinearTransformPlan::SumSteps() const {
  std::vector<int64_t> s;
  for (int64_t step = out_period; step < out_period * sum_count; step <<= 1) {
    s.push_back(step);
  }
  return s;
}

std::vector<int64_t> LinearTransformPlan::Rotations() const {
  std::set<int64_t> all;
  for (int64_t s : BabySteps()) all.insert(s);
  for (int64_t s : GiantSteps()) all.insert(s);
  for (int64_t s : SumSteps()) all.insert(s);
  return {all.begin(), all.end()};
}

int LinearTransformPlan::num_rotations() const {
  return static_cast<int>(BabySteps().size() + GiantSteps().size() +
                          SumSteps().size());
}

std::vector<int64_t> PowerOfTwoHops(int64_t steps, int64_t slots) {
  int64_t n = Mod(steps, slots);
  if (n > slots / 2) n -= slots;
  std::vector<int64_t> hops;
  for (int64_t bit = 1; n != 0; bit <<= 1, n /= 2) {
    if (n % 2 == 0) continue;
    // Non-adjacent form: the digit (+1 or -1) that leaves n divisible by 4.
    const int64_t digit = Mod(n, 4) == 1 ? 1 : -1;
    n -= digit;
    // -slots/2 and +slots/2 are the same rotation; name it by its positive.
    hops.push_back(digit == -1 && bit == slots / 2 ? bit : digit * bit);
  }
  return hops;
}

std::vector<int64_t> PowerOfTwoRotations(int64_t max_slots) {
  std::vector<int64_t> r;
  for (int64_t b = 1; b < max_slots; b <<= 1) {
    r.push_back(b);
    if (2 * b < max_slots) r.push_back(-b);
  }
  std::sort(r.begin(), r.end());
  return r;
}

namespace {

// Counts what ApplyLinearTransform performs, on no data.
struct CountingBackend {
  using Ct = char;
  RotationTally tally;
  std::vector<Ct> RotateHoisted(const Ct&, const std::vector<int64_t>& steps) {
    tally.hoisted += static_cast<int64_t>(steps.size());
    return std::vector<Ct>(steps.size(), 0);
  }
  Ct Rotate(const Ct&, int64_t) {
    ++tally.rotations;
    return 0;
  }
  Ct MulPlain(const Ct&, const SparseDiagonal&, int64_t) { return 0; }
  void AddInPlace(Ct&, const Ct&) {}
  Ct Finish(const Ct&) { return 0; }
};

}  // namespace

RotationTally CountRotations(const LinearTransformPlan& plan,
                             const TransformOptions& options) {
  CountingBackend b;
  if (plan.blocks.empty()) return b.tally;  // no diagonals (a throughput plan)
  ApplyLinearTransform(b, plan, CountingBackend::Ct{0}, true, options);
  return b.tally;
}

std::vector<double> Tile(const std::vector<double>& values, int64_t period,
                         int64_t slots) {
  std::vector<double> out(slots, 0.0);
  for (int64_t j = 0; j < slots; ++j) {
    const int64_t i = j % period;
    out[j] = i < static_cast<int64_t>(values.size()) ? values[i] : 0.0;
  }
  return out;
}

std::vector<double> Tile(const SparseDiagonal& values, int64_t period,
                         int64_t slots) {
  std::vector<double> out(slots, 0.0);
  for (int64_t base = 0; base < slots; base += period) {
    for (const auto& [i, v] : values) out[base + i] = v;
  }
  return out;
}

absl::StatusOr<LinearTransformPlan> PlanLinearTransform(
    int64_t rows, int64_t cols,
    const std::vector<std::vector<std::pair<int32_t, double>>>& row_entries,
    int64_t in_period, int64_t slots, const RotationCost& cost,
    int64_t baby_step) {
  return PlanLinearTransform(rows, cols, row_entries, in_period, nullptr, nullptr, slots,
                             cost, baby_step);
}

absl::StatusOr<LinearTransformPlan> PlanLinearTransform(
    int64_t rows, int64_t cols,
    const std::vector<std::vector<std::pair<int32_t, double>>>& row_entries,
    int64_t in_period, const std::vector<int32_t>* in_layout,
    const std::vector<int32_t>* out_layout, int64_t slots, const RotationCost& cost,
    int64_t baby_step) {
  if (in_layout != nullptr) in_period = static_cast<int64_t>(in_layout->size());
  if (!IsPowerOfTwo(slots) || !IsPowerOfTwo(in_period) || slots % in_period != 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "PlanLinearTransform: input period ", in_period, " and slots ", slots,
        " must be powers of two with the period dividing the slots"));
  }
  if ((in_layout == nullptr && cols > in_period) || rows < 1 ||
      static_cast<int64_t>(row_entries.size()) != rows) {
    return absl::InvalidArgumentError(absl::StrCat(
        "PlanLinearTransform: matrix ", rows, "x", cols, " with ",
        row_entries.size(), " rows of entries does not fit input period ",
        in_period));
  }
  LinearTransformPlan plan;
  plan.rows = rows;
  plan.cols = cols;
  plan.slots = slots;
  plan.in_period = in_period;
  plan.out_period = out_layout != nullptr ? static_cast<int64_t>(out_layout->size())
                                          : NextPowerOfTwo(rows);
  if (!IsPowerOfTwo(plan.out_period) || plan.out_period > slots) {
    return absl::InvalidArgumentError(absl::StrCat(
        "PlanLinearTransform: ", rows, " output rows need ", plan.out_period,
        " slots (a power of two), ", slots, " available"));
  }
  const bool reduce = plan.out_period < in_period;
  plan.period = std::max(in_period, plan.out_period);
  plan.sum_count = reduce ? in_period / plan.out_period : 1;
  const int64_t num_k = reduce ? plan.out_period : in_period;

  // Where each input element sits (several slots when the layout repeats it).
  std::vector<std::vector<int32_t>> where(cols);
  for (int64_t s = 0; s < in_period; ++s) {
    const int64_t c = in_layout != nullptr ? (*in_layout)[s] : (s < cols ? s : -1);
    if (c >= cols) {
      return absl::InvalidArgumentError(absl::StrCat(
          "PlanLinearTransform: input layout names element ", c, " of ", cols));
    }
    if (c >= 0) where[c].push_back(static_cast<int32_t>(s));
  }
  // diagonal k -> (slot within the period -> value).
  std::map<int64_t, std::map<int32_t, double>> diag;
  for (int64_t j0 = 0; j0 < plan.out_period; ++j0) {
    const int64_t r = out_layout != nullptr ? (*out_layout)[j0] : (j0 < rows ? j0 : -1);
    if (r < 0) continue;
    if (r >= rows) {
      return absl::InvalidArgumentError(absl::StrCat(
          "PlanLinearTransform: output layout names row ", r, " of ", rows));
    }
    for (const auto& [c, v] : row_entries[r]) {
      if (v == 0.0) continue;
      if (c < 0 || c >= cols || where[c].empty()) {
        return absl::InvalidArgumentError(absl::StrCat(
            "PlanLinearTransform: row ", r, " reads column ", c,
            c < 0 || c >= cols ? " outside [0, cols)" : ", which the input layout lacks"));
      }
      // Among the slots holding c, prefer one whose diagonal is in use.
      int64_t best_k = -1, best_slot = 0;
      for (int32_t s : where[c]) {
        int64_t k, slot;
        if (!reduce) {
          // Output slot j0 reads input slot (j0 + k) mod p_in.
          k = Mod(s - j0, in_period);
          slot = j0;
        } else {
          // Slots j0 + t m' (t < p_in/m') read (j + k) mod p_in, k < m'.
          const int64_t delta = Mod(s - j0, in_period);
          k = delta % plan.out_period;
          slot = j0 + (delta / plan.out_period) * plan.out_period;
        }
        if (best_k < 0 || (diag.count(k) && !diag.count(best_k))) {
          best_k = k;
          best_slot = slot;
        }
      }
      diag[best_k][static_cast<int32_t>(best_slot)] += v;
    }
  }
  if (diag.empty()) {
    return absl::InvalidArgumentError("PlanLinearTransform: the matrix is zero");
  }

  // Baby step: minimise hoisted babies * cost + giants over candidates.
  std::vector<int64_t> ks;
  for (const auto& [k, v] : diag) ks.push_back(k);
  int64_t best_b = 1;
  double best = 1e300;
  std::set<int64_t> candidates;
  for (int64_t b = 1; b <= num_k; b <<= 1) candidates.insert(b);
  const int64_t root = static_cast<int64_t>(std::sqrt(static_cast<double>(num_k)));
  for (int64_t b = 1; b <= 2 * root + 2 && b <= num_k; ++b) candidates.insert(b);
  if (baby_step > 0) {
    if (baby_step > num_k) {
      return absl::InvalidArgumentError(absl::StrCat(
          "PlanLinearTransform: baby step ", baby_step, " above the ", num_k,
          " diagonal offsets"));
    }
    candidates = {baby_step};
  }
  for (int64_t b : candidates) {
    std::set<int64_t> bs, gs;
    for (int64_t k : ks) {
      if (k % b) bs.insert(k % b);
      if (k / b) gs.insert(k / b);
    }
    const double c = cost.hoisted_rotation * static_cast<double>(bs.size()) +
                     static_cast<double>(gs.size());
    if (c < best) {
      best = c;
      best_b = b;
    }
  }
  plan.baby_step = best_b;
  for (auto& [k, v] : diag) {
    const int64_t g = k / best_b, b = k % best_b;
    // Pre-rotate by -gB so the giant rotation can follow the sum:
    // rot(d, -gB)[j] = d[(j - gB) mod period]: slot i moves to i + gB.
    SparseDiagonal r;
    const int64_t shift = g * best_b;
    for (const auto& [i, x] : v) {
      if (x != 0.0) r.emplace_back(static_cast<int32_t>(Mod(i + shift, plan.period)), x);
    }
    std::sort(r.begin(), r.end());
    plan.blocks[g][b] = std::move(r);
  }
  return plan;
}

}  // namespace blindfold::circuits
