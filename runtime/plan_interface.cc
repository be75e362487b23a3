// File: runtime/plan_interface.cc
#include "runtime/plan_interface.h"

#include "absl/strings/str_cat.h"
#include "circuits/linear_transform.h"

namespace blindfold::runtime {

PlanInterface InterfaceOf(const Plan& plan) {
  PlanInterface i;
  i.model = plan.model;
  i.mode = plan.mode;
  i.params = plan.params;
  i.input_scale_log2 = plan.input_scale_log2;
  i.slots = plan.slots;
  i.depth = plan.depth;
  i.input_shape = plan.input_shape;
  i.output_shape = plan.output_shape;
  i.input_dim = plan.terms.empty() ? 0 : plan.terms[0].dim;
  i.input_period = plan.terms.empty() ? 0 : plan.terms[0].period;
  if (!plan.terms.empty()) i.input_layout = plan.terms[0].layout;
  i.output_dim = plan.output.dim;
  i.output_period = plan.output.period;
  i.output_layout = plan.output.layout;
  i.rotation_levels = plan.RotationLevels();
  i.relin_level = plan.CiphertextProductCount() > 0 ? plan.RelinLevel() : -1;
  i.labels = plan.labels;
  return i;
}

absl::Status ValidatePlanInterface(const PlanInterface& i) {
  auto fail = [](auto&&... args) {
    return absl::InvalidArgumentError(absl::StrCat("PlanInterface: ", args...));
  };
  auto params = ckks::Parameters::Create(i.params);
  if (!params.ok()) return fail("parameters: ", params.status().message());
  const int64_t max_slots = static_cast<int64_t>((*params)->max_slots());
  if (i.slots < 1 || i.slots > max_slots || (i.slots & (i.slots - 1)) != 0) {
    return fail("slots ", i.slots, " is not a power of two up to N/2 = ", max_slots);
  }
  if (i.depth < 0 || i.depth > (*params)->max_level()) {
    return fail("depth ", i.depth, " outside the chain's 0..", (*params)->max_level());
  }
  if (i.input_scale_log2 < 10 || i.input_scale_log2 > 62) {
    return fail("input scale 2^", i.input_scale_log2, " outside [2^10, 2^62]");
  }
  auto elements = [](const std::vector<int64_t>& shape) -> int64_t {
    int64_t n = 1;
    for (int64_t d : shape) {
      if (d < 1 || d > (int64_t{1} << 20) || n > (int64_t{1} << 20)) return -1;
      n *= d;
    }
    return n;
  };
  if (i.input_dim < 1 || elements(i.input_shape) != i.input_dim) {
    return fail("input shape does not hold the input's ", i.input_dim, " values");
  }
  if (i.output_dim < 1 || elements(i.output_shape) != i.output_dim) {
    return fail("output shape does not hold the output's ", i.output_dim, " values");
  }
  auto layout_ok = [](const Layout& layout, int64_t dim) {
    for (int32_t e : layout) {
      if (e < -1 || e >= dim) return false;
    }
    return true;
  };
  if (i.mode == PackingMode::kThroughput) {
    if (i.input_period != 1 || i.output_period != 1 || !i.input_layout.empty() ||
        !i.output_layout.empty()) {
      return fail("a throughput plan has period 1 and no layouts");
    }
  } else {
    const int64_t want = i.input_layout.empty()
                             ? circuits::NextPowerOfTwo(i.input_dim)
                             : static_cast<int64_t>(i.input_layout.size());
    if (i.input_period != want || (i.input_period & (i.input_period - 1)) != 0 ||
        i.input_period > i.slots) {
      return fail("input period ", i.input_period, " is not pow2(", i.input_dim,
                  ") within ", i.slots, " slots");
    }
    if (!layout_ok(i.input_layout, i.input_dim)) {
      return fail("an input layout entry is outside [-1, ", i.input_dim, ")");
    }
    const int64_t want_out = i.output_layout.empty()
                                 ? circuits::NextPowerOfTwo(i.output_dim)
                                 : static_cast<int64_t>(i.output_layout.size());
    if (i.output_period != want_out || (i.output_period & (i.output_period - 1)) != 0 ||
        i.output_period > i.slots || !layout_ok(i.output_layout, i.output_dim)) {
      return fail("the output layout does not place ", i.output_dim, " values in a period of ",
                  i.output_period, " within ", i.slots, " slots");
    }
  }
  if (i.input_dim > (int64_t{1} << 16) || i.output_dim > (int64_t{1} << 16)) {
    return fail("input or output of more than 65536 values");
  }
  const int max_level = (*params)->max_level();
  for (const auto& [r, level] : i.rotation_levels) {
    if (r <= -i.slots || r >= i.slots || r == 0) {
      return fail("rotation ", r, " is zero or outside (-", i.slots, ", ", i.slots, ")");
    }
    if (level < 0 || level > max_level) {
      return fail("rotation ", r, " at level ", level, ", outside the chain's 0..", max_level);
    }
  }
  if (i.relin_level < -1 || i.relin_level > max_level) {
    return fail("relinearization at level ", i.relin_level, ", outside the chain's 0..",
                max_level);
  }
  if (!i.labels.empty() && static_cast<int64_t>(i.labels.size()) != i.output_dim) {
    return fail(i.labels.size(), " labels for ", i.output_dim, " outputs");
  }
  return absl::OkStatus();
}

}  // namespace blindfold::runtime
