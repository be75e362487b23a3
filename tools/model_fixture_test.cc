// File: tools/model_fixture_test.cc
// Every shipped model (models/<name>/) against its committed PyTorch fixture:
// the reference executor's logits on the first fixture images agree with
// PyTorch's float64 logits to 1e-4 absolute, and the manifest agrees with
// what the C++ side imports and applies (input shape, preprocessing, depth).
// On all 10,000 test images the executor's accuracy equals the manifest's
// (PyTorch float64). The full 10,000-image logit comparison needs PyTorch and
// is models/check_reference.py. The tabular models (bc-*) are checked on
// every patient of their test split, and their manifests against the C++
// reader: the same CSV (SHA-256), the same split, the same preprocessing.
#include <algorithm>
#include <cmath>
#include <fstream>
#include <string>

#include "compiler/ir/analysis.h"
#include "compiler/onnx/importer.h"
#include "data/breast_cancer.h"
#include "data/dataset.h"
#include "data/fashion_mnist.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "runtime/reference_executor.h"
#include "sodium.h"

namespace blindfold {
namespace {

namespace ir = compiler::ir;
using nlohmann::json;

constexpr double kTolerance = 1e-4;

json ReadJson(const std::string& path) {
  std::ifstream in(path);
  EXPECT_TRUE(in.good()) << "cannot open " << path;
  return json::parse(in, nullptr, /*allow_exceptions=*/false);
}

// The Fashion-MNIST test split, loaded once for every model (nullptr with
// the error printed if it cannot be read).
const data::FashionMnist* TestSet() {
  static const data::FashionMnist* test = [] {
    auto t = data::LoadFashionMnist(std::string(data::kDefaultFashionMnistDir),
                                    data::Split::kTest);
    if (!t.ok()) {
      ADD_FAILURE() << t.status();
      return static_cast<data::FashionMnist*>(nullptr);
    }
    return new data::FashionMnist(*std::move(t));
  }();
  return test;
}

class ModelFixtureTest : public ::testing::TestWithParam<std::string> {
 protected:
  std::string Dir() const {
    return std::string(BLINDFOLD_SOURCE_DIR) + "/models/" + GetParam() + "/";
  }
  absl::StatusOr<ir::Graph> Import() const {
    return compiler::ImportOnnxFile(Dir() + GetParam() + ".onnx");
  }
  // The executor's logits on test image i.
  static absl::StatusOr<ir::Tensor> Run(const ir::Graph& g,
                                        const data::FashionMnist& test, int i) {
    return runtime::RunReference(
        g, ir::Tensor{g.value(g.inputs()[0]).shape, test.Preprocessed(i)});
  }
};

TEST_P(ModelFixtureTest, ManifestMatchesImportedGraph) {
  const json manifest = ReadJson(Dir() + "manifest.json");
  ASSERT_FALSE(manifest.is_discarded());
  auto g = Import();
  ASSERT_TRUE(g.ok()) << g.status();
  EXPECT_EQ(manifest["name"], GetParam());
  EXPECT_EQ(manifest["input"]["shape"].get<ir::Shape>(),
            g->value(g->inputs()[0]).shape);
  EXPECT_EQ(ir::NumElements(g->value(g->outputs()[0]).shape), 10);
  EXPECT_EQ(manifest["preprocessing"].get<std::string>(),
            std::string(data::kFashionMnistPreprocessing));
  EXPECT_EQ(manifest["test_images"], 10000);
  EXPECT_GE(manifest["onnx_opset"].get<int>(), 13);
  const ir::DepthReport depth = ir::AnalyzeDepth(*g);
  if (manifest["activation_depth"].is_null()) {
    EXPECT_FALSE(depth.activation_depth.has_value());
    EXPECT_FALSE(depth.non_polynomial_op.empty());
  } else {
    ASSERT_TRUE(depth.activation_depth.has_value())
        << depth.non_polynomial_op;
    EXPECT_EQ(manifest["activation_depth"].get<int>(), *depth.activation_depth);
    EXPECT_EQ(manifest["multiplicative_depth"].get<int>(),
              *depth.multiplicative_depth);
  }
}

TEST_P(ModelFixtureTest, LogitsMatchPyTorch) {
  const json fixture = ReadJson(Dir() + "fixture.json");
  ASSERT_FALSE(fixture.is_discarded());
  auto g = Import();
  ASSERT_TRUE(g.ok()) << g.status();
  const data::FashionMnist* test = TestSet();
  ASSERT_NE(test, nullptr);
  const auto& indices = fixture["indices"];
  const auto& logits = fixture["logits"];
  ASSERT_GE(indices.size(), 200u);
  ASSERT_EQ(indices.size(), logits.size());
  double max_diff = 0;
  int same_class = 0;
  for (size_t k = 0; k < indices.size(); ++k) {
    const int i = indices[k].get<int>();
    ASSERT_EQ(fixture["labels"][k].get<int>(), test->labels[i]);
    auto y = Run(*g, *test, i);
    ASSERT_TRUE(y.ok()) << y.status();
    const auto want = logits[k].get<std::vector<double>>();
    ASSERT_EQ(want.size(), y->data.size());
    int best = 0, want_best = 0;
    for (size_t c = 0; c < want.size(); ++c) {
      max_diff = std::max(max_diff, std::abs(y->data[c] - want[c]));
      if (y->data[c] > y->data[best]) best = c;
      if (want[c] > want[want_best]) want_best = c;
    }
    same_class += best == want_best;
  }
  EXPECT_LE(max_diff, kTolerance);
  EXPECT_EQ(same_class, static_cast<int>(indices.size()));
  std::printf("%s: %zu images, max |logit - PyTorch| = %.3g\n",
              GetParam().c_str(), indices.size(), max_diff);
}

TEST_P(ModelFixtureTest, FullTestSetAccuracyMatchesManifest) {
  const json manifest = ReadJson(Dir() + "manifest.json");
  ASSERT_FALSE(manifest.is_discarded());
  auto g = Import();
  ASSERT_TRUE(g.ok()) << g.status();
  const data::FashionMnist* test = TestSet();
  ASSERT_NE(test, nullptr);
  ASSERT_EQ(test->count, manifest["test_images"].get<int>());
  int correct = 0;
  for (int i = 0; i < test->count; ++i) {
    auto y = Run(*g, *test, i);
    ASSERT_TRUE(y.ok()) << y.status();
    const auto best = std::max_element(y->data.begin(), y->data.end());
    correct += (best - y->data.begin()) == test->labels[i];
  }
  EXPECT_EQ(correct, manifest["test_correct"].get<int>());
}

INSTANTIATE_TEST_SUITE_P(ShippedModels, ModelFixtureTest,
                         ::testing::Values("logreg", "mlp", "cnn-small", "cnn",
                                           "cnn-deep", "mlp-relu"),
                         [](const auto& info) {
                           std::string s = info.param;
                           for (char& c : s) c = c == '-' ? '_' : c;
                           return s;
                         });

// ---------------------------------------------------------------- tabular --

class TabularModelTest : public ::testing::TestWithParam<std::string> {
 protected:
  std::string Dir() const {
    return std::string(BLINDFOLD_SOURCE_DIR) + "/models/" + GetParam() + "/";
  }
  static const data::Examples& Test() {
    static const data::Examples* test = [] {
      auto t = data::LoadExamples(data::DatasetKind::kBreastCancer, "", data::Split::kTest);
      if (!t.ok()) {
        ADD_FAILURE() << t.status();
        return static_cast<data::Examples*>(nullptr);
      }
      return new data::Examples(*std::move(t));
    }();
    return *test;
  }
};

std::string Sha256OfFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  const std::string bytes{std::istreambuf_iterator<char>(in), {}};
  unsigned char h[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(h, reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size());
  char hex[2 * crypto_hash_sha256_BYTES + 1];
  sodium_bin2hex(hex, sizeof(hex), h, sizeof(h));
  return hex;
}

TEST_P(TabularModelTest, ManifestMatchesGraphReaderAndSplit) {
  const json manifest = ReadJson(Dir() + "manifest.json");
  ASSERT_FALSE(manifest.is_discarded());
  auto g = compiler::ImportOnnxFile(Dir() + GetParam() + ".onnx");
  ASSERT_TRUE(g.ok()) << g.status();
  EXPECT_EQ(manifest["name"], GetParam());
  EXPECT_EQ(manifest["dataset"], "breast-cancer");
  EXPECT_EQ(manifest["input"]["shape"].get<ir::Shape>(), g->value(g->inputs()[0]).shape);
  EXPECT_EQ(manifest["input"]["features"].size(), 30u);
  EXPECT_EQ(manifest["input"]["features"][22], data::kBreastCancerFeatureNames[22]);
  EXPECT_EQ(manifest["output"]["shape"].get<ir::Shape>(), g->value(g->outputs()[0]).shape);
  // One logit (of malignancy) or one per class, in label order.
  const auto classes = manifest["output"]["classes"].get<std::vector<std::string>>();
  const std::vector<std::string> names = data::DatasetClassNames(data::DatasetKind::kBreastCancer);
  if (classes.size() == 1) {
    EXPECT_EQ(classes[0], names[1]);
  } else {
    EXPECT_EQ(classes, names);
  }
  EXPECT_EQ(manifest["preprocessing"].get<std::string>(),
            std::string(data::kBreastCancerPreprocessing));
  EXPECT_EQ(manifest["dataset_sha256"].get<std::string>(),
            Sha256OfFile(std::string(data::kDefaultBreastCancerCsv)))
      << "the installed CSV is not the one the model was trained on";
  const json& split = manifest["split"];
  EXPECT_EQ(split["seed"].get<uint64_t>(), data::kBreastCancerSplitSeed);
  EXPECT_EQ(split["test_percent"].get<int>(), data::kBreastCancerTestPercent);
  EXPECT_EQ(split["test_indices"].get<std::vector<int>>(), Test().ids);
  EXPECT_EQ(split["test_count"].get<int>(), Test().count);
  EXPECT_EQ(manifest["test_patients"].get<int>(), Test().count);
  const ir::DepthReport depth = ir::AnalyzeDepth(*g);
  ASSERT_TRUE(depth.activation_depth.has_value()) << depth.non_polynomial_op;
  EXPECT_EQ(manifest["activation_depth"].get<int>(), *depth.activation_depth);
  EXPECT_EQ(manifest["multiplicative_depth"].get<int>(), *depth.multiplicative_depth);
}

// Every test patient: the executor's outputs against PyTorch's float64 ones,
// and the accuracy against the manifest's.
TEST_P(TabularModelTest, EveryTestPatientMatchesPyTorch) {
  const json fixture = ReadJson(Dir() + "fixture.json");
  const json manifest = ReadJson(Dir() + "manifest.json");
  ASSERT_FALSE(fixture.is_discarded());
  ASSERT_FALSE(manifest.is_discarded());
  auto g = compiler::ImportOnnxFile(Dir() + GetParam() + ".onnx");
  ASSERT_TRUE(g.ok()) << g.status();
  const data::Examples& test = Test();
  ASSERT_EQ(fixture["indices"].get<std::vector<int>>(), test.ids);
  ASSERT_EQ(fixture["logits"].size(), static_cast<size_t>(test.count));
  double max_diff = 0;
  int correct = 0;
  for (int i = 0; i < test.count; ++i) {
    ASSERT_EQ(fixture["labels"][i].get<int>(), test.labels[i]);
    auto y = runtime::RunReference(*g, ir::Tensor{g->value(g->inputs()[0]).shape, test.input(i)});
    ASSERT_TRUE(y.ok()) << y.status();
    const auto want = fixture["logits"][i].get<std::vector<double>>();
    ASSERT_EQ(want.size(), y->data.size());
    for (size_t k = 0; k < want.size(); ++k) {
      max_diff = std::max(max_diff, std::abs(y->data[k] - want[k]));
    }
    const int label = y->data.size() == 1
                          ? (y->data[0] > 0 ? 1 : 0)
                          : static_cast<int>(std::max_element(y->data.begin(), y->data.end()) -
                                             y->data.begin());
    correct += label == test.labels[i];
  }
  EXPECT_LE(max_diff, 1e-9);
  EXPECT_EQ(correct, manifest["test_correct"].get<int>());
  std::printf("%s: %d patients, max |output - PyTorch| = %.3g, %d correct\n",
              GetParam().c_str(), test.count, max_diff, correct);
}

INSTANTIATE_TEST_SUITE_P(TabularModels, TabularModelTest,
                         ::testing::Values("bc-logreg", "bc-mlp"),
                         [](const auto& info) {
                           std::string s = info.param;
                           for (char& c : s) c = c == '-' ? '_' : c;
                           return s;
                         });

}  // namespace
}  // namespace blindfold
