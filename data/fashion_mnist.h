// File: data/fashion_mnist.h
// Fashion-MNIST (Debian's dataset-fashion-mnist package): loads a split's
// images and labels from the gzip-compressed IDX files and applies the one
// preprocessing every Blindfold model expects (models/common.py says the
// same): pixel / 255.0, row-major [1, 28, 28] per image. Normalisation beyond
// that is an op inside each model.
#ifndef BLINDFOLD_DATA_FASHION_MNIST_H_
#define BLINDFOLD_DATA_FASHION_MNIST_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace blindfold::data {

// Where the Debian package installs the files.
inline constexpr std::string_view kDefaultFashionMnistDir =
    "/usr/share/datasets/fashion-mnist";

inline constexpr int kFashionMnistRows = 28;
inline constexpr int kFashionMnistCols = 28;
inline constexpr int kFashionMnistPixels = 28 * 28;
inline constexpr int kFashionMnistClasses = 10;

// What every shipped model's manifest says under "preprocessing": the host
// side is exactly FashionMnist::Preprocessed; the normalisation is the
// model's first two ops. models/common.py PREPROCESSING holds the same text
// (tools/model_fixture_test.cc checks each manifest against this).
inline constexpr std::string_view kFashionMnistPreprocessing =
    "x = pixel / 255.0 as float, shape [1, 1, 28, 28] (row-major, no other "
    "host-side step); the model normalises in-graph: (x - 0.2860) * "
    "(1 / 0.3530)";

// The ten classes, in label order.
inline constexpr const char* kFashionMnistClassNames[kFashionMnistClasses] = {
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};

enum class Split { kTrain, kTest };

// One split: `count` images of kFashionMnistPixels bytes each, and labels.
struct FashionMnist {
  int count = 0;
  std::vector<uint8_t> pixels;  // count * 784, row-major
  std::vector<uint8_t> labels;  // count, each in 0..9

  // Image i preprocessed: pixel / 255.0, 784 doubles. REQUIRES: 0 <= i < count.
  std::vector<double> Preprocessed(int i) const;
};

// The file names of a split inside the data directory.
std::string ImagesFileName(Split split);
std::string LabelsFileName(Split split);

// Loads `split` from `dir` (e.g. kDefaultFashionMnistDir). Errors: those of
// ReadIdxFile (missing or damaged file), and InvalidArgument when the images
// are not 28x28, the image and label counts differ, or a label is not 0..9.
absl::StatusOr<FashionMnist> LoadFashionMnist(const std::string& dir,
                                              Split split);

}  // namespace blindfold::data

#endif  // BLINDFOLD_DATA_FASHION_MNIST_H_
