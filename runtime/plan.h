// File: runtime/plan.h
// The plan: what the compiler hands the runtime. A packed program in the
// affine-polynomial form (compiler/lower/program.h): every linear form is a
// list of diagonal plans (circuits/linear_transform.h) over terms held as
// tiled slot vectors. The runtime executes plans; it never runs compiler
// passes.
#ifndef BLINDFOLD_RUNTIME_PLAN_H_
#define BLINDFOLD_RUNTIME_PLAN_H_

#include <cstdint>
#include <algorithm>
#include <map>
#include <optional>
#include <string>
#include <type_traits>
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
//   void AddConstInPlace(Ct& x, double c);
//   Ct Zero(int level);                     // at the canonical scale
//   int LevelOf(const Ct& x);
template <typename B>
std::vector<typename B::Ct> EvaluateFormBatched(
    B& backend, const PlanForm& f,
    const std::vector<std::vector<typename B::Ct>>& terms) {
  using Ct = typename B::Ct;
  const int in_level = f.level + (f.rescale ? 1 : 0);
  // Each part's term at the level its products need, dropped once.
  std::vector<std::vector<Ct>> dropped(f.parts.size());
  std::vector<const std::vector<Ct>*> source(f.parts.size());
  for (size_t p = 0; p < f.parts.size(); ++p) {
    const std::vector<Ct>& t = terms[f.parts[p].term];
    source[p] = &t;
    if (f.parts[p].identity || t.empty()) continue;
    if (backend.LevelOf(t[0]) != in_level) {
      dropped[p].reserve(t.size());
      for (const Ct& c : t) dropped[p].push_back(backend.DropLevel(c, in_level));
      source[p] = &dropped[p];
    }
  }
  std::vector<Ct> out;
  out.reserve(f.dim);
  std::vector<const Ct*> xs;
  std::vector<double> ws;
  for (int64_t r = 0; r < f.dim; ++r) {
    std::optional<Ct> acc, ident;
    for (size_t p = 0; p < f.parts.size(); ++p) {
      const PlanPart& part = f.parts[p];
      if (part.identity) {
        ident = (*source[p])[r];
        continue;
      }
      xs.clear();
      ws.clear();
      for (const auto& [c, w] : part.matrix[r]) {
        xs.push_back(&(*source[p])[c]);
        ws.push_back(w);
      }
      if (xs.empty()) continue;
      Ct y = backend.LinearCombination(xs, ws);
      if (acc) {
        backend.AddInPlace(*acc, y);
      } else {
        acc = std::move(y);
      }
    }
    Ct v = acc ? (f.rescale ? backend.Finish(*acc) : std::move(*acc))
               : (ident ? *ident : backend.Zero(f.level));
    if (acc && ident) backend.AddInPlace(v, *ident);
    if (f.bias[r] != 0.0) backend.AddConstInPlace(v, f.bias[r]);
    out.push_back(std::move(v));
  }
  return out;
}

// Runs a throughput-mode plan; inputs[i] holds input element i of every
// batch member. Each term is freed after its last use.
template <typename B>
std::vector<typename B::Ct> ExecutePlanBatched(B& backend, const Plan& plan,
                                               std::vector<typename B::Ct> inputs) {
  using Ct = typename B::Ct;
  const std::vector<size_t> last = LastReaders(plan);
  std::vector<std::vector<Ct>> terms(plan.terms.size());
  terms[0] = std::move(inputs);
  auto release = [&](size_t k) {
    for (size_t j = 0; j < k; ++j) {
      if (last[j] == k) std::vector<Ct>().swap(terms[j]);
    }
  };
  for (size_t k = 1; k < plan.terms.size(); ++k) {
    const PlanTerm& t = plan.terms[k];
    std::vector<Ct> a = EvaluateFormBatched(backend, t.a, terms);
    if (t.kind == PlanTerm::Kind::kLinear) {
      terms[k] = std::move(a);
    } else if (t.kind == PlanTerm::Kind::kProduct) {
      std::vector<Ct> b = EvaluateFormBatched(backend, t.b, terms);
      for (size_t i = 0; i < a.size(); ++i) terms[k].push_back(backend.Multiply(a[i], b[i]));
    } else {
      for (size_t i = 0; i < a.size(); ++i) terms[k].push_back(backend.Square(a[i]));
    }
    release(k);
  }
  return EvaluateFormBatched(backend, plan.output, terms);
}

}  // namespace blindfold::runtime

#endif  // BLINDFOLD_RUNTIME_PLAN_H_
