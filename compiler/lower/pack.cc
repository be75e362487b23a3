// File: compiler/lower/pack.cc
#include "compiler/lower/pack.h"

#include <algorithm>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "base/status.h"

namespace blindfold::compiler {
namespace {

using circuits::NextPowerOfTwo;

absl::StatusOr<runtime::PlanForm> PackForm(const Program& p, const LinearForm& f,
                                           const std::vector<int64_t>& periods,
                                           int64_t slots,
                                           const circuits::RotationCost& cost,
                                           const std::string& where) {
  runtime::PlanForm out;
  out.dim = f.dim;
  out.period = NextPowerOfTwo(f.dim);
  out.bias = f.bias;
  for (const auto& [term, m] : f.parts) {
    runtime::PlanPart part;
    part.term = term;
    if (m.IsIdentity()) {
      part.identity = true;
    } else {
      auto lt = circuits::PlanLinearTransform(m.rows, m.cols, m.row, periods[term],
                                              slots, cost);
      if (!lt.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat("PackLatency: ", where, ": ", lt.status().message()));
      }
      part.lt = *std::move(lt);
    }
    out.parts.push_back(std::move(part));
  }
  (void)p;
  return out;
}

}  // namespace

absl::StatusOr<runtime::Plan> PackLatency(const Program& program, int64_t max_slots,
                                          const circuits::RotationCost& cost) {
  runtime::Plan plan;
  plan.model = program.name;
  plan.input_shape = program.input_shape;
  plan.output_shape = program.output_shape;
  plan.depth = program.depth();
  std::vector<int64_t> periods;
  int64_t slots = 2;
  auto need = [&](int64_t dim, const std::string& where) -> absl::Status {
    const int64_t p = NextPowerOfTwo(dim);
    if (p > max_slots) {
      return absl::InvalidArgumentError(absl::StrCat(
          "PackLatency: ", where, " has ", dim, " values, packed in ", p,
          " slots; at most ", max_slots, " slots fit (ring degree ",
          2 * max_slots, ")"));
    }
    slots = std::max(slots, p);
    return absl::OkStatus();
  };
  for (const Term& t : program.terms) {
    BF_RETURN_IF_ERROR(need(t.dim, absl::StrCat("term from '", t.source, "'")));
    periods.push_back(NextPowerOfTwo(t.dim));
  }
  BF_RETURN_IF_ERROR(need(program.output.dim, "the output"));
  plan.slots = slots;
  for (size_t k = 0; k < program.terms.size(); ++k) {
    const Term& t = program.terms[k];
    runtime::PlanTerm pt;
    pt.kind = static_cast<runtime::PlanTerm::Kind>(static_cast<int>(t.kind));
    pt.dim = t.dim;
    pt.period = periods[k];
    pt.depth = t.depth;
    const std::string where = absl::StrCat("term from '", t.source, "'");
    if (t.kind != Term::Kind::kInput) {
      BF_ASSIGN_OR_RETURN(pt.a, PackForm(program, t.a, periods, slots, cost, where));
    }
    if (t.kind == Term::Kind::kProduct) {
      BF_ASSIGN_OR_RETURN(pt.b, PackForm(program, t.b, periods, slots, cost, where));
    }
    plan.terms.push_back(std::move(pt));
  }
  BF_ASSIGN_OR_RETURN(plan.output, PackForm(program, program.output, periods,
                                            slots, cost, "the output"));
  return plan;
}

}  // namespace blindfold::compiler
