// File: data/dataset.cc
#include "data/dataset.h"

#include <iterator>
#include <memory>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "base/status.h"
#include "data/breast_cancer.h"

namespace blindfold::data {

const char* DatasetName(DatasetKind kind) {
  return kind == DatasetKind::kBreastCancer ? "breast-cancer" : "fashion-mnist";
}

absl::StatusOr<DatasetKind> ParseDatasetName(std::string_view name) {
  for (DatasetKind k : {DatasetKind::kFashionMnist, DatasetKind::kBreastCancer}) {
    if (name == DatasetName(k)) return k;
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "dataset '", std::string(name), "' is unknown; expected fashion-mnist or breast-cancer"));
}

std::string DefaultDataPath(DatasetKind kind) {
  return std::string(kind == DatasetKind::kBreastCancer ? kDefaultBreastCancerCsv
                                                        : kDefaultFashionMnistDir);
}

int DatasetInputSize(DatasetKind kind) {
  return kind == DatasetKind::kBreastCancer ? kBreastCancerFeatures : kFashionMnistPixels;
}

absl::StatusOr<DatasetKind> DatasetForInputSize(int64_t values) {
  for (DatasetKind k : {DatasetKind::kFashionMnist, DatasetKind::kBreastCancer}) {
    if (DatasetInputSize(k) == values) return k;
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "no dataset has inputs of ", values, " values (fashion-mnist: ",
      DatasetInputSize(DatasetKind::kFashionMnist), ", breast-cancer: ",
      DatasetInputSize(DatasetKind::kBreastCancer), ")"));
}

std::vector<std::string> DatasetClassNames(DatasetKind kind) {
  if (kind == DatasetKind::kBreastCancer) {
    return {std::begin(kBreastCancerClassNames), std::end(kBreastCancerClassNames)};
  }
  return {std::begin(kFashionMnistClassNames), std::end(kFashionMnistClassNames)};
}

absl::StatusOr<Examples> LoadExamples(DatasetKind kind, const std::string& path,
                                      Split split) {
  const std::string from = path.empty() ? DefaultDataPath(kind) : path;
  const char* split_name = split == Split::kTrain ? "train" : "test";
  Examples e;
  e.kind = kind;
  e.dim = DatasetInputSize(kind);
  if (kind == DatasetKind::kFashionMnist) {
    BF_ASSIGN_OR_RETURN(FashionMnist d, LoadFashionMnist(from, split));
    auto shared = std::make_shared<const FashionMnist>(std::move(d));
    e.description = absl::StrCat("Fashion-MNIST ", split_name);
    e.unit = "image";
    e.count = shared->count;
    e.class_names = DatasetClassNames(kind);
    e.labels.assign(shared->labels.begin(), shared->labels.end());
    for (int i = 0; i < e.count; ++i) e.ids.push_back(i);
    e.input = [shared](int i) { return shared->Preprocessed(i); };
    return e;
  }
  BF_ASSIGN_OR_RETURN(BreastCancer d, LoadBreastCancer(from));
  const SplitIndices s = BreastCancerSplit(d);
  auto shared = std::make_shared<const BreastCancer>(std::move(d));
  e.description = absl::StrCat("breast-cancer ", split_name);
  e.unit = "patient";
  e.ids = split == Split::kTrain ? s.train : s.test;
  e.count = static_cast<int>(e.ids.size());
  e.class_names = DatasetClassNames(kind);
  for (int id : e.ids) e.labels.push_back(shared->labels[id]);
  e.input = [shared, ids = e.ids](int i) { return shared->Patient(ids[i]); };
  return e;
}

}  // namespace blindfold::data
