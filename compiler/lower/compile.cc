// File: compiler/lower/compile.cc
#include "compiler/lower/compile.h"

#include <algorithm>
#include <cmath>
#include <optional>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "base/status.h"
#include "ckks/parameters.h"
#include "compiler/lower/lower.h"
#include "compiler/lower/pack.h"
#include "runtime/cost_model.h"
#include "runtime/plan_io.h"

namespace blindfold::compiler {
namespace {

absl::StatusOr<Calibration> Calibrate(const Program& p,
                                      const std::vector<std::vector<double>>& inputs) {
  if (inputs.empty()) {
    return absl::InvalidArgumentError("Compile: no calibration inputs");
  }
  Calibration c;
  for (const auto& x : inputs) {
    std::vector<std::vector<double>> terms;
    BF_ASSIGN_OR_RETURN(std::vector<double> y, EvaluatePlain(p, x, &terms));
    for (double v : y) c.max_output_abs = std::max(c.max_output_abs, std::abs(v));
    for (const auto& t : terms) {
      for (double v : t) c.max_term_abs = std::max(c.max_term_abs, std::abs(v));
    }
    ++c.inputs;
  }
  return c;
}

struct Chosen {
  ckks::ParametersLiteral literal;
  int scale_bits = 0;
};

absl::StatusOr<Chosen> SelectParameters(int depth, int64_t slots,
                                        double max_output_abs,
                                        const CompileOptions& o) {
  const int out_bits = static_cast<int>(std::ceil(std::log2(std::max(1.0, max_output_abs)))) +
                       o.headroom_margin_bits;
  int min_log_n = 13;
  while ((int64_t{1} << (min_log_n - 1)) < slots) ++min_log_n;
  std::string tried;
  for (int log_n = std::max(min_log_n, o.log_n > 0 ? o.log_n : 13);
       log_n <= (o.log_n > 0 ? o.log_n : 16); ++log_n) {
    if ((int64_t{1} << (log_n - 1)) < slots) continue;
    const int bound = ckks::MaxLogQP128(log_n);
    const int hi = o.scale_bits > 0 ? o.scale_bits : o.max_scale_bits;
    const int lo = o.scale_bits > 0 ? o.scale_bits : o.min_scale_bits;
    for (int s = hi; s >= lo; --s) {
      // Primes of at most 50 bits keep every limb on the IFMA kernels
      // (math/ntt.h); q_0 gets the headroom above the scale up to that.
      const int q0 = std::min(50, s + out_bits);
      if (q0 < s + out_bits - o.headroom_margin_bits + 1) continue;  // headroom lost
      const int p = std::max(q0, s);
      // More special primes: fewer key-switching digits (smaller keys,
      // faster rotations), as many as the bound allows up to half the chain.
      for (int alpha = std::max(1, (depth + 1) / 2); alpha >= 1; --alpha) {
        // Generated primes sit just below 2^bits, so the sum of bit sizes
        // bounds log2(QP) from above.
        if (q0 + depth * s + alpha * p > bound) continue;
        Chosen c;
        c.literal.log_n = log_n;
        c.literal.log_q.push_back(q0);
        for (int i = 0; i < depth; ++i) c.literal.log_q.push_back(s);
        for (int i = 0; i < alpha; ++i) c.literal.log_p.push_back(p);
        c.literal.log_default_scale = s;
        c.scale_bits = s;
        return c;
      }
    }
    absl::StrAppend(&tried, tried.empty() ? "" : ", ", "2^", log_n, " (log2 QP <= ",
                    bound, ")");
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "Compile: no 128-bit parameter set holds depth ", depth, " with scales of ",
      o.min_scale_bits, "+ bits, ", out_bits, " bits of output headroom and ",
      slots, " slots; tried N = ", tried.empty() ? "none" : tried,
      " (bootstrapping is not supported)"));
}

// The baseline's fixed parameters, if they hold the plan (depth, slots and
// the output's headroom above the scale in q_0).
absl::StatusOr<Chosen> FixedParameters(int depth, int64_t slots, double max_output_abs,
                                       const CompileOptions& o) {
  Chosen c;
  c.literal = BaselineParameters();
  c.scale_bits = c.literal.log_default_scale;
  const int headroom = c.literal.log_q[0] - c.scale_bits;
  const int need = static_cast<int>(std::ceil(std::log2(std::max(1.0, max_output_abs)))) + 1;
  const int64_t max_slots = int64_t{1} << (c.literal.log_n - 1);
  if (o.log_n > 0 || o.scale_bits > 0) {
    return absl::InvalidArgumentError(
        "Compile: --log-n and --scale-bits choose parameters; with parameter "
        "selection off the parameters are the baseline's fixed ones");
  }
  if (depth > static_cast<int>(c.literal.log_q.size()) - 1 || slots > max_slots ||
      need > headroom) {
    return absl::InvalidArgumentError(absl::StrCat(
        "Compile: the baseline's fixed parameters (N = 2^", c.literal.log_n, ", ",
        c.literal.log_q.size() - 1, " levels, ", max_slots, " slots, ", headroom,
        " bits above the scale in q_0) do not hold this model: depth ", depth, ", ",
        slots, " slots, outputs up to ", max_output_abs));
  }
  return c;
}

// The key set (Optimization::kMinimalKeys): a key for exactly each rotation
// the plan performs (each made for the highest level it runs at), unless
// the power-of-two set takes at most half the bytes and composing the
// plan's rotations from it costs at most 10 % more predicted time (a plan
// with many distinct rotations, such as cnn-deep's 203: its 27 power-of-two
// keys serve it at about the same speed, and keys are most of a server's
// memory).
void ChooseKeySet(runtime::Plan& plan) {
  runtime::Plan composed = plan;
  composed.execution.power_of_two_rotations = true;
  if (2 * runtime::EvaluationKeyBytes(composed) <= runtime::EvaluationKeyBytes(plan) &&
      runtime::PredictLatency(composed).total_ms() <=
          1.1 * runtime::PredictLatency(plan).total_ms()) {
    plan.execution.power_of_two_rotations = true;
  }
}

}  // namespace

const char* OptimizationName(Optimization o) {
  switch (o) {
    case Optimization::kFusion: return "fusion";
    case Optimization::kInputLayout: return "input-layout";
    case Optimization::kLevelPlanning: return "level-planning";
    case Optimization::kBsgs: return "bsgs";
    case Optimization::kParameterSelection: return "param-selection";
    case Optimization::kMinimalKeys: return "minimal-keys";
  }
  return "?";
}

absl::StatusOr<Optimization> ParseOptimization(std::string_view name) {
  std::string known;
  for (Optimization o : kAllOptimizations) {
    if (name == OptimizationName(o)) return o;
    absl::StrAppend(&known, known.empty() ? "" : ", ", OptimizationName(o));
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown optimization '", std::string(name), "', expected one of: ", known));
}

ckks::ParametersLiteral BaselineParameters() {
  ckks::ParametersLiteral l;
  l.log_n = 15;
  l.log_q.push_back(50);
  for (int i = 0; i < kBaselineDepth; ++i) l.log_q.push_back(40);
  l.log_p = {50};
  l.log_default_scale = 40;
  return l;
}

bool CompileOptions::Enabled(Optimization o) const {
  switch (o) {
    case Optimization::kFusion: return fusion;
    case Optimization::kInputLayout: return gather_input;
    case Optimization::kLevelPlanning: return level_planning;
    case Optimization::kBsgs: return bsgs;
    case Optimization::kParameterSelection: return parameter_selection;
    case Optimization::kMinimalKeys: return minimal_keys;
  }
  return true;
}

void CompileOptions::Disable(Optimization o) {
  switch (o) {
    case Optimization::kFusion: fusion = false; break;
    case Optimization::kInputLayout: gather_input = false; break;
    case Optimization::kLevelPlanning: level_planning = false; break;
    case Optimization::kBsgs: bsgs = false; break;
    case Optimization::kParameterSelection: parameter_selection = false; break;
    case Optimization::kMinimalKeys: minimal_keys = false; break;
  }
}

CompileOptions BaselineOptions() {
  CompileOptions o;
  for (Optimization x : kAllOptimizations) o.Disable(x);
  return o;
}

absl::StatusOr<runtime::Plan> Compile(const ir::Graph& graph,
                                      const std::vector<std::vector<double>>& calibration,
                                      const CompileOptions& options) {
  const bool batched = options.mode == runtime::PackingMode::kThroughput;
  if (batched) {
    for (Optimization o : kAllOptimizations) {
      if (o != Optimization::kInputLayout && !options.Enabled(o)) {
        return absl::InvalidArgumentError(absl::StrCat(
            "Compile: turning off ", OptimizationName(o),
            " applies to latency mode (throughput mode has no rotations)"));
      }
    }
  }
  LowerOptions lo;
  lo.calibration = &calibration;
  lo.activation_degree = options.activation_degree;
  lo.fuse = options.fusion;
  BF_ASSIGN_OR_RETURN(Program program, Lower(graph, lo));
  BF_ASSIGN_OR_RETURN(Calibration cal, Calibrate(program, calibration));
  circuits::TransformOptions execution;
  execution.hoist = options.bsgs;
  execution.eager_rescale = !options.level_planning;
  execution.power_of_two_rotations = !options.minimal_keys;
  const int64_t max_slots = options.parameter_selection
                                ? int64_t{1} << 15
                                : int64_t{1} << (BaselineParameters().log_n - 1);
  // Latency: pack first with the largest ring, the slot count decides the
  // smallest N; with each client-side input layout (pack.h), keeping the
  // one the cost model predicts faster. Throughput: any N holds one
  // element; the batch is N/2.
  std::optional<runtime::Plan> best;
  double best_ms = 0;
  absl::Status last_error;
  for (InputPacking packing :
       {InputPacking::kPlain, InputPacking::kIm2col, InputPacking::kAlignedCopies}) {
    if ((batched || !options.gather_input) && packing != InputPacking::kPlain) break;
    PackOptions po;
    po.input_packing = packing;
    po.plain_diagonals = !options.bsgs;
    po.fit_layouts = options.gather_input;
    auto packed = batched ? PackThroughput(program, 2)
                          : PackLatency(program, max_slots, po);
    if (!packed.ok()) {
      last_error = packed.status();
      continue;
    }
    runtime::Plan plan = *std::move(packed);
    auto chosen = options.parameter_selection
                      ? SelectParameters(plan.depth, plan.slots, cal.max_output_abs, options)
                      : FixedParameters(plan.depth, plan.slots, cal.max_output_abs, options);
    if (!chosen.ok()) {
      last_error = chosen.status();
      continue;
    }
    const int top = static_cast<int>(chosen->literal.log_q.size()) - 1;
    if (!batched && !options.level_planning && plan.depth < top) {
      // No modulus dropping: the input starts at the top of the chain.
      po.input_level = top;
      BF_ASSIGN_OR_RETURN(plan, PackLatency(program, max_slots, po));
    }
    if (!batched) plan.execution = execution;
    auto params = ckks::Parameters::Create(chosen->literal);
    if (!params.ok()) {
      return absl::Status(params.status().code(),
                          absl::StrCat("Compile: ", params.status().message()));
    }
    if (batched) plan.slots = int64_t{1} << (chosen->literal.log_n - 1);
    plan.params = (*params)->literal();
    plan.input_scale_log2 = chosen->scale_bits;
    if (!batched && options.minimal_keys) ChooseKeySet(plan);
    const double ms = runtime::PredictLatency(plan).total_ms();
    if (!best || ms < best_ms) {
      best = std::move(plan);
      best_ms = ms;
    }
  }
  if (!best) return last_error;
  runtime::Plan plan = *std::move(best);
  plan.max_output_abs = cal.max_output_abs;
  plan.max_term_abs = cal.max_term_abs;
  plan.labels = options.labels;
  plan.mode = options.mode;
  // The plan must pass what the runtime checks on load, simulation included.
  BF_RETURN_IF_ERROR(runtime::ValidatePlan(plan));
  BF_RETURN_IF_ERROR(runtime::SimulatePlan(plan));
  return plan;
}

}  // namespace blindfold::compiler
