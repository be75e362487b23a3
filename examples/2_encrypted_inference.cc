// File: examples/2_encrypted_inference.cc
// Example 2: classify an encrypted image, client and server apart.
//
// The model is a real one (models/cnn: a convolution, two squarings and two
// dense layers, 88.66 % on Fashion-MNIST). The steps are what a deployment
// does, with the two parties in one process only for the example: every byte
// that crosses between them is a std::string, exactly what would travel on
// the wire, and the server side never holds the secret key.
//
//   ./build/examples/2_encrypted_inference [models/cnn/cnn.onnx] [image index]
//
// It exits non-zero unless the decrypted class equals the plaintext model's.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <iterator>
#include <string>
#include <vector>

#include "compiler/lower/compile.h"
#include "compiler/onnx/importer.h"
#include "data/fashion_mnist.h"
#include "runtime/inference.h"
#include "runtime/plan_io.h"
#include "runtime/reference_executor.h"

namespace {

using namespace blindfold;  // NOLINT: an example favours brevity

#define EXAMPLE_CHECK_OK(expr)                                             \
  do {                                                                     \
    const absl::Status s_ = (expr);                                        \
    if (!s_.ok()) {                                                        \
      std::fprintf(stderr, "%s: %s\n", #expr, std::string(s_.message()).c_str()); \
      std::exit(1);                                                        \
    }                                                                      \
  } while (0)

template <typename T>
T Value(absl::StatusOr<T> v, const char* what) {
  if (!v.ok()) {
    std::fprintf(stderr, "%s: %s\n", what, std::string(v.status().message()).c_str());
    std::exit(1);
  }
  return *std::move(v);
}

int ArgMax(const std::vector<double>& v) {
  return static_cast<int>(std::max_element(v.begin(), v.end()) - v.begin());
}

}  // namespace

int main(int argc, char** argv) {
  const std::string model = argc > 1 ? argv[1] : BLINDFOLD_SOURCE_DIR "/models/cnn/cnn.onnx";
  const int index = argc > 2 ? std::atoi(argv[2]) : 17;
  const std::string dir(data::kDefaultFashionMnistDir);

  // 1. Offline, model owner: compile the ONNX model into a plan. The
  //    compiler fuses every plaintext-weight op into the linear maps, packs
  //    each vector into slots, plans every value's level and scale, and
  //    picks the smallest 128-bit parameters that hold the plan. It measures
  //    value ranges on training images (never test images) to size the
  //    output headroom and to fit any Relu/Sigmoid approximation.
  const compiler::ir::Graph graph =
      Value(compiler::ImportOnnxFile(model), "import");
  const data::FashionMnist train = Value(data::LoadFashionMnist(dir, data::Split::kTrain), "train");
  std::vector<std::vector<double>> calibration;
  for (int i = 0; i < 256; ++i) calibration.push_back(train.Preprocessed(i));
  compiler::CompileOptions options;
  options.labels.assign(std::begin(data::kFashionMnistClassNames),
                        std::end(data::kFashionMnistClassNames));
  const runtime::Plan compiled = Value(compiler::Compile(graph, calibration, options), "compile");
  //    The plan is a file: the server and the client load the same bytes.
  const std::string plan_file = runtime::SerializePlan(compiled);
  std::printf("plan: N = 2^%d, depth %d, %lld slots, %zu rotation keys, %zu bytes\n",
              compiled.params.log_n, compiled.depth,
              static_cast<long long>(compiled.slots), compiled.Rotations().size(),
              plan_file.size());

  // 2. Client: load the plan, make a secret key (OS CSPRNG) and the
  //    evaluation keys the plan needs: a relinearization key and a Galois
  //    key for exactly each rotation the plan performs.
  const runtime::Plan client_plan = Value(runtime::DeserializePlan(plan_file), "load plan");
  auto client = Value(runtime::InferenceClient::Create(client_plan), "client");
  const std::string eval_keys = Value(client->EvaluationKeys(), "keys");

  // 3. Client: encrypt one test image (pixels / 255, as in training). The
  //    ciphertext is seeded (half its size travels as a 32-byte seed).
  const data::FashionMnist test = Value(data::LoadFashionMnist(dir, data::Split::kTest), "test");
  const std::vector<double> image = test.Preprocessed(index);
  const std::string request = Value(client->EncryptInput(image), "encrypt");

  // 4. Server: load the plan and the client's evaluation keys (validated),
  //    run the plan on the ciphertext. No secret key exists on this side.
  const runtime::Plan server_plan = Value(runtime::DeserializePlan(plan_file), "load plan");
  auto server = Value(runtime::InferenceServer::Create(server_plan, eval_keys), "server");
  runtime::RunStats stats;
  const std::string response = Value(server->Run(request, &stats), "run");

  // 5. Client: decrypt the logits; the class is their arg max.
  const std::vector<double> logits = Value(client->DecryptOutput(response), "decrypt");
  const int cls = ArgMax(logits);
  const std::string label =
      cls < static_cast<int>(compiled.labels.size()) ? compiled.labels[cls] : "";

  // The same image in the clear, for comparison.
  const compiler::ir::Tensor plain = Value(
      runtime::RunReference(graph, {graph.value(graph.inputs()[0]).shape, image}), "reference");
  const int want = ArgMax(plain.data);
  double err = 0;
  for (size_t k = 0; k < logits.size(); ++k) err = std::max(err, std::abs(logits[k] - plain.data[k]));

  std::printf("image %d (label %d): encrypted class %d (%s), plaintext class %d\n", index,
              test.labels[index], cls, label.c_str(), want);
  std::printf("server: %.1f ms, %lld rotations (%lld hoisted), %lld key switches; "
              "request %zu B, response %zu B, evaluation keys %zu B; max |logit error| %.2g\n",
              stats.seconds * 1e3, static_cast<long long>(stats.rotations + stats.hoisted_rotations),
              static_cast<long long>(stats.hoisted_rotations),
              static_cast<long long>(stats.key_switches), request.size(), response.size(),
              eval_keys.size(), err);
  return cls == want ? 0 : 1;
}
