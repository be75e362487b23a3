// File: examples/3_private_diagnosis.cc
// Example 3: a private diagnosis. A clinic holds one patient's 30
// measurements of a breast-mass biopsy (Wisconsin diagnostic breast cancer,
// the table Debian's python3-sklearn ships); a cloud service holds a model
// that scores them. The clinic must not reveal the measurements, and the
// service learns nothing from the result either: it only ever sees
// ciphertexts.
//
// The model is models/bc-logreg: logistic regression, 97.18 % on the 142
// test patients. Its ONNX graph standardises the measurements itself
// ((x - mean) * (1 / std), constants from the training patients) and ends in
// one logit, the log-odds of malignancy. The sigmoid that turns the logit
// into a probability is not a polynomial, so it is not done under
// encryption: the clinic applies it after decrypting, which costs nothing
// and keeps the server's work to one linear map.
//
//   ./build/examples/3_private_diagnosis [models/bc-logreg/bc-logreg.onnx] [test patient]
//
// It exits non-zero unless the decrypted diagnosis equals the plaintext
// model's and the probability is within 1e-4 of it.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "compiler/lower/compile.h"
#include "compiler/onnx/importer.h"
#include "data/breast_cancer.h"
#include "data/dataset.h"
#include "runtime/inference.h"
#include "runtime/plan_io.h"
#include "runtime/reference_executor.h"

namespace {

using namespace blindfold;  // NOLINT: an example favours brevity

template <typename T>
T Value(absl::StatusOr<T> v, const char* what) {
  if (!v.ok()) {
    std::fprintf(stderr, "%s: %s\n", what, std::string(v.status().message()).c_str());
    std::exit(1);
  }
  return *std::move(v);
}

double Sigmoid(double z) { return 1.0 / (1.0 + std::exp(-z)); }

}  // namespace

int main(int argc, char** argv) {
  const std::string model =
      argc > 1 ? argv[1] : BLINDFOLD_SOURCE_DIR "/models/bc-logreg/bc-logreg.onnx";
  // Test patient 4 by default: a malignant mass the model is not sure of.
  const int patient = argc > 2 ? std::atoi(argv[2]) : 4;

  // The data: the fixed stratified split (data/breast_cancer.h) of the CSV
  // as Debian installs it: 427 training and 142 test patients.
  const data::Examples train = Value(
      data::LoadExamples(data::DatasetKind::kBreastCancer, "", data::Split::kTrain), "train");
  const data::Examples test = Value(
      data::LoadExamples(data::DatasetKind::kBreastCancer, "", data::Split::kTest), "test");
  if (patient < 0 || patient >= test.count) {
    std::fprintf(stderr, "test patient %d: expected 0 to %d\n", patient, test.count - 1);
    return 1;
  }

  // 1. Offline, the model owner: compile the ONNX model into a plan. The
  //    compiler folds the standardisation and the weights into one
  //    plaintext linear map, packs the 30 values into 32 slots, and picks
  //    the smallest 128-bit parameters (N = 2^13, one level). Calibration
  //    runs the model on training patients (never test patients) to size
  //    the headroom above the largest logit.
  const compiler::ir::Graph graph = Value(compiler::ImportOnnxFile(model), "import");
  std::vector<std::vector<double>> calibration;
  for (int i = 0; i < train.count; ++i) calibration.push_back(train.input(i));
  compiler::CompileOptions options;
  options.labels = {"malignant"};  // the one output scores malignancy
  const std::string plan_file = runtime::SerializePlan(
      Value(compiler::Compile(graph, calibration, options), "compile"));
  const runtime::Plan plan = Value(runtime::DeserializePlan(plan_file), "load plan");
  std::printf("plan: N = 2^%d, depth %d, %lld slots per period, %lld rotations per patient "
              "(%zu rotation keys)\n",
              plan.params.log_n, plan.depth, static_cast<long long>(plan.terms[0].period),
              static_cast<long long>(plan.RotationCount() + plan.HoistedRotationCount()),
              plan.Rotations().size());

  // 2. The clinic (client): a secret key that never leaves it, and the
  //    evaluation keys the server needs for exactly the plan's rotations.
  //    These are sent once, not per patient.
  auto clinic = Value(runtime::InferenceClient::Create(plan), "client");
  const std::string eval_keys = Value(clinic->EvaluationKeys(), "keys");

  // 3. The clinic encrypts the patient's 30 measurements as they are (the
  //    model standardises them under encryption). One ciphertext, seeded:
  //    half of it is a 32-byte seed the server re-expands.
  const std::vector<double> measurements = test.input(patient);
  std::printf("test patient %d (CSV line %d): mean radius %.2f, worst concave points %.4f, ...\n",
              patient, test.ids[patient] + 2, measurements[0], measurements[27]);
  const std::string request = Value(clinic->EncryptInput(measurements), "encrypt");

  // 4. The service (server): the plan and the clinic's evaluation keys, no
  //    secret key. It runs the plan on the ciphertext and returns an
  //    encrypted logit; it cannot read the input, the logit or the result.
  auto service = Value(runtime::InferenceServer::Create(plan, eval_keys), "server");
  runtime::RunStats stats;
  const std::string response = Value(service->Run(request, &stats), "run");

  // 5. The clinic decrypts the logit (decryption floods noise so that the
  //    result can be shown to anyone without leaking the key) and applies
  //    the sigmoid: the probability that the mass is malignant.
  const std::vector<double> logit = Value(clinic->DecryptOutput(response), "decrypt");
  const double p = Sigmoid(logit[0]);
  const bool malignant = logit[0] > 0;

  // For comparison only: the same patient in the clear.
  const compiler::ir::Tensor plain = Value(
      runtime::RunReference(graph, {graph.value(graph.inputs()[0]).shape, measurements}),
      "reference");
  const double p_plain = Sigmoid(plain.data[0]);

  std::printf("encrypted: P(malignant) = %.6f -> %s; plaintext: %.6f -> %s; "
              "true diagnosis: %s\n",
              p, malignant ? "malignant" : "benign", p_plain,
              plain.data[0] > 0 ? "malignant" : "benign",
              test.class_names[test.labels[patient]].c_str());
  std::printf("server: %.2f ms, %lld rotations; request %zu B, response %zu B, evaluation "
              "keys %zu B (once); |probability error| %.2g\n",
              stats.seconds * 1e3,
              static_cast<long long>(stats.rotations + stats.hoisted_rotations),
              request.size(), response.size(), eval_keys.size(), std::abs(p - p_plain));
  return malignant == (plain.data[0] > 0) && std::abs(p - p_plain) <= 1e-4 ? 0 : 1;
}
