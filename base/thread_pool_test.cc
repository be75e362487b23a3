#include "base/thread_pool.h"

#include <gtest/gtest.h>

#include <atomic>
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

}  // namespace
}  // namespace blindfold
