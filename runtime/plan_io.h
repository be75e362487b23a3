// File: runtime/plan_io.h
// The plan file: versioned, self-describing, validated on load.
//
// Layout (little-endian): "BFPLAN\0\0", u32 version (1, or 2 followed by
// three execution-option bytes), then the model
// name, packing mode, CKKS parameters (log N, primes of Q and P, input scale),
// slots, depth, input/output shapes, labels, calibration maxima, the terms
// (kind, dim, period, level, depth, forms) and the output form. A form holds
// its dim, period, level, bias and parts; a non-identity part its matrix as
// rows of (column, value) and the baby step of its diagonal plan. A plan is
// read with a bound on every count before any allocation; then it is checked
// as a whole: parameters pass Parameters::Create (128-bit security), terms
// refer only to earlier terms, periods are pow2(dim), levels follow the
// level rule, matrices fit their terms, every diagonal plan re-derives, and
// the rotation set fits the slots.
#ifndef BLINDFOLD_RUNTIME_PLAN_IO_H_
#define BLINDFOLD_RUNTIME_PLAN_IO_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "runtime/plan.h"

namespace blindfold::runtime {

inline constexpr uint32_t kPlanVersion = 1;
// Version 1 plus three bytes after the version (hoist, eager rescale,
// power-of-two rotations: runtime/plan.h Plan::execution), written only for
// plans whose execution options are not the defaults.
inline constexpr uint32_t kPlanVersionWithExecution = 2;

// Limits checked on load (and by the compiler before writing).
inline constexpr int kMaxPlanTerms = 4096;
inline constexpr int kMaxPlanParts = 256;     // per form
inline constexpr int64_t kMaxPlanDim = 1 << 16;
inline constexpr int64_t kMaxPlanNonZeros = int64_t{1} << 27;

std::string SerializePlan(const Plan& plan);

// Errors (InvalidArgument "LoadPlan: ..."): bad magic or version, truncation
// (naming the field and offset), counts above the limits or the remaining
// bytes, trailing bytes, and every semantic check above.
absl::StatusOr<Plan> DeserializePlan(std::string_view bytes);

// Checks a plan built in memory (as DeserializePlan does after parsing).
absl::Status ValidatePlan(const Plan& plan);

// Runs the plan on the metadata simulator (circuits/meta_backend.h): every
// term must land on its recorded level, additions must meet equal levels
// and scales, and the rotations performed must be exactly Rotations() (for
// power-of-two rotations: among them). DeserializePlan and the compiler
// call it.
absl::Status SimulatePlan(const Plan& plan);

// File helpers: whole-file read/write with the path in errors.
absl::Status WritePlanFile(const Plan& plan, const std::string& path);
absl::StatusOr<Plan> ReadPlanFile(const std::string& path);

}  // namespace blindfold::runtime

#endif  // BLINDFOLD_RUNTIME_PLAN_IO_H_
