// File: runtime/plan.h
// The plan: what the compiler hands the runtime. A packed program in the
// affine-polynomial form (compiler/lower/program.h): every linear form is a
// list of diagonal plans (circuits/linear_transform.h) over terms held as
// tiled slot vectors. The runtime executes plans; it never runs compiler
// passes.
#ifndef BLINDFOLD_RUNTIME_PLAN_H_
#define BLINDFOLD_RUNTIME_PLAN_H_

#include <algorithm>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "circuits/linear_transform.h"
#include "ckks/parameters.h"

namespace blindfold::runtime {

// One part of a form: the linear transform of one term (or the term itself
// when the part is the identity).
struct PlanPart {
  using Rows = std::vector<std::vector<std::pair<int32_t, double>>>;
  int term = 0;
  bool identity = false;
  // The matrix (rows x cols, by rows) and its diagonal plan; both unused
  // when identity. The plan file stores the matrix and the baby step; the
  // diagonals are re-derived on load (deterministic, checked against the
  // recorded counts).
  int64_t rows = 0, cols = 0;
  Rows matrix;
  circuits::LinearTransformPlan lt;
};

// Where a vector's elements sit in a period of slots: layout[j] is the
// element slot j holds (-1: zero); its size is the period. Empty: the plain
// layout, element j in slot j (period pow2(dim)). Latency mode only.
using Layout = std::vector<int32_t>;

// `values` (element order) placed by `layout` over `period` slots.
std::vector<double> LaidOut(const std::vector<double>& values, const Layout& layout,
                            int64_t period);
// The inverse: element e from the first slot holding it (dim values).
std::vector<double> Gathered(const std::vector<double>& slots, const Layout& layout,
                             int64_t dim);

// sum of parts + bias; the result has `period` (tiled) and `dim` entries.
struct PlanForm {
  int64_t dim = 0;
  int64_t period = 0;
  Layout layout;  // of the result
  // Level of the result: each non-identity part drops its term to level + 1
  // first, then one plaintext product and rescale bring it here.
  int level = 0;
  // False only for the output form: the products are not rescaled, so the
  // result stays at `level` = the products' level with scale D_level^2
  // (decryption noise and IND-CPA-D flooding then sit ~2^scale below the
  // output's precision). Its parts drop their terms to `level` itself.
  bool rescale = true;
  std::vector<PlanPart> parts;
  std::vector<double> bias;  // dim values (zeros allowed)
};

struct PlanTerm {
  // kLinear: t = a (a form materialised on its own, at the form's level).
  enum class Kind { kInput = 0, kSquare = 1, kProduct = 2, kLinear = 3 };
  Kind kind = Kind::kInput;
  int64_t dim = 0;
  int64_t period = 0;
  PlanForm a, b;  // kSquare: a ⊙ a, kProduct: a ⊙ b
  Layout layout;  // the forms' layout (the input's: the client gathers x by it)
  int depth = 0;
  int level = 0;  // the forms' level - 1 (kLinear: the form's level; the
                  // input: the plan's depth)
};

enum class PackingMode { kLatency = 0, kThroughput = 1 };
const char* PackingModeName(PackingMode mode);

struct Plan {
  std::string model;
  PackingMode mode = PackingMode::kLatency;
  // CKKS parameters (primes resolved) and the input's scale (log2) at
  // level `depth`; every level's scale follows from it (circuits/ckks_backend.h).
  ckks::ParametersLiteral params;
  double input_scale_log2 = 0;
  int64_t slots = 0;
  std::vector<int64_t> input_shape, output_shape;
  std::vector<PlanTerm> terms;  // terms[0] is the input
  PlanForm output;
  int depth = 0;
  // Output labels (class names), possibly empty.
  std::vector<std::string> labels;
  // Largest |value| of any term / the output over the calibration inputs.
  double max_term_abs = 0, max_output_abs = 0;
  // How linear transforms run (hoisting, rescaling, power-of-two
  // rotations); the defaults are the optimized ones, the conventional
  // baseline (docs/design/baseline.md) turns them off.
  circuits::TransformOptions execution;

  // The Galois key set, sorted, unique: every rotation the plan performs,
  // or, when its rotations are composed of powers of two, all of those for
  // N/2 slots (circuits::PowerOfTwoRotations).
  std::vector<int64_t> Rotations() const;
  // The highest level each rotation of the key set runs at: its key need
  // only reach that level (ckks/keys.h), which makes keys used late in the
  // chain smaller. Power-of-two key sets (the baseline) are all at the top.
  std::map<int64_t, int> RotationLevels() const;
  // The highest level a ciphertext product is relinearized at; -1: none.
  // With the power-of-two key set, the top (the key is made whole).
  int RelinLevel() const;
  // Rotations performed per evaluation (hoisted ones counted apart), under
  // the plan's execution options.
  int64_t RotationCount() const;
  int64_t HoistedRotationCount() const;
  int64_t PlainProductCount() const;
  int64_t CiphertextProductCount() const;
};

// Runs a plan on a backend B (see circuits::ApplyLinearTransform) that also
// provides:
//   void AddPlainInPlace(Ct& x, const std::vector<double>& values, int64_t period);
//   Ct Square(const Ct& x);                  // x ⊙ x, relinearized + rescaled
//   Ct Multiply(const Ct& a, const Ct& b);   // a ⊙ b, relinearized + rescaled
//   Ct DropLevel(const Ct& x, int level);
// and whose MulPlain + Finish (rescale) land on the level's canonical scale. Returns the output (period
// plan.output.period).
template <typename B>
typename B::Ct EvaluateForm(B& backend, const PlanForm& f,
                            const std::vector<std::optional<typename B::Ct>>& terms,
                            const circuits::TransformOptions& options = {}) {
  using Ct = typename B::Ct;
  std::optional<Ct> acc;
  for (const PlanPart& p : f.parts) {
    Ct y = p.identity ? *terms[p.term]
                      : circuits::ApplyLinearTransform(
                            backend, p.lt,
                            backend.DropLevel(*terms[p.term], f.level + (f.rescale ? 1 : 0)),
                            f.rescale, options);
    if (acc) {
      backend.AddInPlace(*acc, y);
    } else {
      acc = std::move(y);
    }
  }
  backend.AddPlainInPlace(*acc, LaidOut(f.bias, f.layout, f.period), f.period);
  return std::move(*acc);
}

// `observe(k, value)`, when given, sees every term k as it is made and the
// output as k = terms.size().
// The index of the last form that reads each term (terms.size() for the
// output), so executors can free a term as soon as it dies.
std::vector<size_t> LastReaders(const Plan& plan);

// `observe(k, value)`, when given, sees every term k as it is made and the
// output as k = terms.size(). Each term is freed after its last reader.
template <typename B, typename Observer = std::nullptr_t>
typename B::Ct ExecutePlan(B& backend, const Plan& plan, typename B::Ct input,
                           Observer observe = nullptr) {
  using Ct = typename B::Ct;
  const std::vector<size_t> last = LastReaders(plan);
  std::vector<std::optional<Ct>> terms(plan.terms.size());
  terms[0] = std::move(input);
  for (size_t k = 1; k < plan.terms.size(); ++k) {
    const PlanTerm& t = plan.terms[k];
    Ct a = EvaluateForm(backend, t.a, terms, plan.execution);
    if (t.kind == PlanTerm::Kind::kLinear) {
      terms[k] = std::move(a);
    } else if (t.kind == PlanTerm::Kind::kProduct) {
      Ct b = EvaluateForm(backend, t.b, terms, plan.execution);
      terms[k] = backend.Multiply(a, b);
    } else {
      terms[k] = backend.Square(a);
    }
    if constexpr (!std::is_same_v<Observer, std::nullptr_t>) observe(k, *terms[k]);
    for (size_t j = 0; j < k; ++j) {
      if (last[j] == k) terms[j].reset();
    }
  }
  Ct out = EvaluateForm(backend, plan.output, terms, plan.execution);
  if constexpr (!std::is_same_v<Observer, std::nullptr_t>) {
    observe(plan.terms.size(), out);
  }
  return out;
}

// The plan run in float64 on exact slot vectors (circuits/slot_backend.h):
// the "plaintext" an encrypted run is compared with. `x` holds the input's
// dim values; returns the output's dim values. Latency plans run on their
// slot layout, throughput plans on one-slot vectors.
std::vector<double> EvaluatePlanInSlots(const Plan& plan, const std::vector<double>& x);

// Throughput mode: element i of every vector is its own ciphertext whose
// slots hold a batch of inputs. A form's row r is sum_c A[r][c] · t[c] + b[r]:
// per part one scalar linear combination (one pass, lazy reduction), summed
// over the parts, then one rescale; no rotations at all. The backend
// provides, besides DropLevel, AddInPlace, Finish, Square and Multiply:
//   Ct LinearCombination(const std::vector<const Ct*>& xs,
//                        const std::vector<double>& weights);  // no rescale
//   void AddLinearCombination(Ct& acc, xs, weights);  // acc += the same
//   void AddLinearCombinations(sums, xss, wss);  // many: *sums[s] += ...
//                                                // (an empty sum starts at 0)
//   void AddConstInPlace(Ct& x, double c);
//   Ct Zero(int level);                     // at the canonical scale
//   int LevelOf(const Ct& x);
//
// Every element is a whole ciphertext, so a wide term is large: cnn-deep's
// first hidden term is 12,544 ciphertexts at level 5 of N = 2^14, 19.7 GB.
// Such a term is *streamed*: made in blocks of rows, each block pushed into
// the accumulators of the forms that read it (one per row of the reader:
// 6,272 for cnn-deep, 9.9 GB) and freed. The sums are exact modular sums,
// so a streamed run returns the same ciphertexts, word for word, as one that
// holds every term.
struct BatchedOptions {
  // A term of more bytes than this is streamed where that holds fewer bytes
  // (its readers' accumulators against the term); 0: wherever it can be.
  double hold_bytes = 2.0 * (1 << 30);
  // A streamed term is made in blocks whose words of one limb take at most
  // this many bytes (at least one row): each block is pushed limb by limb
  // into every sum it feeds, so it should stay in the cache meanwhile, and
  // each push reads and writes every sum it touches once, so blocks should
  // be long. 8 MiB: 64 rows at N = 2^14.
  double block_limb_bytes = 8.0 * (1 << 20);
};

struct BatchedSchedule {
  std::vector<char> streamed;       // per term; never the input (term 0)
  std::vector<int64_t> block_rows;  // per term: rows made between pushes
  // Bytes of ciphertexts alive at the widest point of a run (estimated from
  // the dims and levels: dropped copies and scratch not counted), and the
  // same with every term held.
  double peak_bytes = 0, held_peak_bytes = 0;
};

// Which terms a throughput plan streams (a term read by an identity part
// is always held: it is added as it is, not through a product).
BatchedSchedule ScheduleBatched(const Plan& plan, const BatchedOptions& options = {});
// Bytes of one ciphertext of the plan at `level` (two polynomials).
double CiphertextBytes(const Plan& plan, int level);

// Column c of a part's matrix: the rows that read it, with their weights.
using PartColumns = std::vector<std::vector<std::pair<int32_t, double>>>;
PartColumns ColumnsOf(const PlanPart& part);

namespace internal {

// The rows of one form. Parts that read held terms are gathered here, from
// the term dropped to the form's input level once; parts that read streamed
// terms were pushed into the row's accumulator before.
template <typename B>
class BatchedRows {
 public:
  using Ct = typename B::Ct;
  BatchedRows(B& backend, const PlanForm& f, const std::vector<std::vector<Ct>>& terms,
              const std::vector<char>& streamed)
      : backend_(backend), f_(f), source_(f.parts.size(), nullptr), dropped_(f.parts.size()) {
    const int in_level = f.level + (f.rescale ? 1 : 0);
    for (size_t p = 0; p < f.parts.size(); ++p) {
      const PlanPart& part = f.parts[p];
      if (streamed[part.term]) continue;
      const std::vector<Ct>& t = terms[part.term];
      source_[p] = &t;
      if (part.identity || t.empty() || backend.LevelOf(t[0]) == in_level) continue;
      dropped_[p].reserve(t.size());
      for (const Ct& c : t) dropped_[p].push_back(backend.DropLevel(c, in_level));
      source_[p] = &dropped_[p];
    }
  }

  // Row r; `pushed`: the sum the streamed parts left for it, if any.
  Ct Row(int64_t r, std::optional<Ct> pushed) {
    std::optional<Ct> acc = std::move(pushed), ident;
    for (size_t p = 0; p < f_.parts.size(); ++p) {
      if (source_[p] == nullptr) continue;  // streamed: in `pushed`
      const PlanPart& part = f_.parts[p];
      if (part.identity) {
        ident = (*source_[p])[r];
        continue;
      }
      xs_.clear();
      ws_.clear();
      for (const auto& [c, w] : part.matrix[r]) {
        xs_.push_back(&(*source_[p])[c]);
        ws_.push_back(w);
      }
      if (xs_.empty()) continue;
      if (acc) {
        backend_.AddLinearCombination(*acc, xs_, ws_);
      } else {
        acc = backend_.LinearCombination(xs_, ws_);
      }
    }
    Ct v = acc ? (f_.rescale ? backend_.Finish(*acc) : std::move(*acc))
               : (ident ? *ident : backend_.Zero(f_.level));
    if (acc && ident) backend_.AddInPlace(v, *ident);
    if (f_.bias[r] != 0.0) backend_.AddConstInPlace(v, f_.bias[r]);
    return v;
  }

 private:
  B& backend_;
  const PlanForm& f_;
  std::vector<const std::vector<Ct>*> source_;
  std::vector<std::vector<Ct>> dropped_;
  std::vector<const Ct*> xs_;
  std::vector<double> ws_;
};

}  // namespace internal

// Runs a throughput-mode plan; inputs[i] holds input element i of every
// batch member. Held terms are freed after their last use, streamed ones
// block by block (ScheduleBatched). `progress(done, total)`, when given,
// is called after each block of rows (total: the rows of every term and
// the output).
template <typename B>
std::vector<typename B::Ct> ExecutePlanBatched(
    B& backend, const Plan& plan, std::vector<typename B::Ct> inputs,
    const BatchedOptions& options = {},
    const std::function<void(int64_t, int64_t)>& progress = {}) {
  using Ct = typename B::Ct;
  const BatchedSchedule schedule = ScheduleBatched(plan, options);
  const size_t n = plan.terms.size();
  const std::vector<size_t> last = LastReaders(plan);
  // Forms by id: 2k (term k's a), 2k + 1 (its b), 2n (the output).
  auto form = [&](size_t id) -> const PlanForm& {
    return id == 2 * n ? plan.output : id % 2 ? plan.terms[id / 2].b : plan.terms[id / 2].a;
  };
  // Every part that reads a streamed term, by that term.
  struct Push {
    size_t form;
    PartColumns columns;
  };
  std::vector<std::vector<Push>> pushes(n);
  auto note = [&](size_t id) {
    for (const PlanPart& p : form(id).parts) {
      if (schedule.streamed[p.term]) pushes[p.term].push_back({id, ColumnsOf(p)});
    }
  };
  int64_t total = plan.output.dim, done = 0;
  for (size_t k = 1; k < n; ++k) {
    note(2 * k);
    if (plan.terms[k].kind == PlanTerm::Kind::kProduct) note(2 * k + 1);
    total += plan.terms[k].dim;
  }
  note(2 * n);
  std::vector<std::vector<std::optional<Ct>>> acc(2 * n + 1);
  auto take = [&](size_t id, int64_t r) -> std::optional<Ct> {
    if (acc[id].empty()) return std::nullopt;
    return std::exchange(acc[id][r], std::nullopt);
  };
  // Pushes rows [lo, lo + block.size()) of a streamed term into a reader's
  // sums: for each row it touches, the linear combination of the block's
  // elements it reads, all rows in one pass over the limbs.
  std::vector<std::vector<std::pair<int32_t, double>>> bucket;
  std::vector<int32_t> touched;
  auto push = [&](const Push& p, int64_t lo, const std::vector<Ct>& block) {
    const PlanForm& f = form(p.form);
    const int in_level = f.level + (f.rescale ? 1 : 0);
    std::vector<Ct> dropped;
    const std::vector<Ct>* src = &block;
    if (backend.LevelOf(block[0]) != in_level) {
      dropped.reserve(block.size());
      for (const Ct& c : block) dropped.push_back(backend.DropLevel(c, in_level));
      src = &dropped;
    }
    std::vector<std::optional<Ct>>& sums = acc[p.form];
    if (sums.empty()) sums.resize(f.dim);
    bucket.resize(std::max<size_t>(bucket.size(), f.dim));
    touched.clear();
    for (size_t i = 0; i < block.size(); ++i) {
      for (const auto& [r, w] : p.columns[lo + i]) {
        if (bucket[r].empty()) touched.push_back(r);
        bucket[r].emplace_back(static_cast<int32_t>(i), w);
      }
    }
    std::sort(touched.begin(), touched.end());
    std::vector<std::optional<Ct>*> targets;
    std::vector<std::vector<const Ct*>> xss;
    std::vector<std::vector<double>> wss;
    targets.reserve(touched.size());
    xss.reserve(touched.size());
    wss.reserve(touched.size());
    for (int32_t r : touched) {
      targets.push_back(&sums[r]);
      xss.emplace_back();
      wss.emplace_back();
      for (const auto& [i, w] : bucket[r]) {
        xss.back().push_back(&(*src)[i]);
        wss.back().push_back(w);
      }
      bucket[r].clear();
    }
    backend.AddLinearCombinations(targets, xss, wss);
  };
  std::vector<std::vector<Ct>> terms(n);
  terms[0] = std::move(inputs);
  for (size_t k = 1; k < n; ++k) {
    const PlanTerm& t = plan.terms[k];
    internal::BatchedRows<B> a(backend, t.a, terms, schedule.streamed);
    std::optional<internal::BatchedRows<B>> b;
    if (t.kind == PlanTerm::Kind::kProduct) b.emplace(backend, t.b, terms, schedule.streamed);
    const bool stream = schedule.streamed[k];
    std::vector<Ct> block;
    std::vector<Ct>& out = stream ? block : terms[k];
    out.reserve(stream ? schedule.block_rows[k] : t.dim);
    for (int64_t lo = 0; lo < t.dim; lo += schedule.block_rows[k]) {
      const int64_t hi = std::min(t.dim, lo + schedule.block_rows[k]);
      if (stream) block.clear();
      for (int64_t r = lo; r < hi; ++r) {
        Ct x = a.Row(r, take(2 * k, r));
        if (t.kind == PlanTerm::Kind::kProduct) {
          x = backend.Multiply(x, b->Row(r, take(2 * k + 1, r)));
        } else if (t.kind == PlanTerm::Kind::kSquare) {
          x = backend.Square(x);
        }
        out.push_back(std::move(x));
      }
      if (stream) {
        for (const Push& p : pushes[k]) push(p, lo, block);
      }
      done += hi - lo;
      if (progress) progress(done, total);
    }
    std::vector<std::optional<Ct>>().swap(acc[2 * k]);
    std::vector<std::optional<Ct>>().swap(acc[2 * k + 1]);
    for (size_t j = 0; j < k; ++j) {
      if (last[j] == k) std::vector<Ct>().swap(terms[j]);
    }
  }
  internal::BatchedRows<B> output(backend, plan.output, terms, schedule.streamed);
  std::vector<Ct> y;
  y.reserve(plan.output.dim);
  for (int64_t r = 0; r < plan.output.dim; ++r) y.push_back(output.Row(r, take(2 * n, r)));
  if (progress) progress(total, total);
  return y;
}

}  // namespace blindfold::runtime

#endif  // BLINDFOLD_RUNTIME_PLAN_H_
