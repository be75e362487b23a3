#include "base/check.h"

#include <cstdio>
#include <cstdlib>

namespace blindfold::internal {

void CheckFailed(const char* file, int line, const char* expr) {
  std::fprintf(stderr, "%s:%d: internal check failed: %s\n", file, line, expr);
  std::abort();
}

}  // namespace blindfold::internal
