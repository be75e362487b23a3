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

// Group placement, shared by the aligned-copies input layout and the fitted
// layouts of later terms. A group is a set of rows reading the same slots
// (a convolution: the output channels at one position), `positions` its
// slots ascending; member m of a group anchored at a sits in slot
// (a + delta[m]) mod period and reads its slots at offsets (slot - a -
// delta[m]). Anchoring every group on the most common shape of positions
// (a kernel footprint) gives all members one diagonal per shape element
// and delta.

// The most common shape (positions minus the first) among the groups; the
// larger on a tie.
std::vector<int64_t> MostCommonShape(const std::vector<std::vector<int64_t>>& positions) {
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
  return pattern;
}

int64_t Wrap(int64_t x, int64_t period) { return ((x % period) + period) % period; }

// True when `positions` minus its first element is `shape`.
bool HasShape(const std::vector<int64_t>& positions, const std::vector<int64_t>& shape) {
  if (positions.size() != shape.size()) return false;
  for (size_t i = 0; i < positions.size(); ++i) {
    if (positions[i] - positions[0] != shape[i]) return false;
  }
  return true;
}

// Anchors the groups whose shape is `pattern` at their first position
// (`full` true) or the others (`full` false), each with all its members'
// slots free in `occupied`, which it marks. A group missing part of the
// pattern (a border: padding taps) fits at several anchors, any of which
// reads its positions at pattern offsets (no new diagonal); it takes the
// free one with its first position at the largest pattern offset (for a
// convolution's top and left borders the anchor a full footprint would
// have), else the first free anchor from its first position on (new
// diagonals). Groups go largest first. Nothing when a group finds no free
// anchor.
bool PlaceGroups(const std::vector<std::vector<int64_t>>& positions,
                 const std::vector<int64_t>& pattern, const std::vector<size_t>& sizes,
                 const std::vector<int64_t>& delta, int64_t period, bool full,
                 std::vector<char>& occupied, std::vector<int64_t>& anchor) {
  const std::set<int64_t> in_pattern(pattern.begin(), pattern.end());
  auto is_full = [&](size_t g) { return HasShape(positions[g], pattern); };
  auto free_at = [&](size_t g, int64_t a) {
    for (size_t m = 0; m < sizes[g]; ++m) {
      if (occupied[Wrap(a + delta[m], period)]) return false;
    }
    return true;
  };
  std::vector<size_t> order;
  for (size_t g = 0; g < positions.size(); ++g) {
    if (is_full(g) == full) order.push_back(g);
  }
  std::stable_sort(order.begin(), order.end(), [&](size_t x, size_t y) {
    return positions[x].size() > positions[y].size();
  });
  for (size_t g : order) {
    const auto& c = positions[g];
    int64_t a = c[0];
    bool placed = full && free_at(g, a);
    for (auto o = pattern.rbegin(); !full && !placed && o != pattern.rend(); ++o) {
      a = c[0] - *o;
      placed = free_at(g, a) && std::all_of(c.begin(), c.end(), [&](int64_t v) {
                 return in_pattern.count(v - a) > 0;
               });
    }
    for (int64_t i = 0; !full && !placed && i < period; ++i) {
      a = c[0] + i;
      placed = free_at(g, a);
    }
    if (!placed) return false;
    anchor[g] = a;
    for (size_t m = 0; m < sizes[g]; ++m) occupied[Wrap(a + delta[m], period)] = 1;
  }
  return true;
}

// Aligned copies: copy m of the plain input at slots [m·X, m·X + X) and
// member m of group g at slot m·X + anchor(g) (PlaceGroups with delta[m] =
// m·X): every row of every member reads its columns at the same few
// offsets, one diagonal per kernel tap, and the input costs one plain copy
// per member instead of one slot per (tap, position). X is the input's
// size, or the next power of two when that fits the same period: a later
// map then finds each copy's values one rotation by a multiple of X away,
// cyclically (FitLayout lines whole blocks up).
std::optional<Gather> AlignedCopies(const Groups& gr, int64_t cols) {
  const int64_t period = NextPowerOfTwo(gr.members * cols);
  const int64_t x =
      gr.members * NextPowerOfTwo(cols) <= period ? NextPowerOfTwo(cols) : cols;
  Gather out;
  out.reader = gr.reader;
  std::vector<std::vector<int64_t>> positions;
  for (const auto& c : gr.columns) positions.emplace_back(c.begin(), c.end());
  std::vector<size_t> sizes(positions.size(), 0);
  for (int g : gr.group) ++sizes[g];
  std::vector<int64_t> delta;
  for (int64_t m = 0; m < gr.members; ++m) delta.push_back(m * x);
  const std::vector<int64_t> pattern = MostCommonShape(positions);
  std::vector<char> occupied(period, 0);
  std::vector<int64_t> anchor(positions.size());
  for (bool full : {true, false}) {
    if (!PlaceGroups(positions, pattern, sizes, delta, period, full, occupied, anchor)) {
      return std::nullopt;
    }
  }
  // Border anchors may lie before their copy (a padded convolution's top
  // left): when the stride leaves room, input copies and outputs move up
  // together by that much, so that no output wraps around the period (a
  // later map then sees each copy's positions in order) and every diagonal
  // offset stays what it was.
  const auto [lo, hi] = std::minmax_element(anchor.begin(), anchor.end());
  int64_t shift = *lo < 0 ? -*lo : 0;
  if (shift + cols > x || (gr.members - 1) * x + shift + std::max(*hi, cols - 1) >= period) {
    shift = 0;
  }
  out.input.assign(period, -1);
  for (int64_t m = 0; m < gr.members; ++m) {
    for (int64_t j = 0; j < cols; ++j) out.input[m * x + shift + j] = static_cast<int32_t>(j);
  }
  out.output.assign(period, -1);
  for (size_t r = 0; r < gr.group.size(); ++r) {
    out.output[Wrap(gr.member[r] * x + anchor[gr.group[r]] + shift, period)] =
        static_cast<int32_t>(r);
  }
  return out;
}

// A fitted layout for a term whose forms all read one earlier term, laid
// out as `in_layout` (empty: element c in slot c) with period `period`:
// the groups of rows reading the same slots are placed by PlaceGroups, the
// deltas chosen greedily, each the one whose shifted pattern adds the
// fewest new diagonal offsets while the full groups' members stay on free
// slots (for a convolution after a pooling: whole channel blocks, then the
// gaps the pooling left); the other groups are placed after. Rows that
// read nothing (constants) take free slots. Nothing when there is a single
// group (a dense layer: the tiled layout's reduce case already has at most
// pow2(rows) diagonals), the rows do not fit, or the search would be too
// large.
std::optional<Layout> FitLayout(const Term& t, const Layout& in_layout, int64_t period) {
  const int j = t.a.parts.begin()->first;
  std::vector<int64_t> slot_of(static_cast<size_t>(t.a.parts.at(j).cols), -1);
  for (int64_t s = 0; s < period; ++s) {
    const int64_t c = in_layout.empty()
                          ? (s < static_cast<int64_t>(slot_of.size()) ? s : -1)
                          : in_layout[s];
    if (c >= 0 && slot_of[c] < 0) slot_of[c] = s;
  }
  std::map<std::vector<int64_t>, int> group_of;
  std::vector<std::vector<int64_t>> positions;
  std::vector<std::vector<int32_t>> members;
  std::vector<int32_t> constants;
  for (int64_t r = 0; r < t.dim; ++r) {
    std::vector<int64_t> pos;
    for (const LinearForm* f : {&t.a, &t.b}) {
      if (f == &t.b && t.kind != Term::Kind::kProduct) continue;
      for (const auto& [c, v] : f->parts.at(j).row[r]) {
        if (slot_of[c] < 0) return std::nullopt;
        pos.push_back(slot_of[c]);
      }
    }
    std::sort(pos.begin(), pos.end());
    pos.erase(std::unique(pos.begin(), pos.end()), pos.end());
    if (pos.empty()) {
      constants.push_back(static_cast<int32_t>(r));
      continue;
    }
    auto [it, fresh] = group_of.emplace(pos, static_cast<int>(positions.size()));
    if (fresh) {
      positions.push_back(pos);
      members.emplace_back();
    }
    members[it->second].push_back(static_cast<int32_t>(r));
  }
  if (positions.size() < 2 || t.dim > period) return std::nullopt;
  const std::vector<int64_t> pattern = MostCommonShape(positions);
  constexpr size_t kMaxPattern = 4096;
  if (pattern.size() > kMaxPattern) return std::nullopt;
  std::vector<size_t> sizes;
  size_t max_members = 0;
  for (const auto& m : members) {
    sizes.push_back(m.size());
    max_members = std::max(max_members, m.size());
  }
  // The full groups' anchors, then the deltas.
  std::vector<char> occupied(period, 0);
  std::vector<int64_t> anchor(positions.size(), 0);
  std::vector<size_t> first_only(sizes.size(), 1);
  if (!PlaceGroups(positions, pattern, first_only, {0}, period, true, occupied, anchor)) {
    return std::nullopt;
  }
  std::vector<char> is_full(positions.size(), 0);
  for (size_t g = 0; g < positions.size(); ++g) {
    is_full[g] = HasShape(positions[g], pattern);
  }
  // Offsets (input slot - output slot) mod period in use: the pattern
  // shifted by each chosen delta.
  std::vector<char> in_use(period, 0);
  std::vector<int64_t> offsets;
  auto use = [&](int64_t d) {
    for (int64_t p : pattern) {
      const int64_t o = Wrap(p - d, period);
      if (!in_use[o]) {
        in_use[o] = 1;
        offsets.push_back(o);
      }
    }
  };
  auto fits = [&](size_t m, int64_t d) {
    for (size_t g = 0; g < positions.size(); ++g) {
      if (is_full[g] && sizes[g] > m && occupied[Wrap(anchor[g] + d, period)]) return false;
    }
    return true;
  };
  std::vector<int64_t> delta = {0};
  use(0);
  std::vector<int32_t> gain(period);
  for (size_t m = 1; m < max_members; ++m) {
    if (static_cast<double>(pattern.size()) * static_cast<double>(offsets.size()) > 5e7) {
      return std::nullopt;
    }
    std::fill(gain.begin(), gain.end(), 0);
    for (int64_t o : offsets) {
      for (int64_t p : pattern) ++gain[Wrap(p - o, period)];
    }
    std::vector<int64_t> order;
    for (int64_t d = 1; d < period; ++d) {
      if (gain[d] > 0) order.push_back(d);
    }
    std::stable_sort(order.begin(), order.end(),
                     [&](int64_t x, int64_t y) { return gain[x] > gain[y]; });
    int64_t chosen = -1;
    for (int64_t d : order) {
      if (fits(m, d)) {
        chosen = d;
        break;
      }
    }
    for (int64_t d = 1; chosen < 0 && d < period; ++d) {
      if (fits(m, d)) chosen = d;
    }
    if (chosen < 0) return std::nullopt;
    for (size_t g = 0; g < positions.size(); ++g) {
      if (is_full[g] && sizes[g] > m) occupied[Wrap(anchor[g] + chosen, period)] = 1;
    }
    delta.push_back(chosen);
    use(chosen);
  }
  // The other groups, on the deltas.
  if (!PlaceGroups(positions, pattern, sizes, delta, period, false, occupied, anchor)) {
    return std::nullopt;
  }
  Layout layout(period, -1);
  for (size_t g = 0; g < positions.size(); ++g) {
    for (size_t m = 0; m < members[g].size(); ++m) {
      layout[Wrap(anchor[g] + delta[m], period)] = members[g][m];
    }
  }
  int64_t s = 0;
  for (int32_t r : constants) {
    while (s < period && layout[s] >= 0) ++s;
    if (s == period) return std::nullopt;
    layout[s] = r;
  }
  return layout;
}

// The one term every form of `t` reads, or -1.
int SoleSource(const Term& t) {
  if (t.kind == Term::Kind::kInput || t.a.parts.size() != 1) return -1;
  const int j = t.a.parts.begin()->first;
  if (t.kind == Term::Kind::kProduct &&
      (t.b.parts.size() != 1 || t.b.parts.begin()->first != j)) {
    return -1;
  }
  return j;
}

int64_t PeriodOf(const Layout& layout, int64_t dim) {
  return layout.empty() ? NextPowerOfTwo(dim) : static_cast<int64_t>(layout.size());
}

// What term `t`'s transforms from term j (laid out as `in_layout`, period
// `in_period`) cost with output layout `out` (nullptr: tiled): diagonals
// plus rotations, a proxy in which an encoded diagonal and a rotation weigh
// about the same (runtime/cost_model.h at N = 2^15).
double TransformCost(const Term& t, int j, const Layout& in_layout, int64_t in_period,
                     const Layout* out, int64_t slots, const PackOptions& options) {
  double cost = 0;
  for (const LinearForm* f : {&t.a, &t.b}) {
    if (f == &t.b && t.kind != Term::Kind::kProduct) continue;
    const SparseMatrix& m = f->parts.at(j);
    auto lt = circuits::PlanLinearTransform(m.rows, m.cols, m.row, in_period,
                                            in_layout.empty() ? nullptr : &in_layout, out,
                                            slots, options.cost);
    if (!lt.ok()) return 1e300;
    cost += static_cast<double>(lt->num_diagonals() + lt->num_rotations());
  }
  return cost;
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
  // Terms some form reads as they are (a shifted term or a free sum, which
  // costs no level only in its readers' layout) keep the tiled layout.
  std::vector<char> read_bare(n, 0);
  auto mark_bare = [&](const LinearForm& f) {
    if (f.IsShiftedTerm() || (program.free_identity_sums && f.IsIdentitySum())) {
      for (const auto& [t, m] : f.parts) read_bare[t] = 1;
    }
  };
  for (size_t k = 1; k < n; ++k) {
    mark_bare(program.terms[k].a);
    if (program.terms[k].kind == Term::Kind::kProduct) mark_bare(program.terms[k].b);
  }
  mark_bare(program.output);
  for (size_t k = 0; k < n; ++k) {
    const Term& t = program.terms[k];
    // A fitted layout where it makes the term's own transforms cheaper.
    const int source = SoleSource(t);
    if (!batched && options.fit_layouts && source >= 0 && layouts[k].empty() &&
        !read_bare[k]) {
      if (std::optional<Layout> fitted = FitLayout(t, layouts[source], periods[source])) {
        const double tiled = TransformCost(t, source, layouts[source], periods[source],
                                           nullptr, max_slots, options);
        if (TransformCost(t, source, layouts[source], periods[source], &*fitted, max_slots,
                          options) < tiled) {
          layouts[k] = *std::move(fitted);
        }
      }
    }
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
