#include "base/buffer_cache.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <thread>
#include <vector>

#include "base/aligned.h"

namespace blindfold {
namespace {

constexpr std::size_t kLarge = std::size_t{1} << 20;

TEST(BufferCacheTest, AlignedForEverySize) {
  for (std::size_t bytes : {std::size_t{8}, std::size_t{100}, kMinCachedBytes - 8,
                            kMinCachedBytes, kLarge + 24}) {
    void* p = AllocateBuffer(bytes);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % kBufferAlignment, 0u) << bytes;
    FreeBuffer(p, bytes);
  }
}

TEST(BufferCacheTest, FreedLargeBufferIsReusedBySize) {
  ReleaseCachedBuffers();
  const BufferCacheStats before = GetBufferCacheStats();
  void* p = AllocateBuffer(kLarge);
  FreeBuffer(p, kLarge);
  EXPECT_EQ(GetBufferCacheStats().cached_bytes, kLarge);
  // Another size does not take it; the same size does.
  void* other = AllocateBuffer(kLarge + 64);
  EXPECT_NE(other, p);
  void* again = AllocateBuffer(kLarge);
  EXPECT_EQ(again, p);
  const BufferCacheStats after = GetBufferCacheStats();
  EXPECT_EQ(after.hits, before.hits + 1);
  EXPECT_EQ(after.misses, before.misses + 2);
  FreeBuffer(again, kLarge);
  FreeBuffer(other, kLarge + 64);
  ReleaseCachedBuffers();
  EXPECT_EQ(GetBufferCacheStats().cached_bytes, 0u);
}

TEST(BufferCacheTest, BudgetBoundsWhatIsKept) {
  const std::size_t old_budget = BufferCacheBudget();
  ReleaseCachedBuffers();
  SetBufferCacheBudget(2 * kLarge);
  std::vector<void*> ps;
  for (int i = 0; i < 5; ++i) ps.push_back(AllocateBuffer(kLarge));
  for (void* p : ps) FreeBuffer(p, kLarge);
  EXPECT_EQ(GetBufferCacheStats().cached_bytes, 2 * kLarge);
  SetBufferCacheBudget(kLarge);  // lowering trims
  EXPECT_EQ(GetBufferCacheStats().cached_bytes, kLarge);
  SetBufferCacheBudget(0);
  EXPECT_EQ(GetBufferCacheStats().cached_bytes, 0u);
  FreeBuffer(AllocateBuffer(kLarge), kLarge);
  EXPECT_EQ(GetBufferCacheStats().cached_bytes, 0u);
  SetBufferCacheBudget(old_budget);
}

TEST(BufferCacheTest, ValueInitializedVectorsAreZeroEvenFromDirtyBuffers) {
  ReleaseCachedBuffers();
  const std::size_t n = kLarge / sizeof(uint64_t);
  {
    AlignedVector<uint64_t> dirty(n);
    for (auto& w : dirty) w = ~uint64_t{0};
  }
  AlignedVector<uint64_t> zeroed(n, 0);
  EXPECT_EQ(GetBufferCacheStats().hits > 0, true);
  for (std::size_t i = 0; i < n; ++i) ASSERT_EQ(zeroed[i], 0u) << i;
  ReleaseCachedBuffers();
}

TEST(BufferCacheTest, ConcurrentUse) {
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([t] {
      for (int i = 0; i < 200; ++i) {
        const std::size_t bytes = kMinCachedBytes * (1 + (i + t) % 5);
        auto* p = static_cast<uint8_t*>(AllocateBuffer(bytes));
        p[0] = p[bytes - 1] = static_cast<uint8_t>(i);
        FreeBuffer(p, bytes);
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_LE(GetBufferCacheStats().cached_bytes, BufferCacheBudget());
  ReleaseCachedBuffers();
}

}  // namespace
}  // namespace blindfold
