// File: compiler/lower/pack.cc
#include "compiler/lower/pack.h"

#include <algorithm>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "base/status.h"

namespace blindfold::compiler {
namespace {

using circuits::NextPowerOfTwo;

// Packs `f` to produce its value at `level`; a part may stay the bare term
// only when the term already sits at that level.
absl::StatusOr<runtime::PlanForm> PackForm(const Program& p, const LinearForm& f,
                                           int level, const std::vector<int>& levels,
                                           const std::vector<int64_t>& periods,
                                           int64_t slots,
                                           const circuits::RotationCost& cost,
                                           const std::string& where, bool batched) {
  runtime::PlanForm out;
  out.dim = f.dim;
  out.period = batched ? 1 : NextPowerOfTwo(f.dim);
  out.bias = f.bias;
  out.level = level;
  for (const auto& [term, m] : f.parts) {
    runtime::PlanPart part;
    part.term = term;
    if (levels[term] < level + (m.IsIdentity() && levels[term] == level ? 0 : 1)) {
      return absl::InternalError(absl::StrCat("PackLatency: ", where, ": term ",
                                              term, " at level ", levels[term],
                                              " is below the form's level ", level));
    }
    if (m.IsIdentity() && levels[term] == level) {
      part.identity = true;
    } else {
      part.rows = m.rows;
      part.cols = m.cols;
      part.matrix = m.row;
      if (batched) {
        out.parts.push_back(std::move(part));
        continue;
      }
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

namespace {

absl::StatusOr<runtime::Plan> Pack(const Program& program, int64_t max_slots,
                                   const circuits::RotationCost& cost, bool batched) {
  runtime::Plan plan;
  plan.mode = batched ? runtime::PackingMode::kThroughput
                      : runtime::PackingMode::kLatency;
  plan.model = program.name;
  plan.input_shape = program.input_shape;
  plan.output_shape = program.output_shape;
  plan.depth = program.depth();
  std::vector<int64_t> periods;
  int64_t slots = 2;
  auto need = [&](int64_t dim, const std::string& where) -> absl::Status {
    if (batched) {
      slots = max_slots;
      return absl::OkStatus();
    }
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
    periods.push_back(batched ? 1 : NextPowerOfTwo(t.dim));
  }
  BF_RETURN_IF_ERROR(need(program.output.dim, "the output"));
  plan.slots = slots;
  // Levels: the input at the plan's depth; a form one below its deepest
  // part's term (or at the term, for a bare term); both forms of a product
  // at the lower of their levels; a term one below its forms.
  std::vector<int> levels;
  auto natural = [&](const LinearForm& f) {
    if (f.IsShiftedTerm()) return levels[f.parts.begin()->first];
    int l = plan.depth;
    for (const auto& [t, m] : f.parts) l = std::min(l, levels[t] - 1);
    return l;
  };
  for (size_t k = 0; k < program.terms.size(); ++k) {
    const Term& t = program.terms[k];
    runtime::PlanTerm pt;
    pt.kind = static_cast<runtime::PlanTerm::Kind>(static_cast<int>(t.kind));
    pt.dim = t.dim;
    pt.period = periods[k];
    pt.depth = t.depth;
    const std::string where = absl::StrCat("term from '", t.source, "'");
    if (t.kind == Term::Kind::kInput) {
      pt.level = plan.depth;
    } else {
      int l = natural(t.a);
      if (t.kind == Term::Kind::kProduct) l = std::min(l, natural(t.b));
      BF_ASSIGN_OR_RETURN(pt.a, PackForm(program, t.a, l, levels, periods, slots,
                                         cost, where, batched));
      if (t.kind == Term::Kind::kProduct) {
        BF_ASSIGN_OR_RETURN(pt.b, PackForm(program, t.b, l, levels, periods,
                                           slots, cost, where, batched));
      }
      pt.level = t.kind == Term::Kind::kLinear ? l : l - 1;
    }
    levels.push_back(pt.level);
    plan.terms.push_back(std::move(pt));
  }
  BF_ASSIGN_OR_RETURN(plan.output,
                      PackForm(program, program.output, natural(program.output),
                               levels, periods, slots, cost, "the output", batched));
  if (plan.output.level != 0) {
    return absl::InternalError(absl::StrCat("PackLatency: output at level ",
                                            plan.output.level, ", expected 0"));
  }
  return plan;
}

}  // namespace

absl::StatusOr<runtime::Plan> PackLatency(const Program& program, int64_t max_slots,
                                          const circuits::RotationCost& cost) {
  return Pack(program, max_slots, cost, /*batched=*/false);
}

absl::StatusOr<runtime::Plan> PackThroughput(const Program& program, int64_t slots) {
  return Pack(program, slots, {}, /*batched=*/true);
}

}  // namespace blindfold::compiler
