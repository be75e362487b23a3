// File: compiler/lower/pack.cc
#include "compiler/lower/pack.h"

#include <algorithm>
#include <map>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "base/status.h"

namespace blindfold::compiler {
namespace {

using circuits::NextPowerOfTwo;
using runtime::Layout;

// The gather layouts (see pack.h) for the one form reading the input, or
// nothing when the input has other readers or no grouping helps.
struct Gather {
  int reader = -1;  // term whose form `a` reads the input; terms.size(): the output
  Layout input, output;
};

std::optional<Gather> InputGather(const Program& p) {
  std::vector<std::pair<int, const LinearForm*>> readers;
  for (size_t k = 1; k < p.terms.size(); ++k) {
    const Term& t = p.terms[k];
    if (t.a.parts.count(0)) readers.emplace_back(static_cast<int>(k), &t.a);
    if (t.kind == Term::Kind::kProduct && t.b.parts.count(0)) {
      readers.emplace_back(static_cast<int>(k), &t.b);
    }
  }
  if (p.output.parts.count(0)) {
    readers.emplace_back(static_cast<int>(p.terms.size()), &p.output);
  }
  if (readers.size() != 1 || readers[0].second->parts.size() != 1) return std::nullopt;
  const int reader = readers[0].first;
  if (reader < static_cast<int>(p.terms.size()) &&
      p.terms[reader].kind == Term::Kind::kProduct) {
    return std::nullopt;
  }
  const SparseMatrix& a = readers[0].second->parts.at(0);
  // Rows with the same column list form a group (for a convolution: one
  // output position, all channels).
  std::map<std::vector<int32_t>, int> group_of;
  std::vector<std::vector<int32_t>> columns;  // by group
  std::vector<int> group(a.rows), member(a.rows);
  std::vector<int> size;
  size_t k_max = 0;
  for (int64_t r = 0; r < a.rows; ++r) {
    std::vector<int32_t> cols;
    for (const auto& [c, v] : a.row[r]) cols.push_back(c);
    auto [it, fresh] = group_of.emplace(cols, static_cast<int>(columns.size()));
    if (fresh) {
      columns.push_back(cols);
      size.push_back(0);
      k_max = std::max(k_max, cols.size());
    }
    group[r] = it->second;
    member[r] = size[it->second]++;
  }
  const int64_t g = NextPowerOfTwo(static_cast<int64_t>(columns.size()));
  const int64_t m = *std::max_element(size.begin(), size.end());
  if (columns.size() < 2 || m < 2 || k_max == 0) return std::nullopt;
  Gather out;
  out.reader = reader;
  out.input.assign(NextPowerOfTwo(static_cast<int64_t>(k_max) * g), -1);
  for (size_t gi = 0; gi < columns.size(); ++gi) {
    for (size_t t = 0; t < columns[gi].size(); ++t) out.input[t * g + gi] = columns[gi][t];
  }
  out.output.assign(NextPowerOfTwo(m * g), -1);
  for (int64_t r = 0; r < a.rows; ++r) out.output[member[r] * g + group[r]] = static_cast<int32_t>(r);
  return out;
}

int64_t PeriodOf(const Layout& layout, int64_t dim) {
  return layout.empty() ? NextPowerOfTwo(dim) : static_cast<int64_t>(layout.size());
}

// Packs `f` to produce its value at `level` in `layout`; a part may stay
// the bare term only when the term already sits at that level and layout.
absl::StatusOr<runtime::PlanForm> PackForm(const LinearForm& f, int level, bool rescale,
                                           const Layout& layout,
                                           const std::vector<int>& levels,
                                           const std::vector<Layout>& layouts,
                                           const std::vector<int64_t>& periods,
                                           int64_t slots,
                                           const circuits::RotationCost& cost,
                                           const std::string& where, bool batched) {
  runtime::PlanForm out;
  out.dim = f.dim;
  out.layout = layout;
  out.period = batched ? 1 : PeriodOf(layout, f.dim);
  out.bias = f.bias;
  out.level = level;
  out.rescale = rescale;
  for (const auto& [term, m] : f.parts) {
    runtime::PlanPart part;
    part.term = term;
    const bool bare =
        rescale && m.IsIdentity() && levels[term] == level && layouts[term] == layout;
    if (levels[term] < level + (bare || !rescale ? 0 : 1)) {
      return absl::InternalError(absl::StrCat("Pack: ", where, ": term ", term,
                                              " at level ", levels[term],
                                              " is below the form's level ", level));
    }
    if (bare) {
      part.identity = true;
    } else {
      part.rows = m.rows;
      part.cols = m.cols;
      part.matrix = m.row;
      if (!batched) {
        auto lt = circuits::PlanLinearTransform(
            m.rows, m.cols, m.row, periods[term],
            layouts[term].empty() ? nullptr : &layouts[term],
            layout.empty() ? nullptr : &layout, slots, cost);
        if (!lt.ok()) {
          return absl::InvalidArgumentError(
              absl::StrCat("Pack: ", where, ": ", lt.status().message()));
        }
        part.lt = *std::move(lt);
      }
    }
    out.parts.push_back(std::move(part));
  }
  return out;
}

absl::StatusOr<runtime::Plan> Pack(const Program& program, int64_t max_slots,
                                   const circuits::RotationCost& cost, bool batched,
                                   bool gather) {
  runtime::Plan plan;
  plan.mode = batched ? runtime::PackingMode::kThroughput
                      : runtime::PackingMode::kLatency;
  plan.model = program.name;
  plan.input_shape = program.input_shape;
  plan.output_shape = program.output_shape;
  plan.depth = program.depth();
  const size_t n = program.terms.size();

  // Layouts: plain, except the gather of the input and of its one reader.
  std::vector<Layout> layouts(n);
  Layout output_layout;
  if (gather && !batched) {
    if (auto g = InputGather(program)) {
      layouts[0] = g->input;
      if (g->reader < static_cast<int>(n)) {
        layouts[g->reader] = g->output;
      } else {
        output_layout = g->output;
      }
    }
  }
  std::vector<int64_t> periods;
  int64_t slots = 2;
  auto need = [&](int64_t period, int64_t dim, const std::string& where) -> absl::Status {
    if (batched) {
      slots = max_slots;
      return absl::OkStatus();
    }
    if (period > max_slots) {
      return absl::InvalidArgumentError(absl::StrCat(
          "Pack: ", where, " has ", dim, " values, packed in ", period,
          " slots; at most ", max_slots, " slots fit (ring degree ", 2 * max_slots, ")"));
    }
    slots = std::max(slots, period);
    return absl::OkStatus();
  };
  for (size_t k = 0; k < n; ++k) {
    const Term& t = program.terms[k];
    periods.push_back(batched ? 1 : PeriodOf(layouts[k], t.dim));
    BF_RETURN_IF_ERROR(need(periods.back(), t.dim, absl::StrCat("term from '", t.source, "'")));
  }
  BF_RETURN_IF_ERROR(need(PeriodOf(output_layout, program.output.dim), program.output.dim,
                          "the output"));
  plan.slots = slots;
  // Levels: the input at the plan's depth; a form one below its deepest
  // part's term (or at the term, for a bare term); both forms of a product
  // at the lower of their levels; a term one below its forms.
  std::vector<int> levels;
  auto natural = [&](const LinearForm& f, const Layout& layout) {
    if (f.IsShiftedTerm() && layouts[f.parts.begin()->first] == layout) {
      return levels[f.parts.begin()->first];
    }
    int l = plan.depth;
    for (const auto& [t, m] : f.parts) l = std::min(l, levels[t] - 1);
    return l;
  };
  for (size_t k = 0; k < n; ++k) {
    const Term& t = program.terms[k];
    runtime::PlanTerm pt;
    pt.kind = static_cast<runtime::PlanTerm::Kind>(static_cast<int>(t.kind));
    pt.dim = t.dim;
    pt.period = periods[k];
    pt.layout = layouts[k];
    pt.depth = t.depth;
    const std::string where = absl::StrCat("term from '", t.source, "'");
    if (t.kind == Term::Kind::kInput) {
      pt.level = plan.depth;
    } else {
      int l = natural(t.a, layouts[k]);
      if (t.kind == Term::Kind::kProduct) l = std::min(l, natural(t.b, layouts[k]));
      BF_ASSIGN_OR_RETURN(pt.a, PackForm(t.a, l, true, layouts[k], levels, layouts,
                                         periods, slots, cost, where, batched));
      if (t.kind == Term::Kind::kProduct) {
        BF_ASSIGN_OR_RETURN(pt.b, PackForm(t.b, l, true, layouts[k], levels, layouts,
                                           periods, slots, cost, where, batched));
      }
      pt.level = t.kind == Term::Kind::kLinear ? l : l - 1;
    }
    levels.push_back(pt.level);
    plan.terms.push_back(std::move(pt));
  }
  // The output is not rescaled (runtime/plan.h): it stays on the level of
  // its products, one above where a rescale would have put it. A bare
  // output term has nothing to skip.
  const int out_level = natural(program.output, output_layout);
  const bool bare_output =
      program.output.IsShiftedTerm() &&
      layouts[program.output.parts.begin()->first] == output_layout;
  BF_ASSIGN_OR_RETURN(plan.output,
                      PackForm(program.output, bare_output ? out_level : out_level + 1,
                               bare_output, output_layout, levels, layouts, periods,
                               slots, cost, "the output", batched));
  if (plan.output.level != (plan.output.rescale ? 0 : 1)) {
    return absl::InternalError(absl::StrCat("Pack: output at level ", plan.output.level,
                                            ", expected ",
                                            plan.output.rescale ? 0 : 1));
  }
  return plan;
}

}  // namespace

absl::StatusOr<runtime::Plan> PackLatency(const Program& program, int64_t max_slots,
                                          const circuits::RotationCost& cost,
                                          bool gather_input) {
  return Pack(program, max_slots, cost, /*batched=*/false, gather_input);
}

absl::StatusOr<runtime::Plan> PackThroughput(const Program& program, int64_t slots) {
  return Pack(program, slots, {}, /*batched=*/true, /*gather=*/false);
}

}  // namespace blindfold::compiler
