// File: tools/cli_test.cc
// The `blindfold` CLI in-process (inspect, eval-plain, errors) and the real
// binary on a committed model.
#include "tools/cli.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace blindfold::tools {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;

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
  for (const char* name :
       {"logreg", "mlp", "cnn-small", "cnn", "cnn-deep", "mlp-relu"}) {
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
}

}  // namespace
}  // namespace blindfold::tools
