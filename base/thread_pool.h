// File: base/thread_pool.h
// Limb-level parallelism: a process-wide pool of persistent workers and
// ParallelFor over an index range. The thread count is settable at any time
// (SetThreadCount, or BLINDFOLD_THREADS in the environment); with one thread
// every loop runs inline on the caller with no synchronisation at all.
// A ParallelFor issued from inside a worker runs serially (no nesting).
#ifndef BLINDFOLD_BASE_THREAD_POOL_H_
#define BLINDFOLD_BASE_THREAD_POOL_H_

#include <cstddef>

#include "absl/functional/function_ref.h"

namespace blindfold {

// Number of threads (caller included) that ParallelFor uses; >= 1.
int ThreadCount();

// Sets the thread count; values < 1 are treated as 1. Not to be called
// concurrently with a running ParallelFor.
void SetThreadCount(int n);

// Calls fn(i) for every i in [0, n), spread over ThreadCount() threads.
// Returns when all calls have returned.
void ParallelFor(std::size_t n, absl::FunctionRef<void(std::size_t)> fn);

}  // namespace blindfold

#endif  // BLINDFOLD_BASE_THREAD_POOL_H_
