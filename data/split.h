// File: data/split.h
// A deterministic, stratified train/test split that Python reproduces bit for
// bit (models/common.py stratified_split): no library shuffle whose
// algorithm could change between versions, only SplitMix64 and Fisher-Yates.
#ifndef BLINDFOLD_DATA_SPLIT_H_
#define BLINDFOLD_DATA_SPLIT_H_

#include <cstdint>
#include <span>
#include <vector>

namespace blindfold::data {

// SplitMix64 (Steele, Lea and Flood, "Fast splittable pseudorandom number
// generators", OOPSLA 2014): a 64-bit counter stepped by the golden-ratio
// increment and mixed. Not a cryptographic generator: it only makes the
// split reproducible.
class SplitMix64 {
 public:
  explicit SplitMix64(uint64_t seed) : state_(seed) {}
  uint64_t Next();

 private:
  uint64_t state_;
};

struct SplitIndices {
  std::vector<int> train, test;  // each ascending
};

// Per class c = 0 .. classes-1 in order: the indices i with labels[i] == c in
// ascending order, shuffled by Fisher-Yates (for i from the last position
// down to 1, swap positions i and Next() % (i + 1)), one generator seeded
// with `seed` for all classes; the first (count * test_percent + 50) / 100
// go to the test split, the rest to train. Labels outside 0..classes-1 are
// in neither. REQUIRES: 0 <= test_percent <= 100.
SplitIndices StratifiedSplit(std::span<const uint8_t> labels, int classes,
                             uint64_t seed, int test_percent);

}  // namespace blindfold::data

#endif  // BLINDFOLD_DATA_SPLIT_H_
