#include "base/buffer_cache.h"

#include <cstdlib>
#include <mutex>
#include <new>
#include <unordered_map>
#include <vector>

namespace blindfold {
namespace {

struct Cache {
  std::mutex mu;
  std::unordered_map<std::size_t, std::vector<void*>> free_by_size;
  std::size_t cached_bytes = 0;
  std::size_t budget = 0;
  BufferCacheStats stats;

  Cache() {
    budget = std::size_t{512} << 20;
    if (const char* env = std::getenv("BLINDFOLD_BUFFER_CACHE_MB")) {
      char* end = nullptr;
      const unsigned long long mb = std::strtoull(env, &end, 10);
      if (end != env && *end == '\0' && mb < (std::size_t{1} << 24)) {
        budget = static_cast<std::size_t>(mb) << 20;
      }
    }
  }

  // Frees cached buffers until cached_bytes <= target. REQUIRES: mu held.
  void TrimTo(std::size_t target) {
    for (auto it = free_by_size.begin();
         it != free_by_size.end() && cached_bytes > target;) {
      std::vector<void*>& list = it->second;
      while (!list.empty() && cached_bytes > target) {
        ::operator delete(list.back(), std::align_val_t(kBufferAlignment));
        list.pop_back();
        cached_bytes -= it->first;
      }
      it = list.empty() ? free_by_size.erase(it) : std::next(it);
    }
  }
};

Cache& GetCache() {
  static Cache* cache = new Cache();  // never destroyed: used until exit
  return *cache;
}

}  // namespace

void* AllocateBuffer(std::size_t bytes) {
  if (bytes >= kMinCachedBytes) {
    Cache& c = GetCache();
    std::lock_guard<std::mutex> lock(c.mu);
    auto it = c.free_by_size.find(bytes);
    if (it != c.free_by_size.end() && !it->second.empty()) {
      void* p = it->second.back();
      it->second.pop_back();
      c.cached_bytes -= bytes;
      ++c.stats.hits;
      return p;
    }
    ++c.stats.misses;
  }
  return ::operator new(bytes, std::align_val_t(kBufferAlignment));
}

void FreeBuffer(void* p, std::size_t bytes) noexcept {
  if (p == nullptr) return;
  if (bytes >= kMinCachedBytes) {
    Cache& c = GetCache();
    std::lock_guard<std::mutex> lock(c.mu);
    if (c.cached_bytes + bytes <= c.budget) {
      try {
        c.free_by_size[bytes].push_back(p);
        c.cached_bytes += bytes;
        return;
      } catch (...) {
        // No memory for the bookkeeping: free the buffer instead.
      }
    }
  }
  ::operator delete(p, std::align_val_t(kBufferAlignment));
}

void SetBufferCacheBudget(std::size_t bytes) {
  Cache& c = GetCache();
  std::lock_guard<std::mutex> lock(c.mu);
  c.budget = bytes;
  c.TrimTo(bytes);
}

std::size_t BufferCacheBudget() {
  Cache& c = GetCache();
  std::lock_guard<std::mutex> lock(c.mu);
  return c.budget;
}

void ReleaseCachedBuffers() {
  Cache& c = GetCache();
  std::lock_guard<std::mutex> lock(c.mu);
  c.TrimTo(0);
}

BufferCacheStats GetBufferCacheStats() {
  Cache& c = GetCache();
  std::lock_guard<std::mutex> lock(c.mu);
  BufferCacheStats s = c.stats;
  s.cached_bytes = c.cached_bytes;
  return s;
}

}  // namespace blindfold
