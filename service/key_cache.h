// File: service/key_cache.h
// Parsed evaluation keys (one runtime::InferenceServer per key id) in
// memory, least recently used first out, bounded in bytes. It sits in
// front of the key store: a hit skips reading and parsing megabytes of
// keys. An entry's cost is an estimate of the memory its parsed keys hold
// (twice the serialized bytes: inputs are seeded, so a parsed key carries
// both halves). An entry larger than the whole budget is not kept.
#ifndef BLINDFOLD_SERVICE_KEY_CACHE_H_
#define BLINDFOLD_SERVICE_KEY_CACHE_H_

#include <atomic>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "runtime/inference.h"
#include "service/key_store.h"

namespace blindfold::service {

struct LoadedKeys {
  KeyRecord record;
  std::shared_ptr<const runtime::InferenceServer> server;
  size_t cost = 0;
  // When the store last confirmed the key exists (steady clock, ms).
  mutable std::atomic<int64_t> checked_ms{0};
};

class KeyCache {
 public:
  explicit KeyCache(size_t budget_bytes) : budget_(budget_bytes) {}

  std::shared_ptr<const LoadedKeys> Find(const std::string& key_id);
  void Insert(const std::string& key_id, std::shared_ptr<const LoadedKeys> keys);
  void Erase(const std::string& key_id);

  size_t bytes() const;
  size_t entries() const;
  size_t budget() const { return budget_; }

 private:
  const size_t budget_;
  mutable std::mutex mu_;
  // Most recent first.
  std::list<std::pair<std::string, std::shared_ptr<const LoadedKeys>>> lru_;
  std::map<std::string, decltype(lru_)::iterator> index_;
  size_t bytes_ = 0;
};

}  // namespace blindfold::service

#endif  // BLINDFOLD_SERVICE_KEY_CACHE_H_
