// File: data/breast_cancer.h
// The Wisconsin diagnostic breast-cancer table (569 patients, 30 measurements
// of cell nuclei, benign or malignant) as Debian's python3-sklearn ships it:
// sklearn/datasets/data/breast_cancer.csv, read directly (no download).
//
// The file: a header "N,30,malignant,benign" (row count, feature count, the
// class names in target order), then N rows of 30 decimal numbers and the
// target, 0 (malignant) or 1 (benign). The reader is strict, as for any
// untrusted input: ASCII only, exactly 4 header fields and 31 fields a row,
// numbers in plain decimal notation (optional '-', digits with at most one
// point, optional exponent; no spaces, '+', hex, inf or nan), finite, and
// exactly the rows the header announces. Every error names the line and the
// field. models/common.py (load_breast_cancer) accepts the same grammar.
//
// Labels: Blindfold's label is 1 for malignant (the positive finding) and 0
// for benign, the reverse of the CSV's target; bc-logreg's logit is the
// log-odds of malignancy, bc-mlp's logits are [benign, malignant].
#ifndef BLINDFOLD_DATA_BREAST_CANCER_H_
#define BLINDFOLD_DATA_BREAST_CANCER_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "data/split.h"

namespace blindfold::data {

inline constexpr std::string_view kDefaultBreastCancerCsv =
    "/usr/lib/python3/dist-packages/sklearn/datasets/data/breast_cancer.csv";

inline constexpr int kBreastCancerFeatures = 30;
inline constexpr int kBreastCancerClasses = 2;
// Class names by Blindfold's label (0 benign, 1 malignant).
inline constexpr const char* kBreastCancerClassNames[kBreastCancerClasses] = {
    "benign", "malignant"};
// The 30 columns in CSV order: ten measurements, each as the mean, the
// standard error and the worst (mean of the three largest) over the nuclei.
extern const char* const kBreastCancerFeatureNames[kBreastCancerFeatures];

// Bounds checked before allocating.
inline constexpr size_t kBreastCancerMaxFileBytes = size_t{64} << 20;
inline constexpr int kBreastCancerMaxRows = 1 << 20;

// The fixed train/test split every tabular model uses (StratifiedSplit):
// 427 train and 142 test patients of the shipped 569. The models' manifests
// record the seed, the percentage and the test indices it gives.
inline constexpr uint64_t kBreastCancerSplitSeed = 20260101;
inline constexpr int kBreastCancerTestPercent = 25;

// What the tabular models' manifests say under "preprocessing"
// (models/common.py BC_PREPROCESSING holds the same text).
inline constexpr std::string_view kBreastCancerPreprocessing =
    "x = the 30 measurements of one patient as float, shape [1, 30], in the "
    "CSV's column order (no host-side step); the model standardises "
    "in-graph: (x - mean) * (1 / std) with the training split's per-feature "
    "mean and standard deviation";

struct BreastCancer {
  int count = 0;
  std::vector<double> features;  // count * 30, row-major, as in the file
  std::vector<uint8_t> labels;   // count; 1 malignant, 0 benign

  // Patient i's 30 measurements: the model's input as is (the model
  // standardises in-graph). REQUIRES: 0 <= i < count.
  std::vector<double> Patient(int i) const;
};

// Parses the CSV text. Errors: InvalidArgument naming the line and field
// (and showing the offending text, escaped) for a non-ASCII byte, a header
// other than "N,30,malignant,benign", a row with the wrong number of
// fields, a field that is not a number in the grammar above or is out of
// double's range, a target other than 0 or 1, or a row count that differs
// from the header's; ResourceExhausted for more than kBreastCancerMaxRows.
// A final newline is optional; CRLF line ends are accepted.
absl::StatusOr<BreastCancer> ParseBreastCancerCsv(std::string_view text);

// Reads and parses `path` (e.g. kDefaultBreastCancerCsv). Errors: NotFound
// when the file cannot be opened, ResourceExhausted past
// kBreastCancerMaxFileBytes, and those of ParseBreastCancerCsv prefixed with
// the path.
absl::StatusOr<BreastCancer> LoadBreastCancer(const std::string& path);

// The fixed split of `data`'s labels (seed and percentage above).
SplitIndices BreastCancerSplit(const BreastCancer& data);

}  // namespace blindfold::data

#endif  // BLINDFOLD_DATA_BREAST_CANCER_H_
