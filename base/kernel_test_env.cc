// File: base/kernel_test_env.cc
// Linked into every test binary (cmake/blindfold.cmake). When
// BLINDFOLD_KERNEL asks for a kernel path this CPU lacks, every test is
// skipped with the reason (GTEST_SKIP in a global environment) instead of
// silently running another path; ctest reports such a run as skipped
// (SKIP_REGULAR_EXPRESSION "lacks"). An unknown BLINDFOLD_KERNEL fails.
#include <gtest/gtest.h>

#include "base/cpu_features.h"

namespace {

class KernelPathEnvironment : public ::testing::Environment {
 public:
  void SetUp() override {
    const std::string& error = blindfold::KernelRequestError();
    if (error.empty()) return;
    // A name that is no path is a mistake in the run, not a missing CPU
    // feature: fail it.
    if (error.find("unknown path") != std::string::npos) {
      FAIL() << error;
    }
    GTEST_SKIP() << error;
  }
};

[[maybe_unused]] ::testing::Environment* const kEnv =
    ::testing::AddGlobalTestEnvironment(new KernelPathEnvironment);

}  // namespace
