// File: tools/datasets.cc
#include "tools/datasets.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/status.h"
#include "nlohmann/json.hpp"

namespace blindfold::tools {

using nlohmann::json;

ManifestInfo ReadManifest(const std::string& model) {
  ManifestInfo info;
  const auto path = std::filesystem::path(model).parent_path() / "manifest.json";
  std::ifstream in(path);
  if (!in.good()) return info;
  const json j = json::parse(in, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return info;
  if (j.contains("dataset") && j["dataset"].is_string()) {
    info.dataset = j["dataset"].get<std::string>();
  }
  if (j.contains("output") && j["output"].is_object() && j["output"].contains("classes") &&
      j["output"]["classes"].is_array()) {
    for (const auto& c : j["output"]["classes"]) {
      if (c.is_string()) info.classes.push_back(c.get<std::string>());
    }
  }
  return info;
}

absl::StatusOr<data::DatasetKind> ChooseDataset(const std::string& flag,
                                                const std::string& model,
                                                int64_t input_size) {
  std::optional<data::DatasetKind> kind;
  std::string why;
  if (!flag.empty()) {
    BF_ASSIGN_OR_RETURN(kind, data::ParseDatasetName(flag));
    why = "--dataset";
  } else if (!model.empty()) {
    const std::string named = ReadManifest(model).dataset;
    if (absl::StartsWith(named, "Fashion-MNIST")) {
      kind = data::DatasetKind::kFashionMnist;  // the image models' manifests
    } else if (!named.empty()) {
      absl::StatusOr<data::DatasetKind> k = data::ParseDatasetName(named);
      if (!k.ok()) {
        return absl::InvalidArgumentError(absl::StrCat(
            "the manifest beside ", model, " names dataset '", named,
            "', which blindfold cannot read; give --dataset fashion-mnist or breast-cancer"));
      }
      kind = *k;
    }
    why = "the model's manifest";
  }
  if (!kind) return data::DatasetForInputSize(input_size);
  if (data::DatasetInputSize(*kind) != input_size) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the model takes ", input_size, " input values, ", data::DatasetName(*kind),
        " inputs (from ", why, ") have ", data::DatasetInputSize(*kind)));
  }
  return *kind;
}

absl::Status CheckOutputs(int64_t outputs, int classes) {
  if (outputs == classes || (outputs == 1 && classes == 2)) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(
      "the model has ", outputs, " outputs; the dataset has ", classes, " classes (expected ",
      classes, classes == 2 ? ", or one logit" : "", ")"));
}

int PredictedLabel(const std::vector<double>& y) {
  if (y.size() == 1) return y[0] > 0 ? 1 : 0;
  return static_cast<int>(std::max_element(y.begin(), y.end()) - y.begin());
}

std::optional<double> PositiveProbability(const std::vector<double>& y) {
  if (y.size() != 1 && y.size() != 2) return std::nullopt;
  const double z = y.size() == 1 ? y[0] : y[1] - y[0];
  return 1.0 / (1.0 + std::exp(-z));
}

}  // namespace blindfold::tools
