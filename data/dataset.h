// File: data/dataset.h
// The datasets Blindfold's models are trained on, behind one shape: a
// labelled split of model inputs, already preprocessed the way the model
// expects (Fashion-MNIST: pixel / 255; breast cancer: the 30 measurements as
// they are, the models standardise in-graph). The CLI, the benchmarks and
// the tests pick a dataset by name and read splits through this.
#ifndef BLINDFOLD_DATA_DATASET_H_
#define BLINDFOLD_DATA_DATASET_H_

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "data/fashion_mnist.h"

namespace blindfold::data {

enum class DatasetKind { kFashionMnist = 0, kBreastCancer = 1 };

// "fashion-mnist", "breast-cancer": the names manifests and the CLI use.
const char* DatasetName(DatasetKind kind);
// Errors: InvalidArgument naming the known names.
absl::StatusOr<DatasetKind> ParseDatasetName(std::string_view name);
// Where Debian installs it: the Fashion-MNIST IDX directory, the CSV file.
std::string DefaultDataPath(DatasetKind kind);
// Values per input: 784 (28 x 28 pixels), 30 (measurements).
int DatasetInputSize(DatasetKind kind);
// The dataset whose inputs have `values` values. Errors: InvalidArgument
// when none has (naming the sizes there are).
absl::StatusOr<DatasetKind> DatasetForInputSize(int64_t values);
// Class names by label.
std::vector<std::string> DatasetClassNames(DatasetKind kind);

// One split. Input i is `input(i)`; `ids[i]` is its index in the whole
// dataset (the IDX item, the CSV row counted from 0 after the header).
struct Examples {
  DatasetKind kind = DatasetKind::kFashionMnist;
  std::string description;  // "Fashion-MNIST test", "breast-cancer test"
  std::string unit;         // "image", "patient"
  int count = 0;
  int dim = 0;
  std::vector<std::string> class_names;  // by label
  std::vector<int> labels;               // count
  std::vector<int> ids;                  // count
  std::function<std::vector<double>(int)> input;  // REQUIRES: 0 <= i < count
};

// Loads `split` of `kind` from `path` (empty: DefaultDataPath). Fashion-MNIST
// splits are its train and test files; breast-cancer splits are the fixed
// stratified split (BreastCancerSplit). Errors: those of the readers.
absl::StatusOr<Examples> LoadExamples(DatasetKind kind, const std::string& path,
                                      Split split);

}  // namespace blindfold::data

#endif  // BLINDFOLD_DATA_DATASET_H_
