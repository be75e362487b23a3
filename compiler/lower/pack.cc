// File: compiler/lower/pack.cc
#include "compiler/lower/pack.h"

#include <algorithm>
#include <map>
#include <set>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "base/status.h"

namespace blindfold::compiler {
namespace {

using circuits::NextPowerOfTwo;
using runtime::Layout;

// The client-side layouts (see pack.h) for the one form reading the input,
// or nothing when the input has other readers or no grouping helps.
struct Gather {
  int reader = -1;  // term whose form `a` reads the input; terms.size(): the output
  Layout input, output;
};

// The reader's rows grouped by the columns they read (a convolution: one
// group per output position, its members the channels).
struct Groups {
  int reader = -1;
  std::vector<std::vector<int32_t>> columns;  // by group, ascending
  std::vector<int> group, member;             // by row
  int64_t members = 0;                        // the largest group
  size_t max_columns = 0;
};

std::optional<Groups> GroupRows(const SparseMatrix& a);

std::optional<Groups> ReaderGroups(const Program& p) {
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
  std::optional<Groups> out = GroupRows(readers[0].second->parts.at(0));
  if (out) out->reader = reader;
  return out;
}

std::optional<Groups> GroupRows(const SparseMatrix& a) {
  Groups out;
  std::map<std::vector<int32_t>, int> group_of;
  std::vector<int64_t> size;
  out.group.resize(a.rows);
  out.member.resize(a.rows);
  for (int64_t r = 0; r < a.rows; ++r) {
    std::vector<int32_t> cols;
    for (const auto& [c, v] : a.row[r]) cols.push_back(c);
    std::sort(cols.begin(), cols.end());
    auto [it, fresh] = group_of.emplace(cols, static_cast<int>(out.columns.size()));
    if (fresh) {
      out.columns.push_back(cols);
      size.push_back(0);
      out.max_columns = std::max(out.max_columns, cols.size());
    }
    out.group[r] = it->second;
    out.member[r] = static_cast<int>(size[it->second]++);
  }
  out.members = *std::max_element(size.begin(), size.end());
  if (out.columns.size() < 2 || out.members < 2 || out.max_columns == 0) return std::nullopt;
  return out;
}

// im2col: slot t·G + g of the input holds the t-th column of group g, and
// member m of group g lands in slot m·G + g.
Gather Im2col(const Groups& gr) {
  const int64_t g = NextPowerOfTwo(static_cast<int64_t>(gr.columns.size()));
  Gather out;
  out.reader = gr.reader;
  out.input.assign(NextPowerOfTwo(static_cast<int64_t>(gr.max_columns) * g), -1);
  for (size_t gi = 0; gi < gr.columns.size(); ++gi) {
    for (size_t t = 0; t < gr.columns[gi].size(); ++t) {
      out.input[t * g + gi] = gr.columns[gi][t];
    }
  }
  out.output.assign(NextPowerOfTwo(gr.members * g), -1);
  for (size_t r = 0; r < gr.group.size(); ++r) {
    out.output[gr.member[r] * g + gr.group[r]] = static_cast<int32_t>(r);
  }
  return out;
}

// Aligned copies: copy m of the plain input at slots [m·X, m·X + X) and
// member m of group g at slot m·X + anchor(g), where the anchor places the
// group's columns on the most common column pattern (a convolution's
// kernel footprint): every row of every member then reads its columns at
// the same few offsets, one diagonal per kernel tap, and the input costs
// one plain copy per member instead of one slot per (tap, position).
// Anchors that place each group's positions (ascending) on the most common
// pattern of positions (a kernel footprint): a group missing some of it (a
// border: padding taps) may fit at several anchors, and any of them reads
// its positions at pattern offsets (no new diagonal), so full groups go
// first and each later one takes the first fitting anchor no other group
// holds (its own first position when none fits).
std::vector<int64_t> FitAnchors(const std::vector<std::vector<int64_t>>& positions) {
  std::map<std::vector<int64_t>, int> count;
  for (const auto& c : positions) {
    std::vector<int64_t> shape;
    for (int64_t x : c) shape.push_back(x - c[0]);
    ++count[shape];
  }
  std::vector<int64_t> pattern;
  int best = 0;
  for (const auto& [shape, n] : count) {
    if (n > best || (n == best && shape.size() > pattern.size())) {
      best = n;
      pattern = shape;
    }
  }
  const std::set<int64_t> in_pattern(pattern.begin(), pattern.end());
  std::vector<size_t> order(positions.size());
  for (size_t g = 0; g < order.size(); ++g) order[g] = g;
  std::stable_sort(order.begin(), order.end(), [&](size_t x, size_t y) {
    return positions[x].size() > positions[y].size();
  });
  std::vector<int64_t> anchor(positions.size());
  std::set<int64_t> taken;
  for (size_t g : order) {
    const auto& c = positions[g];
    anchor[g] = c[0];
    for (int64_t o : pattern) {
      const int64_t a = c[0] - o;
      if (!taken.count(a) && std::all_of(c.begin(), c.end(), [&](int64_t v) {
            return in_pattern.count(v - a) > 0;
          })) {
        anchor[g] = a;
        break;
      }
    }
    taken.insert(anchor[g]);
  }
  return anchor;
}

std::optional<Gather> AlignedCopies(const Groups& gr, int64_t cols) {
  const int64_t x = cols;
  const int64_t period = NextPowerOfTwo(gr.members * x);
  Gather out;
  out.reader = gr.reader;
  out.input.assign(period, -1);
  for (int64_t m = 0; m < gr.members; ++m) {
    for (int64_t j = 0; j < cols; ++j) out.input[m * x + j] = static_cast<int32_t>(j);
  }
  std::vector<std::vector<int64_t>> positions;
  for (const auto& c : gr.columns) positions.emplace_back(c.begin(), c.end());
  const std::vector<int64_t> anchor = FitAnchors(positions);
  out.output.assign(period, -1);
  for (size_t r = 0; r < gr.group.size(); ++r) {
    int64_t s = (gr.member[r] * x + anchor[gr.group[r]]) % period;
    if (s < 0) s += period;
    if (out.output[s] >= 0) return std::nullopt;  // two rows on one slot
    out.output[s] = static_cast<int32_t>(r);
  }
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
                                           int64_t slots, const PackOptions& options,
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
        // The plain diagonal method: every diagonal offset a baby step (the
        // offsets run below the output period when it is the smaller one,
        // below the input period otherwise: circuits/linear_transform.h).
        const int64_t baby_step =
            options.plain_diagonals ? std::min(out.period, periods[term]) : 0;
        auto lt = circuits::PlanLinearTransform(
            m.rows, m.cols, m.row, periods[term],
            layouts[term].empty() ? nullptr : &layouts[term],
            layout.empty() ? nullptr : &layout, slots, options.cost, baby_step);
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
                                   const PackOptions& options, bool batched) {
  const InputPacking input_packing = options.input_packing;
  runtime::Plan plan;
  plan.mode = batched ? runtime::PackingMode::kThroughput
                      : runtime::PackingMode::kLatency;
  plan.model = program.name;
  plan.input_shape = program.input_shape;
  plan.output_shape = program.output_shape;
  // The input's level (plan.depth): the program's depth, or higher.
  plan.depth = std::max(program.depth(), batched ? 0 : options.input_level);
  const int extra_levels = plan.depth - program.depth();
  const size_t n = program.terms.size();

  // Layouts: plain, except the gather of the input and of its one reader.
  std::vector<Layout> layouts(n);
  Layout output_layout;
  std::optional<Gather> gather;
  if (!batched && input_packing != InputPacking::kPlain) {
    if (auto groups = ReaderGroups(program)) {
      gather = input_packing == InputPacking::kIm2col
                   ? std::optional<Gather>(Im2col(*groups))
                   : AlignedCopies(*groups, program.terms[0].dim);
    }
    if (!gather) {
      return absl::InvalidArgumentError(absl::StrCat(
          "Pack: the input has no single grouped reader for the ",
          InputPackingName(input_packing), " layout"));
    }
  }
  if (gather) {
    layouts[0] = gather->input;
    if (gather->reader < static_cast<int>(n)) {
      layouts[gather->reader] = gather->output;
    } else {
      output_layout = gather->output;
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
  // A sum of terms costs no level in an unfused program (program.h):
  // its lowest terms stay as they are.
  auto free_sum = [&](const LinearForm& f, const Layout& layout) {
    if (!(f.IsShiftedTerm() || (program.free_identity_sums && f.IsIdentitySum()))) {
      return false;
    }
    for (const auto& [t, m] : f.parts) {
      if (layouts[t] != layout) return false;
    }
    return true;
  };
  auto natural = [&](const LinearForm& f, const Layout& layout) {
    if (free_sum(f, layout)) {
      int l = plan.depth;
      for (const auto& [t, m] : f.parts) l = std::min(l, levels[t]);
      return l;
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
                                         periods, slots, options, where, batched));
      if (t.kind == Term::Kind::kProduct) {
        BF_ASSIGN_OR_RETURN(pt.b, PackForm(t.b, l, true, layouts[k], levels, layouts,
                                           periods, slots, options, where, batched));
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
  const bool bare_output = free_sum(program.output, output_layout);
  BF_ASSIGN_OR_RETURN(plan.output,
                      PackForm(program.output, bare_output ? out_level : out_level + 1,
                               bare_output, output_layout, levels, layouts, periods,
                               slots, options, "the output", batched));
  const int want_level = (plan.output.rescale ? 0 : 1) + extra_levels;
  if (plan.output.level != want_level) {
    return absl::InternalError(absl::StrCat("Pack: output at level ", plan.output.level,
                                            ", expected ", want_level));
  }
  return plan;
}

}  // namespace

absl::StatusOr<runtime::Plan> PackLatency(const Program& program, int64_t max_slots,
                                          const PackOptions& options) {
  return Pack(program, max_slots, options, /*batched=*/false);
}

absl::StatusOr<runtime::Plan> PackLatency(const Program& program, int64_t max_slots,
                                          const circuits::RotationCost& cost,
                                          InputPacking input_packing) {
  PackOptions o;
  o.cost = cost;
  o.input_packing = input_packing;
  return Pack(program, max_slots, o, /*batched=*/false);
}

absl::StatusOr<runtime::Plan> PackThroughput(const Program& program, int64_t slots) {
  return Pack(program, slots, PackOptions{}, /*batched=*/true);
}

const char* InputPackingName(InputPacking p) {
  switch (p) {
    case InputPacking::kPlain: return "plain";
    case InputPacking::kIm2col: return "im2col";
    case InputPacking::kAlignedCopies: return "aligned-copies";
  }
  return "?";
}

}  // namespace blindfold::compiler
