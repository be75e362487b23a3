// File: service/key_cache.cc
#include "service/key_cache.h"

namespace blindfold::service {

std::shared_ptr<const LoadedKeys> KeyCache::Find(const std::string& key_id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = index_.find(key_id);
  if (it == index_.end()) return nullptr;
  lru_.splice(lru_.begin(), lru_, it->second);
  return it->second->second;
}

void KeyCache::Insert(const std::string& key_id, std::shared_ptr<const LoadedKeys> keys) {
  std::lock_guard<std::mutex> lock(mu_);
  if (auto it = index_.find(key_id); it != index_.end()) {
    bytes_ -= it->second->second->cost;
    lru_.erase(it->second);
    index_.erase(it);
  }
  if (keys->cost > budget_) return;
  while (bytes_ + keys->cost > budget_ && !lru_.empty()) {
    bytes_ -= lru_.back().second->cost;
    index_.erase(lru_.back().first);
    lru_.pop_back();
  }
  bytes_ += keys->cost;
  lru_.emplace_front(key_id, std::move(keys));
  index_[key_id] = lru_.begin();
}

void KeyCache::Erase(const std::string& key_id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = index_.find(key_id);
  if (it == index_.end()) return;
  bytes_ -= it->second->second->cost;
  lru_.erase(it->second);
  index_.erase(it);
}

size_t KeyCache::bytes() const {
  std::lock_guard<std::mutex> lock(mu_);
  return bytes_;
}

size_t KeyCache::entries() const {
  std::lock_guard<std::mutex> lock(mu_);
  return index_.size();
}

}  // namespace blindfold::service
