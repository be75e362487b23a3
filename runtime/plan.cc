// File: runtime/plan.cc
#include "runtime/plan.h"

#include <algorithm>
#include <limits>
#include <set>

#include "circuits/slot_backend.h"

namespace blindfold::runtime {

std::vector<double> LaidOut(const std::vector<double>& values, const Layout& layout,
                            int64_t period) {
  if (layout.empty()) return values;
  std::vector<double> out(period, 0.0);
  for (int64_t j = 0; j < period && j < static_cast<int64_t>(layout.size()); ++j) {
    if (layout[j] >= 0) out[j] = values[layout[j]];
  }
  return out;
}

std::vector<double> Gathered(const std::vector<double>& slots, const Layout& layout,
                             int64_t dim) {
  std::vector<double> out(dim, 0.0);
  if (layout.empty()) {
    for (int64_t e = 0; e < dim && e < static_cast<int64_t>(slots.size()); ++e) out[e] = slots[e];
    return out;
  }
  std::vector<char> seen(dim, 0);
  for (size_t j = 0; j < layout.size() && j < slots.size(); ++j) {
    const int32_t e = layout[j];
    if (e >= 0 && e < dim && !seen[e]) {
      seen[e] = 1;
      out[e] = slots[j];
    }
  }
  return out;
}

std::vector<size_t> LastReaders(const Plan& plan) {
  std::vector<size_t> last(plan.terms.size(), 0);
  auto note = [&](const PlanForm& f, size_t k) {
    for (const PlanPart& p : f.parts) last[p.term] = std::max(last[p.term], k);
  };
  for (size_t k = 1; k < plan.terms.size(); ++k) {
    note(plan.terms[k].a, k);
    if (plan.terms[k].kind == PlanTerm::Kind::kProduct) note(plan.terms[k].b, k);
  }
  note(plan.output, plan.terms.size());
  return last;
}

double CiphertextBytes(const Plan& plan, int level) {
  return 2.0 * (level + 1) * static_cast<double>(int64_t{1} << plan.params.log_n) * 8.0;
}

PartColumns ColumnsOf(const PlanPart& part) {
  PartColumns cols(part.cols);
  for (size_t r = 0; r < part.matrix.size(); ++r) {
    for (const auto& [c, w] : part.matrix[r]) cols[c].emplace_back(static_cast<int32_t>(r), w);
  }
  return cols;
}

BatchedSchedule ScheduleBatched(const Plan& plan, const BatchedOptions& options) {
  const size_t n = plan.terms.size();
  BatchedSchedule s;
  s.streamed.assign(n, 0);
  s.block_rows.resize(n);
  // Forms by id as in ExecutePlanBatched: 2k, 2k + 1, and 2n (the output).
  std::vector<const PlanForm*> forms(2 * n + 1, nullptr);
  for (size_t k = 1; k < n; ++k) {
    forms[2 * k] = &plan.terms[k].a;
    if (plan.terms[k].kind == PlanTerm::Kind::kProduct) forms[2 * k + 1] = &plan.terms[k].b;
  }
  forms[2 * n] = &plan.output;
  auto sums_bytes = [&](const PlanForm& f) {
    return static_cast<double>(f.dim) * CiphertextBytes(plan, f.level + (f.rescale ? 1 : 0));
  };
  auto term_bytes = [&](size_t k) {
    return static_cast<double>(plan.terms[k].dim) * CiphertextBytes(plan, plan.terms[k].level);
  };
  for (size_t k = 1; k < n; ++k) {
    bool can = true;
    double readers = 0;
    for (size_t id = 0; id < forms.size(); ++id) {
      if (forms[id] == nullptr) continue;
      bool reads = false;
      for (const PlanPart& p : forms[id]->parts) {
        if (p.term != static_cast<int>(k)) continue;
        reads = true;
        can = can && !p.identity;
      }
      if (reads) readers += sums_bytes(*forms[id]);
    }
    const double bytes = term_bytes(k);
    s.streamed[k] = can && readers > 0 && bytes > options.hold_bytes && readers < bytes;
    const double limb_bytes = static_cast<double>(int64_t{1} << plan.params.log_n) * 8.0;
    s.block_rows[k] =
        s.streamed[k]
            ? std::clamp<int64_t>(static_cast<int64_t>(options.block_limb_bytes / limb_bytes),
                                  1, std::max<int64_t>(1, plan.terms[k].dim))
            : std::max<int64_t>(1, plan.terms[k].dim);
  }
  // The bytes alive while term k (k = n: the output) is made: held terms
  // still to be read, term k itself (or its block), and the accumulators
  // of every form fed by a streamed term made so far and not yet consumed.
  const std::vector<size_t> last = LastReaders(plan);
  auto peak = [&](bool streaming) {
    double top = 0;
    for (size_t k = 1; k <= n; ++k) {
      double alive = 0;
      for (size_t j = 0; j < n; ++j) {
        const bool streamed = streaming && s.streamed[j];
        if (j < k && !streamed && last[j] >= k) alive += term_bytes(j);
        if (j == k) {
          alive += streamed ? static_cast<double>(s.block_rows[j]) *
                                  CiphertextBytes(plan, plan.terms[j].level)
                            : term_bytes(j);
        }
      }
      if (streaming) {
        for (size_t id = 2 * k; id < forms.size(); ++id) {
          if (forms[id] == nullptr) continue;
          bool fed = false;
          for (const PlanPart& p : forms[id]->parts) {
            fed = fed || (s.streamed[p.term] && static_cast<size_t>(p.term) <= k);
          }
          if (fed) alive += sums_bytes(*forms[id]);
        }
      }
      top = std::max(top, alive);
    }
    return top;
  };
  s.peak_bytes = peak(true);
  s.held_peak_bytes = peak(false);
  return s;
}

std::vector<double> EvaluatePlanInSlots(const Plan& plan, const std::vector<double>& x) {
  if (plan.mode == PackingMode::kThroughput) {
    circuits::SlotBackend one(1);
    std::vector<std::vector<double>> in;
    for (double v : x) in.push_back({v});
    // One-slot vectors are small: every term held (no block pushes).
    BatchedOptions hold;
    hold.hold_bytes = std::numeric_limits<double>::infinity();
    const auto out = ExecutePlanBatched(one, plan, std::move(in), hold);
    std::vector<double> y;
    for (const auto& o : out) y.push_back(o[0]);
    return y;
  }
  circuits::SlotBackend slots(plan.slots);
  const auto y = ExecutePlan(
      slots, plan,
      circuits::Tile(LaidOut(x, plan.terms[0].layout, plan.terms[0].period),
                     plan.terms[0].period, plan.slots));
  return Gathered(y, plan.output.layout, plan.output.dim);
}

const char* PackingModeName(PackingMode mode) {
  return mode == PackingMode::kThroughput ? "throughput" : "latency";
}
namespace {

template <typename F>
void ForEachTransform(const Plan& plan, F f) {
  auto form = [&](const PlanForm& pf) {
    for (const PlanPart& p : pf.parts) {
      if (!p.identity) f(p.lt);
    }
  };
  for (const PlanTerm& t : plan.terms) {
    form(t.a);
    if (t.kind == PlanTerm::Kind::kProduct) form(t.b);
  }
  form(plan.output);
}

}  // namespace

std::vector<int64_t> Plan::Rotations() const {
  if (execution.power_of_two_rotations) {
    return circuits::PowerOfTwoRotations(int64_t{1} << std::max(0, params.log_n - 1));
  }
  std::set<int64_t> all;
  ForEachTransform(*this, [&](const circuits::LinearTransformPlan& lt) {
    for (int64_t r : lt.Rotations()) all.insert(r);
  });
  return {all.begin(), all.end()};
}

std::map<int64_t, int> Plan::RotationLevels() const {
  // ApplyLinearTransform rotates its input (babies, giants) at the level
  // the products need and the inner sums after the optional rescale (with
  // eager rescales the giants run one lower: the key still reaches them).
  // Power-of-two key sets are made whole, at the top.
  std::map<int64_t, int> out;
  if (execution.power_of_two_rotations) {
    for (int64_t r : Rotations()) out.emplace(r, depth);
    return out;
  }
  auto note = [&](int64_t r, int level) {
    int& l = out.emplace(r, level).first->second;
    l = std::max(l, level);
  };
  auto form = [&](const PlanForm& f) {
    const int in_level = f.level + (f.rescale ? 1 : 0);
    for (const PlanPart& p : f.parts) {
      if (p.identity) continue;
      for (int64_t r : p.lt.BabySteps()) note(r, in_level);
      for (int64_t r : p.lt.GiantSteps()) note(r, in_level);
      for (int64_t r : p.lt.SumSteps()) note(r, f.level);
    }
  };
  for (const PlanTerm& t : terms) {
    if (t.kind == PlanTerm::Kind::kInput) continue;
    form(t.a);
    if (t.kind == PlanTerm::Kind::kProduct) form(t.b);
  }
  form(output);
  return out;
}

int Plan::RelinLevel() const {
  int level = -1;
  // With the power-of-two key set (SEAL's default keys) the relinearization
  // key is made whole too, at the top: one key set serves every plan on the
  // same parameters.
  if (execution.power_of_two_rotations && CiphertextProductCount() > 0) return depth;
  for (const PlanTerm& t : terms) {
    // Products of the forms' level (one above the term's).
    if (t.kind == PlanTerm::Kind::kSquare || t.kind == PlanTerm::Kind::kProduct) {
      level = std::max(level, t.level + 1);
    }
  }
  return level;
}

int64_t Plan::RotationCount() const {
  int64_t n = 0;
  ForEachTransform(*this, [&](const circuits::LinearTransformPlan& lt) {
    n += circuits::CountRotations(lt, execution).rotations;
  });
  return n;
}

int64_t Plan::HoistedRotationCount() const {
  int64_t n = 0;
  ForEachTransform(*this, [&](const circuits::LinearTransformPlan& lt) {
    n += circuits::CountRotations(lt, execution).hoisted;
  });
  return n;
}

int64_t Plan::PlainProductCount() const {
  int64_t n = 0;
  ForEachTransform(*this, [&](const circuits::LinearTransformPlan& lt) {
    n += lt.num_diagonals();
  });
  return n;
}

int64_t Plan::CiphertextProductCount() const {
  int64_t n = 0;
  for (const PlanTerm& t : terms) {
    n += t.kind == PlanTerm::Kind::kSquare || t.kind == PlanTerm::Kind::kProduct;
  }
  return n;
}

}  // namespace blindfold::runtime
