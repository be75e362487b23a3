// File: runtime/plan.cc
#include "runtime/plan.h"

#include <set>

namespace blindfold::runtime {

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
  std::set<int64_t> all;
  ForEachTransform(*this, [&](const circuits::LinearTransformPlan& lt) {
    for (int64_t r : lt.Rotations()) all.insert(r);
  });
  return {all.begin(), all.end()};
}

int64_t Plan::RotationCount() const {
  int64_t n = 0;
  ForEachTransform(*this, [&](const circuits::LinearTransformPlan& lt) {
    n += static_cast<int64_t>(lt.GiantSteps().size() + lt.SumSteps().size());
  });
  return n;
}

int64_t Plan::HoistedRotationCount() const {
  int64_t n = 0;
  ForEachTransform(*this, [&](const circuits::LinearTransformPlan& lt) {
    n += static_cast<int64_t>(lt.BabySteps().size());
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
