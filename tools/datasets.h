// File: tools/datasets.h
// How the CLI decides which dataset a command reads (Fashion-MNIST images or
// breast-cancer patients) and how it reads a model's outputs as a class.
#ifndef BLINDFOLD_TOOLS_DATASETS_H_
#define BLINDFOLD_TOOLS_DATASETS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "data/dataset.h"

namespace blindfold::tools {

// manifest.json beside `model` (an ONNX file): its "dataset" field, and the
// class names under "output"/"classes" (empty when there is no manifest or
// no such field).
struct ManifestInfo {
  std::string dataset;
  std::vector<std::string> classes;
};
ManifestInfo ReadManifest(const std::string& model);

// The dataset a command reads, in this order: `flag` (--dataset) when not
// empty; the "dataset" of the manifest beside `model` when `model` is not
// empty and has one ("breast-cancer", "fashion-mnist", or the image models'
// "Fashion-MNIST (...)"); the dataset whose inputs have `input_size` values.
// Errors (InvalidArgument): an unknown name, a manifest dataset the CLI
// cannot read, no dataset with inputs of that size, or a chosen dataset
// whose inputs do not have `input_size` values (naming both sizes).
absl::StatusOr<data::DatasetKind> ChooseDataset(const std::string& flag,
                                                const std::string& model,
                                                int64_t input_size);

// Whether a model with `outputs` values can be scored against `classes`
// labels: one score per class, or one logit for a two-class dataset (the
// logit of label 1). Errors name both counts.
absl::Status CheckOutputs(int64_t outputs, int classes);

// The label a model's output predicts: for one output (a logit), 1 when it
// is positive; otherwise the first arg max.
int PredictedLabel(const std::vector<double>& y);

// P(label 1) of a two-class model: the sigmoid of its one logit, or the
// softmax of its two (the sigmoid of their difference); nullopt for any
// other output count.
std::optional<double> PositiveProbability(const std::vector<double>& y);

}  // namespace blindfold::tools

#endif  // BLINDFOLD_TOOLS_DATASETS_H_
