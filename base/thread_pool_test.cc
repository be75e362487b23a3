#include "base/thread_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

namespace blindfold {
namespace {

TEST(ThreadPoolTest, EveryIndexOnceAtEachThreadCount) {
  const int saved = ThreadCount();
  for (int threads : {1, 2, 3, 8}) {
    SetThreadCount(threads);
    EXPECT_EQ(ThreadCount(), threads);
    for (std::size_t n : {0u, 1u, 2u, 17u, 1000u}) {
      std::vector<std::atomic<int>> hits(n);
      ParallelFor(n, [&](std::size_t i) { hits[i].fetch_add(1); });
      for (std::size_t i = 0; i < n; ++i) ASSERT_EQ(hits[i].load(), 1) << i;
    }
  }
  SetThreadCount(saved);
}

TEST(ThreadPoolTest, NestedLoopsRunSerially) {
  const int saved = ThreadCount();
  SetThreadCount(4);
  std::atomic<int> total{0};
  ParallelFor(8, [&](std::size_t) {
    ParallelFor(8, [&](std::size_t) { total.fetch_add(1); });
  });
  EXPECT_EQ(total.load(), 64);
  SetThreadCount(saved);
}

// ParallelFor returns only after every index ran, whether the caller
// waits for a late worker by polling (a short index) or on the condition
// variable (an index far longer than the poll), over many loops back to
// back (the workers' spin/sleep and the caller's spin/sleep paths).
TEST(ThreadPoolTest, ReturnsOnlyAfterEveryIndexRanShortAndLong) {
  const int saved = ThreadCount();
  for (int threads : {2, 3}) {
    SetThreadCount(threads);
    for (int round = 0; round < 2000; ++round) {
      std::vector<std::atomic<int>> hits(4);
      const bool slow = round % 100 == 0;
      ParallelFor(4, [&](std::size_t i) {
        if (slow && i == 3) std::this_thread::sleep_for(std::chrono::milliseconds(3));
        hits[i].fetch_add(1, std::memory_order_relaxed);
      });
      for (std::size_t i = 0; i < 4; ++i) ASSERT_EQ(hits[i].load(), 1) << round << " " << i;
    }
  }
  SetThreadCount(saved);
}

}  // namespace
}  // namespace blindfold
