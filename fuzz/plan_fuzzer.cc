// libFuzzer target: DeserializePlan (runtime/plan_io.h) on arbitrary bytes.
// An accepted plan has passed validation and simulation; it must
// re-serialize byte for byte and run on the float64 slot backend without
// tripping a sanitizer.
#include <cstdlib>
#include <string>

#include "circuits/slot_backend.h"
#include "runtime/plan_io.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace blindfold;
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto plan = runtime::DeserializePlan(bytes);
  if (!plan.ok()) return 0;
  if (runtime::SerializePlan(*plan) != bytes) std::abort();
  if (plan->mode == runtime::PackingMode::kLatency && plan->slots <= 4096) {
    circuits::SlotBackend backend(plan->slots);
    std::vector<double> x(plan->terms[0].dim, 0.5);
    const auto y = runtime::ExecutePlan(
        backend, *plan, circuits::Tile(x, plan->terms[0].period, plan->slots));
    if (static_cast<int64_t>(y.size()) != plan->slots) std::abort();
  }
  return 0;
}
