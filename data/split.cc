// File: data/split.cc
#include "data/split.h"

#include <algorithm>
#include <utility>

#include "base/check.h"

namespace blindfold::data {

uint64_t SplitMix64::Next() {
  state_ += 0x9E3779B97F4A7C15ull;
  uint64_t z = state_;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

SplitIndices StratifiedSplit(std::span<const uint8_t> labels, int classes,
                             uint64_t seed, int test_percent) {
  BF_CHECK(test_percent >= 0 && test_percent <= 100);
  SplitMix64 rng(seed);
  SplitIndices out;
  for (int c = 0; c < classes; ++c) {
    std::vector<int> idx;
    for (size_t i = 0; i < labels.size(); ++i) {
      if (labels[i] == c) idx.push_back(static_cast<int>(i));
    }
    for (size_t i = idx.size(); i-- > 1;) {
      const size_t j = static_cast<size_t>(rng.Next() % (i + 1));
      std::swap(idx[i], idx[j]);
    }
    const size_t k = (idx.size() * test_percent + 50) / 100;
    out.test.insert(out.test.end(), idx.begin(), idx.begin() + k);
    out.train.insert(out.train.end(), idx.begin() + k, idx.end());
  }
  std::sort(out.train.begin(), out.train.end());
  std::sort(out.test.begin(), out.test.end());
  return out;
}

}  // namespace blindfold::data
