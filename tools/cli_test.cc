// File: tools/cli_test.cc
// The `blindfold` CLI in-process (inspect, eval-plain, errors, the encrypted
// flow on an image and a tabular model) and the real binary on a committed
// model.
#include "tools/cli.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "data/dataset.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "runtime/plan_io.h"

namespace blindfold::tools {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;
using ::testing::Not;

const std::string kModels = std::string(BLINDFOLD_SOURCE_DIR) + "/models/";

struct Result {
  int code;
  std::string out, err;
};

Result Cli(std::vector<std::string> args, bool terminal = false) {
  args.insert(args.begin(), "blindfold");
  std::vector<const char*> argv;
  for (const auto& a : args) argv.push_back(a.c_str());
  std::ostringstream out, err;
  int code = RunCli(static_cast<int>(argv.size()), argv.data(), out, err,
                    terminal);
  return {code, out.str(), err.str()};
}

TEST(CliTest, InspectText) {
  Result r = Cli({"inspect", kModels + "cnn/cnn.onnx"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("input: image [1,1,28,28]"));
  EXPECT_THAT(r.out, HasSubstr("output: logits [1,10]"));
  EXPECT_THAT(r.out, HasSubstr("depth: 2 ciphertext products (activations), "
                               "5 levels in total"));
  EXPECT_THAT(r.out, HasSubstr("= Conv(%"));
  EXPECT_THAT(r.out, HasSubstr("{dilations=[1,1], group=1, pads=[1,1,1,1], "
                               "strides=[2,2]}"));
  EXPECT_TRUE(r.err.empty());
}

TEST(CliTest, InspectJsonMatchesEveryManifest) {
  for (const char* name : {"logreg", "mlp", "cnn-small", "cnn", "cnn-deep", "mlp-relu",
                           "bc-logreg", "bc-mlp"}) {
    const std::string dir = kModels + name + "/";
    Result r = Cli({"inspect", dir + name + ".onnx", "--json"});
    ASSERT_EQ(r.code, 0) << r.err;
    const json j = json::parse(r.out, nullptr, false);
    ASSERT_FALSE(j.is_discarded()) << r.out;
    std::ifstream mf(dir + "manifest.json");
    const json manifest = json::parse(mf, nullptr, false);
    ASSERT_FALSE(manifest.is_discarded());
    EXPECT_EQ(j["activation_depth"], manifest["activation_depth"]) << name;
    EXPECT_EQ(j["multiplicative_depth"], manifest["multiplicative_depth"])
        << name;
    EXPECT_EQ(j["input"]["shape"], manifest["input"]["shape"]) << name;
    EXPECT_GE(j["weights"].get<int64_t>(),
              manifest["parameter_count"].get<int64_t>() / 2)
        << name;
  }
}

TEST(CliTest, InspectNamesNonPolynomialOp) {
  Result r = Cli({"inspect", kModels + "mlp-relu/mlp-relu.onnx"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("depth: undefined (non-polynomial op Relu"));
}

TEST(CliTest, EvalPlainJsonAndProgress) {
  Result r = Cli({"eval-plain", kModels + "logreg/logreg.onnx", "--limit",
                  "30", "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  const json j = json::parse(r.out, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << r.out;
  EXPECT_EQ(j["images"], 30);
  EXPECT_EQ(j["model"], kModels + "logreg/logreg.onnx");
  EXPECT_GT(j["accuracy"].get<double>(), 0.6);
  EXPECT_TRUE(r.err.empty()) << "no progress bar without a terminal";

  r = Cli({"eval-plain", kModels + "logreg/logreg.onnx", "--limit", "30"},
          /*terminal=*/true);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("images: 30"));
  EXPECT_THAT(r.out, HasSubstr("accuracy: "));
  EXPECT_THAT(r.err, HasSubstr("\r[##############################] 30/30"));
}

TEST(CliTest, EvalPlainWritesLogits) {
  const std::string path = ::testing::TempDir() + "/bf_logits.f64";
  Result r = Cli({"eval-plain", kModels + "cnn-small/cnn-small.onnx",
                  "--limit", "3", "--logits-out", path});
  ASSERT_EQ(r.code, 0) << r.err;
  std::ifstream f(path, std::ios::binary | std::ios::ate);
  EXPECT_EQ(static_cast<int>(f.tellg()), 3 * 10 * 8);
  std::remove(path.c_str());
}

TEST(CliTest, Errors) {
  Result r = Cli({"inspect", "/nonexistent.onnx"});
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err, HasSubstr("blindfold inspect: ImportOnnxFile: cannot open "
                               "/nonexistent.onnx"));
  r = Cli({"eval-plain", kModels + "logreg/logreg.onnx", "--data",
           "/nonexistent"});
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err, HasSubstr("blindfold eval-plain: ReadFile: cannot open "
                               "/nonexistent/t10k-images-idx3-ubyte.gz"));
  r = Cli({"eval-plain", kModels + "logreg/logreg.onnx", "--limit", "-2"});
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err, HasSubstr("--limit is -2"));
  // A file that is not ONNX (the manifest).
  r = Cli({"inspect", kModels + "logreg/manifest.json"});
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err, HasSubstr("ImportOnnx: "));
  r = Cli({});
  EXPECT_NE(r.code, 0);
  r = Cli({"eval-plain"});
  EXPECT_NE(r.code, 0);
  EXPECT_THAT(r.err, HasSubstr("model is required"));
  r = Cli({"frobnicate"});
  EXPECT_NE(r.code, 0);
}

// Hostile models of the fuzz corpus (compiler/onnx/hostile_models.cc): a
// Reshape target whose product wrapped to the input size used to pass import
// and crash eval-plain; now both commands stop at import, naming the node.
TEST(CliTest, HostileModelsAreImportErrors) {
  const std::string corpus =
      std::string(BLINDFOLD_SOURCE_DIR) + "/fuzz/corpus/onnx_import/";
  for (const char* name :
       {"hostile_reshape_product_wraps", "hostile_conv_pads_int64_max"}) {
    SCOPED_TRACE(name);
    for (const char* command : {"inspect", "eval-plain"}) {
      Result r = Cli({command, corpus + name});
      EXPECT_EQ(r.code, 1);
      EXPECT_THAT(r.err, HasSubstr(std::string("blindfold ") + command +
                                   ": ImportOnnxFile"));
      EXPECT_THAT(r.err, HasSubstr("InferShapes: node '"));
    }
  }
}

// The real binary, as a user runs it, on a committed model: its JSON agrees
// with PyTorch's predictions on the same 200 images (the committed fixture).
TEST(CliBinaryTest, EvalPlainLogregJson) {
  const std::string cmd = std::string(BLINDFOLD_CLI_PATH) + " eval-plain " +
                          kModels + "logreg/logreg.onnx --limit 200 --json";
  FILE* p = popen(cmd.c_str(), "r");
  ASSERT_NE(p, nullptr);
  std::string out;
  char buf[4096];
  while (size_t n = fread(buf, 1, sizeof(buf), p)) out.append(buf, n);
  ASSERT_EQ(pclose(p), 0) << out;
  const json j = json::parse(out, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << out;
  EXPECT_EQ(j["images"], 200);
  std::ifstream ff(kModels + "logreg/fixture.json");
  const json fixture = json::parse(ff, nullptr, false);
  ASSERT_FALSE(fixture.is_discarded());
  int correct = 0;
  for (int i = 0; i < 200; ++i) {
    const auto logits = fixture["logits"][i].get<std::vector<double>>();
    const int best = std::max_element(logits.begin(), logits.end()) -
                     logits.begin();
    correct += best == fixture["labels"][i].get<int>();
  }
  EXPECT_EQ(j["correct"].get<int>(), correct);
  EXPECT_DOUBLE_EQ(j["accuracy"].get<double>(), correct / 200.0);
}

// The encrypted flow through the CLI on logreg: compile, keygen, encrypt,
// run, decrypt agree with eval-plain's class; bad inputs are clear errors.
TEST(CliTest, EncryptedFlowAndItsErrors) {
  const std::string dir = ::testing::TempDir() + "/cli_he/";
  std::filesystem::create_directories(dir);
  const std::string plan = dir + "logreg.plan", sk = dir + "sk.bin", evk = dir + "logreg.evk";
  Result r = Cli({"compile", kModels + "logreg/logreg.onnx", "-o", plan, "--calibration", "16"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("128-bit"));
  EXPECT_THAT(r.out, HasSubstr("predicted server latency"));
  EXPECT_THAT(r.out, Not(HasSubstr("ciphertexts in memory")));
  // A throughput plan says how much memory its ciphertexts take at the
  // widest point: logreg's 784 inputs at level 1, N = 2^13.
  Result batched = Cli({"compile", kModels + "logreg/logreg.onnx", "-o", dir + "logreg-batch.plan",
                        "--calibration", "16", "--mode", "throughput"});
  ASSERT_EQ(batched.code, 0) << batched.err;
  EXPECT_THAT(batched.out, HasSubstr("ciphertexts in memory: about 196.0 MB at the widest "
                                     "point (every term held)"));
  EXPECT_THAT(batched.out, Not(HasSubstr("warning")));
  // The same flow on a batch: test images 0-5 in one request; each result
  // has the class the plan predicts in plaintext.
  {
    const std::string bplan = dir + "logreg-batch.plan", bsk = dir + "bsk.bin",
                      bevk = dir + "b.evk";
    Result b = Cli({"keygen", bplan, "--secret-key", bsk, "--eval-keys", bevk});
    ASSERT_EQ(b.code, 0) << b.err;
    b = Cli({"encrypt", bplan, "--secret-key", bsk, "--image", "0", "--count", "6", "-o",
             dir + "batch.ct"});
    ASSERT_EQ(b.code, 0) << b.err;
    EXPECT_THAT(b.out, HasSubstr("encrypted batch: " + dir + "batch.ct (6 inputs"));
    b = Cli({"run", bplan, "--eval-keys", bevk, dir + "batch.ct", "-o", dir + "batch.out"});
    ASSERT_EQ(b.code, 0) << b.err;
    b = Cli({"decrypt", bplan, "--secret-key", bsk, dir + "batch.out", "--count", "6",
             "--json"});
    ASSERT_EQ(b.code, 0) << b.err;
    const json results = json::parse(b.out, nullptr, false)["results"];
    ASSERT_EQ(results.size(), 6u) << b.out;
    auto plan_or = runtime::ReadPlanFile(bplan);
    ASSERT_TRUE(plan_or.ok()) << plan_or.status();
    auto test = data::LoadExamples(data::DatasetKind::kFashionMnist, "", data::Split::kTest);
    ASSERT_TRUE(test.ok()) << test.status();
    for (int i = 0; i < 6; ++i) {
      const std::vector<double> y = runtime::EvaluatePlanInSlots(*plan_or, test->input(i));
      const int want = static_cast<int>(std::max_element(y.begin(), y.end()) - y.begin());
      EXPECT_EQ(results[i]["class"], want) << "image " << i;
    }
    b = Cli({"decrypt", bplan, "--secret-key", bsk, dir + "batch.out", "--count", "2"});
    ASSERT_EQ(b.code, 0) << b.err;
    EXPECT_THAT(b.out, HasSubstr("input 1: class: "));
    b = Cli({"decrypt", bplan, "--secret-key", bsk, dir + "batch.out", "--count", "0"});
    EXPECT_EQ(b.code, 1);
    EXPECT_THAT(b.err, HasSubstr("count 0, expected 1 to 4096"));
    // Batches are for throughput plans, single inputs for latency plans.
    b = Cli({"encrypt", plan, "--secret-key", bsk, "--image", "0", "--count", "2", "-o",
             dir + "x.ct"});
    EXPECT_EQ(b.code, 1);
    EXPECT_THAT(b.err, HasSubstr("a latency plan encrypts one input"));
    b = Cli({"encrypt", bplan, "--secret-key", bsk, "--image", "9999", "--count", "2", "-o",
             dir + "x.ct"});
    EXPECT_EQ(b.code, 1);
    EXPECT_THAT(b.err, HasSubstr("is 10000, the"));
  }
  r = Cli({"keygen", plan, "--secret-key", sk, "--eval-keys", evk});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(std::filesystem::status(sk).permissions() & std::filesystem::perms::group_all,
            std::filesystem::perms::none);
  r = Cli({"encrypt", plan, "--secret-key", sk, "--image", "3", "-o", dir + "in.ct"});
  ASSERT_EQ(r.code, 0) << r.err;
  r = Cli({"run", plan, "--eval-keys", evk, dir + "in.ct", "-o", dir + "out.ct"});
  ASSERT_EQ(r.code, 0) << r.err;
  r = Cli({"decrypt", plan, "--secret-key", sk, dir + "out.ct", "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("\"class\":1"));  // test image 3 is a trouser, as in plaintext
  // Errors name what was wrong.
  {
    std::ofstream raw(dir + "bad.raw", std::ios::binary);
    raw << "short";
  }
  r = Cli({"encrypt", plan, "--secret-key", sk, "--raw", dir + "bad.raw", "-o", dir + "x.ct"});
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err, HasSubstr("has 5 bytes; expected 784"));
  r = Cli({"encrypt", plan, "--secret-key", sk, "-o", dir + "x.ct"});
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err, HasSubstr("give exactly one input"));
  r = Cli({"run", plan, "--eval-keys", evk, dir + "out.ct", "-o", dir + "y.ct"});
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err, HasSubstr("object type 7 (compact ciphertext), expected 3 (ciphertext)"));
  r = Cli({"decrypt", plan, "--secret-key", evk, dir + "out.ct"});
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err, HasSubstr("secret-key"));
  r = Cli({"compile", kModels + "logreg/logreg.onnx", "-o", plan, "--mode", "fast"});
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err, HasSubstr("expected latency or throughput"));
  // A single ciphertext for the throughput plan, a batch for the latency one.
  r = Cli({"run", dir + "logreg-batch.plan", "--eval-keys", dir + "b.evk", dir + "in.ct", "-o",
           dir + "y.ct"});
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err, HasSubstr("a single ciphertext for a throughput plan"));
  r = Cli({"run", plan, "--eval-keys", evk, dir + "batch.ct", "-o", dir + "y.ct"});
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err, HasSubstr("a batch of ciphertexts for a latency plan"));
  r = Cli({"decrypt", plan, "--secret-key", sk, dir + "out.ct", "--count", "2"});
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err, HasSubstr("a latency plan's result holds one output"));
  r = Cli({"decrypt", dir + "logreg-batch.plan", "--secret-key", dir + "bsk.bin", dir + "out.ct"});
  EXPECT_EQ(r.code, 1);  // a latency result is not a batch
  EXPECT_THAT(r.err, HasSubstr("Batch: not a Blindfold ciphertext batch"));
}

// The tabular models through the CLI: the manifest makes eval-plain read the
// breast-cancer split; one patient's encrypted diagnosis decrypts to the
// plaintext class and probability; eval-enc scores the whole split.
TEST(CliTest, TabularModelsThroughTheCli) {
  const std::string model = kModels + "bc-logreg/bc-logreg.onnx";
  std::ifstream mf(kModels + "bc-logreg/manifest.json"), ff(kModels + "bc-logreg/fixture.json");
  const json manifest = json::parse(mf, nullptr, false);
  const json fixture = json::parse(ff, nullptr, false);
  ASSERT_FALSE(manifest.is_discarded());
  ASSERT_FALSE(fixture.is_discarded());

  Result r = Cli({"eval-plain", model, "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  json j = json::parse(r.out, nullptr, false);
  EXPECT_EQ(j["dataset"], "breast-cancer");
  EXPECT_EQ(j["images"], 142);
  EXPECT_EQ(j["correct"], manifest["test_correct"]);
  r = Cli({"eval-plain", model});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("patients: 142 (breast-cancer test"));

  const std::string dir = ::testing::TempDir() + "/cli_bc/";
  std::filesystem::create_directories(dir);
  const std::string plan = dir + "bc.plan", sk = dir + "sk.bin", evk = dir + "bc.evk";
  r = Cli({"compile", model, "-o", plan});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("latency mode"));
  r = Cli({"keygen", plan, "--secret-key", sk, "--eval-keys", evk});
  ASSERT_EQ(r.code, 0) << r.err;
  // Test patient 1 (CSV row 3), and the same 30 values as raw float64.
  r = Cli({"encrypt", plan, "--secret-key", sk, "--patient", "1", "-o", dir + "in.ct"});
  ASSERT_EQ(r.code, 0) << r.err;
  auto test = data::LoadExamples(data::DatasetKind::kBreastCancer, "", data::Split::kTest);
  ASSERT_TRUE(test.ok()) << test.status();
  {
    const std::vector<double> x = test->input(1);
    std::ofstream raw(dir + "patient.f64", std::ios::binary);
    raw.write(reinterpret_cast<const char*>(x.data()), x.size() * sizeof(double));
  }
  r = Cli({"encrypt", plan, "--secret-key", sk, "--raw", dir + "patient.f64", "-o",
           dir + "in2.ct"});
  ASSERT_EQ(r.code, 0) << r.err;
  for (const char* in : {"in.ct", "in2.ct"}) {
    r = Cli({"run", plan, "--eval-keys", evk, dir + in, "-o", dir + "out.ct"});
    ASSERT_EQ(r.code, 0) << r.err;
    r = Cli({"decrypt", plan, "--secret-key", sk, dir + "out.ct", "--json"});
    ASSERT_EQ(r.code, 0) << r.err;
    j = json::parse(r.out, nullptr, false);
    const double logit = fixture["logits"][1][0].get<double>();
    EXPECT_EQ(j["class"], logit > 0 ? 1 : 0);
    EXPECT_EQ(j["label"], logit > 0 ? "malignant" : "benign");
    EXPECT_NEAR(j["probability"].get<double>(), 1 / (1 + std::exp(-logit)), 1e-4);
  }
  r = Cli({"decrypt", plan, "--secret-key", sk, dir + "out.ct"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("P(malignant) = "));

  r = Cli({"eval-enc", plan, "--json"});
  ASSERT_EQ(r.code, 0) << r.err;
  j = json::parse(r.out, nullptr, false);
  EXPECT_EQ(j["dataset"], "breast-cancer");
  EXPECT_EQ(j["images"], 142);
  EXPECT_EQ(j["agreement"], 1.0);
  EXPECT_EQ(j["accuracy"], j["plaintext_accuracy"]);
  EXPECT_LE(j["max_probability_error"].get<double>(), 1e-4);
  EXPECT_LE(j["input_bytes"].get<double>(), 100 * 1024);

  // Errors name what was wrong.
  r = Cli({"encrypt", plan, "--secret-key", sk, "--patient", "142", "-o", dir + "x.ct"});
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err, HasSubstr("--patient is 142, the breast-cancer test split has 142 patients"));
  {
    std::ofstream raw(dir + "bytes.raw", std::ios::binary);
    raw << std::string(30, '\x10');  // one byte per value is only for images
  }
  r = Cli({"encrypt", plan, "--secret-key", sk, "--raw", dir + "bytes.raw", "-o", dir + "x.ct"});
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err, HasSubstr("has 30 bytes; expected 240 (30 float64 values"));
  r = Cli({"eval-enc", plan, "--dataset", "fashion-mnist"});
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err, HasSubstr("the model takes 30 input values, fashion-mnist inputs (from "
                               "--dataset) have 784"));
  r = Cli({"eval-plain", model, "--dataset", "iris"});
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err, HasSubstr("dataset 'iris' is unknown"));
  r = Cli({"eval-plain", model, "--data", "/nonexistent.csv"});
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err, HasSubstr("LoadBreastCancer: cannot open /nonexistent.csv"));
  {
    std::ofstream bad(dir + "bad.csv", std::ios::binary);
    bad << "1,30,malignant,benign\n" << std::string(29, '1') << "\n";
  }
  r = Cli({"eval-plain", model, "--data", dir + "bad.csv"});
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err, HasSubstr("line 2: 1 fields, expected 31"));
  // An image model on the patients, and a patient model on the images.
  r = Cli({"eval-plain", kModels + "logreg/logreg.onnx", "--dataset", "breast-cancer"});
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err, HasSubstr("the model takes 784 input values, breast-cancer inputs"));
}

}  // namespace
}  // namespace blindfold::tools
