// File: data/fashion_mnist.cc
#include "data/fashion_mnist.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "base/check.h"
#include "base/status.h"
#include "data/idx.h"

namespace blindfold::data {

std::vector<double> FashionMnist::Preprocessed(int i) const {
  BF_CHECK(i >= 0 && i < count);
  std::vector<double> out(kFashionMnistPixels);
  const uint8_t* p = pixels.data() + size_t{static_cast<size_t>(i)} *
                                         kFashionMnistPixels;
  for (int k = 0; k < kFashionMnistPixels; ++k) out[k] = p[k] / 255.0;
  return out;
}

std::string ImagesFileName(Split split) {
  return split == Split::kTrain ? "train-images-idx3-ubyte.gz"
                                : "t10k-images-idx3-ubyte.gz";
}

std::string LabelsFileName(Split split) {
  return split == Split::kTrain ? "train-labels-idx1-ubyte.gz"
                                : "t10k-labels-idx1-ubyte.gz";
}

absl::StatusOr<FashionMnist> LoadFashionMnist(const std::string& dir,
                                              Split split) {
  BF_ASSIGN_OR_RETURN(
      IdxArray images,
      ReadIdxFile(absl::StrCat(dir, "/", ImagesFileName(split)),
                  kIdxImagesMagic));
  BF_ASSIGN_OR_RETURN(
      IdxArray labels,
      ReadIdxFile(absl::StrCat(dir, "/", LabelsFileName(split)),
                  kIdxLabelsMagic));
  if (images.dims[1] != kFashionMnistRows ||
      images.dims[2] != kFashionMnistCols) {
    return absl::InvalidArgumentError(
        absl::StrCat("LoadFashionMnist: images are ", images.dims[1], "x",
                     images.dims[2], ", expected 28x28"));
  }
  if (images.dims[0] != labels.dims[0]) {
    return absl::InvalidArgumentError(
        absl::StrCat("LoadFashionMnist: ", images.dims[0], " images but ",
                     labels.dims[0], " labels"));
  }
  for (size_t i = 0; i < labels.values.size(); ++i) {
    if (labels.values[i] >= kFashionMnistClasses) {
      return absl::InvalidArgumentError(
          absl::StrCat("LoadFashionMnist: label ", i, " is ",
                       labels.values[i], ", expected 0..9"));
    }
  }
  FashionMnist out;
  out.count = static_cast<int>(images.dims[0]);
  out.pixels = std::move(images.values);
  out.labels = std::move(labels.values);
  return out;
}

}  // namespace blindfold::data
